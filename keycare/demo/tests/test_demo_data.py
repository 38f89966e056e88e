import pytest
from django.core.management import CommandError, call_command

from keycare.accounts.models import Account, AccountTeamMember, Contact
from keycare.demo.generators import DEMO_USERS, demo_data_generate
from keycare.users.choices import Role
from keycare.users.models import User

pytestmark = pytest.mark.django_db


def snapshot():
    return sorted(
        Account.objects.values_list("name", "province", "city", "parent__name", "owner__username")
    )


def test_demo_data_is_realistic():
    summary = demo_data_generate(accounts=30, seed=7)
    assert summary.accounts == Account.objects.count() == 30
    assert summary.contacts == Contact.objects.count()
    assert summary.groups == Account.objects.filter(parent=None).count()
    groups_with_branches = Account.objects.filter(children__isnull=False).distinct()
    assert groups_with_branches.exists()
    for group in groups_with_branches:
        provinces = {group.province, *group.children.values_list("province", flat=True)}
        assert len(provinces) == 1 + group.children.count()  # branches in other provinces
    assert all("公司" in name for name in Account.objects.values_list("name", flat=True))
    # one login per role; the portal login belongs to a contact
    for username, role, _display in DEMO_USERS:
        assert User.objects.get(username=username).roles == {role}
    assert Contact.objects.get(user__username="customer").account
    assert AccountTeamMember.objects.filter(user__username="kam").exists()
    assert User.objects.get(username="admin").is_superuser
    from keycare.accounts.models import Equipment, Order, PersonalDetails, Product
    from keycare.core.validators import validate_credit_code

    assert summary.products == Product.objects.count() > 10
    assert summary.equipment == Equipment.objects.count() > 0
    assert summary.orders == Order.objects.count() > 30
    for code in Account.objects.values_list("credit_code", flat=True):
        validate_credit_code(code)  # every demo credit code is valid (check digit included)
    span = Order.objects.order_by("order_date").values_list("order_date", flat=True)
    assert (span.last() - span.first()).days > 600  # about two years of orders
    assert Order.objects.filter(total_net__gt=0).count() == Order.objects.count()
    assert PersonalDetails.objects.exists()
    assert Contact.objects.exclude(reports_to=None).exists()
    from keycare.service.models import NpsSurvey, ServiceTeam, Ticket

    assert ServiceTeam.objects.count() == 4
    assert Ticket.objects.exclude(team=None).exists()  # routed to the team of the province
    answered = NpsSurvey.objects.exclude(score=None)
    assert answered.exists() and NpsSurvey.objects.filter(score=None).exists()
    months = {s.strftime("%Y-%m") for s in answered.values_list("responded_at", flat=True)}
    assert len(months) >= 4  # an NPS trend over half a year
    from keycare.insights.models import AccountScore, KeyAccount, QualitativeScore, TierChange
    from keycare.insights.selectors import clv_analysis

    # the insights area has something to show from the first login
    assert QualitativeScore.objects.exists() and TierChange.objects.exists()
    assert AccountScore.objects.filter(scorecard__status="active").count() > 10
    assert KeyAccount.objects.count() == 8
    from keycare.insights.models import AccountTypeAssessment

    assessed = AccountTypeAssessment.objects.all()
    assert (
        assessed.exclude(confirmed_type="").exists() and assessed.filter(confirmed_type="").exists()
    )
    assert all(k.reason and k.confirmed_by.username == "exec" for k in KeyAccount.objects.all())
    clv = clv_analysis(actor=User.objects.get(username="admin"))
    assert len(clv["accounts"]) > 10  # enough repeat purchases for the CLV models


def test_demo_data_is_deterministic():
    from django.db import transaction

    from keycare.accounts.models import Order

    def full_snapshot():
        return (
            snapshot(),
            sorted(Contact.objects.values_list("name", "title", "account__name")),
            sorted(Order.objects.values_list("number", "order_date", "total_net", "account__name")),
        )

    runs = []
    for _ in range(2):
        with transaction.atomic():
            demo_data_generate(accounts=25, seed=11)
            runs.append(full_snapshot())
            transaction.set_rollback(True)
    assert runs[0] == runs[1]
    assert len(runs[0][2]) > 25


def test_command_if_empty_never_adds_to_existing_data(capsys):
    call_command("demo-data", "--accounts", "12", "--seed", "3")
    assert Account.objects.count() == 12
    call_command("demo-data", "--accounts", "12", "--if-empty")
    assert Account.objects.count() == 12
    out = capsys.readouterr().out
    assert "Demo data already present" in out
    assert "kam" in out and "keycare-demo" in out


def test_command_rejects_a_bad_size():
    with pytest.raises(CommandError, match="between 1 and 100000"):
        call_command("demo-data", "--accounts", "0")
    assert Account.objects.count() == 0


def test_roles_cover_all_six():
    assert {role for _u, role, _d in DEMO_USERS} == set(Role.values)


def test_a_manager_sees_every_insight_on_the_demo_data(client):
    """The issue's "done when", on the demo data: Pareto, pyramid, the scorecard ranking with
    explanations, types and strategies, concentration and neglect, CLV — for the executive,
    and the 360 page's value, tier and type sections."""
    from keycare.insights.models import KeyAccount

    demo_data_generate(accounts=40, seed=3)
    client.force_login(User.objects.get(username="exec"))
    pages = {}
    for path in ("", "pyramid/", "scorecard/", "key-accounts/", "single-metric/",
                 "big-orders/", "types/", "strategies/", "concentration/", "neglected/",
                 "volume-profit/", "clv/", "tiers/"):  # fmt: skip
        response = client.get(f"/insights/{path}")
        assert response.status_code == 200, path
        pages[path] = response
    assert pages[""].context["figures"]["revenue"]["rows"]
    ranking = pages["scorecard/"].context["figures"]["rows"]
    assert len(ranking) > 10 and all(r["breakdown"] for r in ranking)
    assert not pages["clv/"].context.get("unavailable")
    concentration = pages["concentration/"].context["figures"]
    assert concentration["hhi"] is not None and len(concentration["trend"]) >= 5
    for path in ("types/", "strategies/", "tiers/"):
        assert "data-testid" in pages[path].content.decode()
    key = KeyAccount.objects.first()
    html = client.get(f"/accounts/{key.account_id}/").content.decode()
    assert 'data-testid="key-account-badge"' in html and 'data-testid="value-score"' in html
