"""Writing many rows fast: PostgreSQL COPY, bulk_create in batches elsewhere."""

import itertools
import json
from collections.abc import Callable, Iterable, Sequence

from django.db import connection, models

BATCH = 5000


def bulk_insert_values(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple], *,
    total: int | None = None, progress: Callable[[int, int], None] | None = None,
) -> None:  # fmt: skip
    """Insert rows given as tuples in the order of `columns` (field names). PostgreSQL:
    COPY, which takes the values as they are — at 100,000 rows, building model instances and
    preparing them field by field for bulk_create costs ten times the reads that produced
    them (see docs/performance.md); JSON fields are written as their JSON text. Elsewhere
    bulk_create in batches. No save() hooks or signals run (the callers are set-based
    recomputes that own their rows)."""
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        names = ", ".join(quote(f.column) for f in fields)
        as_json = [isinstance(f, models.JSONField) for f in fields]
        # table and column names come from the model and are quoted; the values are data
        sql = f"COPY {quote(meta.db_table)} ({names}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            done = 0
            for done, values in enumerate(rows, start=1):
                if any(as_json):
                    values = [json.dumps(v, ensure_ascii=False) if j and v is not None else v
                              for v, j in zip(values, as_json, strict=True)]  # fmt: skip
                copy.write_row(values)
                if progress and total and done % BATCH == 0:
                    progress(done, total)
        if progress and total:
            progress(total, total)
        return
    rows = iter(rows)
    done = 0
    while batch := [model(**dict(zip(columns, values, strict=True)))
                    for values in itertools.islice(rows, BATCH)]:  # fmt: skip
        model.objects.bulk_create(batch)
        done += len(batch)
        if progress and total:
            progress(done, total)
