import pytest
from django.urls import reverse

from keycare.accounts.tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.mark.parametrize("url_name", ["web:dashboard", "web:account_list", "web:password_change"])
def test_pages_require_login(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_login_page_and_login(client, kam):
    page = client.get(reverse("web:login"))
    assert page.status_code == 200
    response = client.post(reverse("web:login"), {"username": "kam1", "password": "pw-secret-123"})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:dashboard")


def test_wrong_password_shows_an_error(client, kam):
    response = client.post(reverse("web:login"), {"username": "kam1", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_lockout_after_repeated_failures(client, kam, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("web:login"), {"username": "kam1", "password": "nope"})
    locked = client.post(reverse("web:login"), {"username": "kam1", "password": "pw-secret-123"})
    assert locked.status_code == 429
    assert "Too many failed login attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(logged_in, kam):
    client = logged_in(kam)
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert client.get(reverse("web:dashboard")).status_code == 302


def test_password_change(logged_in, kam):
    client = logged_in(kam)
    response = client.post(
        reverse("web:password_change"),
        {
            "old_password": "pw-secret-123",
            "new_password1": "Ab-new-secret-987",
            "new_password2": "Ab-new-secret-987",
        },
    )
    assert response.status_code == 302
    kam.refresh_from_db()
    assert kam.check_password("Ab-new-secret-987")


def test_password_change_errors_keep_the_old_password(logged_in, kam):
    client = logged_in(kam)
    response = client.post(
        reverse("web:password_change"),
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    kam.refresh_from_db()
    assert kam.check_password("pw-secret-123")


def test_dashboard_counts_only_visible_accounts(logged_in, kam, other_kam):
    AccountFactory.create_batch(2, owner=kam, province="浙江省")
    AccountFactory.create_batch(3, owner=other_kam)
    response = logged_in(kam).get(reverse("web:dashboard"))
    assert response.status_code == 200
    assert response.context["total_accounts"] == 2
    assert response.context["province_chart"]["labels"] == ["浙江省"]


def test_navigation_per_role(logged_in, admin_user, portal_user, engineer):
    admin_nav = [i.key for i in logged_in(admin_user).get("/").context["nav_items"]]
    assert admin_nav == ["dashboard", "accounts", "service", "insights", "profitability",
                         "engagement", "admin"]  # fmt: skip
    engineer_nav = [i.key for i in logged_in(engineer).get("/").context["nav_items"]]
    assert engineer_nav == ["dashboard", "accounts", "service", "engagement"]  # no margins
    portal_nav = [i.key for i in logged_in(portal_user).get("/").context["nav_items"]]
    assert portal_nav == ["dashboard", "accounts", "service"]


def test_account_list_full_page_and_htmx_fragment(logged_in, kam):
    AccountFactory(owner=kam, name="华鑫汽车有限公司")
    AccountFactory(owner=kam, name="远东钢铁有限公司")
    client = logged_in(kam)
    full = client.get(reverse("web:account_list"), {"q": "华鑫"})
    assert full.status_code == 200
    assert "<html" in full.content.decode()
    assert [a.name for a in full.context["page"]] == ["华鑫汽车有限公司"]
    fragment = client.get(reverse("web:account_list"), {"q": "远东"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body
    assert 'id="account-table"' in body
    assert "远东钢铁有限公司" in body and "华鑫汽车有限公司" not in body
    assert "HX-Request" in fragment["Vary"]


def test_account_list_invalid_filter_is_shown_not_ignored(logged_in, kam):
    AccountFactory(owner=kam)
    response = logged_in(kam).get(reverse("web:account_list"), {"status": "bogus"})
    assert response.status_code == 200
    assert response.context["filter_errors"]
    assert list(response.context["page"]) == []


def test_account_list_empty_state(logged_in, engineer):
    response = logged_in(engineer).get(reverse("web:account_list"))
    assert 'data-testid="empty-state"' in response.content.decode()


def test_account_list_pagination(logged_in, kam):
    AccountFactory.create_batch(30, owner=kam)
    client = logged_in(kam)
    first = client.get(reverse("web:account_list"))
    assert len(first.context["page"].object_list) == 25
    second = client.get(reverse("web:account_list"), {"page": 2})
    assert len(second.context["page"].object_list) == 5
    # the page links (and their HTMX twins) change the page, keeping the filters
    filtered = client.get(reverse("web:account_list"), {"status": "active"}).content.decode()
    assert ('<a class="page-link" href="?status=active&amp;page=2" hx-get="?status=active&amp;page=2"'
            in filtered)  # fmt: skip
    followed = client.get(reverse("web:account_list") + "?status=active&page=2")
    assert followed.context["page"].number == 2


def test_account_list_query_count_is_fixed(logged_in, kam, django_assert_num_queries):
    parent = AccountFactory(owner=kam)
    AccountFactory.create_batch(3, owner=kam, parent=parent)
    client = logged_in(kam)
    # session, user, roles, count, 2 × Django's own permission rows (menu), page
    with django_assert_num_queries(7):
        client.get(reverse("web:account_list"))
    AccountFactory.create_batch(20, owner=kam, parent=parent)
    with django_assert_num_queries(7):
        client.get(reverse("web:account_list"))


@pytest.mark.parametrize("q", ["华鑫", "huaxin"])
def test_account_search_query_count_is_fixed(logged_in, admin_user, q, django_assert_num_queries):
    """The benchmark's searches, by a Chinese word and by its pinyin, as an administrator:
    session, user, roles, count, page (an administrator's menu needs no permission rows)."""
    for i in range(3):
        AccountFactory(name=f"华鑫汽车{i}号厂")
    client = logged_in(admin_user)
    with django_assert_num_queries(5):
        few = client.get(reverse("web:account_list"), {"q": q})
    for i in range(27):
        AccountFactory(name=f"华鑫精密{i}号厂" if i % 3 else f"远东钢铁{i}")
    with django_assert_num_queries(5):
        many = client.get(reverse("web:account_list"), {"q": q})
    assert (few.context["page"].paginator.count, many.context["page"].paginator.count) == (3, 21)


def test_account_detail_query_count_is_fixed(logged_in, kam, django_assert_num_queries):
    from keycare.accounts.tests.factories import (
        AccountTeamMemberFactory,
        EquipmentFactory,
        OrderFactory,
        ProductFactory,
    )
    from keycare.service.tests.factories import TicketFactory

    account = AccountFactory(owner=kam)
    product = ProductFactory()
    branch = AccountFactory(parent=account, owner=kam)

    from keycare.engagement.models import Pain
    from keycare.engagement.tests.programme_helpers import done

    def add_data(n):
        boss = ContactFactory(account=account)
        for _ in range(n):
            ContactFactory(account=account, reports_to=boss)
            # engagement: a decision maker a colleague introduced, met, with a pain raised
            dm = ContactFactory(account=account, buying_role="decision_maker",
                                introduced_by_user=kam)  # fmt: skip
            done(account, owner=kam, contacts=[dm], next_step="报价", next_step_due=None)
            Pain.objects.create(account=account, title="停机", raised_by=dm)
            AccountTeamMemberFactory(account=account)
            AccountFactory(parent=branch, owner=kam)
            EquipmentFactory(account=account, product=product)
            OrderFactory(account=branch, lines=[{"product": product, "quantity": 1}])
            TicketFactory(account=account, equipment=account.equipment.first())
            TicketFactory(account=branch)

    add_data(2)
    client = logged_in(kam)
    url = reverse("web:account_detail", args=[account.pk])
    # session, user, roles, account, team, tags, contact links, contacts, subtree,
    # revenue by month, recent orders, equipment page with its count (a window), equipment
    # service history, open tickets, service figures with CSAT (one pass), NPS,
    # may-send-NPS, can-change; the value section: scorecard in use, its score, key account
    # (CLV from the cache); the tier section: the tier set by hand, the last tier changes;
    # the type section: the latest and the confirming assessment in one query (its strategy
    # too once typed); the P&L section: the account's own P&L and its group's (orders,
    # rates, tickets, visits, concessions each; has-branches from the subtree above), the
    # policies and the count of flagged order lines, the recent concessions, may-request;
    # the engagement costs in each P&L (activities, gifts, events: 3); the engagement
    # section (may see the account, the settings row, memberships, contacts with their last
    # touch, the colleagues who introduced someone, who met them last: their touches,
    # activities and participants; the open next steps, the open pains: 11); the style
    # matrix's guidance texts (1). Was 51.
    with django_assert_num_queries(48):
        assert client.get(url).status_code == 200
    add_data(8)
    with django_assert_num_queries(48):
        response = client.get(url)
    assert len(response.context["contacts"]) == 22  # two bosses, ten reports, ten decision makers
    assert len(response.context["engagement"]["coverage"].decision_makers) == 10
    assert response.context["style_matrix"].total == 22
    assert len(response.context["engagement"]["pains"]) == 10
    assert len(response.context["subtree"]) == 11
    assert response.context["revenue"].order_count == 10
    assert len(response.context["open_tickets"]) == 5  # the latest five of ten


def test_account_detail_is_404_outside_scope(logged_in, kam, other_kam, portal_user):
    account = AccountFactory(owner=other_kam)
    assert logged_in(kam).get(reverse("web:account_detail", args=[account.pk])).status_code == 404
    ContactFactory(account=account, user=portal_user)
    assert (
        logged_in(portal_user).get(reverse("web:account_detail", args=[account.pk])).status_code
        == 200
    )


def test_language_switch_sets_the_language(logged_in, kam):
    client = logged_in(kam)
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    page = client.get(reverse("web:dashboard"))
    body = page.content.decode()
    assert '<html lang="zh-hans">' in body
    assert "仪表盘" in body
    assert "大客户" in body
    kam.refresh_from_db()
    assert kam.language == "zh-hans"  # what their reminder emails and calendar feed use
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    kam.refresh_from_db()
    assert kam.language == "zh-hans"  # an unknown language changes nothing


def test_admin_site_for_administrators_only(logged_in, admin_user, kam):
    assert logged_in(kam).get("/admin/").status_code == 302
    assert logged_in(admin_user).get("/admin/").status_code == 200
    assert logged_in(admin_user).get("/admin/accounts/account/").status_code == 200
