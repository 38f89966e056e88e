"""`keycare bench-data` at the tiny scale (a thousandth of large): the rows are what the
services would have written, the logins work, the services carry on afterwards, and a
second run into the loaded database is refused without a change."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.test import RequestFactory

from keycare.accounts.models import (
    Account,
    AccountTeamMember,
    Contact,
    ContactAccount,
    Equipment,
    Order,
    OrderLine,
)
from keycare.core.search import search_text
from keycare.core.validators import validate_credit_code
from keycare.demo.scale import BENCH_LOGINS, BENCH_PASSWORD, Sizes
from keycare.service.models import (
    FieldVisit,
    ServiceTeamMember,
    Ticket,
    TicketEvent,
    TicketRating,
    TicketSequence,
)
from keycare.users.models import User

pytestmark = pytest.mark.django_db(transaction=False)


def counts() -> dict[str, int]:
    models = [Account, AccountTeamMember, Contact, ContactAccount, Equipment, Order, OrderLine,
              Ticket, TicketEvent, FieldVisit, TicketRating, User, TicketSequence]  # fmt: skip
    return {m.__name__: m.objects.count() for m in models}


@pytest.fixture
def loaded():
    out = io.StringIO()
    call_command("bench-data", scale="tiny", seed=5, stdout=out)
    return out.getvalue()


def test_bench_data_tiny(loaded):
    sizes = Sizes.for_scale("tiny")
    n = counts()
    assert n["Account"] == sizes.accounts == 100
    assert n["Contact"] == sizes.contacts == 300
    assert n["Equipment"] == sizes.equipment
    assert n["Ticket"] == sizes.tickets == 1000
    assert n["User"] == sizes.users == 20
    assert n["Order"] == sizes.order_lines // 4
    assert 0.9 * sizes.order_lines < n["OrderLine"] < 1.1 * sizes.order_lines
    assert 2 * n["Ticket"] < n["TicketEvent"] < 8 * n["Ticket"]
    assert 0.1 * n["Ticket"] < n["FieldVisit"] < 0.3 * n["Ticket"]
    assert 0 < n["TicketRating"] < n["Ticket"]
    assert n["ContactAccount"] > 0 and n["AccountTeamMember"] > 0
    assert ServiceTeamMember.objects.exists()
    assert "rows/s" in loaded and "bench-kam" in loaded

    # order totals are the sums of their lines, as the services store them
    # (compared in Python: SQLite sums decimals as floating point)
    sums = Order.objects.annotate(
        s_list=Sum("lines__list_amount"), s_net=Sum("lines__net_amount"),
        s_disc=Sum("lines__discount_amount"), s_cost=Sum("lines__cost_amount"),
        n=Count("lines"),
    )  # fmt: skip
    for o in sums:
        stored = (o.total_list, o.total_net, o.total_discount, o.total_cost, o.line_count)
        assert stored == (o.s_list, o.s_net, o.s_disc, o.s_cost, o.n), o.number
    for order in Order.objects.filter(total_rebate__gt=0)[:20]:
        rebates = order.lines.filter(line_type="rebate").aggregate(s=Sum("net_amount"))["s"]
        assert order.total_rebate == -rebates

    # the hierarchy: a fifth groups, paths and depths consistent with the parents
    accounts = {a.pk: a for a in Account.objects.all()}
    assert sum(1 for a in accounts.values() if a.parent_id is None) == 20
    for a in accounts.values():
        parent = accounts.get(a.parent_id)
        assert a.path == f"{parent.path if parent else '/'}{a.pk}/"
        assert a.depth == (parent.depth + 1 if parent else 0)
        assert a.search_text == search_text(a.name, a.short_name, a.name_en)
        validate_credit_code(a.credit_code)
    for c in Contact.objects.all():
        assert c.search_text == search_text(c.name)
    assert Account.objects.filter(search_text__contains="youxiangongsi").count() == 100
    # contacts with decision styles and roles for the 360 page
    assert Contact.objects.values("decision_style").distinct().count() >= 4
    assert Contact.objects.filter(buying_role="decision_maker").count() == 100

    # ticket numbers unique, in the project's format, the per-year counter at their end
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("SR-") and len(n) == 14 for n in numbers)
    for seq in TicketSequence.objects.all():
        assert Ticket.objects.filter(number=f"SR-{seq.year}-{seq.last:06d}").exists()
    assert Ticket.objects.filter(status="closed").count() > Ticket.objects.count() / 2
    assert Ticket.objects.exclude(status__in=["closed", "resolved"]).exists()

    # the four logins
    request = RequestFactory().post("/accounts/login/")
    for username, role, _what in BENCH_LOGINS:
        user = authenticate(request, username=username, password=BENCH_PASSWORD)
        assert user is not None and user.has_role(role)
    kam = User.objects.get(username="bench-kam")
    assert AccountTeamMember.objects.filter(user=kam, role="key_account_manager").count() >= 5
    engineer = User.objects.get(username="bench-engineer")
    assert Ticket.objects.filter(assignee=engineer).count() > 20

    # the insights were computed through the services
    from keycare.insights.models import AccountMetric, AccountScore, KeyAccount

    assert AccountMetric.objects.exists() and AccountScore.objects.exists()
    assert KeyAccount.objects.exists()

    # the services carry on: a new ticket gets a fresh number and id
    from keycare.service.services import ticket_create

    before = set(numbers)
    top = max(Ticket.objects.values_list("pk", flat=True))
    ticket = ticket_create(actor=None, account=accounts[1], subject="新工单")
    assert ticket.number not in before and ticket.pk > top
    assert ticket.number.startswith("SR-")

    # a second run is refused and changes nothing
    snapshot = counts()
    with pytest.raises(CommandError, match="empty"):
        call_command("bench-data", scale="tiny", stdout=io.StringIO())
    assert counts() == snapshot
