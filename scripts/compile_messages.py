"""Compile every .po catalogue under keycare/locale to .mo with polib (no GNU gettext needed).

The .mo files are committed so that a fresh machine needs no gettext to run KeyCare;
keycare/web/tests/test_i18n.py fails when a .mo is out of date with its .po.
"""

from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent

for po_path in sorted((ROOT / "keycare" / "locale").glob("*/LC_MESSAGES/*.po")):
    catalogue = polib.pofile(str(po_path))
    catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
    print(f"compiled {po_path.relative_to(ROOT)}: {len(catalogue.translated_entries())} entries")
