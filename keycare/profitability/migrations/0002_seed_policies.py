from django.db import migrations


def seed(apps, schema_editor):
    from keycare.profitability.defaults import profitability_defaults_ensure

    profitability_defaults_ensure(
        apps.get_model("profitability", "ConcessionPolicy"),
        apps.get_model("profitability", "ProfitabilitySettings"),
    )


class Migration(migrations.Migration):
    dependencies = [("profitability", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
