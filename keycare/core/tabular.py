"""Streaming CSV/XLSX reading and writing for bulk import and export.

Domain-free on purpose (no Django import): every importer and exporter shares one set of rules
for encodings, header matching and formula-injection escaping, and the module works in
management commands, Celery tasks and tests without settings. Nothing here holds a whole file
in memory, so a 1,000,000-row file costs the same memory as a ten-row one.
"""

import codecs
import contextlib
import csv
import io
import itertools
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = [
    "Column",
    "TabularError",
    "TabularReader",
    "TabularWriter",
    "cell_text",
    "detect_csv_encoding",
    "detect_delimiter",
    "detect_format",
    "neutralise",
    "normalise_header",
    "xlsx_value",
]

#: How much of a CSV file decides its encoding.
ENCODING_SAMPLE_BYTES = 1 << 20

_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
_LEGACY_EXCEL = {".xls", ".xlt", ".et"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_DELIMITERS = (",", ";", "\t")
_QUOTED = re.compile(r'"[^"]*"')

#: Leading characters that make Excel/LibreOffice treat a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_PREFIXES = tuple("'" + c for c in FORMULA_TRIGGERS)

#: Header decorations that templates add to mark required columns.
_HEADER_MARKS = ("*", "(必填)", "(required)")

# Control characters XML 1.0 cannot carry (openpyxl's ILLEGAL_CHARACTERS_RE).
_ILLEGAL_XML = re.compile(r"[\000-\010\013\014\016-\037]")

# A lone surrogate can only come from surrogateescape, i.e. from an undecodable byte.
_UNDECODED = re.compile("[\udc80-\udcff]")

_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "gb18030": "GB18030/GBK (Chinese)",
}


# (row number, cells, the cells joined): a non-empty row from the file.
_Record = tuple[int, list[str], str]


class TabularError(Exception):
    """A problem with the uploaded file that the user can fix.

    ``message`` is a plain English sentence without the row number; ``str()`` prefixes
    "Row N: " when ``row`` is known. ``code`` and ``params`` let a caller translate the
    message without parsing it.
    """

    def __init__(
        self,
        message: str,
        row: int | None = None,
        *,
        code: str = "invalid",
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.code = code
        self.params = params or {}

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return f"Row {self.row}: {self.message}"


@dataclass(frozen=True)
class Column:
    key: str
    headers: tuple[str, ...]
    required: bool = False


# --- detection ---------------------------------------------------------------------------


def detect_format(filename: str) -> str:
    suffix = Path(str(filename).strip()).suffix.lower()
    if suffix in _FORMATS:
        return _FORMATS[suffix]
    if suffix in _LEGACY_EXCEL:
        raise _legacy_excel_error()
    raise TabularError(
        "This file type is not supported. Upload a .csv or .xlsx file.",
        code="unsupported_format",
        params={"filename": str(filename)},
    )


def detect_csv_encoding(head: bytes) -> str:
    """Pick the encoding from a sample; GB18030 is the fallback because Chinese Excel and
    WPS save "CSV" in GBK, and GB18030 decodes every GBK file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # final=False: the sample may end in the middle of a multibyte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        # A UTF-8 file with a stray bad byte is still UTF-8 (the bad row is then reported
        # with its number); GBK text almost never decodes as long runs of valid UTF-8.
        text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
        bad = text.count("\ufffd")
        good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
        return "utf-8" if good >= 20 * bad else "gb18030"
    return "utf-8"


def detect_delimiter(line: str) -> str:
    """Choose among "," ";" and tab by counting them in the header line outside quotes;
    European Excel writes ";" and "Unicode text" exports use tabs."""
    line = _QUOTED.sub("", line)
    best = max(_DELIMITERS, key=line.count)  # ties keep the earlier (",") candidate
    return best if line.count(best) else ","


def normalise_header(text: Any) -> str:
    """Reduce a header to a comparison key so that "信用代码 *", " Credit Code(必填)" and
    "credit code" all match their column."""
    text = unicodedata.normalize("NFKC", cell_text(text)).replace("\ufeff", "")
    text = "".join(text.split()).casefold()
    changed = True
    while changed:
        changed = False
        for mark in _HEADER_MARKS:
            if text.endswith(mark) and len(text) > len(mark):
                text = text[: -len(mark)]
                changed = True
        if text.startswith("*") and len(text) > 1:
            text = text[1:]
            changed = True
    return text


# --- value conversion --------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """The text a cell value stands for, shared by the XLSX reader and the CSV writer so that
    an export read back gives the same strings whichever format was used."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: the wall-clock time is what the user sees.
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, time):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _float_text(value: float) -> str:
    # Excel keeps 15 significant digits; anything beyond is binary noise (0.1 + 0.2).
    if not math.isfinite(value):
        return str(value)
    if value.is_integer():
        return str(int(value))
    text = format(value, ".15g")
    if "e" in text:
        text = format(Decimal(text), "f")
    return text


def _xlsx_text(value: Any) -> str:
    # openpyxl returns a datetime for every date-formatted cell; midnight means "a date".
    if isinstance(value, datetime) and value.time() == time() and value.tzinfo is None:
        return value.date().isoformat()
    return cell_text(value)


def neutralise(value: Any) -> Any:
    """Defuse CSV/formula injection (OWASP) in exported text; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _unescape(value: str) -> str:
    # Undo neutralise() so that an exported "+86 138…" re-imports without the apostrophe.
    if value.startswith(_ESCAPED_PREFIXES):
        return value[1:].strip()
    return value


# --- reading -----------------------------------------------------------------------------


def _legacy_excel_error() -> TabularError:
    return TabularError(
        "Excel 97-2003 workbooks (.xls) are not supported. "
        "Save the file as .xlsx or CSV and upload it again.",
        code="legacy_excel",
    )


def _build_lookup(columns: Iterable[Column]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    keys: set[str] = set()
    for column in columns:
        if column.key in keys:
            raise ValueError(f"Column key {column.key!r} is defined twice.")
        keys.add(column.key)
        if not column.headers:
            raise ValueError(f"Column {column.key!r} has no header texts.")
        for header in column.headers:
            norm = normalise_header(header)
            if lookup.setdefault(norm, column.key) != column.key:
                raise ValueError(
                    f"Header {header!r} is accepted by both {lookup[norm]!r} and {column.key!r}."
                )
    return lookup


class TabularReader:
    """Iterate the data rows of a CSV or XLSX upload as ``(row_number, {key: text})``.

    ``row_number`` is what a spreadsheet user sees (header = row 1 unless blank rows precede
    it). Each row dict has one entry per column found in the file, so a caller can tell "no
    such column" (key absent, leave the field alone) from "empty cell" (``""``). Values are
    stripped strings; cells that neutralise() escaped on export are unescaped. Use it as a
    context manager; iteration is single-pass.
    """

    def __init__(
        self,
        path: str | Path,
        columns: list[Column],
        *,
        filename: str | None = None,
        unescape_formulas: bool = True,
    ) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        self.filename = filename
        self.unescape_formulas = unescape_formulas
        self._lookup = _build_lookup(self.columns)
        self.format = self._pick_format()
        self.columns_found: dict[str, str] = {}
        self.unknown_headers: list[str] = []
        self.encoding: str | None = None
        self._index: list[tuple[str, int]] = []
        self._width = 0
        self._source: Iterator[_Record] | None = None
        self._records = 0  # CSV records handed out by csv.reader so far
        self._binary: io.BufferedReader | None = None
        self._text: io.TextIOWrapper | None = None
        self._workbook: Any = None
        self._row_count_hint: int | None = None
        self._bytes_done: int | None = None

    # Context management -------------------------------------------------------------------

    def __enter__(self) -> "TabularReader":
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        try:
            if self.format == "csv":
                self._source = self._open_csv()
            else:
                self._source = self._open_xlsx()
            self._read_header()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._binary is not None and not self._binary.closed:
            self._bytes_done = self._binary.tell()
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None
        if self._text is not None:
            self._text.close()
            self._text = None
        if self._binary is not None:
            self._binary.close()
            self._binary = None

    # Progress ---------------------------------------------------------------------------

    def bytes_read(self) -> int | None:
        if self.format != "csv":
            return None
        if self._binary is not None and not self._binary.closed:
            return self._binary.tell()
        return self._bytes_done or 0

    def total_bytes(self) -> int:
        return self.path.stat().st_size

    def row_count_hint(self) -> int | None:
        return self._row_count_hint

    # Rows -------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        if self._source is None:
            raise RuntimeError("Open the reader first: use 'with TabularReader(...) as reader'.")
        return self._rows(self._source)

    def _rows(self, source: Iterator[_Record]) -> Iterator[tuple[int, dict[str, str]]]:
        # The hot loop of every import: kept to comprehensions and C-level string calls.
        index, width, unescape = self._index, self._width, self.unescape_formulas
        needed = max((idx for _key, idx in index), default=-1) + 1
        for number, cells, joined in source:
            count = len(cells)
            if count > width and "".join(cells[width:]).strip():
                raise TabularError(
                    "This row has values to the right of the last column header.",
                    row=number,
                    code="extra_cells",
                )
            if count >= needed:
                row = {key: cells[idx].strip() for key, idx in index}
            else:
                row = {key: cells[idx].strip() if idx < count else "" for key, idx in index}
            if unescape and "'" in joined:
                for key, value in row.items():
                    if value[:1] == "'":
                        row[key] = _unescape(value)
            yield number, row

    # Header -----------------------------------------------------------------------------

    def _read_header(self) -> None:
        assert self._source is not None
        first = next(self._source, None)
        if first is None:
            raise TabularError("The file is empty.", code="empty")
        number, cells, _joined = first
        found: dict[str, tuple[int, str]] = {}
        for idx, cell in enumerate(cells):
            text = cell.strip().strip("\ufeff").strip()
            if not text:
                continue
            self._width = idx + 1
            key = self._lookup.get(normalise_header(text))
            if key is None:
                self.unknown_headers.append(text)
            elif key in found:
                raise TabularError(
                    f'The column "{text}" appears twice (also as "{found[key][1]}").',
                    row=number,
                    code="duplicate_column",
                    params={"header": text, "other": found[key][1], "key": key},
                )
            else:
                found[key] = (idx, text)
        missing = [c for c in self.columns if c.required and c.key not in found]
        if missing:
            raise _missing_columns_error(missing)
        ordered = [c.key for c in self.columns if c.key in found]
        self.columns_found = {key: found[key][1] for key in ordered}
        self._index = [(key, found[key][0]) for key in ordered]

    # CSV --------------------------------------------------------------------------------

    def _open_csv(self) -> Iterator[_Record]:
        binary = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        self._binary = binary
        head = binary.read(ENCODING_SAMPLE_BYTES)
        if head.startswith(_OLE2_MAGIC):
            raise _legacy_excel_error()
        if head.startswith(_ZIP_MAGIC):
            # An .xlsx saved under a .csv name: read it for what it is.
            binary.close()
            self._binary = None
            self.format = "xlsx"
            return self._open_xlsx()
        self.encoding = detect_csv_encoding(head)
        binary.seek(0)
        # surrogateescape turns a bad byte into a lone surrogate instead of failing on a
        # whole 8 KiB chunk, so _csv_lines can blame the exact row.
        self._text = io.TextIOWrapper(
            binary, encoding=self.encoding, errors="surrogateescape", newline=""
        )
        lines = self._csv_lines(self._text)
        peeked: list[str] = []
        for line in lines:
            peeked.append(line)
            if line.strip():
                break
        delimiter = detect_delimiter(peeked[-1] if peeked else "")
        # strict: an unclosed quote would otherwise swallow the rest of the file into a cell.
        reader = csv.reader(itertools.chain(peeked, lines), delimiter=delimiter, strict=True)
        return self._csv_records(reader)

    def _csv_lines(self, text: io.TextIOWrapper) -> Iterator[str]:
        search = _UNDECODED.search
        try:
            for line in text:
                if search(line) is not None:
                    raise self._decode_error()
                yield line
        except UnicodeDecodeError:  # UTF-16 errors that surrogateescape cannot carry
            raise self._decode_error() from None

    def _decode_error(self) -> TabularError:
        # csv.reader asks for lines only while building the next record, so the bad line
        # belongs to record number self._records + 1.
        name = _ENCODING_NAMES.get(self.encoding or "", self.encoding)
        return TabularError(
            f"This row contains characters that cannot be read as {name}. "
            'Save the file as "CSV UTF-8" and upload it again.',
            row=self._records + 1,
            code="encoding",
            params={"encoding": name},
        )

    def _csv_records(self, reader: Iterator[list[str]]) -> Iterator[_Record]:
        try:
            for cells in reader:
                self._records += 1
                joined = "".join(cells)
                if joined and not joined.isspace():
                    yield self._records, cells, joined
        except csv.Error:
            raise TabularError(
                "This row is not valid CSV (check for an unclosed quote or a very long cell).",
                row=self._records + 1,
                code="csv_syntax",
            ) from None

    # XLSX -------------------------------------------------------------------------------

    def _open_xlsx(self) -> Iterator[_Record]:
        # A file object, not the path: openpyxl refuses paths without an Excel extension.
        binary = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        self._binary = binary
        if binary.read(len(_OLE2_MAGIC)) == _OLE2_MAGIC:
            raise _legacy_excel_error()
        binary.seek(0)
        import openpyxl  # lazy: half a second of import that CSV users never need

        try:
            self._workbook = openpyxl.load_workbook(binary, read_only=True, data_only=True)
        except Exception as exc:  # zipfile, XML and openpyxl errors all mean "not an xlsx"
            raise TabularError(
                "The file could not be opened as an Excel workbook (.xlsx).",
                code="bad_xlsx",
            ) from exc
        if not self._workbook.worksheets:
            raise TabularError("The file is empty.", code="empty")
        sheet = self._workbook.worksheets[0]
        if sheet.max_row:
            self._row_count_hint = max(sheet.max_row - 1, 0)
        # Some writers store a wrong <dimension>; read-only mode would silently stop there.
        sheet.reset_dimensions()
        return self._xlsx_records(sheet)

    @staticmethod
    def _xlsx_records(sheet: Any) -> Iterator[_Record]:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else v if type(v) is str else _xlsx_text(v) for v in values]
            joined = "".join(cells)
            if joined and not joined.isspace():
                yield number, cells, joined

    def _pick_format(self) -> str:
        try:
            return detect_format(self.path.name)
        except TabularError:
            if self.filename is None:
                raise
        return detect_format(self.filename)


def _missing_columns_error(missing: list[Column]) -> TabularError:
    parts = []
    for column in missing:
        text = column.headers[0]
        if len(column.headers) > 1:
            text += f" (also accepted: {', '.join(column.headers[1:])})"
        parts.append(text)
    label = "Missing required column" if len(parts) == 1 else "Missing required columns"
    return TabularError(
        f"{label}: {'; '.join(parts)}",
        code="missing_column",
        params={"columns": [c.key for c in missing], "headers": [c.headers[0] for c in missing]},
    )


# --- writing -----------------------------------------------------------------------------


class _Utf8Sink:
    """Lets csv.writer write to any binary target (file, BytesIO, HttpResponse)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        raw.write(codecs.BOM_UTF8)

    def write(self, text: str) -> Any:
        return self.raw.write(text.encode("utf-8"))


def xlsx_value(value: Any) -> Any:
    """A value as an XLSX cell holds it: numbers stay numbers, text is neutralised."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        # Excel keeps 15 digits: a long identifier stored as a number would be corrupted.
        return value if abs(value) < 10**15 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else str(value)
    if isinstance(value, datetime | time):
        return value.replace(tzinfo=None)
    if isinstance(value, date | timedelta):
        return value
    text = neutralise(value if isinstance(value, str) else str(value))
    # openpyxl refuses control characters that XML 1.0 cannot carry.
    return _ILLEGAL_XML.sub("", text)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool | int | float | Decimal | date | time | timedelta):
        return cell_text(value)
    return neutralise(str(value))


class TabularWriter:
    """Stream rows to a CSV (UTF-8 with BOM, so Excel shows Chinese correctly) or XLSX file.

    ``path_or_file`` is a path, a binary file object (file, BytesIO, HttpResponse) or, for
    CSV only, a text stream (written as is, without BOM). Every string cell goes through
    neutralise(). Aware datetimes are written as their own wall-clock time: convert them to
    the user's zone first. Rows must have exactly one cell per header.
    """

    def __init__(self, path_or_file: Any, fmt: str, headers: list[str]) -> None:
        if fmt not in ("csv", "xlsx"):
            raise ValueError(f"Unknown format {fmt!r}; expected 'csv' or 'xlsx'.")
        self.format = fmt
        self._width = len(headers)
        self._closed = False
        self._owned: Any = None
        self.rows_written = 0
        if fmt == "csv":
            self._detach: io.TextIOWrapper | None = None
            target: Any
            # "utf-8" plus an explicit BOM: TextIOWrapper has a C fast path for utf-8 but
            # encodes "utf-8-sig" in Python, three times slower.
            if isinstance(path_or_file, str | os.PathLike):
                target = open(path_or_file, "w", encoding="utf-8", newline="")  # noqa: SIM115
                target.write("\ufeff")
                self._owned = target
            elif isinstance(path_or_file, io.TextIOBase):
                target = path_or_file
            elif isinstance(path_or_file, io.BufferedIOBase | io.RawIOBase):
                target = io.TextIOWrapper(path_or_file, encoding="utf-8", newline="")
                target.write("\ufeff")
                self._detach = target
            else:  # anything with write(bytes), e.g. an HttpResponse
                target = _Utf8Sink(path_or_file)
            self._csv = csv.writer(target)
        else:
            self._target = (
                os.fspath(path_or_file) if isinstance(path_or_file, os.PathLike) else path_or_file
            )
            import openpyxl  # lazy, see TabularReader._open_xlsx

            self._workbook = openpyxl.Workbook(write_only=True)
            self._sheet = self._workbook.create_sheet("Sheet1")
        self._write(headers)

    def __enter__(self) -> "TabularWriter":
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
            return
        with contextlib.suppress(Exception):  # the original exception matters more
            self.close()

    def write(self, row: list) -> None:
        if len(row) != self._width:
            raise ValueError(f"Expected {self._width} cells, got {len(row)}.")
        self._write(row)
        self.rows_written += 1

    def _write(self, row: Iterable[Any]) -> None:
        if self._closed:
            raise ValueError("The writer is closed.")
        if self.format == "csv":
            triggers = FORMULA_TRIGGERS
            self._csv.writerow(
                [v if type(v) is str and not v.startswith(triggers) else _csv_value(v) for v in row]
            )
        else:
            self._sheet.append([xlsx_value(v) for v in row])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.format == "xlsx":
            self._workbook.save(self._target)
        elif self._owned is not None:
            self._owned.close()
        elif self._detach is not None:
            # Hand the caller's binary stream back open, with everything written to it.
            self._detach.flush()
            self._detach.detach()
