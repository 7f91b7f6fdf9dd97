"""File sources: a CSV or Parquet file, or a folder of batch files combined in order.

Files are streamed in blocks, so memory stays bounded for large sources. Rows
are ordered by file path, then line: the same files give the same bytes in
whatever order the file system lists them. Every column is read as text, exactly
as written (a Parquet value is cast to text, a null becomes a blank).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from churn.collect.base import Source, lineage_schema, with_lineage
from churn.core.errors import DataError

BLOCK_SIZE = 2 << 20  # bytes of CSV per streamed block: peak memory is a multiple of it


def list_files(path: Path, pattern: str) -> list[Path]:
    """The source files: ``path`` itself, or the files in folder ``path`` matching ``pattern``."""
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob(pattern) if p.is_file())
        if not files:
            raise DataError(
                f"no files matching {pattern!r} in this folder",
                file=str(path),
                hint="check collect.source.path and collect.source.pattern in params.yaml",
            )
        return files
    raise DataError(
        "source not found",
        file=str(path),
        hint="check collect.source.path in params.yaml (paths are relative to the repository root)",
    )


def _label(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


class FileSource(Source):
    """A file, or a folder whose files matching ``pattern`` are combined in sorted order."""

    path: str
    #: Files of a folder ``path`` that belong to the source.
    pattern: str = "*"
    hashable_by_dvc: ClassVar[bool] = True

    def files(self, root: Path) -> list[Path]:
        return list_files(root / self.path, self.pattern)

    def file_blocks(self, path: Path, label: str) -> Iterator[pa.RecordBatch]:
        """One file's rows as record batches of text plus lineage."""
        raise NotImplementedError

    def file_columns(self, path: Path) -> list[str]:
        """One file's column names (for a file without rows)."""
        raise NotImplementedError

    def blocks(self, root: Path) -> Iterator[pa.RecordBatch]:
        files = self.files(root)
        reference: list[str] | None = None
        for path in files:
            label = _label(path, root)
            for batch in self.file_blocks(path, label):
                names = batch.schema.names
                if reference is None:
                    reference = names
                elif set(names) != set(reference):
                    extra = sorted(set(names) - set(reference))
                    missing = sorted(set(reference) - set(names))
                    raise DataError(
                        f"the columns differ from the first file ({files[0]}): "
                        f"extra {extra}, missing {missing}",
                        file=label,
                        rows=[1],
                        hint="every batch file of one source must have the same columns",
                    )
                elif names != reference:
                    batch = batch.select(reference)
                yield batch

    def describe(self) -> str:
        return self.path

    def empty_schema(self, root: Path) -> pa.Schema:
        return lineage_schema(self.file_columns(self.files(root)[0]))

    def fingerprint(self, root: Path) -> dict[str, object]:
        """Each file's relative path, size and BLAKE2 digest."""
        files = []
        for path in self.files(root):
            with path.open("rb") as fh:
                digest = hashlib.file_digest(fh, "blake2b").hexdigest()
            files.append(
                {"path": _label(path, root), "bytes": path.stat().st_size, "blake2b": digest}
            )
        return {"files": files}


# --- CSV -------------------------------------------------------------------------------------


def _first_bad_utf8_line(path: Path) -> tuple[int, str]:
    """Line number and error of the first line that is not valid UTF-8."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, f"byte {line[exc.start : exc.start + 1]!r} at column {exc.start + 1}"
    return 0, ""


def read_csv_header(path: Path, delimiter: str) -> list[str]:
    """The header of a CSV file (a UTF-8 byte-order mark is skipped)."""
    with path.open("rb") as fh:
        first = fh.readline()
    if not first.strip():
        raise DataError(
            "the file is empty: expected a header line naming the columns",
            file=str(path),
        )
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"the header is not UTF-8 text ({exc.reason} at byte {exc.start})",
            file=str(path),
            rows=[1],
            expected="UTF-8 encoded CSV",
            hint="re-export the file as UTF-8",
        ) from None
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [name.strip() for name in header]
    duplicated = sorted({n for n in header if header.count(n) > 1})
    if duplicated:
        raise DataError(f"duplicated column names {duplicated}", file=str(path), rows=[1])
    return header


class CsvSource(FileSource):
    """CSV text: a file, or a folder whose ``pattern`` files are combined in sorted order."""

    kind: Literal["csv"]
    pattern: str = "*.csv"
    delimiter: str = ","
    encoding: Literal["utf-8"] = "utf-8"

    def file_columns(self, path: Path) -> list[str]:
        return read_csv_header(path, self.delimiter)

    def file_blocks(self, path: Path, label: str) -> Iterator[pa.RecordBatch]:
        header = read_csv_header(path, self.delimiter)
        read = pacsv.ReadOptions(
            column_names=header, skip_rows=1, block_size=BLOCK_SIZE, encoding="utf8"
        )
        parse = pacsv.ParseOptions(delimiter=self.delimiter)
        convert = pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        line = 2  # the first data row; the header is line 1
        try:
            # A Python file object, not the path: given a path, Arrow read far ahead of the
            # consumer (peak memory grew with the file: 822 MiB for 329 MiB of CSV); from a
            # file object it reads block by block and memory stays flat.
            with path.open("rb") as fh:
                reader = pacsv.open_csv(
                    fh, read_options=read, parse_options=parse, convert_options=convert
                )
                for batch in reader:
                    yield with_lineage(batch, label, line)
                    line += batch.num_rows
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "UTF8" in message or "utf8" in message.lower():
                bad_line, what = _first_bad_utf8_line(path)
                raise DataError(
                    f"the file is not valid UTF-8 text ({what})",
                    file=str(path),
                    rows=[bad_line] if bad_line else [],
                    expected="UTF-8 encoded CSV",
                    hint="re-export the file as UTF-8 (or fix the bytes on that line)",
                ) from None
            raise DataError(
                f"the CSV cannot be parsed: {message}",
                file=str(path),
                expected=f"{len(header)} comma-separated fields on every line, as in the header",
                hint="a truncated last line or an unquoted delimiter inside a value is the usual "
                "cause",
            ) from None


# --- Parquet ---------------------------------------------------------------------------------


def _as_text(array: pa.Array) -> pa.Array:
    """A column as text; a null becomes a blank, as it would be in a CSV file."""
    text = array.cast(pa.string())
    return text.fill_null("")


class ParquetSource(FileSource):
    """Parquet: a file, or a folder whose ``pattern`` files are combined in sorted order."""

    kind: Literal["parquet"]
    pattern: str = "*.parquet"

    def file_columns(self, path: Path) -> list[str]:
        return pq.read_schema(path).names

    def file_blocks(self, path: Path, label: str) -> Iterator[pa.RecordBatch]:
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"not a readable Parquet file: {exc}", file=str(path)) from None
        line = 1
        for batch in parquet.iter_batches(batch_size=65_536):
            as_text = pa.RecordBatch.from_arrays(
                [_as_text(col) for col in batch.columns], names=batch.schema.names
            )
            yield with_lineage(as_text, label, line)
            line += batch.num_rows
