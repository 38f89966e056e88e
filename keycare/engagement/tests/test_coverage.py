"""Buying-centre coverage on hand-built accounts: key persons by role (main account and
memberships), last met and by whom, engaged within the window (its boundary and the
setting), the score and flags with exact numbers, the coach path to each uncovered decision
maker, the report of the key accounts (scope, filters, order) and pinned query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.models import Account
from keycare.accounts.services import contact_membership_set
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.core.exceptions import PermissionDeniedError
from keycare.engagement.coverage import (
    account_coverage,
    account_engagement,
    coverage_for_accounts,
    coverage_list,
    window_start,
)
from keycare.engagement.coverage_ticks import COVERAGE_TICK, coverage_refresh
from keycare.engagement.coverage_ticks import coverage as coverage_tick
from keycare.engagement.models import AccountCoverage, EngagementSettings
from keycare.engagement.tests.programme_helpers import days_ago, done, make_key, planned
from keycare.insights.models import AccountMetric

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(kam, executive, make_user):
    """A strategic account with two decision makers (the boss, met 10 days ago by the kam
    with the executive; the CTO never met), a coach we know well (met 100 days ago: outside
    the 90-day window), a technical evaluator reporting to the CTO whom the coach introduced,
    a person of unknown role met 5 days ago, an influencer from the group (a membership)
    met 20 days ago, and a decision maker who has left."""
    account = AccountFactory(name="华鑫汽车", owner=kam, account_type="strategic", tier="gold")
    group = AccountFactory(name="华鑫集团", owner=kam)
    people = {
        "boss": ContactFactory(account=account, name="张总", buying_role="decision_maker",
                               relationship=2, influence=5, decision_style="leader"),
        "cto": ContactFactory(account=account, name="王总工", buying_role="decision_maker",
                              relationship=1, influence=4, decision_style="checker"),
        "coach": ContactFactory(account=account, name="李工", buying_role="coach",
                                relationship=5, decision_style="follower"),
        "left": ContactFactory(account=account, name="赵总", buying_role="decision_maker",
                               is_active=False),
        "x": ContactFactory(account=account, name="陈秘书"),
        "group": ContactFactory(account=group, name="周经理", buying_role="user",
                                relationship=4),
    }  # fmt: skip
    people["eng"] = ContactFactory(
        account=account, name="孙工", buying_role="technical_evaluator", relationship=3,
        reports_to=people["cto"], introduced_by_contact=people["coach"],
    )  # fmt: skip
    contact_membership_set(actor=None, contact=people["group"], account=account,
                           buying_role="influencer")  # fmt: skip
    done(account, owner=kam, contacts=[people["boss"]], participants=[executive],
         when=days_ago(10))  # fmt: skip
    done(account, owner=kam, contacts=[people["coach"]], when=days_ago(100))
    done(account, owner=kam, contacts=[people["x"]], when=days_ago(5))
    done(account, owner=kam, contacts=[people["group"]], when=days_ago(20))
    done(account, owner=kam, contacts=[people["left"]], when=days_ago(1))
    account.people = people
    return account


def test_coverage_of_a_hand_built_account(acme):
    p = acme.people
    cov = coverage_for_accounts(account_ids=[acme.pk])[acme.pk]
    # key persons: the boss, the CTO, the coach, the engineer and the group's influencer
    # (the person of unknown role and the one who left are no key persons)
    assert [(k.name, k.role) for k in cov.people] == [
        ("张总", "decision_maker"), ("王总工", "decision_maker"), ("周经理", "influencer"),
        ("孙工", "technical_evaluator"), ("李工", "coach"),
    ]  # fmt: skip
    assert cov.window_days == 90
    assert cov.engaged == 3  # the boss, the secretary and the influencer
    assert cov.decision_maker_known and cov.decision_makers_met == 1
    assert [k.contact_id for k in cov.uncovered_decision_makers] == [p["cto"].pk]
    assert cov.has_coach and cov.roles_covered == 4
    assert cov.relationship_by_role == {
        "decision_maker": Decimal("1.5"), "influencer": Decimal("4.0"), "technical_evaluator":
        Decimal("3.0"), "user": None, "coach": Decimal("5.0"), "gatekeeper": None,
    }  # fmt: skip
    # 20 (a decision maker) + 30 × 1/2 (met) + 15 (coach) + 15 (three engaged) + 15 × 4/6 = 75
    assert cov.score == 75
    assert cov.flags == ["uncovered_decision_makers"]
    assert not cov.single_threaded and not cov.no_coach and not cov.no_decision_maker_known
    boss = cov.people[0]
    assert boss.last_touch_at == days_ago(10) and boss.met_in_window


def test_the_coach_path_to_the_uncovered_decision_maker(acme):
    p = acme.people
    path = coverage_for_accounts(account_ids=[acme.pk])[acme.pk].paths[p["cto"].pk]
    # the coach introduced the engineer, who reports to the CTO (the group's influencer,
    # known well too, has no link to anyone here)
    assert [(n.kind, n.id) for n in path.nodes] == [
        ("contact", p["coach"].pk), ("contact", p["eng"].pk), ("contact", p["cto"].pk),
    ]  # fmt: skip
    assert path.first_to_ask.name == "李工" and path.first_to_ask.decision_style == "follower"
    assert path.first_contact.id == p["coach"].pk
    assert path.node_ids == [f"c{p['coach'].pk}", f"c{p['eng'].pk}", f"c{p['cto'].pk}"]
    assert not path.direct


def test_a_colleague_who_introduced_someone_opens_a_path(kam, other_kam):
    account = AccountFactory(owner=kam)
    boss = ContactFactory(account=account, buying_role="decision_maker", relationship=1)
    ContactFactory(account=account, name="刘工", reports_to=boss, introduced_by_user=other_kam)
    path = coverage_for_accounts(account_ids=[account.pk])[account.pk].paths[boss.pk]
    assert [(n.kind, n.name) for n in path.nodes] == [
        ("colleague", "Kam2"), ("contact", "刘工"), ("contact", boss.name),
    ]  # fmt: skip
    assert path.first_to_ask.node_id == f"u{other_kam.pk}"
    assert path.first_contact.name == "刘工"


def test_no_path_when_nobody_we_know_reaches_them(kam):
    account = AccountFactory(owner=kam)
    boss = ContactFactory(account=account, buying_role="decision_maker", relationship=2)
    ContactFactory(account=account, relationship=5)  # known well, but linked to nobody
    cov = coverage_for_accounts(account_ids=[account.pk])[account.pk]
    assert cov.paths == {boss.pk: None}


def test_a_decision_maker_we_know_well_but_did_not_meet_is_met_directly(kam):
    account = AccountFactory(owner=kam)
    boss = ContactFactory(account=account, buying_role="decision_maker", relationship=5)
    path = coverage_for_accounts(account_ids=[account.pk])[account.pk].paths[boss.pk]
    assert path.direct and path.first_contact is None


def test_single_threaded_and_empty_accounts(kam):
    one = AccountFactory(owner=kam)
    boss = ContactFactory(account=one, buying_role="decision_maker")
    done(one, owner=kam, contacts=[boss])
    empty = AccountFactory(owner=kam)
    cov = coverage_for_accounts(account_ids=[one.pk, empty.pk])
    # 20 + 30 + 0 + 5 + 15 × 1/6 (2.5 → 3) = 58
    assert (cov[one.pk].score, cov[one.pk].flags) == (58, ["single_threaded", "no_coach"])
    assert cov[one.pk].single_threaded
    assert (cov[empty.pk].score, cov[empty.pk].flags) == (
        0, ["none_engaged", "no_decision_maker_known", "no_coach"],
    )  # fmt: skip
    assert cov[empty.pk].uncovered_decision_makers == []


def test_the_window_boundary_and_its_setting(kam):
    account = AccountFactory(owner=kam)
    dm = ContactFactory(account=account, buying_role="decision_maker")
    other = ContactFactory(account=account, buying_role="user")
    today = timezone.localdate()
    start = window_start(today, 90)
    assert start == timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=90),
                                                            dt.time.min))  # fmt: skip
    done(account, owner=kam, contacts=[dm], when=start)  # exactly 90 days ago: still met
    done(account, owner=kam, contacts=[other], when=start - dt.timedelta(seconds=1))
    cov = coverage_for_accounts(account_ids=[account.pk], today=today)[account.pk]
    assert cov.engaged == 1 and cov.decision_makers_met == 1
    EngagementSettings.objects.filter(pk=1).update(key_person_days=30)
    cov = coverage_for_accounts(account_ids=[account.pk], today=today)[account.pk]
    assert (cov.window_days, cov.engaged, cov.decision_makers_met) == (30, 0, 0)
    assert cov.flags == ["none_engaged", "uncovered_decision_makers", "no_coach"]


def test_planned_activities_are_no_touch(kam):
    account = AccountFactory(owner=kam)
    dm = ContactFactory(account=account, buying_role="decision_maker")
    planned(account, owner=kam, contacts=[dm])
    cov = coverage_for_accounts(account_ids=[account.pk])[account.pk]
    assert cov.engaged == 0 and cov.people[0].last_touch_at is None


def test_account_coverage_says_who_met_them(acme, kam, executive):
    cov = account_coverage(actor=kam, account=acme)
    by_name = {p.name: p for p in cov.people}
    assert by_name["张总"].met_by == [kam, executive]
    assert by_name["王总工"].met_by == []
    assert by_name["李工"].met_by == [kam]


def test_account_coverage_is_for_staff_who_see_the_account(acme, other_kam, portal_user,
                                                           service_manager):  # fmt: skip
    assert account_coverage(actor=service_manager, account=acme).score == 75
    with pytest.raises(Account.DoesNotExist):
        account_coverage(actor=other_kam, account=acme)
    ContactFactory(account=acme, user=portal_user)
    with pytest.raises(PermissionDeniedError):
        account_coverage(actor=portal_user, account=acme)


def test_coverage_for_many_accounts_takes_a_fixed_number_of_queries(kam, other_kam,
                                                                     django_assert_num_queries):  # fmt: skip
    def build(n):
        ids = []
        for _ in range(n):
            account = AccountFactory(owner=kam)
            boss = ContactFactory(account=account, buying_role="decision_maker")
            ContactFactory(account=account, reports_to=boss, introduced_by_user=other_kam)
            done(account, owner=kam, contacts=[boss])
            ids.append(account.pk)
        return ids

    one = build(1)
    # memberships, contacts with their last touch, the colleagues, the settings row
    with django_assert_num_queries(4):
        coverage_for_accounts(account_ids=one)
    many = one + build(5)
    with django_assert_num_queries(4):
        assert len(coverage_for_accounts(account_ids=many)) == 6


# --- the coverage report -------------------------------------------------------------------


@pytest.fixture
def report(acme, kam, other_kam):
    """acme (75) and two more key accounts of the kam's — a single-threaded one (58) and an
    empty one (0) — plus one key account of another kam's and one of the kam's that is not
    a key account."""
    make_key(acme)
    one = AccountFactory(name="单线客户", owner=kam, tier="platinum")
    boss = ContactFactory(account=one, buying_role="decision_maker")
    done(one, owner=kam, contacts=[boss])
    make_key(one)
    empty = make_key(AccountFactory(name="空白客户", owner=kam, tier="gold")).account
    make_key(AccountFactory(name="别人的客户", owner=other_kam))
    AccountFactory(name="普通客户", owner=kam)
    coverage_refresh()
    return {"acme": acme, "one": one, "empty": empty}


def listed(actor, filters=None) -> list:
    return list(coverage_list(actor=actor, filters=filters))


def test_the_report_lists_the_key_accounts_lowest_score_first(report, kam):
    rows = listed(kam)
    assert [(r.account.name, r.coverage.score) for r in rows] == [
        ("空白客户", 0), ("单线客户", 58), ("华鑫汽车", 75),
    ]  # fmt: skip
    # the stored figures are the live ones (acme: see test_the_coverage_of_an_account)
    stored = rows[2].coverage
    assert (stored.engaged, stored.decision_maker_known, stored.decision_makers_known,
            stored.decision_makers_met, stored.has_coach, stored.roles_covered,
            stored.window_days) == (3, True, 2, 1, True, 4, 90)  # fmt: skip
    assert stored.uncovered_decision_makers == [report["acme"].people["cto"].pk]
    assert stored.flags == ["uncovered_decision_makers"]
    assert stored.relationship_by_role["decision_maker"] == "1.5"
    assert stored.last_touch_at == days_ago(10)
    assert rows[0].coverage.flags == [
        "none_engaged", "no_decision_maker_known", "no_coach",
    ]  # fmt: skip
    assert rows[1].coverage.flags == ["single_threaded", "no_coach"]


def test_the_report_reads_the_stored_figures_as_of_their_refresh(report, kam):
    """The report shows the figures as of the last refresh; a refresh for one account
    updates that one only, and an account no longer key loses its row."""
    before = AccountCoverage.objects.get(account=report["empty"]).computed_at
    person = ContactFactory(account=report["empty"], buying_role="coach")
    done(report["empty"], owner=kam, contacts=[person])  # written through the ORM: no refresh
    assert [r.coverage.score for r in listed(kam)] == [0, 58, 75]
    assert coverage_refresh([report["empty"].pk]) == 1
    # 15 (a coach) + 5 (one engaged) + 15 × 1/6 (2.5 rounds to 3) = 23
    assert (listed(kam)[0].account.name, listed(kam)[0].coverage.score) == ("空白客户", 23)
    assert AccountCoverage.objects.get(account=report["empty"]).computed_at >= before
    report["empty"].key_account.delete()
    assert coverage_refresh() == 3  # the other kam's account too
    assert not AccountCoverage.objects.filter(account=report["empty"]).exists()
    assert [r.account.name for r in listed(kam)] == ["单线客户", "华鑫汽车"]


def test_an_activity_refreshes_its_accounts_coverage_on_commit(report, kam,
                                                                django_capture_on_commit_callbacks):  # fmt: skip
    from keycare.engagement.services.activities import activity_create

    person = ContactFactory(account=report["empty"], buying_role="decision_maker")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        activity_create(actor=kam, account=report["empty"], kind="meeting", subject="初次拜访",
                        done_at=days_ago(2), contacts=[person.pk])  # fmt: skip
    assert len(callbacks) >= 1
    figures = AccountCoverage.objects.get(account=report["empty"])
    # 20 (a decision maker) + 30 (met) + 5 (one engaged) + 15 × 1/6 (2.5 → 3) = 58
    assert (figures.score, figures.single_threaded, figures.decision_makers_met) == (58, True, 1)
    # a planned activity touches nobody: nothing to refresh
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        activity_create(actor=kam, account=report["empty"], kind="meeting", subject="计划",
                        planned_at=days_ago(-3), contacts=[person.pk])  # fmt: skip
    assert not [c for c in callbacks if getattr(c, "func", None) is coverage_refresh]


def test_the_coverage_tick_runs_once_an_hour(report):
    from keycare.core.models import TickRun

    AccountCoverage.objects.all().delete()
    assert coverage_tick() == "4 key accounts' coverage refreshed"
    assert AccountCoverage.objects.count() == 4
    TickRun.objects.create(
        name=COVERAGE_TICK,
        status=TickRun.Status.OK,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    assert coverage_tick() == "ran this hour"


def test_the_report_filters(report, kam):
    names = lambda f: [r.account.name for r in listed(kam, f)]  # noqa: E731
    assert names({"flag": "single_threaded"}) == ["单线客户"]
    assert names({"flag": "no_coach"}) == ["空白客户", "单线客户"]
    assert names({"flag": "none_engaged"}) == ["空白客户"]
    assert names({"flag": "no_decision_maker_known"}) == ["空白客户"]
    assert names({"flag": "uncovered_decision_makers"}) == ["华鑫汽车"]
    assert names({"below": "58"}) == ["空白客户"]
    assert names({"below": "59"}) == ["空白客户", "单线客户"]
    assert names({"tier": "gold"}) == ["空白客户", "华鑫汽车"]
    assert names({"account_type": "strategic"}) == ["华鑫汽车"]
    assert names({"tier": "gold", "flag": "no_coach", "below": "10"}) == ["空白客户"]
    assert names({"owner": str(kam.pk), "province": "江苏省"}) == [
        "空白客户",
        "单线客户",
        "华鑫汽车",
    ]
    assert names({"province": "浙江省"}) == []


@pytest.mark.parametrize("filters", [{"flag": "nope"}, {"below": "abc"}, {"below": "-1"},
                                     {"tier": "diamond"}, {"owner": "x"}])  # fmt: skip
def test_bad_report_filters_are_errors(report, kam, filters):
    with pytest.raises(ValidationError) as exc:
        coverage_list(actor=kam, filters=filters)
    assert set(exc.value.message_dict) == set(filters)


def test_who_sees_which_key_accounts(report, other_kam, executive, engineer, portal_user):
    assert [r.account.name for r in listed(other_kam)] == ["别人的客户"]
    assert len(coverage_list(actor=executive)) == 4
    assert listed(engineer) == []  # on no account team
    AccountTeamMemberFactory(account=report["one"], user=engineer,
                             role=AccountTeamRole.SERVICE_ENGINEER)  # fmt: skip
    assert [r.account.name for r in listed(engineer)] == ["单线客户"]
    ContactFactory(account=report["one"], user=portal_user)
    assert listed(portal_user) == []


def test_ties_in_score_go_to_the_higher_value(kam):
    names = []
    for name, profit in (("大客户", "100"), ("小客户", "900")):
        account = AccountFactory(name=name, owner=kam)
        make_key(account)
        AccountMetric.objects.create(account=account, scope="own", period_start=dt.date(2025, 1, 1),
                                     period_end=dt.date(2025, 12, 31), gross_profit=Decimal(profit))  # fmt: skip
        names.append(name)
    coverage_refresh()
    # by name 大 would come first: the value decides
    assert [r.account.name for r in listed(kam)] == ["小客户", "大客户"]


def test_the_report_takes_a_fixed_number_of_queries(report, kam, django_assert_num_queries):
    # a page of the report: the roles of the actor, the count, the page (the stored figures
    # joined); nothing computed
    def page():
        return list(Paginator(coverage_list(actor=kam), 25).page(1))

    kam = type(kam).objects.get(pk=kam.pk)
    with django_assert_num_queries(3):
        assert len(page()) == 3
    for _ in range(30):
        make_key(AccountFactory(owner=kam))
    coverage_refresh()
    kam = type(kam).objects.get(pk=kam.pk)
    with django_assert_num_queries(3):
        assert len(page()) == 25


def test_the_refresh_is_set_based(report, django_assert_num_queries):
    # the stale rows (found, deleted), the accounts, the settings row, coverage
    # (memberships, contacts), the executive cadences (playbooks, their items, last done by
    # role ×2, executives, account teams, the last executive contact), one upsert
    with django_assert_num_queries(13):
        assert coverage_refresh() == 4
    for _ in range(20):
        make_key(AccountFactory())
    with django_assert_num_queries(13):
        assert coverage_refresh() == 24


# --- the 360 page's section ----------------------------------------------------------------


def test_the_engagement_section_of_the_account_page(acme, kam, portal_user):
    from keycare.engagement.models import Pain

    boss = acme.people["boss"]
    step = done(acme, owner=kam, contacts=[boss], when=days_ago(3), next_step="寄送报价",
                next_step_due=timezone.localdate() - dt.timedelta(days=1))  # fmt: skip
    done(acme, owner=kam, contacts=[boss], when=days_ago(4), next_step="已完成",
         next_step_due=timezone.localdate(), next_step_done_at=timezone.now())  # fmt: skip
    Pain.objects.create(account=acme, title="停机损失", raised_by=boss, impact=5)
    Pain.objects.create(account=acme, title="已解决", status="solved")
    section = account_engagement(actor=kam, account=acme)
    assert section["coverage"].score == 75
    assert [s.pk for s in section["next_steps"]] == [step.pk]
    assert section["next_steps"][0].is_overdue
    assert [p.title for p in section["pains"]] == ["停机损失"]
    assert section["may_plan"] is True
    ContactFactory(account=acme, user=portal_user)
    assert account_engagement(actor=portal_user, account=acme) is None
