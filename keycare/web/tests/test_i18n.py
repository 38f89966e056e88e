"""The zh-Hans catalogue is complete and current, and templates keep every user-visible
string inside a translation tag."""

import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.utils.translation.template import templatize

KEYCARE = Path(__file__).resolve().parents[2]
PO = KEYCARE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
KEYWORDS = [
    "gettext_noop",
    "gettext_lazy",
    "ngettext_lazy:1,2",
    "pgettext:1c,2",
    "npgettext:1c,2,3",
    "pgettext_lazy:1c,2",
    "npgettext_lazy:1c,2,3",
    "_",
    "gettext",
    "ngettext:1,2",
]
#: Text that is the same in every language.
NEUTRAL = {"KeyCare", "—", "·", "/", "|"}


def source_files():
    for path in sorted(KEYCARE.rglob("*")):
        parts = set(path.relative_to(KEYCARE).parts)
        if parts & {"tests", "migrations", "static", "locale", "__pycache__"}:
            continue
        if path.suffix == ".py" or (path.suffix in {".html", ".txt"} and "templates" in parts):
            yield path


def extract_msgids(tmp_path: Path) -> set[str]:
    """What `makemessages` would extract: Python sources and templatized templates."""
    xgettext = shutil.which("xgettext")
    assert xgettext, "GNU gettext's xgettext is needed (apt-get install gettext)"
    inputs = []
    for path in source_files():
        if path.suffix == ".py":
            inputs.append(str(path))
        else:
            out = tmp_path / (str(path.relative_to(KEYCARE)).replace("/", "__") + ".py")
            out.write_text(templatize(path.read_text(encoding="utf-8"), origin=str(path)))
            inputs.append(str(out))
    pot = tmp_path / "extracted.pot"
    cmd = [xgettext, "--language=Python", "--from-code=UTF-8", "--no-location", "-o", str(pot)]
    cmd += [f"--keyword={k}" for k in KEYWORDS] + inputs
    subprocess.run(cmd, check=True, capture_output=True)
    return {entry.msgid for entry in polib.pofile(str(pot)) if entry.msgid}


def test_every_string_in_the_code_is_in_the_catalogue_and_nothing_stale(tmp_path):
    extracted = extract_msgids(tmp_path)
    catalogue = {e.msgid for e in polib.pofile(str(PO)) if not e.obsolete}
    missing = sorted(extracted - catalogue)
    assert not missing, f"Run `make messages` and translate: {missing}"
    stale = sorted(catalogue - extracted)
    assert not stale, f"Entries no longer used in the code (run `make messages`): {stale}"
    assert len(extracted) > 100


def test_every_entry_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(PO))
    assert catalogue.metadata["Language"] == "zh_Hans"
    problems = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid}")
        strings = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated: {entry.msgid}")
        for s in strings:
            if set(re.findall(r"%\(\w+\)[sd]", entry.msgid)) != set(re.findall(r"%\(\w+\)[sd]", s)):
                problems.append(f"placeholders differ: {entry.msgid}")
    assert problems == []


def test_compiled_catalogue_matches_the_po_file():
    po = {
        (e.msgid, e.msgstr or str(e.msgstr_plural)) for e in polib.pofile(str(PO)) if e.translated()
    }
    mo = {(e.msgid, e.msgstr or str(e.msgstr_plural)) for e in polib.mofile(str(MO)) if e.msgid}
    assert po == mo, "keycare/locale is out of date: run `python scripts/compile_messages.py`"


def visible_template_text(source: str) -> list[str]:
    """Text a user would see that is not inside a translation tag."""
    s = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    s = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", s, flags=re.S)
    s = re.sub(r"{%\s*blocktrans(late)?\b.*?{%\s*endblocktrans(late)?\s*%}", " ", s, flags=re.S)
    s = re.sub(r"<(script|style)\b.*?</\1>", " ", s, flags=re.S | re.I)
    s = re.sub(r"<!--.*?-->", " ", s, flags=re.S)
    found = []
    for attr in re.findall(r'\b(?:title|placeholder|alt|aria-label)="([^"]*)"', s):
        found.append(attr)
    s = re.sub(r"{%.*?%}", " ", s, flags=re.S)
    s = re.sub(r"{{.*?}}", " ", s, flags=re.S)
    s = re.sub(r"<[^>]*>", "\n", s, flags=re.S)
    found += s.split("\n")
    texts = []
    for text in found:
        text = re.sub(r"{%.*?%}|{{.*?}}", " ", text).strip()
        words = [w for w in text.split() if w not in NEUTRAL]
        if re.search(r"[A-Za-z\u4e00-\u9fff]", " ".join(words)):
            texts.append(text)
    return texts


def test_templates_have_no_untranslated_visible_text():
    offenders = {}
    for path in source_files():
        if path.suffix == ".html":
            texts = visible_template_text(path.read_text(encoding="utf-8"))
            if texts:
                offenders[str(path.relative_to(KEYCARE))] = texts
    assert offenders == {}


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("<p>Hello</p>", ["Hello"]),
        ('<input placeholder="Search">', ["Search"]),
        ("<p>{% translate 'Hello' %}</p>", []),
        ("<p>{% blocktranslate %}Hi {{ x }}{% endblocktranslate %}</p>", []),
        ("<span>KeyCare</span> <b>{{ name }}</b>", []),
        ("<p>客户</p>", ["客户"]),
    ],
)
def test_the_template_scan_itself(snippet, expected):
    assert visible_template_text(snippet) == expected


def test_date_fields_render_iso_dates_in_chinese_for_the_date_picker():
    """<input type="date"> reads only ISO dates: in Chinese a stored date must not be
    rendered as 2026/11/15 (the picker showed it empty and saving lost the date)."""
    import datetime as dt

    from django import forms
    from django.utils import translation

    class DateForm(forms.Form):
        day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    with translation.override("zh-hans"):
        html = str(DateForm(initial={"day": dt.date(2026, 11, 15)})["day"])
        assert 'value="2026-11-15"' in html
        bound = DateForm(data={"day": "2026-11-15"})
        assert bound.is_valid() and bound.cleaned_data["day"] == dt.date(2026, 11, 15)
        assert DateForm(data={"day": "2026/11/15"}).is_valid()  # typed the Chinese way
