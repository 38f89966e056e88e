"""Trigram (pg_trgm) indexes for the account and contact search on PostgreSQL.

The search is `search_text LIKE '%…%'` (characters, pinyin and initials in one column); a
GIN trigram index answers it without reading the table when the needle has three or more
characters ("dali", "zgdx", "中国电"). Shorter needles (a two-character Chinese word) still
scan, which is ~80 ms at 100,000 accounts (see docs/performance.md). Nothing on SQLite. If
the database user may not create the extension, the migration says so and leaves the
search as it was (it works, only slower)."""

from django.db import DatabaseError, migrations, transaction

INDEXES = [
    ("account_search_trgm", "accounts_account"),
    ("contact_search_trgm", "accounts_contact"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as error:  # an optional speed-up: said, not fatal
            print(f"\n  pg_trgm is not available ({error}); the search stays unindexed.")
            return
        for name, table in INDEXES:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                "USING gin (search_text gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _table in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_order_total_rebate")]

    operations = [migrations.RunPython(create, drop)]
