"""The concession pages: the lists and the approval queue, the new request with its profit
simulation (测算利润空间), the request with its chain, and the decisions — stale, own and
out-of-turn ones refused with nothing changed — plus the whole path in a real browser."""

import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    EquipmentFactory,
    OrderFactory,
    ProductFactory,
)
from keycare.profitability.concessions import concession_submit
from keycare.profitability.models import Concession
from keycare.service.tests.factories import TicketFactory
from keycare.users.choices import Role

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
D = Decimal
BREACH = "Discount 30% is above the policy's maximum of 15%."


def _sell(account, revenue, cost, day=dt.date(2026, 3, 1)):
    product = ProductFactory(list_price=D(revenue), standard_cost=D(cost))
    OrderFactory(account=account, order_date=day, lines=[{"product": product, "quantity": 1}])


@pytest.fixture
def team_kam(make_user):
    """A second key account manager on the account's team: there is a colleague to decide
    the first step of the key account manager's requests."""
    return make_user(Role.KEY_ACCOUNT_MANAGER, username="kam3")


@pytest.fixture
def shop(kam, team_kam):
    """An account of the key account manager's: revenue 100,000, contribution 50,000 over
    the last twelve months; the default policy (discounts up to 15%)."""
    account = AccountFactory(name="华鑫汽车有限公司", owner=kam)
    AccountTeamMemberFactory(account=account, user=team_kam,
                             role=AccountTeamRole.KEY_ACCOUNT_MANAGER)  # fmt: skip
    _sell(account, 100_000, 50_000)
    return account


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def _discount(pct="30", **extra):
    """A discount on a line of list value 10,000 at a standard cost of 5,000 (its margin
    stays above the line floor up to a 41% discount)."""
    return {"kind": "discount", "order_reference": "Q-2026-001", "list_amount": "10000",
            "discount_pct": pct, "cost_amount": "5000", "reason": "竞争对手报价更低", **extra}  # fmt: skip


def _request(actor, account, pct="30", list_amount="10000"):
    cost = str(D(list_amount) / 2)
    return concession_submit(actor=actor, account=account, kind="discount",
                             data={"list_amount": list_amount, "discount_pct": pct,
                                   "cost_amount": cost, "order_reference": "Q-1"},
                             reason="竞争")  # fmt: skip


def _new(account):
    return f"{reverse('web:concession_new')}?account={account.pk}"


def _decide(client, concession, action, comment="", version=None):
    version = concession.version if version is None else version
    return client.post(reverse("web:concession_decide", args=[concession.pk]),
                       {"action": action, "comment": comment, "version": version})  # fmt: skip


# --- permissions ---------------------------------------------------------------------------


def test_the_pages_are_for_those_who_see_margins(
    login, client, shop, kam, admin_user, executive, service_manager, engineer, portal_user
):
    concession = _request(kam, shop, pct="25", list_amount="100000")  # up to an executive
    detail = reverse("web:concession_detail", args=[concession.pk])
    small = _request(kam, shop)  # the key account manager's step only
    small_detail = reverse("web:concession_detail", args=[small.pk])
    assert login(service_manager).get(small_detail).status_code == 404  # not his to see
    for user in (kam, admin_user, executive, service_manager):
        c = login(user)
        assert c.get(reverse("web:concession_list")).status_code == 200, user
        assert c.get(reverse("web:concession_new")).status_code == 200, user
        assert c.get(_new(shop)).status_code == 200, user
        assert c.get(detail).status_code == 200, user
    for user in (engineer, portal_user):
        c = login(user)
        for url in (
            reverse("web:concession_list"),
            reverse("web:concession_new"),
            _new(shop),
            detail,
        ):
            assert c.get(url).status_code == 403, (user, url)
        assert c.post(_new(shop), _discount()).status_code == 403
        assert _decide(c, concession, "approve").status_code == 403
    client.logout()
    for url in (reverse("web:concession_list"), _new(shop), detail):
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert client.post(_new(shop), _discount()).status_code == 302
    concession.refresh_from_db()
    assert concession.status == "pending" and Concession.objects.count() == 2


def test_a_key_account_manager_sees_and_asks_only_for_his_accounts(
    login, shop, kam, other_kam, executive
):
    theirs = AccountFactory(name="远东钢铁有限公司", owner=other_kam)
    _sell(theirs, 10_000, 5_000)
    mine, other = _request(kam, shop), _request(other_kam, theirs)
    page = login(kam).get(reverse("web:concession_list"))
    assert [c.number for c in page.context["page"].object_list] == [mine.number]
    assert login(kam).get(reverse("web:concession_detail", args=[other.pk])).status_code == 404
    assert login(kam).get(_new(theirs)).status_code == 404  # not even seen
    choose = login(kam).get(reverse("web:concession_new"))
    assert [a.name for a in choose.context["accounts"]] == ["华鑫汽车有限公司"]
    assert login(kam).post(_new(theirs), _discount()).status_code == 404
    assert Concession.objects.filter(account=theirs).count() == 1
    everything = login(executive).get(reverse("web:concession_list"))
    assert {c.number for c in everything.context["page"].object_list} == {mine.number, other.number}


# --- the lists -----------------------------------------------------------------------------


def test_the_boxes_the_queue_count_and_the_filters(login, shop, kam, executive, service_manager):
    pending = _request(kam, shop)
    granted = _request(kam, shop, pct="10")
    assert granted.status == "granted"
    client = login(executive)
    queue = client.get(reverse("web:concession_list"), {"box": "inbox"})
    assert [c.number for c in queue.context["page"].object_list] == [pending.number]
    assert queue.context["inbox_count"] == 1
    body = queue.content.decode()
    assert '<span class="badge bg-red text-red-fg ms-1" data-testid="inbox-count">1</span>' in body
    assert "waiting for: Key account manager" in body
    assert (
        login(kam).get(reverse("web:concession_list"), {"box": "inbox"}).context["inbox_count"] == 0
    )
    mine = login(kam).get(reverse("web:concession_list"), {"box": "mine"})
    assert {c.number for c in mine.context["page"].object_list} == {pending.number, granted.number}
    assert login(executive).get(reverse("web:concession_list"), {"box": "mine"}).context[
        "page"].paginator.count == 0  # fmt: skip
    only = login(executive).get(reverse("web:concession_list"), {"status": "granted"})
    assert [c.number for c in only.context["page"].object_list] == [granted.number]
    found = login(executive).get(reverse("web:concession_list"), {"q": pending.number})
    assert [c.number for c in found.context["page"].object_list] == [pending.number]
    # a service manager sees (and decides) the requests whose chain reaches his level only
    assert login(service_manager).get(reverse("web:concession_list"), {"box": "inbox"}).context[
        "inbox_count"] == 0  # fmt: skip
    large = _request(kam, shop, pct="25", list_amount="100000")
    queue = login(service_manager).get(reverse("web:concession_list"), {"box": "inbox"})
    assert [c.number for c in queue.context["page"].object_list] == [large.number]
    fragment = login(executive).get(reverse("web:concession_list"), {"kind": "discount"},
                                    HTTP_HX_REQUEST="true")  # fmt: skip
    assert fragment.content.decode().startswith('<div class="card" id="concession-table">')


def test_a_bad_filter_is_said_with_400(login, shop, kam, executive):
    _request(kam, shop)
    client = login(executive)
    for params, message in (({"box": "drawer"}, "Choose all, mine or the approval queue."),
                            ({"status": "lost"}, "Select a valid choice."),
                            ({"period_from": "someday"}, "Enter a valid date."),
                            ({"account": "99999999999999999999"},
                             "Ensure this value is less than or equal to 9223372036854775807."),
                            ({"account": "1.5"}, "Ensure that there are no more than 0 decimal places."),
                            ({"requested_by": "-3"}, "Ensure this value is greater than or equal to 1.")):  # fmt: skip
        page = client.get(reverse("web:concession_list"), params)
        assert page.status_code == 400, params
        assert message in page.content.decode(), params
        assert list(page.context["page"].object_list) == []
        assert (
            client.get(reverse("web:concession_list"), {**params, "export": "xlsx"}).status_code
            == 400
        )


def test_the_list_exports_every_row(login, shop, kam, executive):
    first, second = _request(kam, shop), _request(kam, shop, pct="10")
    response = login(executive).get(reverse("web:concession_list"), {"export": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = [list(r) for r in workbook["Concessions"].iter_rows(values_only=True)]
    assert rows[0][0] == "All"
    assert rows[1][:7] == ["Number", "Account", "Kind", "Amount", "Status", "Within policy",
                           "Waiting for"]  # fmt: skip
    assert [r[:7] for r in rows[2:]] == [
        [second.number, "华鑫汽车有限公司", "Discount on a quote or order", 1000, "Granted", "Yes", None],
        [first.number, "华鑫汽车有限公司", "Discount on a quote or order", 3000,
         "Awaiting approval", "No", "Key account manager"],
    ]  # fmt: skip


def test_the_list_takes_a_fixed_number_of_queries(
    login, shop, kam, executive, django_assert_num_queries
):
    _request(kam, shop)
    client = login(executive)
    client.get(reverse("web:concession_list"))
    # session, user, roles; count, page, its steps; the queue's count
    with django_assert_num_queries(7):
        assert len(client.get(reverse("web:concession_list")).context["page"].object_list) == 1
    for pct in ("20", "25", "10", "5"):
        _request(kam, shop, pct=pct)
    with django_assert_num_queries(7):
        assert len(client.get(reverse("web:concession_list")).context["page"].object_list) == 5


# --- a new request -------------------------------------------------------------------------


def test_the_simulation_shows_the_profit_before_and_after_and_saves_nothing(login, shop, kam):
    response = login(kam).post(_new(shop), {**_discount(), "action": "simulate"},
                               HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<div id="concession-form">')  # the form and the simulation only
    rows = {r["key"]: r for r in response.context["simulation"]["rows"]}
    assert (rows["revenue"]["before"], rows["revenue"]["after"], rows["revenue"]["change"]) == (
        D("100000.00"), D("97000.00"), D("-3000.00"))  # fmt: skip
    assert (rows["gross_margin"]["before"], rows["gross_margin"]["after"]) == (
        D("50.00"),
        D("48.45"),
    )
    assert (rows["contribution"]["before"], rows["contribution"]["after"]) == (
        D("50000.00"), D("47000.00"))  # fmt: skip
    assert '<tr data-testid="simulation-revenue"><td>Revenue</td>' in body
    assert "100,000.00" in body and "97,000.00" in body and "-3,000.00" in body
    assert "50.00%" in body and "48.45%" in body
    assert 'data-testid="simulation-amount">3,000.00<' in body
    assert "默认政策 Default policy" in body
    assert f'<li data-testid="breach">{BREACH}</li>'.replace("'", "&#x27;") in body
    assert re.search(
        r'data-testid="simulation-chain">Needs the approval of: '
        r'<span class="badge bg-blue-lt">Key account manager</span></div>',
        body,
    )
    assert Concession.objects.count() == 0
    within = login(kam).post(_new(shop), {**_discount("10"), "action": "simulate"},
                             HTTP_HX_REQUEST="true")  # fmt: skip
    assert "Within the policy: granted at once when submitted." in within.content.decode()
    full = login(kam).post(_new(shop), {**_discount(), "action": "simulate"})  # without HTMX
    assert full.status_code == 200 and "<!doctype html>" in full.content.decode()
    assert 'data-testid="simulation"' in full.content.decode()
    assert Concession.objects.count() == 0


def test_a_large_request_needs_the_whole_chain(login, shop, kam):
    response = login(kam).post(_new(shop), {**_discount("25", list_amount="100000"),
                                            "action": "simulate"}, HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.context["simulation"]["chain"] == ["Key account manager", "Service manager",
                                                       "Executive"]  # fmt: skip


def test_submitting_beyond_the_policy_sends_it_for_approval(login, shop, kam):
    response = login(kam).post(_new(shop), _discount(), follow=True)
    concession = Concession.objects.get()
    assert response.redirect_chain == [
        (reverse("web:concession_detail", args=[concession.pk]), 302)
    ]
    body = response.content.decode()
    assert (f"{concession.number} is beyond the policy and sent for approval: Key account manager."
            in body)  # fmt: skip
    assert (concession.status, concession.amount, concession.requested_by) == (
        "pending",
        D("3000.00"),
        kam,
    )
    assert [s.level for s in concession.steps.all()] == ["key_account_manager"]
    assert BREACH.replace("'", "&#x27;") in body
    assert 'data-testid="decision-forms"' not in body  # nobody decides their own request
    assert 'data-testid="withdraw"' in body


def test_submitting_within_the_policy_grants_it_at_once(login, shop, kam):
    response = login(kam).post(_new(shop), _discount("10"), follow=True)
    concession = Concession.objects.get()
    assert concession.status == "granted" and concession.within_policy is True
    assert (
        f"{concession.number} is within the policy and granted at once."
        in response.content.decode()
    )


def test_form_errors_are_shown_on_the_fields_and_nothing_is_saved(login, shop, kam):
    contact = ContactFactory(account=shop, name="张总")
    client = login(kam)
    today = timezone.localdate()
    first, last = today - dt.timedelta(days=90), today + dt.timedelta(days=365)
    cases = [
        ({**_discount(), "list_amount": ""}, "list_amount", "This field is required."),
        ({**_discount(), "reason": " "}, "reason", "Say why the account should get this concession."),
        ({**_discount(), "discount_pct": "abc"}, "discount_pct", "Enter a number."),
        ({"kind": "gift", "amount": "800", "reason": "节日"}, "contact", "Choose who receives the gift."),
        ({"kind": "free_service", "reason": "x"}, "hours",
         "Give the free service hours, the free visits, or both."),
        ({**_discount(), "effective_date": "2030-01-01"}, "effective_date",
         f"Choose an effective date from {first.isoformat()} to {last.isoformat()}."),
        ({**_discount(), "cost_amount": ""}, "cost_amount", "This field is required."),
        ({"kind": "extended_warranty", "months": "12", "amount": "5000", "reason": "x"},
         "equipment", "Choose the equipment whose warranty is extended."),
        ({"kind": "bribe", "reason": "x"}, "kind", "Select a valid choice. bribe is not one of the available choices."),
    ]  # fmt: skip
    for data, field, message in cases:
        response = client.post(_new(shop), data)
        assert response.status_code == 400, data
        assert response.context["form"].errors[field] == [message], data
        assert f'data-testid="error-{field}">' in response.content.decode()
    assert Concession.objects.count() == 0
    simulated = client.post(_new(shop), {**_discount(), "effective_date": "2030-01-01",
                                         "action": "simulate"})  # fmt: skip
    assert simulated.status_code == 400 and simulated.context["form"].errors["effective_date"]
    assert simulated.context["simulation"] is None
    gift = client.post(_new(shop), {"kind": "gift", "amount": "800", "contact": contact.pk,
                                    "reason": "节日"})  # fmt: skip
    assert gift.status_code == 302 and Concession.objects.get().contact == contact
    machine = EquipmentFactory(account=shop)
    warranty = client.post(_new(shop), {"kind": "extended_warranty", "months": "12",
                                        "amount": "5000", "equipment": machine.pk, "reason": "x"})  # fmt: skip
    assert warranty.status_code == 302
    assert Concession.objects.get(kind="extended_warranty").equipment == machine


def test_a_ticket_of_the_account_may_be_chosen(login, shop, kam):
    older, newer = TicketFactory(account=shop), TicketFactory(account=shop)
    stranger = TicketFactory(account=AccountFactory(owner=kam))
    client = login(kam)
    form = client.get(_new(shop)).context["form"]
    assert {t.pk for t in form.fields["ticket"].queryset} == {older.pk, newer.pk}
    goodwill = {"kind": "goodwill_parts", "amount": "800", "reason": "停机补偿"}
    simulated = client.post(_new(shop), {**goodwill, "ticket": older.pk, "action": "simulate"})
    assert simulated.status_code == 200 and simulated.context["form"].errors == {}
    refused = client.post(_new(shop), {**goodwill, "ticket": stranger.pk})
    assert refused.status_code == 400
    assert refused.context["form"].errors["ticket"] == [
        "Select a valid choice. That choice is not one of the available choices."]  # fmt: skip
    assert not Concession.objects.exists()
    submitted = client.post(_new(shop), {**goodwill, "ticket": older.pk})
    assert submitted.status_code == 302
    assert Concession.objects.get().ticket == older


def test_only_the_chosen_kinds_fields_are_read(login, shop, kam):
    """What is left in the hidden fields of another kind is neither checked nor kept."""
    response = login(kam).post(_new(shop), {
        "kind": "goodwill_parts", "amount": "800", "reason": "停机补偿",
        "discount_pct": "abc", "list_amount": "-5", "cost_amount": "x", "months": "999",
        "hours": "many", "contact": "999999",
    })  # fmt: skip
    assert response.status_code == 302
    concession = Concession.objects.get()
    assert (concession.kind, concession.amount, concession.status) == (
        "goodwill_parts", D("800.00"), "granted")  # fmt: skip
    assert (concession.discount_pct, concession.list_amount, concession.months,
            concession.hours, concession.contact) == (None, None, None, None, None)  # fmt: skip
    # the chosen kind's own fields are checked
    wrong = login(kam).post(_new(shop), {"kind": "goodwill_parts", "amount": "x", "reason": "y"})
    assert wrong.status_code == 400 and wrong.context["form"].errors["amount"] == [
        "Enter a number."]  # fmt: skip


def test_the_form_marks_what_each_kind_requires(login, shop, kam):
    body = login(kam).get(_new(shop)).content.decode()
    for name, required in (("cost_amount", True), ("equipment", True), ("list_amount", True),
                           ("order_reference", False), ("hours", False), ("ticket", False)):  # fmt: skip
        label = re.search(rf'<label class="form-label( required)?" for="id_{name}">', body)
        assert label and bool(label.group(1)) is required, name


def test_the_list_pages_through_its_links(login, shop, kam, executive):
    first = _request(kam, shop)
    for _ in range(25):
        _request(kam, shop, pct="10")
    client = login(executive)
    url = reverse("web:concession_list")
    page_one = client.get(url, {"box": "all"})
    assert len(page_one.context["page"].object_list) == 25
    assert first not in page_one.context["page"].object_list
    body = page_one.content.decode()
    link = re.search(r'<a class="page-link" href="([^"]+)" hx-get="([^"]+)"', body)
    assert link.group(1) == link.group(2) == "?box=all&amp;page=2"
    page_two = client.get(url + link.group(1).replace("&amp;", "&"))
    assert page_two.context["page"].number == 2
    assert [c.number for c in page_two.context["page"].object_list] == [first.number]
    assert 'href="?box=all&amp;page=1"' in page_two.content.decode()  # and back


# --- one request and its decisions ---------------------------------------------------------


def test_an_executive_approves_from_the_page(login, shop, kam, executive):
    concession = _request(kam, shop)
    page = login(executive).get(reverse("web:concession_detail", args=[concession.pk]))
    body = page.content.decode()
    assert page.context["may_decide"] is True
    assert f'<input type="hidden" name="version" value="{concession.version}">' in body
    assert "as Key account manager" in body
    assert BREACH.replace("'", "&#x27;") in body and 'data-testid="simulation"' in body
    response = _decide(login(executive), concession, "approve", "同意，下不为例")
    assert response.status_code == 302
    concession.refresh_from_db()
    assert concession.status == "granted"
    step = concession.steps.get()
    assert (step.status, step.decided_by, step.comment) == ("approved", executive, "同意，下不为例")
    page = login(executive).get(reverse("web:concession_detail", args=[concession.pk]))
    body = page.content.decode()
    assert [e.kind for e in page.context["events"]] == ["submitted", "approved", "granted"]
    assert "同意，下不为例" in body and 'data-testid="decision-forms"' not in body
    assert '<span class="badge bg-green-lt" data-testid="concession-status">Granted</span>' in body


def test_a_stale_decision_is_refused_with_the_conflict(login, shop, kam, executive):
    concession = _request(kam, shop)
    response = _decide(
        login(executive), concession, "approve", "ok", version=concession.version - 1
    )
    assert response.status_code == 409
    assert ("Someone else decided this request while you were looking at it. Reload and try again."
            in response.content.decode())  # fmt: skip
    assert response.context["comment"] == "ok"  # the input is kept
    concession.refresh_from_db()
    assert concession.status == "pending" and concession.steps.get().status == "waiting"


def test_nobody_approves_their_own_request(login, shop, kam):
    concession = _request(kam, shop)
    response = _decide(login(kam), concession, "approve")
    assert response.status_code == 403
    assert "You cannot decide your own request." in response.content.decode()
    concession.refresh_from_db()
    assert concession.status == "pending" and concession.steps.get().decided_by is None


def test_a_step_above_the_users_level_is_refused(login, shop, kam, service_manager, executive):
    concession = _request(kam, shop, pct="25", list_amount="100000")  # needs all three levels
    assert _decide(login(executive), concession, "approve").status_code == 302
    concession.refresh_from_db()
    refused = _decide(login(executive), concession, "approve")  # no two steps of one request
    assert refused.status_code == 403
    assert _decide(login(service_manager), concession, "approve").status_code == 302
    concession.refresh_from_db()
    page = login(service_manager).get(reverse("web:concession_detail", args=[concession.pk]))
    assert page.context["may_decide"] is False
    refused = _decide(login(service_manager), concession, "approve")
    assert refused.status_code == 403
    assert "This step needs another approver: Executive." in refused.content.decode()
    concession.refresh_from_db()
    assert concession.status == "pending" and concession.current_step == 2


def test_a_rejection_needs_a_comment(login, shop, kam, executive):
    concession = _request(kam, shop)
    missing = _decide(login(executive), concession, "reject", " ")
    assert (
        missing.status_code == 400
        and "Say why the request is rejected." in missing.content.decode()
    )
    concession.refresh_from_db()
    assert concession.status == "pending"
    assert _decide(login(executive), concession, "reject", "毛利不足").status_code == 302
    concession.refresh_from_db()
    assert concession.status == "rejected"
    again = _decide(login(executive), concession, "approve")
    assert (
        again.status_code == 400
        and "This request has already been decided" in again.content.decode()
    )


def test_a_decision_without_a_valid_version_is_refused_with_the_reason(login, shop, kam, executive):
    concession = _request(kam, shop)
    url = reverse("web:concession_decide", args=[concession.pk])
    missing = (
        "The page does not say which version of the request you saw: reload it and decide again."
    )
    client = login(executive)
    for data in ({"action": "approve"}, {"action": "approve", "version": "abc"},
                 {"action": "approve", "version": "-1"}, {"action": "reject", "version": "",
                                                           "comment": "不行"}):  # fmt: skip
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert response.context["decision_error"] == missing, data
    assert response.context["comment"] == "不行"  # the input is kept
    bogus = client.post(url, {"action": "grant", "version": concession.version})
    assert (bogus.status_code, bogus.context["decision_error"]) == (
        400, "Choose approve, reject or withdraw.")  # fmt: skip
    long = client.post(url, {"action": "approve", "version": concession.version,
                             "comment": "好" * 2001})  # fmt: skip
    assert (long.status_code, long.context["decision_error"]) == (
        400, "Ensure this value has at most 2000 characters (it has 2001).")  # fmt: skip
    concession.refresh_from_db()
    assert (concession.status, concession.version) == ("pending", 1)
    assert concession.steps.get().status == "waiting"


def test_without_a_colleague_the_first_step_is_a_service_managers(login, kam, service_manager):
    alone = AccountFactory(name="独家客户", owner=kam)  # no other key account manager
    _sell(alone, 100_000, 50_000)
    concession = _request(kam, alone)
    assert [s.level for s in concession.steps.all()] == ["service_manager"]
    page = login(service_manager).get(reverse("web:concession_detail", args=[concession.pk]))
    assert page.context["may_decide"] is True and "as Service manager" in page.content.decode()


def test_the_requester_withdraws_while_it_waits(login, shop, kam, executive):
    concession = _request(kam, shop)
    refused = _decide(login(executive), concession, "withdraw")
    assert refused.status_code == 403 and "Only the requester can withdraw a request." in (
        refused.content.decode())  # fmt: skip
    assert _decide(login(kam), concession, "withdraw").status_code == 302
    concession.refresh_from_db()
    assert concession.status == "withdrawn"
    assert login(kam).get(reverse("web:concession_decide", args=[concession.pk])).status_code == 405


def test_the_detail_takes_a_fixed_number_of_queries(
    login, shop, kam, executive, django_assert_num_queries
):
    short = _request(kam, shop)  # one step
    long = _request(kam, shop, pct="25", list_amount="100000")  # three steps
    assert (short.steps.count(), long.steps.count()) == (1, 3)
    client = login(executive)
    client.get(reverse("web:concession_detail", args=[short.pk]))
    # session, user, roles; the request, its steps, its events; the waiting step, a step
    # decided by the viewer (may decide)
    with django_assert_num_queries(8):
        assert client.get(reverse("web:concession_detail", args=[short.pk])).status_code == 200
    with django_assert_num_queries(8):
        assert client.get(reverse("web:concession_detail", args=[long.pk])).status_code == 200


# --- in the browser ------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_discount_beyond_the_policy_is_simulated_submitted_and_approved(live_server, page):
    from playwright.sync_api import expect

    from keycare.demo.generators import DEMO_PASSWORD, demo_users_ensure
    from keycare.users.models import User
    from keycare.users.tests.factories import UserFactory

    demo_users_ensure()
    kam = User.objects.get(username="kam")
    account = AccountFactory(name="华鑫汽车有限公司", owner=kam)
    colleague = UserFactory(username="kam_colleague", roles=[Role.KEY_ACCOUNT_MANAGER])
    AccountTeamMemberFactory(account=account, user=colleague,
                             role=AccountTeamRole.KEY_ACCOUNT_MANAGER)  # fmt: skip
    _sell(account, 100_000, 50_000)

    def login(username):
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("page-title")).to_be_visible()

    login("kam")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_test_id("request-concession").click()
    expect(page.locator("#id_list_amount")).to_be_visible()  # a discount's fields
    expect(page.locator("#id_hours")).to_be_hidden()
    expect(page.locator("#id_hours")).to_be_disabled()  # not sent, not checked
    page.select_option("#id_kind", "goodwill_parts")
    expect(page.locator("#id_amount")).to_be_enabled()
    expect(page.locator("#id_list_amount")).to_be_hidden()
    expect(page.locator("#id_list_amount")).to_be_disabled()
    page.select_option("#id_kind", "discount")
    expect(page.locator("#id_list_amount")).to_be_enabled()
    page.fill("#id_order_reference", "Q-2026-088")
    page.fill("#id_list_amount", "10000")
    page.fill("#id_discount_pct", "30")
    page.fill("#id_cost_amount", "5000")
    page.fill("#id_reason", "竞争对手报价低 30%")
    page.get_by_test_id("simulate").click()
    simulation = page.get_by_test_id("simulation")
    expect(simulation.get_by_test_id("breach")).to_have_text(BREACH)
    expect(simulation.get_by_test_id("simulation-chain")).to_contain_text("Key account manager")
    expect(simulation.get_by_test_id("simulation-revenue")).to_contain_text("97,000.00")
    assert Concession.objects.count() == 0
    page.get_by_test_id("submit-concession").click()
    expect(page.get_by_test_id("concession-status")).to_have_text("Awaiting approval")
    number = Concession.objects.get().number
    expect(page.locator(".kc-messages")).to_contain_text(f"{number} is beyond the policy")

    login("exec")
    page.goto(f"{live_server.url}/concessions/")
    page.get_by_test_id("box-inbox").click()
    expect(page.get_by_test_id("inbox-count")).to_have_text("1")
    page.get_by_role("link", name=number).click()
    page.fill("#id_comment", "同意")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("concession-status")).to_have_text("Granted")
    assert Concession.objects.get().status == "granted"
