"""The engagement activity pages: every role on every page (denied writes change nothing),
a key account manager sees only his accounts' activities, the list's filters, overdue flag,
HTMX fragment and fixed query count, the detail with the people's style guidance and its
forms, the plan form's prefill from other pages, stale edits (409), files served only to
those who see them, the calendar and its .ics feed, the pains log with its links, the
reference customers, the style guidance and the settings pages, and the contact page's
engagement box."""

import datetime as dt
import re

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.engagement.models import (
    Activity,
    ActivityAttachment,
    CalendarFeed,
    EngagementLog,
    Pain,
    PlaybookItem,
    ReferenceCustomer,
    StyleGuidance,
)
from keycare.engagement.services.activities import activity_attachment_add, activity_create
from keycare.engagement.tests.factories import (
    ActivityFactory,
    PainFactory,
    ReferenceCustomerFactory,
)
from keycare.service.teams import service_team_create, service_team_member_set
from keycare.service.tests.factories import TicketFactory, upload

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def at(days: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def shop(kam, engineer):
    account = AccountFactory(name="华鑫汽车有限公司", short_name="华鑫", owner=kam)
    AccountTeamMemberFactory(account=account, user=engineer)
    return account


@pytest.fixture
def elsewhere(other_kam):
    return AccountFactory(name="远东钢铁有限公司", short_name="远东", owner=other_kam)


@pytest.fixture
def wang(shop):
    return ContactFactory(
        account=shop, name="王总", decision_style="leader", buying_role="decision_maker"
    )


@pytest.fixture
def meeting(kam, shop, wang):
    return ActivityFactory(account=shop, owner=kam, subject="季度回顾", contacts=[wang])


def state():
    return (sorted(Activity.objects.values_list("pk", "version", "status", "subject")),
            sorted(Pain.objects.values_list("pk", "version", "status")),
            ActivityAttachment.objects.count(), EngagementLog.objects.count())  # fmt: skip


# --- permissions -------------------------------------------------------------------------


def test_every_role_on_every_page(
    login, client, kam, other_kam, engineer, service_manager, executive, admin_user, portal_user,
    meeting, shop, wang,
):  # fmt: skip
    pain = PainFactory(account=shop, owner=kam)
    ReferenceCustomerFactory(account=AccountFactory(name="标杆客户"))
    pages = [
        reverse("web:activity_list"), reverse("web:activity_detail", args=[meeting.pk]),
        reverse("web:activity_create"), f"{reverse('web:activity_create')}?account={shop.pk}",
        reverse("web:calendar"), reverse("web:calendar_feed"), reverse("web:pain_list"),
        reverse("web:pain_detail", args=[pain.pk]), reverse("web:pain_account_list", args=[shop.pk]),
        reverse("web:reference_list"), reverse("web:style_guidance"),
        reverse("web:engagement_settings"),
        f"{reverse('web:activity_guidance')}?account={shop.pk}&contacts={wang.pk}",
    ]  # fmt: skip
    posts = [
        (reverse("web:activity_edit", args=[meeting.pk]), {"subject": "x", "version": 1}),
        (reverse("web:activity_complete", args=[meeting.pk]), {"done_at": local(at(0, 0)), "outcome": "x", "version": 1}),
        (reverse("web:activity_cancel", args=[meeting.pk]), {"reason": "x", "version": 1}),
        (f"{reverse('web:activity_create')}?account={shop.pk}", {"account": shop.pk, "kind": "call", "subject": "x",
                                                                 "planned_at": local(at(1)), "owner": kam.pk}),
        (reverse("web:pain_status", args=[pain.pk]), {"status": "solved", "version": 1}),
        (reverse("web:style_guidance"), {"style": "leader", "summary": "x", "summary_zh": "x", "lock_version": 1}),
        (reverse("web:engagement_settings"), {"dormant_days": 5, "key_person_days": 5,
                                              "reference_visits_per_year": 1, "lock_version": 1}),
    ]  # fmt: skip
    before = state()
    for user in (kam, engineer, service_manager, executive, admin_user):
        c = login(user)
        for url in pages:
            assert c.get(url).status_code == 200, (user, url)
    c = login(portal_user)
    for url in pages:
        assert c.get(url).status_code == 403, url
    for url, data in posts:
        assert c.post(url, data).status_code == 403, url
    c = login(other_kam)  # another account's key account manager: not even seen
    for url in (pages[1], pages[3], pages[7], pages[8]):
        assert c.get(url).status_code == 404, url
    for url, data in posts[:5]:
        assert c.post(url, data).status_code == 404, url
    for url, data in posts[5:]:  # administrators only
        assert c.post(url, data).status_code == 403, url
    c = login(executive)  # sees it, may not change it
    for url, data in posts[:3]:
        assert c.post(url, data).status_code == 403, url
    assert c.post(*posts[4]).status_code == 403
    client.logout()
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    for url, data in posts:
        assert client.post(url, data).status_code == 302
    assert state() == before


def test_the_navigation_leads_to_the_activities(login, engineer):
    page = login(engineer).get(reverse("web:activity_list"))
    nav = {item.key: item for item in page.context["nav_items"]}
    assert nav["engagement"].available and nav["engagement"].is_active("activity_list")
    assert page.context["nav_active"] == "engagement"


# --- the list ----------------------------------------------------------------------------


def test_a_key_account_manager_sees_only_his_accounts(login, kam, other_kam, meeting, elsewhere):
    theirs = ActivityFactory(account=elsewhere, owner=other_kam, subject="别人的")
    page = login(kam).get(reverse("web:activity_list"))
    assert [a.pk for a in page.context["page"].object_list] == [meeting.pk]
    assert "别人的" not in page.content.decode()
    assert login(kam).get(reverse("web:activity_detail", args=[theirs.pk])).status_code == 404


def test_filters_overdue_flag_fragment_and_errors(login, kam, shop, meeting):
    late = activity_create(actor=kam, account=shop, kind="call", subject="电话回访", done_at=at(-5),
                           next_step="寄报价", next_step_due=dt.date(2026, 1, 2))  # fmt: skip
    c = login(kam)
    page = c.get(reverse("web:activity_list"), {"overdue": "true"})
    assert [a.pk for a in page.context["page"].object_list] == [late.pk]
    html = page.content.decode()
    assert html.count('data-testid="overdue"') == 1 and "寄报价" in html
    fragment = c.get(reverse("web:activity_list"), {"kind": "meeting"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert body.startswith('<div class="card" id="activity-table">') and "季度回顾" in body
    assert "电话回访" not in body and "<html" not in body
    mine = c.get(reverse("web:activity_list"), {"owner": "me"})
    assert len(mine.context["page"].object_list) == 2
    bad = c.get(reverse("web:activity_list"), {"kind": "party"})
    assert bad.status_code == 400 and 'data-testid="filter-errors"' in bad.content.decode()


def test_list_and_detail_query_counts_are_fixed(login, kam, shop, wang, engineer,
                                                django_assert_num_queries):  # fmt: skip
    first = ActivityFactory(account=shop, owner=kam, contacts=[wang], participants=[engineer])
    c = login(kam)
    list_url, detail_url = (
        reverse("web:activity_list"),
        reverse("web:activity_detail", args=[first.pk]),
    )
    c.get(list_url)
    # session, user, roles, count, page, their people, ours
    with django_assert_num_queries(7) as small:
        c.get(list_url)
    # session, user, roles, the activity, theirs, ours, files, pains, may change, guidance, log
    with django_assert_num_queries(11) as detail:
        c.get(detail_url)
    for n in range(6):
        activity = ActivityFactory(account=shop, owner=kam, participants=[engineer],
                                   contacts=[wang, ContactFactory(account=shop, name=f"张{n}")])  # fmt: skip
        activity_attachment_add(actor=kam, activity=first, upload=upload(f"{n}.pdf", PDF),
                                version=first.version + n)  # fmt: skip
        activity.contacts.add(ContactFactory(account=shop))
    first.contacts.add(*ContactFactory.create_batch(3, account=shop))
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(c.get(list_url).context["page"].object_list) == 7
    with django_assert_num_queries(len(detail.captured_queries)):
        assert len(c.get(detail_url).context["attachments"]) == 6


def test_the_list_pages(login, kam, shop):
    for n in range(27):
        ActivityFactory(account=shop, owner=kam, subject=f"拜访{n:02d}", planned_at=at(1 + n))
    page = login(kam).get(reverse("web:activity_list"), {"page": 2})
    assert page.context["page"].number == 2 and len(page.context["page"].object_list) == 2


# --- one activity ------------------------------------------------------------------------


def test_the_detail_shows_how_to_deal_with_each_person(login, kam, meeting):
    html = login(kam).get(reverse("web:activity_detail", args=[meeting.pk])).content.decode()
    assert "王总" in html and "Be direct and lead with the benefits to them." in html
    assert "Come straight to the point; keep it short." in html
    assert html.count('data-testid="log-entry"') == 1
    assert 'data-testid="complete-form"' in html and 'data-testid="cancel-form"' in html


def test_complete_cancel_next_step_and_stale_forms(login, kam, shop):
    activity = ActivityFactory(
        account=shop, owner=kam, planned_at=timezone.now() - dt.timedelta(hours=1)
    )
    c = login(kam)
    url = reverse("web:activity_complete", args=[activity.pk])
    empty = c.post(url, {"done_at": local(at(0, 0)), "outcome": "", "version": 1})
    assert empty.status_code == 400 and "Say what came of it." in empty.content.decode()
    done = c.post(url, {"done_at": local(timezone.now()), "outcome": "同意试用", "next_step": "寄样品",
                        "next_step_due": "2030-01-01", "version": 1})  # fmt: skip
    assert done.status_code == 302
    activity.refresh_from_db()
    assert (activity.status, activity.outcome, activity.version) == ("done", "同意试用", 2)
    stale = c.post(reverse("web:activity_next_step_done", args=[activity.pk]), {"version": 1})
    assert stale.status_code == 409
    assert "Someone else changed this record" in stale.content.decode()
    assert c.post(reverse("web:activity_next_step_done", args=[activity.pk]),
                  {"version": 2}).status_code == 302  # fmt: skip
    planned = ActivityFactory(account=shop, owner=kam)
    no_reason = c.post(
        reverse("web:activity_cancel", args=[planned.pk]), {"reason": "", "version": 1}
    )
    assert (
        no_reason.status_code == 400
        and "Say why the activity is cancelled." in no_reason.content.decode()
    )
    assert c.post(reverse("web:activity_cancel", args=[planned.pk]),
                  {"reason": "客户出差", "version": 1}).status_code == 302  # fmt: skip
    html = c.get(reverse("web:activity_detail", args=[planned.pk])).content.decode()
    assert (
        'data-testid="cancel-reason">客户出差' in html and 'data-testid="cancel-form"' not in html
    )


def test_files_are_uploaded_and_served_only_to_those_who_see_them(login, kam, other_kam, engineer,
                                                                   meeting, private_root):  # fmt: skip
    c = login(kam)
    sent = c.post(reverse("web:activity_attachment_add", args=[meeting.pk]),
                  {"file": upload("纪要.pdf", PDF), "version": 1})  # fmt: skip
    assert sent.status_code == 302
    attachment = ActivityAttachment.objects.get()
    bad = c.post(reverse("web:activity_attachment_add", args=[meeting.pk]),
                 {"file": upload("x.exe", b"MZ..."), "version": 2})  # fmt: skip
    assert bad.status_code == 400 and ActivityAttachment.objects.count() == 1
    download = reverse("web:activity_attachment_download", args=[attachment.pk])
    response = login(engineer).get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert login(other_kam).get(download).status_code == 404


# --- plan and change ---------------------------------------------------------------------


def test_the_plan_form_takes_its_prefill_from_the_query_string(login, kam, shop, wang):
    coach = ContactFactory(
        account=shop, name="赵经理", decision_style="checker", buying_role="coach"
    )
    item = PlaybookItem.objects.first()
    url = (f"{reverse('web:activity_create')}?account={shop.pk}&kind=introduction&contacts={coach.pk}"
           f"&contacts={wang.pk}&target_contact={wang.pk}&playbook_item={item.pk}&subject=请赵经理引荐")  # fmt: skip
    page = login(kam).get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert (form["kind"].value(), form["subject"].value(), form["target_contact"].value()) == (
        "introduction", "请赵经理引荐", wang.pk)  # fmt: skip
    html = page.content.decode()
    assert len(re.findall(r'name="contacts" value="\d+"[^>]*checked', html)) == 2
    assert [p["contact"].name for p in page.context["people"]] == ["王总", "赵经理"]
    assert "Bring evidence and detail" in html and 'data-testid="from-playbook"' in html
    choose = login(kam).get(f"{reverse('web:activity_create')}?kind=call&subject=回访")
    assert 'name="kind" value="call"' in choose.content.decode()
    guidance = login(kam).get(reverse("web:activity_guidance"), {"account": shop.pk,
                                                                 "contacts": [coach.pk]})  # fmt: skip
    assert guidance.status_code == 200 and "Bring evidence and detail" in guidance.content.decode()


def test_plan_an_activity_and_the_over_use_warning(login, kam, shop, wang):
    reference = ReferenceCustomerFactory(
        account=AccountFactory(name="标杆客户"), max_visits_per_year=1
    )
    c = login(kam)
    url = f"{reverse('web:activity_create')}?account={shop.pk}"
    data = {"account": shop.pk, "kind": "site_visit", "subject": "参观标杆工厂", "owner": kam.pk,
            "contacts": [wang.pk], "destination": "reference", "reference_account": reference.account_id,
            "duration_minutes": 120}  # fmt: skip
    first = c.post(url, {**data, "planned_at": local(at(3))})
    assert first.status_code == 302
    activity = Activity.objects.get()
    assert (activity.kind, activity.reference_account_id, list(activity.contacts.all())) == (
        "site_visit", reference.account_id, [wang])  # fmt: skip
    second = c.post(url, {**data, "planned_at": local(at(4))}, follow=True)
    assert "has already hosted 1 visits" in second.content.decode()
    assert Activity.objects.count() == 2  # warned, not blocked
    wrong = c.post(url, {**data, "destination": "", "planned_at": ""})
    assert wrong.status_code == 400 and Activity.objects.count() == 2
    assert set(wrong.context["form"].errors) == {"planned_at", "destination"}


def test_a_stale_edit_is_a_409_and_keeps_the_input(login, kam, engineer, meeting):
    c = login(kam)
    url = reverse("web:activity_edit", args=[meeting.pk])
    form = c.get(url).context["form"]
    data = {
        name: form[name].value() or ""
        for name in form.fields
        if name not in ("contacts", "participants")
    }
    data.update(
        planned_at=local(meeting.planned_at),
        subject="续约谈判",
        contacts=[c.pk for c in meeting.contacts.all()],
    )
    assert c.post(url, data).status_code == 302
    stale = c.post(url, {**data, "subject": "另一个"})
    assert stale.status_code == 409
    assert "Someone else changed this record" in stale.content.decode()
    assert stale.context["form"]["subject"].value() == "另一个"
    meeting.refresh_from_db()
    assert (meeting.subject, meeting.version) == ("续约谈判", 2)
    assert login(engineer).get(url).status_code == 403


# --- the calendar ------------------------------------------------------------------------


def test_week_and_month_views(login, kam, other_kam, engineer, service_manager, shop):
    own = ActivityFactory(account=shop, owner=kam, subject="我的拜访", planned_at=at(0, 15))
    ActivityFactory(account=shop, owner=engineer, subject="工程师的拜访", planned_at=at(0, 9))
    c = login(kam)
    week = c.get(reverse("web:calendar"))
    assert week.status_code == 200 and "我的拜访" in week.content.decode()
    assert "工程师的拜访" not in week.content.decode()
    assert len(week.context["weeks"]) == 1 and len(week.context["weeks"][0]) == 7
    month = c.get(
        reverse("web:calendar"), {"view": "month", "date": timezone.localdate().isoformat()}
    )
    assert len(month.context["weeks"]) in (4, 5, 6) and "我的拜访" in month.content.decode()
    both = c.get(reverse("web:calendar"), {"who": "user", "user": [kam.pk, engineer.pk]})
    assert "工程师的拜访" in both.content.decode() and both.context["several"]
    denied = c.get(reverse("web:calendar"), {"who": "user", "user": [other_kam.pk]})
    assert denied.status_code == 400
    assert denied.context["errors"] == ["You may not look at this colleague's calendar."]
    team = service_team_create(actor=None, name="华东服务队", manager=service_manager)
    service_team_member_set(actor=None, team=team, user=engineer)
    shown = login(service_manager).get(reverse("web:calendar"), {"who": "team", "team": team.pk})
    assert shown.status_code == 200 and "工程师的拜访" in shown.content.decode()
    assert own.pk in {e.activity.pk for w in week.context["weeks"] for d in w for e in d["entries"]}
    bad = c.get(reverse("web:calendar"), {"date": "tomorrow"})
    assert bad.status_code == 400


def test_the_feed_page_and_the_ics_feed(login, client, kam, other_kam, shop, elsewhere):
    ActivityFactory(account=shop, owner=kam, subject="续约谈判", planned_at=at(2))
    ActivityFactory(account=elsewhere, owner=other_kam, subject="别人的", planned_at=at(2))
    c = login(kam)
    assert 'data-testid="feed-none"' in c.get(reverse("web:calendar_feed")).content.decode()
    created = c.post(reverse("web:calendar_feed"))
    assert created["Cache-Control"] == "private, no-store"
    url = created.context["url"]
    path = url.split("testserver", 1)[1]
    assert path.startswith("/engagement/calendar/feed/") and path.endswith(".ics")
    again = c.get(reverse("web:calendar_feed")).content.decode()
    assert 'data-testid="feed-exists"' in again and path not in again  # shown only once
    client.logout()
    feed = client.get(path)
    assert feed.status_code == 200 and feed["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(feed.content)
    assert [str(e["summary"]) for e in cal.walk("VEVENT")] == ["续约谈判 · 华鑫"]
    assert client.get("/engagement/calendar/feed/wrong-token.ics").status_code == 404
    c = login(kam)
    new_url = c.post(reverse("web:calendar_feed")).context["url"]
    client.logout()
    assert client.get(path).status_code == 404  # the reset invalidated it
    assert client.get(new_url.split("testserver", 1)[1]).status_code == 200
    assert CalendarFeed.objects.count() == 1


# --- needs and pains ---------------------------------------------------------------------


def test_the_pains_log(login, kam, other_kam, engineer, shop, elsewhere, wang, meeting):
    c = login(kam)
    new = c.post(f"{reverse('web:pain_create')}?account={shop.pk}", {
        "account": shop.pk, "title": "停机太多", "raised_by": wang.pk, "impact": 5, "status": "open",
        "owner": kam.pk, "raised_on": timezone.localdate().isoformat()})  # fmt: skip
    assert new.status_code == 302
    pain = Pain.objects.get()
    assert (pain.raised_by, pain.impact) == (wang, 5)
    links = reverse("web:pain_links", args=[pain.pk])
    theirs = TicketFactory(account=elsewhere)
    refused = c.post(links, {"what": "tickets", "pk": theirs.pk, "action": "add", "version": 1})
    assert (
        refused.status_code == 400 and "Choose tickets of this account." in refused.content.decode()
    )
    mine = TicketFactory(account=shop)
    assert (
        c.post(links, {"what": "tickets", "pk": mine.pk, "action": "add", "version": 1}).status_code
        == 302
    )
    assert c.post(links, {"what": "activities", "pk": meeting.pk, "action": "add",
                          "version": 2}).status_code == 302  # fmt: skip
    assert list(pain.tickets.all()) == [mine] and list(pain.activities.all()) == [meeting]
    stale = c.post(reverse("web:pain_status", args=[pain.pk]), {"status": "solved", "version": 1})
    assert stale.status_code == 409
    assert (
        c.post(
            reverse("web:pain_status", args=[pain.pk]), {"status": "solved", "version": 3}
        ).status_code
        == 302
    )
    pain.refresh_from_db()
    assert (pain.status, pain.resolved_on) == ("solved", timezone.localdate())
    log = c.get(reverse("web:pain_account_list", args=[shop.pk]))
    assert [p.pk for p in log.context["page"].object_list] == [pain.pk]
    assert "1 activities · 1 tickets · 0 concessions" in log.content.decode()
    detail = login(engineer).get(reverse("web:pain_detail", args=[pain.pk])).content.decode()
    assert mine.number in detail and 'data-testid="pain-edit"' not in detail
    assert login(engineer).post(links, {"what": "tickets", "pk": mine.pk, "action": "remove",
                                        "version": 4}).status_code == 403  # fmt: skip
    assert login(other_kam).get(reverse("web:pain_list")).context["page"].paginator.count == 0


# --- references, style guidance, settings ------------------------------------------------


def test_reference_customers(login, kam, shop, admin_user):
    ref = ReferenceCustomerFactory(account=AccountFactory(name="标杆客户"), max_visits_per_year=1)
    for days in (3, 4):
        activity_create(actor=kam, account=shop, kind="site_visit", subject="参观", planned_at=at(days),
                        destination="reference", reference_account=ref.account)  # fmt: skip
    page = login(kam).get(reverse("web:reference_list"))
    html = page.content.decode()
    assert 'data-testid="over-used"' in html and ">2 / 1" in html
    url = reverse("web:reference_edit", args=[ref.account_id])
    assert login(kam).get(url).status_code == 404  # an account he does not see
    c = login(admin_user)
    saved = c.post(
        url, {"consent": "on", "available": "", "max_visits_per_year": 3, "lock_version": 1}
    )
    assert saved.status_code == 302
    ref.refresh_from_db()
    assert (ref.available, ref.max_visits_per_year, ref.lock_version) == (False, 3, 2)
    stale = c.post(url, {"consent": "on", "available": "on", "lock_version": 1})
    assert stale.status_code == 409
    mark = c.get(reverse("web:reference_new"), {"account": shop.pk})
    assert mark.status_code == 302 and mark["Location"] == reverse(
        "web:reference_edit", args=[shop.pk]
    )
    assert (
        c.post(
            reverse("web:reference_edit", args=[shop.pk]), {"consent": "on", "available": "on"}
        ).status_code
        == 302
    )
    assert ReferenceCustomer.objects.count() == 2


def test_style_guidance_and_settings_pages(login, admin_user, kam):
    page = login(kam).get(reverse("web:style_guidance"))
    assert "Be direct and lead with the benefits to them." in page.content.decode()
    assert 'data-testid="style-form-leader"' not in page.content.decode()
    c = login(admin_user)
    data = {"style": "leader", "summary": "Lead with results.", "summary_zh": "结果先行。", "tips": "",
            "tips_zh": "", "lock_version": 1}  # fmt: skip
    assert c.post(reverse("web:style_guidance"), data).status_code == 302
    assert StyleGuidance.objects.get(style="leader").summary == "Lead with results."
    stale = c.post(reverse("web:style_guidance"), {**data, "summary": "Old"})
    assert stale.status_code == 409
    half = c.post(reverse("web:style_guidance"), {**data, "summary_zh": "", "lock_version": 2})
    assert (
        half.status_code == 400 and "Give the summary in both languages." in half.content.decode()
    )
    settings = c.post(reverse("web:engagement_settings"), {
        "dormant_days": 200, "key_person_days": 60, "reference_visits_per_year": 6,
        "gift_limit_per_contact": "", "lock_version": 1})  # fmt: skip
    assert settings.status_code == 302
    read = login(kam).get(reverse("web:engagement_settings")).content.decode()
    assert 'data-testid="settings-form"' not in read and ">200<" in read


# --- the contact page --------------------------------------------------------------------


def test_the_contact_page_shows_how_to_deal_with_them(login, kam, portal_user, meeting, wang, shop):
    from keycare.accounts.models import Contact

    html = login(kam).get(reverse("web:contact_detail", args=[wang.pk])).content.decode()
    assert 'data-testid="contact-engagement"' in html and "季度回顾" in html
    assert "Offer clear options and let them decide." in html
    assert f"?account={shop.pk}&contacts={wang.pk}" in html
    Contact.objects.filter(pk=wang.pk).update(user=portal_user)
    portal = login(portal_user).get(reverse("web:contact_detail", args=[wang.pk]))
    assert 'data-testid="contact-engagement"' not in portal.content.decode()


# --- the includes of the account 360 page ------------------------------------------------


def test_the_style_matrix_include_renders_the_key_persons(rf, kam, shop, wang):
    from django.template.loader import render_to_string

    from keycare.engagement.selectors.programme import style_matrix

    ContactFactory(account=shop, name="张工", decision_style="influencer")
    ContactFactory(account=shop, name="新人")
    request = rf.get("/")
    request.user = kam
    html = render_to_string("web/engagement/_style_matrix.html",
                            {"matrix": style_matrix(contacts=shop.contacts.all())}, request=request)  # fmt: skip
    cells = {style: html.split(f'data-testid="style-cell-{style}"')[1].split("</div>\n      </div>")[0]
             for style in ("leader", "influencer", "checker", "follower")}  # fmt: skip
    assert "王总 ★" in cells["leader"] and "张工" in cells["influencer"]
    assert (
        "王总" not in cells["checker"] and "3 of 3 placed" not in html and "2 of 3 placed" in html
    )
    assert "新人" in html.split('data-testid="style-unknown"')[1]


def test_pain_and_reference_list_query_counts_are_fixed(login, kam, shop, wang,
                                                        django_assert_num_queries):  # fmt: skip
    PainFactory(account=shop, raised_by=wang, tickets=[TicketFactory(account=shop)])
    ReferenceCustomerFactory(account=AccountFactory(name="标杆1"))
    c = login(kam)
    urls = (reverse("web:pain_list"), reverse("web:pain_account_list", args=[shop.pk]),
            reverse("web:reference_list"))  # fmt: skip
    counts = []
    for url in urls:
        c.get(url)
        with django_assert_num_queries(20, exact=False) as captured:
            c.get(url)
        counts.append(len(captured.captured_queries))
    for n in range(5):
        PainFactory(account=shop, raised_by=ContactFactory(account=shop),
                    tickets=[TicketFactory(account=shop)])  # fmt: skip
        ReferenceCustomerFactory(account=AccountFactory(name=f"标杆{n + 2}"))
    for url, count in zip(urls, counts, strict=True):
        with django_assert_num_queries(count):
            assert c.get(url).status_code == 200
    # session, user, roles, then: count, page | the account, may add, count, page, the links
    # ×3 | the settings row, the references, the accounts that may be marked
    assert counts == [5, 10, 6]


def test_changing_a_reference_needs_the_version_read(login, admin_user):
    ref = ReferenceCustomerFactory(account=AccountFactory(name="标杆客户"), max_visits_per_year=1)
    url = reverse("web:reference_edit", args=[ref.account_id])
    response = login(admin_user).post(url, {"consent": "on", "available": "",
                                            "max_visits_per_year": 3})  # fmt: skip
    assert response.status_code == 400
    assert "The form does not say which version you edited" in response.content.decode()
    ref.refresh_from_db()
    assert (ref.available, ref.max_visits_per_year, ref.lock_version) == (True, 1, 1)


def test_the_cost_is_shown_and_set_only_by_those_who_may_see_costs(login, kam, engineer, shop,
                                                                  wang):  # fmt: skip
    visit = ActivityFactory(account=shop, owner=engineer, subject="巡检", contacts=[wang])
    Activity.objects.filter(pk=visit.pk).update(cost="88.00")
    url = reverse("web:activity_detail", args=[visit.pk])
    html = login(kam).get(url).content.decode()
    assert 'data-testid="activity-cost">88.00' in html and 'name="cost"' in html
    page = login(engineer).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="activity-cost"' not in html and 'name="cost"' not in html
    edit = login(engineer).get(reverse("web:activity_edit", args=[visit.pk]))
    assert edit.status_code == 200 and 'name="cost"' not in edit.content.decode()
    # a cost posted anyway is not taken
    done = login(engineer).post(reverse("web:activity_complete", args=[visit.pk]), {
        "done_at": local(at(-1)), "outcome": "谈妥", "cost": "1", "version": 1,
    })  # fmt: skip
    assert done.status_code == 302
    visit.refresh_from_db()
    assert (visit.status, str(visit.cost)) == ("done", "88.00")
