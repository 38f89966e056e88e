"""Excel downloads of the tables a page shows: one workbook builder for every page, so the
caption row (period and filters), the headers in the user's language, numbers kept as
numbers and formula escaping (`core.tabular.xlsx_value`) are the same everywhere."""

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import FileResponse

from keycare.core.tabular import xlsx_value

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Sheet:
    """One table: its title (the worksheet's name), column headers and rows of values."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]


def _sheet_title(title: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ and unique within the workbook
    base = _SHEET_TITLE_FORBIDDEN.sub(" ", str(title)).strip()[:31] or "Sheet"
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        name = f"{base[: 31 - len(str(n)) - 1]} {n}"
    used.add(name.casefold())
    return name


def xlsx_workbook(*, caption: Sequence[Any], sheets: Sequence[Sheet]) -> bytes:
    """The workbook (write-only: rows stream out): each sheet starts with the caption row,
    then the headers, then the rows."""
    import openpyxl  # lazy: only an export needs it

    workbook = openpyxl.Workbook(write_only=True)
    used: set[str] = set()
    for sheet in sheets:
        worksheet = workbook.create_sheet(_sheet_title(sheet.title, used))
        worksheet.append([xlsx_value(str(c)) for c in caption])
        worksheet.append([xlsx_value(str(h)) for h in sheet.headers])
        for row in sheet.rows:
            worksheet.append([xlsx_value(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(*, filename: str, caption: Sequence[Any], sheets: Sequence[Sheet]):
    """Download `sheets` as `filename` (.xlsx)."""
    content = io.BytesIO(xlsx_workbook(caption=caption, sheets=sheets))
    return FileResponse(
        content, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )
