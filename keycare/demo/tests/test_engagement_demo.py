"""The demo's engagement data: every engagement page has something real to show — sponsors,
activities done and planned (this week for the demo key account manager, overdue next
steps, introductions, executive and reference visits), references with consent, events
held and planned with invitations, attendance and costs, gifts (one waiting), VIP members,
pains linked to tickets, dates coming up and a reminder of every kind — the same each
time, and nobody mailed."""

from collections import Counter

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from keycare.demo.generators import demo_data_generate

pytestmark = pytest.mark.django_db


def test_the_demo_has_engagement_data_of_every_kind():
    from keycare.accounts.models import AccountTeamMember, ImportantDate, PersonalDetails
    from keycare.engagement.calculations import week_of
    from keycare.engagement.choices import ReminderKind
    from keycare.engagement.models import (
        Activity,
        BusinessEvent,
        EventInvitation,
        Gift,
        Pain,
        ReferenceCustomer,
        Reminder,
        VipMember,
    )

    demo_data_generate(accounts=30, seed=7)
    today = timezone.localdate()
    sponsored = AccountTeamMember.objects.filter(
        user__username="exec", role="executive_sponsor", account__key_account__isnull=False
    )
    assert sponsored.count() >= 3  # the executive sponsors several key accounts
    done = Counter(Activity.objects.filter(status="done").values_list("kind", flat=True))
    assert {"introduction", "executive_visit", "site_visit", "meeting"} <= set(done)
    monday, sunday = week_of(today)
    this_week = Activity.objects.filter(owner__username="kam", status="planned",
                                        planned_at__date__range=(monday, sunday))  # fmt: skip
    assert this_week.count() == 5
    assert Activity.objects.filter(status="planned", kind="introduction",
                                   target_contact__isnull=False).exists()  # fmt: skip
    overdue = Activity.objects.filter(next_step_due__lt=today, next_step_done_at=None).exclude(
        next_step=""
    )
    assert overdue.exists()
    visits = Activity.objects.filter(kind="site_visit", destination="reference")
    assert visits.exists() and all(v.reference_account.reference.consent for v in visits)
    assert ReferenceCustomer.objects.filter(consent=True, consent_by__isnull=False).count() == 2
    assert ReferenceCustomer.objects.filter(consent=False).count() == 1
    assert set(BusinessEvent.objects.values_list("status", flat=True)) == {"held", "planned"}
    held = BusinessEvent.objects.filter(status="held")
    assert all(e.cost > 0 for e in held)
    assert BusinessEvent.objects.filter(kind="vip_club", vip_level__code="diamond").exists()
    answers = set(EventInvitation.objects.values_list("status", flat=True))
    assert {"invited", "registered", "declined", "attended", "no_show"} <= answers
    assert Gift.objects.filter(status="approved").count() >= 3
    pending = Gift.objects.get(status="pending")
    assert pending.value > pending.limit
    assert VipMember.objects.exclude(level_override=None).count() == 1
    assert VipMember.objects.count() > 3
    assert Pain.objects.filter(tickets__isnull=False).exists()
    assert Pain.objects.filter(activities__isnull=False).exists()
    soon = [today + timezone.timedelta(days=d) for d in range(8)]
    assert any(
        d.birthday and (d.birthday.month, d.birthday.day) in {(s.month, s.day) for s in soon}
        for d in PersonalDetails.objects.all()
    )
    assert ImportantDate.objects.filter(label="合作十周年").exists()
    kinds = set(Reminder.objects.values_list("kind", flat=True))
    assert kinds == set(ReminderKind.values)
    assert Reminder.objects.filter(user__username="kam").count() > 5
    # the generated ones are for the app only (the gift service records its own)
    assert not Reminder.objects.filter(sent_at=None).exclude(kind="gift_approval").exists()
    assert mail.outbox == []


def test_the_engagement_demo_is_deterministic():
    from keycare.engagement.models import Activity, EventInvitation, Gift, Reminder

    def snapshot():
        return (
            sorted(Activity.objects.values_list("account__name", "kind", "subject", "status",
                                                "owner__username", "cost")),
            sorted(EventInvitation.objects.values_list("event__name", "contact__name", "status")),
            sorted(Gift.objects.values_list("contact__name", "value", "status")),
            sorted(Reminder.objects.values_list("user__username", "kind", "account__name")),
        )  # fmt: skip

    runs = []
    for _ in range(2):
        with transaction.atomic():
            demo_data_generate(accounts=20, seed=5)
            runs.append(snapshot())
            transaction.set_rollback(True)
    assert runs[0] == runs[1]
    assert len(runs[0][0]) > 20 and len(runs[0][3]) > 10
