"""The mainland-China calendar (from the chinese-calendar package, with 调休 make-up days)
and the starting SLA policies: platinum, gold and the floor that covers every other account."""

from django.db import migrations

from keycare.service.defaults import HOURS, create_policies


def forwards(apps, schema_editor):
    from chinese_calendar import constants

    BusinessCalendar = apps.get_model("service", "BusinessCalendar")
    CalendarDay = apps.get_model("service", "CalendarDay")
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    SlaTarget = apps.get_model("service", "SlaTarget")
    years = [d.year for d in constants.holidays]
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="中国大陆工作日历",
        defaults={"time_zone": "Asia/Shanghai", "weekly_hours": HOURS, "is_default": True,
                  "covered_from": min(years), "covered_to": max(years)},
    )
    days = [
        CalendarDay(calendar=calendar, date=d, kind="holiday", name=getattr(n, "value", str(n)))
        for d, n in constants.holidays.items() if d.weekday() < 5
    ] + [
        CalendarDay(calendar=calendar, date=d, kind="workday", name=getattr(n, "value", str(n)))
        for d, n in constants.workdays.items()
    ]
    CalendarDay.objects.bulk_create(days, ignore_conflicts=True)
    create_policies(SlaPolicy, SlaTarget)


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
