"""The mainland-China calendar (from the chinese-calendar package, with 调休 make-up days)
and the starting SLA policies: platinum, gold and the floor that covers every other account."""

from django.db import migrations

HOURS = {str(d): [["08:30", "12:00"], ["13:30", "17:30"]] for d in range(5)}
# (priority, first response, resolution) in working minutes; a working day is 7.5 h
POLICIES = [
    ("铂金客户服务标准", "platinum", False, [("P1", 30, 240), ("P2", 60, 480), ("P3", 120, 900), ("P4", 240, 1800)]),
    ("黄金客户服务标准", "gold", False, [("P1", 60, 480), ("P2", 120, 900), ("P3", 240, 1800), ("P4", 480, 3600)]),
    ("基础服务标准（保底）", "", True, [("P1", 120, 900), ("P2", 240, 1800), ("P3", 480, 3600), ("P4", 900, 6750)]),
]


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
    for name, tier, floor, targets in POLICIES:
        policy, created = SlaPolicy.objects.get_or_create(name=name, defaults={"tier": tier, "is_floor": floor})
        if created:
            SlaTarget.objects.bulk_create(
                [SlaTarget(policy=policy, priority=p, first_response_minutes=r, resolution_minutes=s)
                 for p, r, s in targets]
            )


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
