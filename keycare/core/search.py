"""Search text for Chinese names: characters, full pinyin and pinyin initials, so that
"zgdx", "zhongguodianxin" and "中国电信" all find 中国电信 with one `contains` filter.

Chinese characters are stored (and searched) doubled — 中国电信 as 中中国国电电信信 — so that
the usual two-character search word becomes four characters, long enough for a trigram
index (PostgreSQL's pg_trgm needs three characters to use one; see the accounts migration
0004). Doubling every character keeps `contains` exact: the doubled text contains the
doubled word exactly when the text contains the word."""

import re

from django.db.models import Q
from pypinyin import Style, lazy_pinyin

_SPACE = re.compile(r"[\s·•・,，.。()（）\-_/]+")
_CJK = re.compile(r"([\u4e00-\u9fff])")


def _doubled(text: str) -> str:
    return _CJK.sub(r"\1\1", text)


def search_text(*parts: str) -> str:
    tokens: list[str] = []
    for part in parts:
        text = _SPACE.sub("", (part or "").lower())
        if not text:
            continue
        tokens.append(_doubled(text))
        if _CJK.search(text):
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
    return Q(**{f"{field}__contains": _doubled(needle)})
