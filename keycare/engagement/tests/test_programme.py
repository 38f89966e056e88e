"""The programme data: reference customers (set, consent, who may, stale edits, usage
figures set-based with the over-use flag at its boundary), the style guidance (both
languages, administrators, lock version) and its matrix, and the engagement settings."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.core.exceptions import ConflictError, PermissionDeniedError
from keycare.engagement.models import EngagementLog, ReferenceCustomer, StyleGuidance
from keycare.engagement.selectors.programme import (
    reference_customer_list,
    style_guidance_all,
    style_guidance_for,
    style_guidance_list,
    style_matrix,
)
from keycare.engagement.services.activities import activity_cancel, activity_create
from keycare.engagement.services.programme import (
    engagement_settings_get,
    engagement_settings_update,
    reference_customer_set,
    style_guidance_update,
)
from keycare.engagement.tests.factories import ReferenceCustomerFactory

pytestmark = pytest.mark.django_db


def _visit(actor, account, reference, when, done=False):
    kwargs = {"done_at": when} if done else {"planned_at": when}
    return activity_create(actor=actor, account=account, kind="site_visit", subject="参观",
                           destination="reference", reference_account=reference, **kwargs)  # fmt: skip


# --- reference customers -----------------------------------------------------------------


def test_set_a_reference_customer(kam, other_kam):
    account = AccountFactory(name="标杆客户", owner=kam)
    li = ContactFactory(account=account, name="李总")
    ref = reference_customer_set(actor=kam, account=account, data={
        "consent": True, "consent_by": li.pk, "showcase": "自动化产线", "max_visits_per_year": 3})  # fmt: skip
    assert (ref.consent, ref.consent_on, ref.consent_by, ref.lock_version) == (
        True, timezone.localdate(), li, 1)  # fmt: skip
    changed = reference_customer_set(actor=kam, account=account, data={"consent": False},
                                     version=1)  # fmt: skip
    assert (changed.consent, changed.consent_on, changed.consent_by, changed.lock_version) == (
        False, None, None, 2)  # fmt: skip
    actions = list(EngagementLog.objects.filter(object_type="referencecustomer")
                   .order_by("id").values_list("action", flat=True))  # fmt: skip
    assert actions == ["reference_set", "reference_changed"]
    with pytest.raises(ConflictError):
        reference_customer_set(actor=kam, account=account, data={"consent": True}, version=1)
    with pytest.raises(PermissionDeniedError):
        reference_customer_set(actor=other_kam, account=account, data={"consent": True}, version=2)
    ref.refresh_from_db()
    assert (ref.consent, ref.lock_version) == (False, 2)


def test_reference_input_is_checked(kam):
    account = AccountFactory(owner=kam)
    stranger = ContactFactory(account=AccountFactory(), name="外人")
    with pytest.raises(ValidationError) as exc:
        reference_customer_set(actor=kam, account=account, data={"consent_by": stranger.pk})
    assert exc.value.message_dict == {"consent_by": ["Choose a person of this account."]}
    with pytest.raises(ValidationError) as exc:
        reference_customer_set(actor=kam, account=account, data={"max_visits_per_year": 0})
    assert list(exc.value.message_dict) == ["max_visits_per_year"]
    assert not ReferenceCustomer.objects.exists()


def test_usage_figures_and_the_over_use_flag(kam, engineer, admin_user, django_assert_num_queries):
    shop = AccountFactory(owner=kam)
    exactly = ReferenceCustomerFactory(account=AccountFactory(name="甲标杆"), max_visits_per_year=2)
    over = ReferenceCustomerFactory(account=AccountFactory(name="乙标杆"), max_visits_per_year=2)
    unused = ReferenceCustomerFactory(account=AccountFactory(name="丙标杆"))
    now = timezone.now()
    last_year = now.replace(year=now.year - 1)
    for ref, n in ((exactly, 2), (over, 3)):
        for i in range(n):
            _visit(kam, shop, ref.account, now - dt.timedelta(hours=i + 1), done=True)
    _visit(kam, shop, exactly.account, last_year, done=True)
    cancelled = _visit(kam, shop, over.account, now + dt.timedelta(days=1))
    activity_cancel(actor=kam, activity=cancelled, reason="改期", version=1)
    with django_assert_num_queries(3):  # the user's roles, the settings row, the list
        rows = {r.account.name: r for r in reference_customer_list(actor=engineer)}
    figures = {name: (r.visits_this_year, r.visits_total, r.visit_limit,
                      r.visits_this_year > r.visit_limit) for name, r in rows.items()}  # fmt: skip
    assert figures == {
        "甲标杆": (2, 3, 2, False),
        "乙标杆": (3, 3, 2, True),
        "丙标杆": (0, 0, 4, False),
    }
    assert rows["甲标杆"].last_used == now - dt.timedelta(hours=1)
    assert rows["丙标杆"].last_used is None
    assert [
        r.account.name for r in reference_customer_list(actor=kam, filters={"over_used": "true"})
    ] == ["乙标杆"]
    assert unused in reference_customer_list(actor=admin_user, filters={"over_used": "false"})


# --- style guidance and the matrix -------------------------------------------------------


def test_style_guidance_is_seeded_and_bilingual():
    assert style_guidance_for("leader").summary == "Be direct and lead with the benefits to them."
    with translation.override("zh-hans"):
        assert style_guidance_for("checker").summary_text == "拿出证据和细节，肯定对方的严谨。"
    assert style_guidance_for("").style == "unknown"
    assert list(style_guidance_all()) == ["leader", "influencer", "checker", "follower", "unknown"]


def test_style_guidance_update(admin_user, kam, engineer, portal_user):
    row = StyleGuidance.objects.get(style="leader")
    with pytest.raises(PermissionDeniedError):
        style_guidance_update(actor=kam, style="leader", data={"summary": "x"},
                              lock_version=row.lock_version)  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        style_guidance_update(actor=admin_user, style="leader",
                              data={"summary_zh": " ", "tips_zh": ""}, lock_version=1)  # fmt: skip
    assert exc.value.message_dict == {"summary_zh": ["Give the summary in both languages."],
                                      "tips_zh": ["Give the tips in both languages."]}  # fmt: skip
    saved = style_guidance_update(actor=admin_user, style="leader",
                                  data={"summary": "Lead with results.", "summary_zh": "结果先行。"},
                                  lock_version=1)  # fmt: skip
    assert (saved.summary, saved.summary_zh, saved.lock_version, saved.updated_by) == (
        "Lead with results.", "结果先行。", 2, admin_user)  # fmt: skip
    with pytest.raises(ConflictError):
        style_guidance_update(actor=admin_user, style="leader", data={"summary": "Old"},
                              lock_version=1)  # fmt: skip
    assert StyleGuidance.objects.get(style="leader").summary == "Lead with results."
    assert [g.style for g in style_guidance_list(actor=engineer)] == [
        "leader", "influencer", "checker", "follower", "unknown"]  # fmt: skip
    assert style_guidance_list(actor=portal_user) == []


def test_style_matrix_places_key_persons(django_assert_num_queries):
    account = AccountFactory()
    boss = ContactFactory(account=account, name="王总", decision_style="leader", influence=5)
    deputy = ContactFactory(account=account, name="副总", decision_style="leader", influence=3)
    expert = ContactFactory(account=account, name="张工", decision_style="influencer")
    checker = ContactFactory(account=account, name="审计", decision_style="checker")
    new = ContactFactory(account=account, name="新人")
    with django_assert_num_queries(1):
        matrix = style_matrix(contacts=[new, checker, deputy, expert, boss])
    grid = [[(c.style, [p.name for p in c.contacts]) for c in row] for row in matrix.rows]
    assert grid == [[("leader", ["王总", "副总"]), ("influencer", ["张工"])],
                    [("checker", ["审计"]), ("follower", [])]]  # fmt: skip
    assert [p.pk for p in matrix.unknown.contacts] == [new.pk]
    assert (matrix.total, matrix.placed) == (5, 4)
    assert matrix.rows[1][0].guidance.summary.startswith("Bring evidence")


# --- settings ----------------------------------------------------------------------------


def test_engagement_settings(admin_user, kam):
    row = engagement_settings_get()
    assert (row.pk, row.reference_visits_per_year, row.lock_version) == (1, 4, 1)
    with pytest.raises(PermissionDeniedError):
        engagement_settings_update(actor=kam, data={"dormant_days": 30}, lock_version=1)
    with pytest.raises(ValidationError) as exc:
        engagement_settings_update(actor=admin_user, data={"dormant_days": 0}, lock_version=1)
    assert list(exc.value.message_dict) == ["dormant_days"]
    saved = engagement_settings_update(actor=admin_user, data={"dormant_days": 120},
                                       lock_version=1)  # fmt: skip
    assert (saved.dormant_days, saved.lock_version) == (120, 2)
    with pytest.raises(ConflictError):
        engagement_settings_update(actor=admin_user, data={"dormant_days": 60}, lock_version=1)
    assert engagement_settings_get().dormant_days == 120
    assert EngagementLog.objects.filter(action="settings_changed").count() == 1
