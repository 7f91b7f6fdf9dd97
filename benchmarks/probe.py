"""Run one command and record its wall time, CPU time and peak memory as JSON.

    python -m benchmarks.probe REPORT.json -- COMMAND [ARGS...]

The benchmark of large data (``benchmarks.scale``) wraps each stage command of its
sandbox's dvc.yaml with this, so that ``dvc repro`` itself runs the measured stages.

* ``os.wait4`` returns the command's user + system time and its ``ru_maxrss`` with
  those of every descendant that was waited for. That misses processes nobody in the
  tree waits for: the local engine's pool workers are children of multiprocessing's
  forkserver, which is never waited for with them. So the tree is also sampled every
  ``INTERVAL`` seconds (psutil; about 4 ms of CPU a sample): each process's last seen
  CPU time is summed, and its resident memory is watched. CPU seconds and the peak of
  the largest process are the larger of the two figures (sampling misses at most the
  last ``INTERVAL`` of a process).
* The peak of the whole process tree (the command and every descendant alive at the
  same moment, e.g. a stage and its Dask workers) is sampled, so a spike shorter than
  ``INTERVAL`` can be missed.

The exit code is the command's, so a failing stage still stops ``dvc repro``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

INTERVAL = 0.1


def tree_sample(root: psutil.Process, cpu: dict[int, float]) -> tuple[int, int]:
    """(sum, largest) resident bytes of ``root`` and its descendants now; records each
    one's CPU seconds so far (its own, not its children's) in ``cpu`` by pid."""
    total = largest = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for proc in processes:
        try:
            with proc.oneshot():
                rss = proc.memory_info().rss
                times = proc.cpu_times()
        except psutil.Error:
            continue
        total += rss
        largest = max(largest, rss)
        cpu[proc.pid] = max(cpu.get(proc.pid, 0.0), times.user + times.system)
    return total, largest


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") != 1:
        raise SystemExit(__doc__)
    report, command = Path(argv[0]), argv[2:]
    load_before = os.getloadavg()
    start = time.perf_counter()
    child = subprocess.Popen(command)
    peak = {"tree": 0, "process": 0}
    cpu: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(child.pid)
        except psutil.Error:
            return
        while not done.wait(INTERVAL):
            total, largest = tree_sample(root, cpu)
            peak["tree"] = max(peak["tree"], total)
            peak["process"] = max(peak["process"], largest)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    watcher.join()
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        json.dumps(
            {
                "command": command,
                "exit_code": os.waitstatus_to_exitcode(status),
                "wall": wall,
                "cpu": max(usage.ru_utime + usage.ru_stime, sum(cpu.values())),
                "peak_process_mib": max(usage.ru_maxrss / 1024, peak["process"] / 2**20),
                "peak_tree_mib": max(peak["tree"] / 2**20, usage.ru_maxrss / 1024),
                "load_before": load_before,
                "load_after": os.getloadavg(),
            },
            indent=2,
        )
    )
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
