"""Fill untranslated zh-Hans entries from a Python dict file (a translator's helper).

Usage: python scripts/translate_fill.py TRANSLATIONS.py [--force]
The file defines ZH = {msgid: msgstr} and PLURALS = {msgid: msgstr} (entries with a context
are left alone). Untranslated and fuzzy entries are filled from it; with --force every entry
found in the file is set. Entries still missing are listed (and fuzzy ones stay fuzzy).
"""

import runpy
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "keycare/locale/zh_Hans/LC_MESSAGES/django.po"

table = runpy.run_path(sys.argv[1])
force = "--force" in sys.argv
catalogue = polib.pofile(str(PO))
missing = []
for entry in catalogue:
    if entry.obsolete:
        continue
    if entry.msgctxt:
        if not entry.translated():
            missing.append(f"{entry.msgctxt}|{entry.msgid}")
        continue
    fuzzy = "fuzzy" in entry.flags
    source = table.get("PLURALS" if entry.msgid_plural else "ZH", {})
    if entry.msgid in source and (force or fuzzy or not entry.translated()):
        if entry.msgid_plural:
            entry.msgstr_plural = {0: source[entry.msgid]}
        else:
            entry.msgstr = source[entry.msgid]
        if fuzzy:
            entry.flags.remove("fuzzy")
    if not entry.translated():
        missing.append(entry.msgid)
catalogue.save()
for msgid in missing:
    print("missing:", msgid)
print(f"{len(missing)} missing")
