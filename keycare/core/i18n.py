"""Bilingual content entered by people (a name in English and in Chinese)."""

from django.utils.translation import get_language


def in_language(english: str, chinese: str) -> str:
    """The text for the active language: the Chinese one under zh-*, else the English."""
    return chinese if (get_language() or "").startswith("zh") else english
