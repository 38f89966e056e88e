"""Streaming export of what the acting user may see, as CSV or XLSX."""

import tempfile
from collections.abc import Mapping
from typing import Any

from django.utils import translation

from keycare.accounts import selectors
from keycare.core.tabular import TabularWriter
from keycare.users.models import User

from .kinds import KINDS

SELECTORS = {
    "accounts": selectors.account_list,
    "contacts": selectors.contact_list,
    "products": selectors.product_list,
    "equipment": selectors.equipment_list,
    "orders": selectors.order_list,
}


def export_queryset(*, kind: str, actor: User | None, filters: Mapping[str, Any] | None = None):
    if actor is None:  # the CLI without --user: everything
        from keycare.accounts import models

        model = {
            "accounts": models.Account,
            "contacts": models.Contact,
            "products": models.Product,
            "equipment": models.Equipment,
            "orders": models.Order,
        }[kind]
        return model.objects.all()
    return SELECTORS[kind](actor=actor, filters=filters)


def export_to_file(
    *,
    kind: str,
    fmt: str,
    actor: User | None,
    filters: Mapping[str, Any] | None = None,
    language: str = "en",
    target=None,
):
    """Write the export to `target` (a path or binary file), or to a new temporary file that
    is returned open and rewound. Rows stream from the database in chunks."""
    kind_cls = KINDS[kind]
    queryset = export_queryset(kind=kind, actor=actor, filters=filters)
    out = target or tempfile.TemporaryFile()  # noqa: SIM115 - returned to the caller open
    with translation.override(language):
        handler = kind_cls(actor=actor)
        writer = TabularWriter(out, fmt, handler.export_header_row(language))
        count = 0
        for row in handler.export_rows(queryset):
            writer.write(row)
            count += 1
        writer.close()
    if target is None:
        out.seek(0)
        return out, count
    return None, count
