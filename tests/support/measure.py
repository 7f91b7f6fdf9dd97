"""Wall time, CPU time and peak memory of a command, for benchmarks and memory tests.

``os.wait4`` gives a child's peak resident memory (``ru_maxrss``), but that figure
includes the pages the child inherits from its parent at fork, before it execs
the command: measured from a large process (a test session that has imported
Great Expectations and scikit-learn), a small command looks large. So the
command is started by a fresh, small trampoline interpreter, which waits for it
with ``os.wait4`` and reports the figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_TRAMPOLINE = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
    }, out)
"""


@dataclass(frozen=True)
class Measurement:
    exit_code: int
    wall: float  # seconds
    cpu: float  # user + system seconds
    peak_mib: float  # peak resident memory, MiB
    stderr: str


def measure(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Measurement:
    """Run ``args`` in ``cwd`` and measure it; its standard error is captured."""
    with tempfile.TemporaryDirectory(prefix="churn-measure-") as tmp:
        report = Path(tmp) / "report.json"
        done = subprocess.run(
            [sys.executable, "-c", _TRAMPOLINE, str(report), *map(str, args)],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if not report.exists():
            raise RuntimeError(f"the measurement failed:\n{done.stderr}")
        return Measurement(**json.loads(report.read_text()), stderr=done.stderr)
