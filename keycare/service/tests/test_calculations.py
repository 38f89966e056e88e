"""The SLA arithmetic: the published cases, make-up days, pauses, and properties."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keycare.service.calculations import (
    AT_RISK,
    BREACHED,
    MET,
    ON_TRACK,
    PAUSED,
    CalendarError,
    WorkingCalendar,
    add_working_time,
    is_working_time,
    parse_intervals,
    sla_status,
    uncovered_days,
    working_time_between,
)

TZ = ZoneInfo("Asia/Shanghai")
H = dt.timedelta(hours=1)
TEN_TO_SIX = parse_intervals([["10:00", "18:00"]])
MONDAY = dt.date(2026, 3, 2)
TUESDAY = MONDAY + dt.timedelta(days=1)

# Monday–Friday 10:00–18:00 with a holiday on the Tuesday (the reference calendar)
REFERENCE = WorkingCalendar(
    tz=TZ, weekly=dict.fromkeys(range(5), TEN_TO_SIX), holidays=frozenset({TUESDAY})
)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), TZ)


def test_reference_case_opened_monday_noon():
    opened = at(MONDAY, 12)
    assert add_working_time(REFERENCE, opened, 4 * H) == at(MONDAY, 16)
    assert add_working_time(REFERENCE, opened, 6 * H) == at(MONDAY, 18)


def test_reference_case_opened_monday_evening():
    opened = at(MONDAY, 20)
    wednesday = MONDAY + dt.timedelta(days=2)
    assert add_working_time(REFERENCE, opened, 4 * H) == at(wednesday, 14)
    assert add_working_time(REFERENCE, opened, 6 * H) == at(wednesday, 16)


def test_two_intervals_a_day_and_a_make_up_saturday():
    split = parse_intervals([["08:30", "12:00"], ["13:30", "17:30"]])
    saturday = dt.date(2026, 10, 10)  # a 调休 make-up working day in China
    calendar = WorkingCalendar(
        tz=TZ, weekly=dict.fromkeys(range(5), split), workdays={saturday: split}
    )
    friday_16 = dt.datetime(2026, 10, 9, 16, 0, tzinfo=TZ)
    # 1.5 h left on Friday, then Saturday morning counts
    assert add_working_time(calendar, friday_16, 4 * H) == dt.datetime(
        2026, 10, 10, 11, 0, tzinfo=TZ
    )
    # the lunch break does not count
    assert add_working_time(
        calendar, dt.datetime(2026, 10, 12, 11, 0, tzinfo=TZ), 2 * H
    ) == dt.datetime(2026, 10, 12, 14, 30, tzinfo=TZ)


def test_pause_moves_the_due_time_and_an_open_pause_stops_the_clock():
    opened = at(MONDAY, 12)
    pause = (at(MONDAY, 13), at(MONDAY, 15))
    assert add_working_time(REFERENCE, opened, 4 * H, [pause]) == at(MONDAY, 18)
    assert add_working_time(REFERENCE, opened, 4 * H, [(at(MONDAY, 13), None)]) is None
    # the open pause starts after the target is reached: no effect
    assert add_working_time(REFERENCE, opened, 1 * H, [(at(MONDAY, 14), None)]) == at(MONDAY, 13)
    assert working_time_between(REFERENCE, opened, at(MONDAY, 18), [pause]) == 4 * H


def test_time_zones_are_respected():
    utc_opened = dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
    assert add_working_time(REFERENCE, utc_opened, 4 * H) == at(MONDAY, 16)


def test_a_calendar_without_working_time_is_an_error_not_a_hang():
    with pytest.raises(CalendarError):
        add_working_time(WorkingCalendar(tz=TZ, weekly={}), at(MONDAY, 9), H)
    with pytest.raises(CalendarError):
        WorkingCalendar(tz=TZ, weekly={0: parse_intervals([["12:00", "10:00"]])})


def test_uncovered_years_are_reported():
    calendar = WorkingCalendar(tz=TZ, weekly=dict.fromkeys(range(5), TEN_TO_SIX),
                               covered_years=frozenset({2026}))  # fmt: skip
    assert uncovered_days(calendar, at(MONDAY, 9), at(dt.date(2026, 12, 31), 9)) == []
    assert uncovered_days(calendar, at(dt.date(2026, 12, 30), 9), at(dt.date(2027, 1, 4), 9)) == [
        dt.date(2027, 1, 1)
    ]


def test_sla_status():
    opened = at(MONDAY, 12)
    due = add_working_time(REFERENCE, opened, 4 * H)
    common = {"started": opened, "due": due, "calendar": REFERENCE, "target": 4 * H}
    assert sla_status(now=at(MONDAY, 13), done=None, **common) == ON_TRACK
    assert sla_status(now=at(MONDAY, 15, 30), done=None, **common) == AT_RISK  # 3.5 h ≥ 80 %
    assert sla_status(now=at(MONDAY, 16, 1), done=None, **common) == BREACHED
    assert sla_status(now=at(MONDAY, 17), done=at(MONDAY, 15), **common) == MET
    assert sla_status(now=at(MONDAY, 17), done=at(MONDAY, 16, 30), **common) == BREACHED
    assert sla_status(now=at(MONDAY, 17), done=None, **{**common, "due": None}) == PAUSED


# --- properties ---------------------------------------------------------------------------

moments = st.datetimes(
    # hypothesis takes naive bounds and attaches the zone itself
    min_value=dt.datetime(2026, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(TZ),
)
durations = st.integers(min_value=0, max_value=60 * 200).map(lambda m: dt.timedelta(minutes=m))


@settings(max_examples=200, deadline=None)
@given(start=moments, a=durations, b=durations)
def test_due_time_is_monotone_in_the_target(start, a, b):
    low, high = sorted((a, b))
    assert add_working_time(REFERENCE, start, low) <= add_working_time(REFERENCE, start, high)


@settings(max_examples=200, deadline=None)
@given(start=moments, target=durations)
def test_due_time_is_working_time_and_adds_exactly_the_target(start, target):
    due = add_working_time(REFERENCE, start, target)
    assert is_working_time(REFERENCE, due)
    assert working_time_between(REFERENCE, start, due) == target


@settings(max_examples=200, deadline=None)
@given(start=moments, target=durations, offset=durations, length=durations)
def test_pausing_never_makes_a_ticket_due_earlier(start, target, offset, length):
    pause = (start + offset, start + offset + length)
    assert add_working_time(REFERENCE, start, target, [pause]) >= add_working_time(
        REFERENCE, start, target
    )
