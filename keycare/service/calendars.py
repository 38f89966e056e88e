"""Loading the mainland-China working calendar (holidays and 调休 make-up days) from the
maintained chinese-calendar package into a BusinessCalendar."""

import datetime as dt

from django.db import transaction

from .choices import CalendarDayKind
from .models import STANDARD_HOURS, BusinessCalendar, CalendarDay

CHINA_CALENDAR_NAME = "中国大陆工作日历"


def china_calendar_data() -> tuple[dict[dt.date, str], dict[dt.date, str], int, int]:
    from chinese_calendar import constants

    holidays = {d: getattr(name, "value", str(name)) for d, name in constants.holidays.items()}
    workdays = {d: getattr(name, "value", str(name)) for d, name in constants.workdays.items()}
    # weekend days listed as holidays add nothing; keep the real weekday holidays and all
    # make-up working days
    years = [d.year for d in holidays]
    return holidays, workdays, min(years), max(years)


@transaction.atomic
def china_calendar_load(*, calendar: BusinessCalendar | None = None) -> BusinessCalendar:
    """Create or refresh the China calendar. Days an administrator added by hand in years the
    package does not cover are kept; days of covered years follow the package."""
    holidays, workdays, first, last = china_calendar_data()
    if calendar is None:
        calendar, _ = BusinessCalendar.objects.get_or_create(
            name=CHINA_CALENDAR_NAME,
            defaults={"time_zone": "Asia/Shanghai", "weekly_hours": STANDARD_HOURS,
                      "is_default": not BusinessCalendar.objects.filter(is_default=True).exists()},
        )  # fmt: skip
    CalendarDay.objects.filter(
        calendar=calendar, date__year__gte=first, date__year__lte=last
    ).delete()
    rows = [
        CalendarDay(calendar=calendar, date=d, kind=CalendarDayKind.HOLIDAY, name=name)
        for d, name in holidays.items() if d.weekday() < 5
    ] + [
        CalendarDay(calendar=calendar, date=d, kind=CalendarDayKind.WORKDAY, name=name)
        for d, name in workdays.items()
    ]  # fmt: skip
    CalendarDay.objects.bulk_create(rows, batch_size=1000)
    calendar.covered_from, calendar.covered_to = first, last
    calendar.save(update_fields=["covered_from", "covered_to"])
    return calendar
