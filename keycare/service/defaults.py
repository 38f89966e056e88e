"""The starting configuration of the service desk: the China calendar and the SLA policies
(platinum, gold, and the floor that covers every other account). Used by the data migration
and by `service_defaults_ensure` (tests that flush the database, a fresh install)."""

from django.db import transaction

HOURS = {str(d): [["08:30", "12:00"], ["13:30", "17:30"]] for d in range(5)}
# (name, tier, is floor, [(priority, first response, resolution)]) in working minutes;
# a working day is 7.5 h
POLICIES = [
    (
        "铂金客户服务标准",
        "platinum",
        False,
        [("P1", 30, 240), ("P2", 60, 480), ("P3", 120, 900), ("P4", 240, 1800)],
    ),
    (
        "黄金客户服务标准",
        "gold",
        False,
        [("P1", 60, 480), ("P2", 120, 900), ("P3", 240, 1800), ("P4", 480, 3600)],
    ),
    (
        "基础服务标准（保底）",
        "",
        True,
        [("P1", 120, 900), ("P2", 240, 1800), ("P3", 480, 3600), ("P4", 900, 6750)],
    ),
]


def create_policies(SlaPolicy, SlaTarget) -> None:
    for name, tier, floor, targets in POLICIES:
        policy, created = SlaPolicy.objects.get_or_create(
            name=name, defaults={"tier": tier, "is_floor": floor}
        )
        if created:
            SlaTarget.objects.bulk_create(
                [SlaTarget(policy=policy, priority=p, first_response_minutes=r, resolution_minutes=s)
                 for p, r, s in targets]
            )  # fmt: skip


@transaction.atomic
def service_defaults_ensure() -> None:
    from .calendars import china_calendar_load
    from .models import BusinessCalendar, SlaPolicy, SlaTarget

    if not BusinessCalendar.objects.filter(is_default=True).exists():
        china_calendar_load()
    if not SlaPolicy.objects.filter(is_floor=True).exists():
        create_policies(SlaPolicy, SlaTarget)
