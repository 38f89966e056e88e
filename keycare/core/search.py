"""Search text for Chinese names: characters, full pinyin and pinyin initials, so that
"zgdx", "zhongguodianxin" and "中国电信" all find 中国电信 with one `contains` filter."""

import re

from django.db.models import Q
from pypinyin import Style, lazy_pinyin

_SPACE = re.compile(r"[\s·•・,，.。()（）\-_/]+")


def search_text(*parts: str) -> str:
    tokens: list[str] = []
    for part in parts:
        text = _SPACE.sub("", (part or "").lower())
        if not text:
            continue
        tokens.append(text)
        if re.search(r"[\u4e00-\u9fff]", text):
            tokens.append("".join(lazy_pinyin(text, errors="default")).lower())
            tokens.append(
                "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")).lower()
            )
    # "|" keeps a match from running across two names
    return "|".join(dict.fromkeys(tokens))


def search_q(query: str, field: str = "search_text") -> Q:
    needle = _SPACE.sub("", (query or "").lower())
    if not needle:
        return Q()
    return Q(**{f"{field}__contains": needle})
