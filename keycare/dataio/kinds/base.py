from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models

from keycare.core.tabular import Column

from ..parsing import CellError


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


class RowRejected(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors


class Kind:
    """How one kind of data is read, matched on its natural key and written in batches."""

    name: ClassVar[str]
    columns: ClassVar[list[Column]]
    batch_size: ClassVar[int] = 1000

    def __init__(self, *, actor: Any = None, header_names: dict[str, str] | None = None):
        self.actor = actor
        self.header_names = header_names or {}

    # -- helpers for subclasses --------------------------------------------------------------

    def header(self, key: str) -> str:
        """The column as the file names it (so the user recognises it in the report)."""
        if key in self.header_names:
            return self.header_names[key]
        for column in self.columns:
            if column.key == key:
                return column.headers[0]
        return key

    def cells(
        self, row_number: int, values: dict[str, str], parsers: dict[str, Callable[[str], Any]]
    ) -> dict[str, Any]:
        """Parse every cell, rejecting the row with all of its cell errors."""
        parsed, errors = self.parse_cells(row_number, values, parsers)
        if errors:
            raise RowRejected(errors)
        return parsed

    def parse_cells(
        self, row_number: int, values: dict[str, str], parsers: dict[str, Callable[[str], Any]]
    ) -> tuple[dict[str, Any], list[RowError]]:
        """Parse every cell; return the values (None where a cell failed) and the errors, so
        the caller can add its own checks and report everything wrong with the row at once."""
        parsed: dict[str, Any] = {}
        errors: list[RowError] = []
        for key, parser in parsers.items():
            text = values.get(key, "")
            try:
                parsed[key] = parser(text)
            except CellError as exc:
                parsed[key] = None
                errors.append(RowError(row_number, self.header(key), str(exc)))
        for key in self._required_keys():
            missing = not values.get(key, "").strip()
            if missing and not any(e.column == self.header(key) for e in errors):
                errors.append(RowError(row_number, self.header(key), _required()))
        return parsed, errors

    @classmethod
    def _required_keys(cls) -> tuple[str, ...]:
        # per class, not per row: parse_cells runs once for each of millions of rows
        keys = cls.__dict__.get("_required")
        if keys is None:
            keys = tuple(c.key for c in cls.columns if c.required)
            cls._required = keys
        return keys

    def model_errors(
        self, row_number: int, exc: ValidationError, field_to_column: dict[str, str] | None = None
    ) -> RowRejected:
        field_to_column = field_to_column or {}
        errors = []
        if hasattr(exc, "error_dict"):
            for field_name, messages in exc.message_dict.items():
                column = field_to_column.get(field_name, field_name)
                label = self.header(column) if field_name != "__all__" else ""
                errors += [RowError(row_number, label, m) for m in messages]
        else:
            errors = [RowError(row_number, "", m) for m in exc.messages]
        return RowRejected(errors)

    @staticmethod
    def differs(instance: models.Model, values: dict[str, Any]) -> list[str]:
        changed = []
        for name, value in values.items():
            if getattr(instance, name) != value:
                setattr(instance, name, value)
                changed.append(name)
        return changed

    # -- to implement ------------------------------------------------------------------------

    def process(self, batch: list[tuple[int, dict[str, str]]]) -> BatchResult:
        raise NotImplementedError

    def finish(self) -> None:
        """Called once after the last batch (set-based follow-ups such as order totals)."""

    # -- export --------------------------------------------------------------------------------

    def export_rows(self, queryset: models.QuerySet) -> Iterator[list[Any]]:
        raise NotImplementedError

    def export_header_row(self, language: str) -> list[str]:
        """The header row for this export (a kind may drop columns the actor may not see)."""
        return self.export_headers(language)

    @classmethod
    def export_headers(cls, language: str) -> list[str]:
        """English headers, or the first Chinese header of each column for zh-hans."""
        headers = []
        for column in cls.columns:
            chinese = next(
                (h for h in column.headers if any("\u4e00" <= c <= "\u9fff" for c in h)), None
            )
            headers.append(chinese if language.startswith("zh") and chinese else column.headers[0])
        return headers


def _required() -> str:
    from django.utils.translation import gettext as _

    return _("This column is required.")
