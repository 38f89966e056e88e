"""Parsing of cell text into typed values, with messages a spreadsheet user understands."""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _


class CellError(ValueError):
    """A cell that cannot be read; the message is shown next to its row and column."""


_DATE_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: .*)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), (1, 2, 3)),
]


# Fast paths for the well-formed cell of an ERP export (ASCII digits only: other Unicode
# digits and everything unusual take the general path, which gives the same result).
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?").fullmatch
_QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(7)}


def parse_date(text: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    if _ISO_DATE(text):
        try:
            return dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            pass  # 2026-02-30: the general path says why
    for pattern, (y, m, d) in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
            except ValueError:
                break
    raise CellError(_("“%(value)s” is not a date; use YYYY-MM-DD.") % {"value": text})


_MONEY_NOISE = re.compile(r"[,\s¥￥$€]|RMB|CNY|元", re.IGNORECASE)


def parse_decimal(text: str, *, places: int = 2, allow_negative: bool = True) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    if _PLAIN_NUMBER(text):
        value = Decimal(text)
        if value < 0 and not allow_negative:
            raise CellError(_("This value cannot be negative."))
        return _quantized(value, places, text)
    negative = (text.startswith("(") and text.endswith(")")) or (
        text.startswith("（") and text.endswith("）")
    )
    cleaned = _MONEY_NOISE.sub("", text.strip("()（）"))
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not a number.") % {"value": text}) from None
    if not value.is_finite():
        raise CellError(_("“%(value)s” is not a number.") % {"value": text})
    if negative:
        value = -value
    if value < 0 and not allow_negative:
        raise CellError(_("This value cannot be negative."))
    return _quantized(value, places, text)


def _quantized(value: Decimal, places: int, text: str) -> Decimal:
    try:
        return value.quantize(_QUANTUM.get(places) or Decimal(1).scaleb(-places))
    except InvalidOperation:  # more digits than a decimal holds (1e400, 30-digit numbers)
        raise CellError(_("“%(value)s” is too large a number.") % {"value": text}) from None


def parse_int(text: str, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
    text = text.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        value = int(text)
    else:
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise CellError(_("“%(value)s” is not a whole number.") % {"value": text}) from None
        if number != number.to_integral_value():
            raise CellError(_("“%(value)s” is not a whole number.") % {"value": text})
        value = int(number)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise CellError(
            _("%(value)s is outside the allowed range %(min)s to %(max)s.")
            % {"value": value, "min": minimum, "max": maximum}
        )
    return value


_TRUE = {"1", "true", "yes", "y", "是", "对", "√", "t"}
_FALSE = {"0", "false", "no", "n", "否", "不", "×", "f"}


def parse_bool(text: str) -> bool | None:
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError(_("“%(value)s” is not yes or no.") % {"value": text})


def choice_lookup(choices: type[models.Choices]) -> dict[str, object]:
    """Map a choice's value and its English and Chinese labels (lower-case) to the value."""
    table: dict[str, object] = {}
    for member in choices:
        table[str(member.value).lower()] = member.value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                table[str(member.label).strip().lower()] = member.value
    return table


def parse_choice(
    text: str, table: dict[str, object], choices: type[models.Choices]
) -> object | None:
    value = text.strip().lower()
    if not value:
        return None
    if value in table:
        return table[value]
    allowed = "、".join(str(c.label) for c in choices)
    raise CellError(
        _("“%(value)s” is not one of: %(allowed)s.") % {"value": text, "allowed": allowed}
    )


def split_list(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;，；、|]", text) if part.strip()]
