"""Shared set-up of the benchmarks: Django on a throwaway SQLite database in a temporary
folder (or DATABASE_URL when given: use a scratch database!), migrated."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def scratch_django() -> Path:
    """Set Django up on the scratch database; returns the temporary folder."""
    work = Path(tempfile.mkdtemp(prefix="keycare-bench-"))
    os.environ.setdefault("KEYCARE_VAR_DIR", str(work))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    return work
