"""The import engine: read a file in batches, let the kind match and write each batch, and
commit only when every row is good (all-or-nothing). A dry run does the same work and rolls
back, so its counts are exactly what a real import would do."""

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from keycare.core.tabular import TabularError, TabularReader

from .kinds import KINDS, RowError
from .kinds.base import RowRejected

logger = logging.getLogger(__name__)
MAX_REPORTED_ERRORS = 1000
Progress = Callable[[int, int | None, int | None], None]


@dataclass
class ImportOutcome:
    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_rows: set[int] = field(default_factory=set)
    errors: list[RowError] = field(default_factory=list)
    encoding: str | None = None
    unknown_headers: list[str] = field(default_factory=list)
    message: str = ""
    failed: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.rejected_rows

    @property
    def committed(self) -> bool:
        return self.ok and not self.dry_run

    def add_errors(self, errors: list[RowError]) -> None:
        for error in errors:
            self.rejected_rows.add(error.row)
            if len(self.errors) < MAX_REPORTED_ERRORS:
                self.errors.append(error)


class _Rollback(Exception):
    pass


def run_import(
    *,
    kind: str,
    path: str | Path,
    filename: str | None = None,
    actor: Any = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportOutcome:
    if kind not in KINDS:
        raise ValueError(f"Unknown import kind {kind!r}")
    outcome = ImportOutcome(kind=kind, dry_run=dry_run)
    kind_cls = KINDS[kind]
    try:
        with TabularReader(path, kind_cls.columns, filename=filename) as reader:
            outcome.encoding = reader.encoding
            outcome.unknown_headers = list(reader.unknown_headers)
            handler = kind_cls(actor=actor, header_names=dict(reader.columns_found))
            try:
                with transaction.atomic():
                    _process(reader, handler, outcome, progress)
                    if not outcome.ok or dry_run:
                        raise _Rollback
            except _Rollback:
                pass
    except TabularError as exc:
        outcome.failed = True
        message = tabular_message(exc, kind_cls)
        outcome.message = message
        if exc.row:
            outcome.add_errors([RowError(exc.row, "", message)])
    except DatabaseError as exc:  # a constraint the row checks did not foresee
        logger.exception("import of %s failed", kind)
        outcome.failed = True
        outcome.message = _("The database refused the data (%(error)s); nothing was changed.") % {
            "error": str(exc).splitlines()[0][:200]
        }
    if not outcome.message:
        outcome.message = _summary(outcome)
    return outcome


def _process(
    reader: TabularReader, handler, outcome: ImportOutcome, progress: Progress | None
) -> None:
    rows = iter(reader)
    total = reader.total_bytes()
    while True:
        batch = list(itertools.islice(rows, handler.batch_size))
        if not batch:
            break
        outcome.rows += len(batch)
        result = handler.process(batch)
        if result.errors:
            outcome.add_errors(result.errors)
        else:
            outcome.created += result.created
            outcome.updated += result.updated
            outcome.unchanged += result.unchanged
        if progress:
            progress(outcome.rows, reader.bytes_read(), total)
    if outcome.ok:
        try:
            handler.finish()
        except RowRejected as exc:
            outcome.add_errors(exc.errors)


def _summary(outcome: ImportOutcome) -> str:
    counts = {
        "rows": outcome.rows,
        "created": outcome.created,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
        "rejected": len(outcome.rejected_rows),
    }
    if outcome.rejected_rows:
        return (
            _(
                "%(rejected)d of %(rows)d rows have errors; nothing was changed. Correct the rows "
                "listed and import the file again."
            )
            % counts
        )
    if outcome.dry_run:
        return (
            _(
                "Dry run: %(rows)d rows read; %(created)d would be created, %(updated)d updated and "
                "%(unchanged)d are unchanged. Nothing was changed."
            )
            % counts
        )
    return (
        _(
            "%(rows)d rows imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged."
        )
        % counts
    )


def tabular_message(exc: TabularError, kind_cls) -> str:
    """The file-level problem in the user's language (tabular.py itself stays Django-free)."""
    p = exc.params
    if exc.code == "missing_column":
        wanted = {c.key: c for c in kind_cls.columns}
        names = []
        for key in p.get("columns", []):
            column = wanted[key]
            chinese = next(
                (h for h in column.headers if any("\u4e00" <= ch <= "\u9fff" for ch in h)), ""
            )
            names.append(f"{column.headers[0]} / {chinese}" if chinese else column.headers[0])
        return _("Missing required column(s): %(columns)s.") % {"columns": "; ".join(names)}
    messages = {
        "unsupported_format": _("This file type is not supported. Upload a .csv or .xlsx file."),
        "legacy_excel": _(
            "Excel 97-2003 workbooks (.xls) are not supported. Save the file as .xlsx or CSV "
            "and upload it again."
        ),
        "extra_cells": _("This row has values to the right of the last column header."),
        "empty": _("The file is empty."),
        "duplicate_column": _("The column “%(header)s” appears twice (also as “%(other)s”).")
        % {"header": p.get("header", ""), "other": p.get("other", "")},
        "encoding": _(
            "This row contains characters that cannot be read as %(encoding)s. Save the file as "
            "“CSV UTF-8” and upload it again."
        )
        % {"encoding": p.get("encoding", "")},
        "csv_syntax": _(
            "This row is not valid CSV (check for an unclosed quote or a very long cell)."
        ),
        "bad_xlsx": _("The file could not be opened as an Excel workbook (.xlsx)."),
    }
    message = messages.get(exc.code, exc.message)
    if exc.row:
        return _("Row %(row)d: %(message)s") % {"row": exc.row, "message": message}
    return message
