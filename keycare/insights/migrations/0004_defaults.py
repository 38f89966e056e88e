"""The defaults a new installation starts with (see keycare.insights.defaults): five
qualitative criteria, a first active value scorecard whose weights sum to 100, a service
strategy per account type and the settings row. All of them can be edited (the scorecard in
a new version)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from keycare.insights.defaults import insights_defaults_ensure

    insights_defaults_ensure(apps)


class Migration(migrations.Migration):
    dependencies = [("insights", "0003_scorecard_types_settings")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
