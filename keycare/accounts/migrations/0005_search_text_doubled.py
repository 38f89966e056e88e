"""Rewrite the stored search text of accounts and contacts in the form the search now uses
(Chinese characters doubled, so that two-character words can use the trigram index; see
keycare.core.search). Batched; the names themselves are untouched."""

from django.db import migrations

from keycare.core.search import search_text


def rewrite(apps, schema_editor):
    for model, fields in (("Account", ("name", "short_name", "name_en")), ("Contact", ("name",))):
        Model = apps.get_model("accounts", model)
        batch = []
        for row in Model.objects.only("pk", *fields).order_by("pk").iterator(chunk_size=2000):
            row.search_text = search_text(*(getattr(row, f) for f in fields))
            batch.append(row)
            if len(batch) == 2000:
                Model.objects.bulk_update(batch, ["search_text"])
                batch = []
        if batch:
            Model.objects.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_search_trigram_indexes")]

    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop)]
