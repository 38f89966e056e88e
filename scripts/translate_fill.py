"""Fill untranslated zh-Hans entries from a Python dict file (a translator's helper).

Usage: python scripts/translate_fill.py TRANSLATIONS.py
The file defines ZH = {msgid: msgstr} and PLURALS = {msgid: msgstr}. Entries already
translated are left alone; entries still missing are listed.
"""

import runpy
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "keycare/locale/zh_Hans/LC_MESSAGES/django.po"

table = runpy.run_path(sys.argv[1])
catalogue = polib.pofile(str(PO))
missing = []
for entry in catalogue:
    if entry.obsolete:
        continue
    if entry.msgid_plural:
        if not entry.msgstr_plural.get(0) and entry.msgid in table.get("PLURALS", {}):
            entry.msgstr_plural = {0: table["PLURALS"][entry.msgid]}
        if not entry.msgstr_plural.get(0):
            missing.append(entry.msgid)
    else:
        if not entry.msgstr and entry.msgid in table.get("ZH", {}):
            entry.msgstr = table["ZH"][entry.msgid]
        if not entry.msgstr:
            missing.append(entry.msgid)
    if "fuzzy" in entry.flags and (entry.msgstr or entry.msgstr_plural):
        entry.flags.remove("fuzzy")
catalogue.save()
for msgid in missing:
    print("missing:", msgid)
print(f"{len(missing)} missing")
