"""Validators for Chinese business identifiers and phone numbers."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: 18 characters from this 31-character set (no I, O, S, V, Z).
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = [pow(3, i, 31) for i in range(17)]
# Registration authority (position 1) and the category codes it allows (position 2).
_CREDIT_CODE_CATEGORIES = {
    "1": "1239",  # 机构编制
    "2": "19",  # 外交
    "3": "12345",  # 司法行政 (and 宗教 under later rules)
    "4": "19",  # 文化
    "5": "1239",  # 民政
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商 / 市场监管
    "A": "19",  # 中央军委改革和编制办公室
    "N": "1239",  # 农业
    "Y": "1",  # 其他
}
_CREDIT_CODE_RE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015, mod 31)."""
    total = sum(
        CREDIT_CODE_CHARSET.index(c) * w for c, w in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def validate_credit_code(value: str) -> None:
    """统一社会信用代码: 18 characters, valid authority and category codes, correct check
    character. Raises a ValidationError that says which part is wrong."""
    code = normalise_credit_code(value)
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)d."),
            code="credit_code_length",
            params={"n": len(code)},
        )
    if not _CREDIT_CODE_RE.match(code):
        raise ValidationError(
            _(
                "A unified social credit code uses digits and capital letters except I, O, S, V "
                "and Z, and its characters 3 to 8 are the digits of an administrative area code."
            ),
            code="credit_code_characters",
        )
    allowed = _CREDIT_CODE_CATEGORIES.get(code[0])
    if allowed is None or code[1] not in allowed:
        raise ValidationError(
            _(
                "The first two characters (%(prefix)s) are not a valid registration authority and category."
            ),
            code="credit_code_category",
            params={"prefix": code[:2]},
        )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _(
                "The check character of this unified social credit code is wrong (expected %(expected)s)."
            ),
            code="credit_code_check",
            params={"expected": expected},
        )


_CN_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(value: str) -> str:
    """Drop spaces, dashes and brackets; keep a leading +."""
    value = (value or "").strip()
    return re.sub(r"[\s\-()（）]", "", value)


def validate_mobile(value: str) -> None:
    """A Chinese mobile number (11 digits starting 13–19, optionally +86/0086), or an
    international number written with a leading + and a country code other than 86."""
    number = normalise_phone(value)
    if not number:
        return
    if number.startswith("+86") or number.startswith("0086"):
        national = number[3:] if number.startswith("+86") else number[4:]
        if _CN_MOBILE_RE.match(national):
            return
    elif number.startswith("+") or number.startswith("00"):
        digits = number.lstrip("+0")
        if digits.isdigit() and 6 <= len(digits) <= 15:
            return
    elif _CN_MOBILE_RE.match(number):
        return
    raise ValidationError(
        _(
            "Enter a Chinese mobile number (11 digits starting with 13–19) or an international "
            "number starting with + and the country code."
        ),
        code="mobile",
    )
