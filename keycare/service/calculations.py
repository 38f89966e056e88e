"""SLA arithmetic on working calendars: pure functions, no ORM, no settings.

A calendar says when work happens: intervals per weekday (e.g. 08:30–12:00 and 13:30–17:30),
holidays, and extra working days (the weekend make-up days, 调休, of the mainland-China
calendar). Due times add *working* time to a start, skipping nights, weekends, holidays and
the periods a ticket spent waiting on the customer (pauses).
"""

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

Interval = tuple[dt.time, dt.time]
Pause = tuple[dt.datetime, dt.datetime | None]
MAX_DAYS = 3 * 366  # no target needs more; stops a calendar without working days from looping


class CalendarError(ValueError):
    """The calendar cannot answer (no working time at all, or a bad definition)."""


@dataclass(frozen=True)
class WorkingCalendar:
    tz: ZoneInfo
    #: weekday (0 = Monday) -> working intervals that day
    weekly: dict[int, tuple[Interval, ...]]
    #: dates without work, whatever the weekday
    holidays: frozenset[dt.date] = frozenset()
    #: extra working days (e.g. a Saturday make-up day) -> their intervals
    workdays: dict[dt.date, tuple[Interval, ...]] = field(default_factory=dict)
    #: years whose holidays are known; None = no holiday data needed (e.g. a plant calendar)
    covered_years: frozenset[int] | None = None

    def __post_init__(self) -> None:
        for intervals in [*self.weekly.values(), *self.workdays.values()]:
            previous_end = None
            for start, end in intervals:
                if not start < end:
                    raise CalendarError(f"interval {start}–{end} ends before it starts")
                if previous_end is not None and start < previous_end:
                    raise CalendarError("intervals of a day must be in order and not overlap")
                previous_end = end

    def intervals_on(self, day: dt.date) -> tuple[Interval, ...]:
        if day in self.workdays:
            return self.workdays[day]
        if day in self.holidays:
            return ()
        return self.weekly.get(day.weekday(), ())

    def is_covered(self, day: dt.date) -> bool:
        return self.covered_years is None or day.year in self.covered_years

    def working_periods(self, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Working periods from `start` on, as aware datetimes in the calendar's zone."""
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(MAX_DAYS):
            for begin, end in self.intervals_on(day):
                period_start = dt.datetime.combine(day, begin, self.tz)
                period_end = dt.datetime.combine(day, end, self.tz)
                if period_end <= local:
                    continue
                yield max(period_start, local), period_end
            day += dt.timedelta(days=1)
        raise CalendarError("the calendar has no working time in the next three years")


def _subtract(period: tuple[dt.datetime, dt.datetime], pauses: Sequence[Pause]):
    """The parts of a working period outside every pause (an open pause runs forever)."""
    parts = [period]
    for pause_start, pause_end in pauses:
        next_parts = []
        for start, end in parts:
            p_end = pause_end if pause_end is not None else dt.datetime.max.replace(tzinfo=dt.UTC)
            if p_end <= start or pause_start >= end:
                next_parts.append((start, end))
                continue
            if pause_start > start:
                next_parts.append((start, pause_start))
            if p_end < end:
                next_parts.append((p_end, end))
        parts = next_parts
    return parts


def add_working_time(
    calendar: WorkingCalendar,
    start: dt.datetime,
    duration: dt.timedelta,
    pauses: Sequence[Pause] = (),
) -> dt.datetime | None:
    """The moment `duration` of working time has passed since `start`, not counting pauses.
    None while an open pause would be needed to reach it (the clock is stopped)."""
    if start.tzinfo is None:
        raise ValueError("start must be time-zone aware")
    if duration < dt.timedelta(0):
        raise ValueError("duration must not be negative")
    remaining = duration
    ordered = sorted(pauses, key=lambda p: p[0])
    # an open pause (still waiting on the customer) stops the clock from its start on
    open_from = min((s for s, e in ordered if e is None), default=None)
    for period in calendar.working_periods(start):
        if open_from is not None and period[0] >= open_from:
            return None
        for part_start, part_end in _subtract(period, ordered):
            length = part_end - part_start
            if remaining <= length:
                return part_start + remaining
            remaining -= length
    return None  # pragma: no cover - working_periods raises first


def working_time_between(
    calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime, pauses: Sequence[Pause] = ()
) -> dt.timedelta:
    """Working time from `start` to `end`, not counting pauses."""
    total = dt.timedelta(0)
    if end <= start:
        return total
    ordered = sorted(pauses, key=lambda p: p[0])
    for period in calendar.working_periods(start):
        if period[0] >= end:
            break
        clipped = (period[0], min(period[1], end))
        for part_start, part_end in _subtract(clipped, ordered):
            total += part_end - part_start
    return total


def is_working_time(calendar: WorkingCalendar, moment: dt.datetime) -> bool:
    local = moment.astimezone(calendar.tz)
    return any(begin <= local.time() <= end for begin, end in calendar.intervals_on(local.date()))


def uncovered_days(
    calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime
) -> list[dt.date]:
    """Days between start and end whose holidays the calendar does not know (a warning)."""
    if calendar.covered_years is None:
        return []
    day, last = start.astimezone(calendar.tz).date(), end.astimezone(calendar.tz).date()
    years: list[dt.date] = []
    while day <= last:
        if not calendar.is_covered(day):
            years.append(day)
            day = dt.date(day.year + 1, 1, 1)
            continue
        day = dt.date(day.year + 1, 1, 1) if day.year < last.year else last + dt.timedelta(days=1)
    return years


# --- SLA status ---------------------------------------------------------------------------

ON_TRACK, AT_RISK, BREACHED, MET, PAUSED = "on_track", "at_risk", "breached", "met", "paused"


def sla_status(
    *,
    now: dt.datetime,
    started: dt.datetime,
    due: dt.datetime | None,
    done: dt.datetime | None,
    calendar: WorkingCalendar,
    target: dt.timedelta,
    pauses: Sequence[Pause] = (),
    at_risk_ratio: float = 0.8,
) -> str:
    """The state of one target. A target met late stays breached (a miss is never undone)."""
    if done is not None:
        return MET if due is None or done <= due else BREACHED
    if due is None:
        return PAUSED
    if now > due:
        return BREACHED
    used = working_time_between(calendar, started, now, pauses)
    if target and used >= target * at_risk_ratio:
        return AT_RISK
    return ON_TRACK


def parse_intervals(spec: Iterable[Sequence[str]]) -> tuple[Interval, ...]:
    """[["08:30", "12:00"], ["13:30", "17:30"]] -> time intervals."""
    return tuple((dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in spec)


# --- satisfaction ----------------------------------------------------------------------------


def csat(scores: Iterable[int]) -> float | None:
    """CSAT: the share (in %) of 4 and 5 among the rated tickets (scores 1–5)."""
    values = list(scores)
    if not values:
        return None
    return round(100 * sum(1 for s in values if s >= 4) / len(values), 2)


def nps(scores: Iterable[int]) -> float | None:
    """NPS: % promoters (9–10) minus % detractors (0–6) of 0–10 answers."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    return nps_from_counts(promoters=promoters, detractors=detractors, total=len(values))


#: NPS bands of the 0–10 answer: detractors 0–6, passives 7–8, promoters 9–10.
NPS_PROMOTER_MIN, NPS_DETRACTOR_MAX = 9, 6


def nps_from_counts(*, promoters: int, detractors: int, total: int) -> float | None:
    """NPS from counts (what a SQL aggregate returns), the same rounding as `nps()`."""
    if not total:
        return None
    return round(100 * (promoters - detractors) / total, 2)


def nps_category(score: int | None) -> str | None:
    """The band of a 0–10 answer: "promoter", "passive" or "detractor"; None if unanswered."""
    if score is None:
        return None
    if score >= NPS_PROMOTER_MIN:
        return "promoter"
    return "detractor" if score <= NPS_DETRACTOR_MAX else "passive"
