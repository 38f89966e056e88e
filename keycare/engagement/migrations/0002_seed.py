from django.db import migrations


def seed(apps, schema_editor):
    from keycare.engagement.defaults import seed as seed_defaults

    seed_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("engagement", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
