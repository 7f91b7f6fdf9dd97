"""Split the bundled Telco CSV into monthly batch files (data/external/batches/).

The Telco sample has no dates, so the months are assigned by position: the file's
rows, in order, are cut into ``--months`` consecutive, nearly equal parts named
2024-01.csv, 2024-02.csv, ... Every batch repeats the header and keeps each line's
bytes exactly (CRLF line ends included), so the folder holds the same records as
the single file, and `collect` over the folder gives the same clean data.

Deterministic: the same input gives the same files. The committed batches were
made with the defaults; tests/test_batches.py checks they are up to date.

    python scripts/split_batches.py [--source CSV] [--output-dir DIR] [--months 4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "external" / "telco_customer_churn.csv"
OUTPUT = ROOT / "data" / "external" / "batches"


def split(source: Path, output_dir: Path, months: int, year: int = 2024) -> list[Path]:
    """Write the batch files; return their paths in month order."""
    header, *lines = source.read_bytes().splitlines(keepends=True)
    if any(line.count(b'"') for line in lines):
        # A quoted field could hold a line break: a line would not be a record.
        raise SystemExit(f"{source}: quoted fields found; split by records, not lines")
    output_dir.mkdir(parents=True, exist_ok=True)
    size, extra = divmod(len(lines), months)
    paths, start = [], 0
    for month in range(months):
        end = start + size + (1 if month < extra else 0)
        path = output_dir / f"{year}-{month + 1:02d}.csv"
        path.write_bytes(header + b"".join(lines[start:end]))
        paths.append(path)
        start = end
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=SOURCE, help="CSV file to split")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT, help="folder of batches")
    parser.add_argument("--months", type=int, default=4, help="number of monthly batches")
    args = parser.parse_args()
    for path in split(args.source, args.output_dir, args.months):
        print(path)


if __name__ == "__main__":
    main()
