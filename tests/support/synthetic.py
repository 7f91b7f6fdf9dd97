"""Large synthetic sources for benchmarks and memory tests: the Telco rows, resampled.

Rows are drawn with replacement (seeded) from the bundled CSV and given new,
unique identifiers in the contract's format, so the result passes validation
and cleaning like the real data, at any size. Built with numpy and pyarrow in
a few seconds per million rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tests.support.telco import TELCO


def unique_ids(count: int) -> pa.Array:
    """``count`` distinct identifiers ``NNNN-LLLLL`` (4 digits, 5 capital letters)."""
    if count > 10_000 * 26**5:
        raise ValueError("too many rows for the identifier format")
    n = np.arange(count, dtype=np.int64)
    chars = np.empty((count, 10), dtype=np.uint8)
    number, rest = n % 10_000, n // 10_000
    for pos in range(3, -1, -1):
        chars[:, pos] = ord("0") + number % 10
        number //= 10
    chars[:, 4] = ord("-")
    for pos in range(9, 4, -1):
        chars[:, pos] = ord("A") + rest % 26
        rest //= 26
    return pa.array(chars.view("S10").ravel(), pa.binary(10)).cast(pa.string())


def read_text(path: Path) -> pa.Table:
    """A CSV file with every column read as text, exactly as written."""
    with path.open("rb") as fh:
        names = fh.readline().decode("utf-8-sig").strip().split(",")
    return pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def resample(source: pa.Table, rows: int, seed: int) -> pa.Table:
    """``rows`` rows drawn from ``source`` with replacement, with new unique identifiers."""
    rng = np.random.default_rng(seed)
    picked = source.take(pa.array(rng.integers(0, source.num_rows, rows)))
    # Shuffle the identifiers too, so the key order is unrelated to the file order.
    ids = unique_ids(rows).take(pa.array(rng.permutation(rows)))
    return picked.set_column(picked.schema.get_field_index(TELCO.id_column), TELCO.id_column, ids)


def write_csv(table: pa.Table, path: Path) -> Path:
    """Write ``table`` as CSV with LF line ends (no value of the Telco data needs quotes)."""
    for name in table.column_names:
        needs_quotes = pc.any(pc.match_substring_regex(table[name], r'[,"\r\n]')).as_py()
        if needs_quotes:
            raise ValueError(f"column {name} holds a value that would need quoting")
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none", batch_size=65_536))
    return path


def make_large_csv(source_csv: Path, output: Path, rows: int, seed: int = 0) -> Path:
    """A CSV of ``rows`` resampled Telco rows at ``output``."""
    return write_csv(resample(read_text(source_csv), rows, seed), output)


def make_in_subprocess(source_csv: Path, output: Path, rows: int, seed: int = 0) -> Path:
    """``make_large_csv`` in a child process.

    A memory measurement of a later child (``os.wait4``'s ``ru_maxrss``) counts the
    pages it inherits from its parent at fork: building the table here would add
    hundreds of MB to every figure. Generating it in its own process keeps the
    measuring process small.
    """
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from tests.support.synthetic import make_large_csv; "
        "make_large_csv(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))"
    )
    from tests.support.sandbox import REPO_ROOT

    subprocess.run(
        [sys.executable, "-c", code, str(source_csv), str(output), str(rows), str(seed)],
        check=True,
        cwd=REPO_ROOT,  # where `tests` is importable
    )
    return output
