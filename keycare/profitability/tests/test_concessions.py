"""Concession governance: policy boundaries (exactly at the limit, one cent over), approval
routing by size and account value, self-approval refused, concurrent approvals (exactly
one decision wins), visibility per role, flagged order lines and the margin alerts."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole, AccountTier
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    EquipmentFactory,
    OrderFactory,
    ProductFactory,
)
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.profitability import calculations as calc
from keycare.profitability.alerts import profit_alerts_check
from keycare.profitability.concessions import (
    concession_approve,
    concession_reject,
    concession_simulate,
    concession_submit,
    concession_withdraw,
)
from keycare.profitability.filters import ConcessionFilterSet  # noqa: F401  (imports cleanly)
from keycare.profitability.models import Concession, ConcessionEvent, ConcessionPolicy, ProfitAlert
from keycare.profitability.pnl import pnl_compute
from keycare.profitability.reports import (
    below_floor_accounts,
    concessions_report,
    flagged_order_lines,
    over_policy_accounts,
)
from keycare.profitability.selectors import concession_inbox_count, concession_list
from keycare.users.choices import Role

D = Decimal
TODAY = timezone.localdate()


def sell(account, *, revenue, gross_profit, number=None, day=None, quantity=1):
    """One order line of `quantity` with this revenue and gross profit, today."""
    product = ProductFactory(list_price=D(revenue), standard_cost=D(revenue) - D(gross_profit))
    kwargs = {"number": number} if number else {}
    return OrderFactory(account=account, order_date=day or TODAY,
                        lines=[{"product": product, "quantity": D(quantity)}], **kwargs)  # fmt: skip


@pytest.fixture
def colleague(make_user):
    return make_user(Role.KEY_ACCOUNT_MANAGER, username="kam_colleague")


@pytest.fixture
def healthy(kam, colleague):
    """An account of the kam's (with a colleague key account manager on its team, who may
    decide the first step of the kam's requests) with revenue 1,000,000 and a 50 % gross
    margin: the period floors never bind."""
    account = AccountFactory(name="健康客户", owner=kam)
    AccountTeamMemberFactory(
        account=account, user=colleague, role=AccountTeamRole.KEY_ACCOUNT_MANAGER
    )
    sell(account, revenue="1000000", gross_profit="500000")
    return account


def approve(actor, concession, **kwargs):
    """Approve as someone who has just read the request (its current version)."""
    concession.refresh_from_db()
    return concession_approve(
        actor=actor, concession=concession, expected_version=concession.version, **kwargs
    )


def reject(actor, concession, **kwargs):
    concession.refresh_from_db()
    return concession_reject(
        actor=actor, concession=concession, expected_version=concession.version, **kwargs
    )


def breaches(simulation):
    return [b["code"] for b in simulation["breaches"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "data", "within"),
    [
        ("discount", {"list_amount": "10000", "discount_pct": "15", "cost_amount": "5000"}, True),
        (
            "discount",
            {"list_amount": "10000", "discount_pct": "15.01", "cost_amount": "5000"},
            False,
        ),
        ("discount", {"list_amount": "10000", "discount_pct": "15", "cost_amount": "7225"}, True),
        (
            "discount",
            {"list_amount": "10000", "discount_pct": "15", "cost_amount": "7225.01"},
            False,
        ),
        ("goodwill_parts", {"amount": "10000.00"}, True),
        ("goodwill_parts", {"amount": "10000.01"}, False),
        ("sla_penalty_waiver", {"amount": "20000"}, True),
        ("sla_penalty_waiver", {"amount": "20000.01"}, False),
        ("free_service", {"hours": "40"}, True),
        ("free_service", {"hours": "40.01"}, False),
        ("free_service", {"visits": "4"}, True),
        ("free_service", {"visits": "5"}, False),
        ("extended_warranty", {"months": "12", "amount": "3000"}, True),
        ("extended_warranty", {"months": "13", "amount": "3000"}, False),
    ],
)
def test_policy_limits_exactly_at_the_limit_and_one_cent_over(kam, healthy, kind, data, within):
    if kind == "extended_warranty":
        data = {**data, "equipment": EquipmentFactory(account=healthy).pk}
    simulation = concession_simulate(actor=kam, account=healthy, kind=kind, data=data)
    assert simulation["within_policy"] is within
    assert simulation["policy"]["name"] == "默认政策 Default policy"
    # within: granted at once (no chain); beyond: the chain starts at the key account manager
    assert simulation["chain"][:1] == ([] if within else ["key_account_manager"])
    assert not Concession.objects.exists()  # simulating changes nothing


@pytest.mark.django_db
def test_gift_limit_is_per_contact_and_counts_earlier_gifts(kam, executive, healthy):
    contact = ContactFactory(account=healthy, name="王总")
    first = concession_submit(actor=kam, account=healthy, kind="gift", reason="春节礼品",
                              data={"amount": "400", "contact": contact.pk})  # fmt: skip
    assert first.status == "granted"
    at_limit = concession_simulate(
        actor=kam, account=healthy, kind="gift", data={"amount": "600", "contact": contact.pk}
    )
    over = concession_simulate(
        actor=kam, account=healthy, kind="gift", data={"amount": "600.01", "contact": contact.pk}
    )
    assert at_limit["within_policy"] and breaches(over) == ["gift_limit_per_contact"]
    assert over["granted_so_far"]["gifts"] == "400.00"
    assert "1,000" in over["breaches"][0]["message"]
    other = ContactFactory(account=healthy, name="李工")
    assert concession_simulate(
        actor=kam, account=healthy, kind="gift", data={"amount": "600.01", "contact": other.pk}
    )["within_policy"]


@pytest.mark.django_db
def test_account_period_margin_floors_on_the_pnl_after_the_concession(kam):
    """Revenue 10,000, gross profit 2,500 (25 %). A discount of 625.00 leaves 1,875 of 9,375
    = 20.00 %: exactly the floor; 625.01 is below it. Against the 5 % floor after cost to
    serve: goodwill of 2,000.00 leaves 500 of 10,000 = 5.00 %, exactly the floor; 2,000.01
    leaves 499.99, below it."""
    account = AccountFactory(owner=kam)
    sell(account, revenue="10000", gross_profit="2500")
    at_floor = concession_simulate(actor=kam, account=account, kind="discount",
                                   data={"list_amount": "6250", "discount_pct": "10", "cost_amount": "0"})  # fmt: skip
    assert at_floor["after"]["gross_margin"] == "20.00" and at_floor["within_policy"]
    below = concession_simulate(actor=kam, account=account, kind="discount",
                                data={"list_amount": "62501", "discount_pct": "1", "cost_amount": "0"})  # fmt: skip
    assert breaches(below) == ["min_period_margin_pct"]
    assert concession_simulate(
        actor=kam, account=account, kind="goodwill_parts", data={"amount": "2000"}
    )["within_policy"]
    over = concession_simulate(
        actor=kam, account=account, kind="goodwill_parts", data={"amount": "2000.01"}
    )
    assert breaches(over) == ["min_contribution_margin_pct"]
    assert over["before"]["contribution"] == "2500.00" and over["after"]["contribution"] == "499.99"


@pytest.mark.django_db
def test_an_account_without_revenue_cannot_get_concessions_within_policy(kam):
    account = AccountFactory(owner=kam)
    simulation = concession_simulate(
        actor=kam, account=account, kind="goodwill_parts", data={"amount": "1"}
    )
    assert breaches(simulation) == ["no_revenue"]


@pytest.mark.django_db
def test_a_tier_policy_is_more_specific_than_the_default(kam):
    account = AccountFactory(owner=kam, tier=AccountTier.PLATINUM)
    sell(account, revenue="1000000", gross_profit="500000")
    simulation = concession_simulate(actor=kam, account=account, kind="discount",
                                     data={"list_amount": "10000", "discount_pct": "25", "cost_amount": "5000"})  # fmt: skip
    assert simulation["policy"]["name"] == "白金客户 Platinum" and simulation["within_policy"]


LIMITS = calc.ChainLimits(D(5000), D(20000), D(10), D(25))


@pytest.mark.parametrize(
    ("amount", "before", "after", "requester", "chain"),
    [
        ("5000", "1000000", "995000", None, ["key_account_manager"]),
        ("5000.01", "1000000", "994999.99", None, ["key_account_manager", "service_manager"]),
        ("20000", "1000000", "980000", None, ["key_account_manager", "service_manager"]),
        (
            "20000.01",
            "1000000",
            "979999.99",
            None,
            ["key_account_manager", "service_manager", "executive"],
        ),
        # account value: the same 3,000 is small for a big account and large for a small one
        ("3000", "30000", "27000", None, ["key_account_manager"]),
        ("3000", "29999", "26999", None, ["key_account_manager", "service_manager"]),
        ("3000", "11999", "8999", None, ["key_account_manager", "service_manager", "executive"]),
        ("100", "50", "-50", None, ["key_account_manager", "service_manager", "executive"]),
        ("100", "0", "-100", None, ["key_account_manager", "service_manager", "executive"]),
        # the requester's own level stays (someone else decides it); lower ones are left out
        ("100", "1000000", "999900", "key_account_manager", ["key_account_manager"]),
        ("6000", "1000000", "994000", "service_manager", ["service_manager"]),
        ("30000", "1000000", "970000", "service_manager", ["service_manager", "executive"]),
        ("100", "1000000", "999900", "executive", ["executive"]),
    ],
)
def test_approval_chain_routing_by_size_and_account_value(amount, before, after, requester, chain):
    assert calc.approval_chain(amount=D(amount), contribution_before=D(before), contribution_after=D(after),
                               limits=LIMITS, requester_level=requester) == chain  # fmt: skip


@pytest.fixture
def big_request(kam, healthy):
    """Beyond policy (30 % discount) and above the executive threshold: KAM → SM → executive;
    the KAM asks, so the chain starts with another key account manager's step."""
    return concession_submit(actor=kam, account=healthy, kind="discount", reason="竞争对手报价低 30%",
                             data={"list_amount": "100000", "discount_pct": "30", "cost_amount": "50000", "order_reference": "Q-2026-88"})  # fmt: skip


@pytest.mark.django_db
def test_the_chain_is_walked_step_by_step_and_every_decision_recorded(
    big_request, make_user, service_manager, executive, kam, colleague
):
    assert big_request.status == "pending" and big_request.amount == D("30000")
    assert [s.level for s in big_request.steps.order_by("position")] == [
        "key_account_manager",
        "service_manager",
        "executive",
    ]
    outsider = make_user(Role.KEY_ACCOUNT_MANAGER, username="kam_outsider")
    with pytest.raises(PermissionDeniedError):  # a key account manager of another account
        approve(outsider, big_request)
    with pytest.raises(
        PermissionDeniedError
    ):  # a service manager before the KAM step? allowed: higher level
        approve(make_user(Role.SERVICE_ENGINEER, username="eng_x"), big_request)
    concession_approve(
        actor=colleague, concession=big_request, comment="同意,战略客户", expected_version=1
    )
    with pytest.raises(ConflictError):  # a decision on the version seen before it: refused
        concession_approve(actor=service_manager, concession=big_request, expected_version=1)
    with pytest.raises(ValidationError):  # a decision without the version seen: refused
        concession_approve(actor=service_manager, concession=big_request, expected_version=None)
    with pytest.raises(PermissionDeniedError):  # nobody decides two steps of one request
        approve(colleague, big_request)
    approve(service_manager, big_request, comment="服务成本可控")
    assert concession_inbox_count(actor=executive) == 1
    c = approve(executive, big_request, comment="批准")
    assert c.status == "granted" and c.decided_at is not None
    kinds = list(
        ConcessionEvent.objects.filter(concession=c).values_list("kind", "actor__username", "level")
    )
    assert kinds == [("submitted", "kam1", ""), ("approved", "kam_colleague", "key_account_manager"),
                     ("approved", "svcmgr1", "service_manager"), ("approved", "exec1", "executive"), ("granted", "exec1", "")]  # fmt: skip
    with pytest.raises(ApplicationError):
        approve(make_user(Role.EXECUTIVE, username="exec2"), c)


@pytest.mark.django_db
def test_self_approval_is_refused(make_user, healthy):
    boss = make_user(Role.EXECUTIVE, username="boss")
    c = concession_submit(
        actor=boss,
        account=healthy,
        kind="goodwill_parts",
        reason="质量问题补偿",
        data={"amount": "15000"},
    )
    assert [s.level for s in c.steps.all()] == ["executive"]
    with pytest.raises(PermissionDeniedError) as error:
        approve(boss, c)
    assert error.value.extra["code"] == "own_request"
    c.refresh_from_db()
    assert c.status == "pending" and not c.steps.filter(status="approved").exists()
    approve(make_user(Role.EXECUTIVE, username="boss2"), c)
    c.refresh_from_db()
    assert c.status == "granted"


@pytest.mark.django_db
def test_reject_needs_a_reason_and_ends_the_request(big_request, executive):
    with pytest.raises(ValidationError):
        reject(executive, big_request, comment="  ")
    c = reject(executive, big_request, comment="超出利润空间")
    assert c.status == "rejected"
    assert list(c.steps.values_list("status", flat=True)) == ["rejected", "skipped", "skipped"]
    assert ConcessionEvent.objects.filter(concession=c).last().comment == "超出利润空间"


@pytest.mark.django_db
def test_only_the_requester_withdraws(big_request, kam, executive):
    with pytest.raises(PermissionDeniedError):
        concession_withdraw(actor=executive, concession=big_request)
    c = concession_withdraw(actor=kam, concession=big_request, comment="客户已接受原价")
    assert c.status == "withdrawn"
    with pytest.raises(ApplicationError):
        concession_withdraw(actor=kam, concession=c)


@pytest.mark.django_db
def test_within_policy_is_granted_at_once_and_flows_into_the_cost_to_serve(kam, healthy):
    before = pnl_compute(start=TODAY, end=TODAY, accounts=[healthy.pk])[healthy.pk]
    c = concession_submit(
        actor=kam, account=healthy, kind="goodwill_parts", reason="停机补偿", data={"amount": "800"}
    )
    assert c.status == "granted" and c.within_policy and c.number == f"CON-{TODAY.year}-{c.pk:05d}"
    assert list(c.events.values_list("kind", flat=True)) == ["submitted", "granted"]
    after = pnl_compute(start=TODAY, end=TODAY, accounts=[healthy.pk])[healthy.pk]
    assert after.drivers["concessions"] - before.drivers["concessions"] == D("800")
    assert after.contribution == before.contribution - D("800")


@pytest.mark.django_db
def test_a_granted_extended_warranty_moves_the_warranty_end(kam, healthy):
    end = TODAY + dt.timedelta(days=30)
    equipment = EquipmentFactory(account=healthy, warranty_end=end)
    concession_submit(actor=kam, account=healthy, kind="extended_warranty", reason="大客户续保",
                      data={"months": "2", "amount": "500", "equipment": equipment.pk})  # fmt: skip
    equipment.refresh_from_db()
    month = end.month + 1
    year, month = end.year + month // 12, month % 12 + 1
    assert (equipment.warranty_end.year, equipment.warranty_end.month) == (year, month)


@pytest.mark.django_db
def test_bad_input_is_a_clear_error_and_saves_nothing(kam, other_kam, healthy):
    other_contact = ContactFactory(account=AccountFactory())
    cases = [
        ("discount", {"list_amount": "abc", "discount_pct": "10"}, "list_amount"),
        ("discount", {"list_amount": "1000", "discount_pct": "101"}, "discount_pct"),
        ("free_service", {}, "hours"),
        ("gift", {"amount": "100", "contact": other_contact.pk}, "contact"),
        ("goodwill_parts", {"amount": "-5"}, "amount"),
        ("teleport", {"amount": "1"}, "kind"),
    ]
    for kind, data, field in cases:
        with pytest.raises(ValidationError) as error:
            concession_submit(actor=kam, account=healthy, kind=kind, data=data, reason="x")
        assert field in error.value.message_dict, (kind, error.value.message_dict)
    with pytest.raises(ValidationError) as error:
        concession_submit(actor=kam, account=healthy, kind="gift", data={"amount": "1"}, reason=" ")
    assert "reason" in error.value.message_dict
    with pytest.raises(PermissionDeniedError):  # not their account
        concession_submit(
            actor=other_kam,
            account=healthy,
            kind="goodwill_parts",
            data={"amount": "1"},
            reason="x",
        )
    assert not Concession.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_approvers_deciding_one_request_at_once_exactly_one_wins(make_user):
    kam = make_user(Role.KEY_ACCOUNT_MANAGER, username="kam_c")
    account = AccountFactory(owner=kam)
    sell(account, revenue="1000000", gross_profit="500000")
    ConcessionPolicy.objects.exists() or pytest.fail("policies are seeded")
    request = concession_submit(actor=make_user(Role.EXECUTIVE, username="asker"), account=account,
                                kind="goodwill_parts", reason="补偿", data={"amount": "15000"})  # fmt: skip
    first, second = (
        make_user(Role.EXECUTIVE, username="exec_a"),
        make_user(Role.EXECUTIVE, username="exec_b"),
    )
    results: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def decide(user, approve, in_thread=True):
        try:
            if in_thread:
                barrier.wait(timeout=10)
            if approve:
                concession_approve(actor=user, concession=request, expected_version=1)
            else:
                concession_reject(
                    actor=user, concession=request, comment="不批", expected_version=1
                )
            results[user.username] = "won"
        except (ConflictError, ApplicationError):
            results[user.username] = "lost"
        finally:
            if in_thread:
                connection.close()

    if connection.vendor == "postgresql":  # real concurrent transactions
        threads = [
            threading.Thread(target=decide, args=(first, True)),
            threading.Thread(target=decide, args=(second, False)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:  # SQLite serialises writers: the second finds the request decided
        decide(first, True, in_thread=False)
        decide(second, False, in_thread=False)
    assert sorted(results.values()) == ["lost", "won"]
    request.refresh_from_db()
    winner = next(name for name, r in results.items() if r == "won")
    assert request.status == ("granted" if winner == "exec_a" else "rejected")
    decisions = ConcessionEvent.objects.filter(
        concession=request, kind__in=["approved", "rejected"]
    )
    assert decisions.count() == 1 and decisions.get().actor.username == winner


@pytest.mark.django_db
def test_who_sees_which_concessions(
    kam, other_kam, service_manager, executive, admin_user, engineer, portal_user, healthy
):
    small = concession_submit(
        actor=kam, account=healthy, kind="goodwill_parts", reason="小", data={"amount": "100"}
    )
    big = concession_submit(
        actor=kam, account=healthy, kind="goodwill_parts", reason="大", data={"amount": "15000"}
    )
    theirs_account = AccountFactory(owner=other_kam)
    sell(theirs_account, revenue="1000000", gross_profit="500000")
    theirs = concession_submit(actor=other_kam, account=theirs_account, kind="gift", reason="礼",
                               data={"amount": "100", "contact": ContactFactory(account=theirs_account).pk})  # fmt: skip

    def seen(user, box="all"):
        return set(concession_list(actor=user, box=box).values_list("pk", flat=True))

    assert seen(kam) == {small.pk, big.pk}
    assert seen(kam, "mine") == {small.pk, big.pk} and seen(kam, "inbox") == set()
    assert seen(other_kam) == {theirs.pk}
    assert seen(service_manager) == {big.pk}  # its chain has a service-manager step
    assert seen(service_manager, "inbox") == {big.pk}  # a higher level may decide the KAM step
    assert seen(executive) == seen(admin_user) == {small.pk, big.pk, theirs.pk}
    assert seen(executive, "inbox") == {big.pk}
    assert seen(admin_user, "inbox") == set()  # administrators oversee; they do not approve
    assert seen(engineer) == seen(portal_user) == set()


@pytest.mark.django_db
def test_imported_lines_breaking_the_policy_are_flagged_until_a_concession_covers_them(
    kam, executive
):
    account = AccountFactory(owner=kam)
    product = ProductFactory(list_price=D("10000"), standard_cost=D("5000"))
    OrderFactory(
        account=account,
        number="SO-FAIR",
        order_date=TODAY,
        lines=[{"product": product, "quantity": D(1), "net_price": D("8500")}],
    )  # 15 %: at the limit
    OrderFactory(
        account=account,
        number="SO-DEEP",
        order_date=TODAY,
        lines=[{"product": product, "quantity": D(1), "net_price": D("8000")}],
    )  # 20 %
    cheap = ProductFactory(list_price=D("1000"), standard_cost=D("900"))
    OrderFactory(
        account=account,
        number="SO-THIN",
        order_date=TODAY,
        lines=[{"product": cheap, "quantity": D(1)}],
    )  # margin 10 % < 15 %
    flagged = flagged_order_lines(actor=executive)
    assert sorted(r["order"].number for r in flagged["rows"]) == ["SO-DEEP", "SO-THIN"]
    deep = next(r for r in flagged["rows"] if r["order"].number == "SO-DEEP")
    assert deep["discount_pct"] == D("20.00")
    assert deep["why"] == ["Discount 20.00% above the maximum of 15.00%."]
    thin = next(r for r in flagged["rows"] if r["order"].number == "SO-THIN")
    assert thin["why"] == ["Gross margin 10.00% below the floor of 15.00%."]
    assert thin["policy"] == "默认政策 Default policy"
    other = AccountFactory(owner=kam)
    Concession.objects.create(number="X1", account=other, kind="discount", status="granted", requested_by=kam,
                              effective_date=TODAY, reason="x", amount=D(2000), order_reference="so-deep")  # fmt: skip
    assert len(flagged_order_lines(actor=executive)["rows"]) == 2  # another account's concession
    Concession.objects.create(number="X2", account=account, kind="discount", status="granted", requested_by=kam,
                              effective_date=TODAY, reason="x", amount=D(2000), order_reference=" so-deep ",
                              list_amount=D(10000), discount_pct=D(20))  # fmt: skip
    assert [r["order"].number for r in flagged_order_lines(actor=executive)["rows"]] == ["SO-THIN"]


@pytest.mark.django_db
def test_reports_of_concessions_and_over_policy(kam, executive, make_user, healthy, colleague):
    granted = [
        concession_submit(
            actor=kam, account=healthy, kind="free_service", reason="调试", data={"hours": "30"}
        ),
        concession_submit(
            actor=kam, account=healthy, kind="goodwill_parts", reason="补偿", data={"amount": "800"}
        ),
    ]
    assert all(c.status == "granted" for c in granted)
    beyond = concession_submit(
        actor=kam, account=healthy, kind="free_service", reason="再调试", data={"hours": "20"}
    )
    approve(colleague, beyond)
    by_kind = {
        r["key"]: (r["count"], r["amount"])
        for r in concessions_report(actor=executive, filters={"by": "kind"})["rows"]
    }
    assert set(by_kind) == {"free_service", "goodwill_parts"} and by_kind["free_service"][0] == 2
    by_approver = {
        r["label"]: r["count"]
        for r in concessions_report(actor=executive, filters={"by": "approver"})["rows"]
    }
    assert by_approver == {"Kam_Colleague": 1, "Within policy (granted at once)": 2}
    over = over_policy_accounts(actor=executive)
    assert [r["name"] for r in over["rows"]] == ["健康客户"]
    assert over["rows"][0]["exceeded"][0]["code"] == "max_free_service_hours"
    with pytest.raises(ValidationError):
        concessions_report(actor=executive, filters={"by": "colour"})


@pytest.mark.django_db
def test_margin_alerts_are_sent_once_by_mail_and_webhook(
    kam, executive, django_capture_on_commit_callbacks, monkeypatch
):
    from keycare.service.models import Webhook

    posted = []
    monkeypatch.setattr(
        "keycare.service.escalation.post_json", lambda url, payload: posted.append((url, payload))
    )
    Webhook.objects.create(name="大客户群", url="https://example.invalid/robot", format="wecom")
    thin = AccountFactory(name="薄利客户", owner=kam)
    sell(thin, revenue="10000", gross_profit="1000")  # 10 % < the 20 % floor
    sell(AccountFactory(name="健康客户"), revenue="10000", gross_profit="5000")
    assert [r["name"] for r in below_floor_accounts(actor=executive)["rows"]] == ["薄利客户"]
    with django_capture_on_commit_callbacks(execute=True):
        assert profit_alerts_check() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [kam.email]
    assert "薄利客户" in mail.outbox[0].subject and "20" in mail.outbox[0].body
    assert len(posted) == 1 and posted[0][1]["msgtype"] == "text"
    with django_capture_on_commit_callbacks(execute=True):
        assert profit_alerts_check() == 0  # the same month: nothing twice
    assert len(mail.outbox) == 1 and len(posted) == 1
    alert = ProfitAlert.objects.get()
    assert alert.sent_at is not None and alert.kind == "margin_below_floor"


@pytest.mark.django_db
def test_the_approvers_of_each_step_are_told_once(kam, make_user, service_manager, executive, healthy,
                                                   django_capture_on_commit_callbacks, colleague):  # fmt: skip
    from keycare.profitability.concessions import approvers_notify

    with django_capture_on_commit_callbacks(execute=True):
        c = concession_submit(
            actor=kam,
            account=healthy,
            kind="goodwill_parts",
            reason="补偿",
            data={"amount": "15000"},
        )
    assert [m.to for m in mail.outbox] == [[colleague.email]]  # not the requester
    assert c.number in mail.outbox[0].subject and "15,000" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        approve(colleague, c)
    assert mail.outbox[-1].to == [service_manager.email]
    first = c.steps.get(position=0)
    assert approvers_notify(step_id=first.pk) is False and len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_requester_hears_the_outcome_once(kam, colleague, service_manager, executive, healthy,
                                              django_capture_on_commit_callbacks):  # fmt: skip
    from keycare.profitability.concessions import requester_notify

    granted = concession_submit(
        actor=kam, account=healthy, kind="goodwill_parts", reason="补偿", data={"amount": "12000"}
    )
    refused = concession_submit(
        actor=kam, account=healthy, kind="goodwill_parts", reason="再补", data={"amount": "11000"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        approve(colleague, granted)
        assert [
            m.to for m in mail.outbox if m.to == [kam.email]
        ] == []  # not yet: a step still waits
        approve(service_manager, granted, comment="可以")
        reject(executive, refused, comment="超出利润空间")
    told = [m for m in mail.outbox if m.to == [kam.email]]
    assert len(told) == 2
    assert "Granted" in told[0].subject and "可以" in told[0].body
    assert "Rejected" in told[1].subject and "超出利润空间" in told[1].body
    assert requester_notify(concession_id=granted.pk) is False  # once
