"""Fingerprint the configured source (params.yaml: collect.source) for DVC.

DVC hashes files but cannot hash a database or an API. This stage runs on every
`dvc repro` (always_changed) and writes a small JSON fingerprint of the source's
data; `collect` depends on it, so a changed table or API reruns `collect`, and
an unchanged one leaves the fingerprint's bytes, and so everything downstream,
as they were. Credentials never enter the fingerprint.
"""

from pathlib import Path

from churn.collect.snapshot import fingerprint
from churn.collect.sources import CollectParams
from churn.core.cli import log, parser, run
from churn.core.io import write_json
from churn.core.params import load


def main(args) -> None:
    params = load(CollectParams)
    write_json(fingerprint(params.source), args.output)
    log.info("fingerprinted %s (%s)", params.source.describe(), params.source.kind)


if __name__ == "__main__":
    p = parser("churn.collect.source_state", __doc__)
    p.add_argument("--output", type=Path, required=True, help="fingerprint (JSON) to write")
    run("source_state", main, p.parse_args())
