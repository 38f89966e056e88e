"""A customer contact reaches nothing of another account, through every URL of the web UI
and the API: each URL is generated from the URL configuration, so a new one must be declared
here (which object of the other account it takes) or the test fails. Denied requests change
nothing, and no page or export shows the other account's data."""

import datetime as dt
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from keycare.accounts.tests.factories import (
    AccountFactory,
    ContactFactory,
    EquipmentFactory,
    OrderFactory,
    ProductFactory,
)
from keycare.dataio.kinds import KINDS
from keycare.insights.models import AccountTypeAssessment
from keycare.profitability.concessions import concession_submit
from keycare.profitability.models import Concession
from keycare.service import visits
from keycare.service.attachments import attachment_add
from keycare.service.models import (
    FieldVisit,
    MaintenancePlan,
    NpsSurvey,
    ServiceContract,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketEvent,
)
from keycare.service.teams import service_team_create
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

MARKERS = ("邻居机械", "王秘密", "邻居的故障", "neighbour-secret", "NB-CONTRACT")

#: URL name (web) or router basename (API) → the object of the other account its `pk` takes;
#: None: not account data (the catalogue, policies, teams, import jobs) or no object id.
RESOURCES = {
    "account": "account", "contact": "contact", "product": "product", "equipment": "equipment",
    "order": "order", "ticket": "ticket", "attachment": "attachment", "sla-policy": None,
    "calendar": None, "visit": "visit", "contract": "contract", "maintenance-plan": "plan",
    "service-team": "team", "survey": "survey", "team": "team", "import": None,
    "insights-account-score": "account", "insights-judgements": "account",
    "insights-key-account": "account", "insights-scorecard": None,
    "account-tier-override": "account",
    "insights-type": "account", "insights-assessment": "assessment",
    "concession": "concession", "concession_policy": None, "cost_rate": None,
    "cost-rate": None, "concession-policy": None, "profitability_account": "account",
    "reminder": "reminder",
    "activity": "activity", "activity_attachment": "activity_attachment", "pain": "pain",
    "pain_account": "account", "reference": "account", "reference-customer": "reference",
    "coverage": "account", "event": "event", "gift": "gift", "vip-member": "vip_member",
    "vip_member": "vip_member", "vip-level": None, "vip_level": None, "vip_club": None,
    "playbook": None, "my_week": None, "sponsor": None,
}  # fmt: skip
SKIP = {"web:logout", "set_language", "api:mail_in", "api:token_obtain"}  # no data, or POST-only


def _patterns(resolvers, prefix="", namespace=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith("admin/"):
                continue  # the Django admin: staff only, covered by Django
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern),
                                 entry.namespace or namespace)  # fmt: skip
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else (entry.name or "")
            yield prefix + str(entry.pattern), name


def _resource(name: str) -> str:
    short = name.split(":", 1)[-1]
    for key in sorted(RESOURCES, key=len, reverse=True):
        if short.startswith(key.replace("-", "_")) or short.startswith(key):
            return key
    raise AssertionError(f"declare which object {name} takes in RESOURCES")


def _path(pattern: str, ids: dict, name: str) -> str | None:
    """A concrete path for the pattern, with the other account's object where it takes one."""
    if "format" in pattern:
        return None  # the same views with a format suffix
    path = re.sub(r"\(\?P<pk>\[\^/\.\]\+\)", "<int:pk>", pattern)
    path = path.replace("^", "").replace("$", "")
    if "<str:token>" in path:
        return path.replace("<str:token>", "not-a-valid-token")
    if "<str:kind>.<str:fmt>" in path:
        return path  # exports: expanded below
    if re.search(r"<int:(account_)?pk>", path):
        key = RESOURCES[_resource(name)]
        pk = ids[key] if key else ids["fallback"]
        path = re.sub(r"<int:(account_)?pk>", str(pk), path)
    return path


@pytest.fixture
def neighbour(admin_user, engineer, portal_user):
    mine = AccountFactory(name="本公司客户有限公司")
    ContactFactory(account=mine, user=portal_user, portal_sees_branches=True)
    TicketFactory(account=mine, subject="我的工单")
    other = AccountFactory(name="邻居机械有限公司")
    contact = ContactFactory(account=other, name="王秘密", email="wang@neighbour.example")
    product = ProductFactory(name="数控车床 CK6150")  # the catalogue is not account data
    unit = EquipmentFactory(account=other, product=product)
    order = OrderFactory(account=other, lines=[{"product": product, "quantity": 1}])
    ticket = TicketFactory(account=other, contact=contact, equipment=unit, subject="邻居的故障")
    pdf = SimpleUploadedFile("neighbour-secret.pdf", b"%PDF-1.7\n%%EOF\n")
    attachment = attachment_add(actor=admin_user, ticket=ticket, upload=pdf)
    visit = visits.visit_plan(actor=admin_user, ticket=ticket, engineers=[engineer],
                              planned_start=timezone.now() + dt.timedelta(days=1))  # fmt: skip
    today = timezone.localdate()
    contract = ServiceContract.objects.create(
        number="NB-CONTRACT", account=other, starts_on=today, ends_on=today + dt.timedelta(days=365)
    )
    plan = MaintenancePlan.objects.create(equipment=unit, next_due=today + dt.timedelta(days=90))
    survey = NpsSurvey.objects.create(
        account=other, contact=contact, email=contact.email, token_hash=uuid.uuid4().hex,
        sent_at=timezone.now(), expires_at=timezone.now() + dt.timedelta(days=30),
    )  # fmt: skip
    team = service_team_create(actor=None, name="邻居服务队", provinces=["neighbour-secret省"])
    assessment = AccountTypeAssessment.objects.create(
        account=other, suggested_type="intrinsic", confirmed_type="intrinsic",
        reason="neighbour-secret: 只看价格",
    )  # fmt: skip
    concession = concession_submit(actor=admin_user, account=other, kind="goodwill_parts",
                                   data={"amount": "100"}, reason="neighbour-secret 补偿")  # fmt: skip
    from keycare.engagement.models import Reminder

    reminder = Reminder.objects.create(  # a staff member's reminder about the other account
        user=admin_user, kind="gift_approval", key="gift:neighbour", account=other,
        contact=contact, params={"title": "neighbour-secret 礼品"},
    )  # fmt: skip
    from keycare.engagement.services.activities import activity_attachment_add, activity_create
    from keycare.engagement.services.pains import pain_create
    from keycare.engagement.services.programme import reference_customer_set

    activity = activity_create(actor=admin_user, account=other, kind="meeting",
                               contacts=[contact], subject="neighbour-secret 拜访",
                               planned_at=timezone.now())  # fmt: skip
    minutes = SimpleUploadedFile("neighbour-secret-minutes.pdf", b"%PDF-1.7\n%%EOF\n")
    activity_file = activity_attachment_add(actor=admin_user, activity=activity, upload=minutes)
    pain = pain_create(actor=admin_user, account=other, title="neighbour-secret 停机",
                       raised_by=contact)  # fmt: skip
    reference = reference_customer_set(actor=admin_user, account=other, data={
        "consent": True, "showcase": "neighbour-secret 产线"})  # fmt: skip
    from keycare.engagement.services.events import Invitee, event_create, event_invite
    from keycare.engagement.services.gifts import gift_record
    from keycare.engagement.services.vip import vip_member_add

    event = event_create(actor=admin_user, data={
        "name": "neighbour-secret 晚宴", "kind": "social", "starts_at": timezone.now(),
        "ends_at": timezone.now() + dt.timedelta(hours=3)})  # fmt: skip
    event_invite(actor=admin_user, event=event, invitees=[Invitee(contact=contact)])
    gift = gift_record(actor=admin_user, contact=contact, value="100", occasion="neighbour-secret",
                       description="neighbour-secret 茶叶", given_on=today)  # fmt: skip
    other.tier = "gold"
    other.save(update_fields=["tier"])
    member = vip_member_add(actor=admin_user, contact=contact)
    return {
        "event": event.pk, "gift": gift.pk, "vip_member": member.pk,
        "activity": activity.pk, "activity_attachment": activity_file.pk, "pain": pain.pk,
        "reference": reference.pk,
        "reminder": reminder.pk,
        "concession": concession.pk,
        "account": other.pk, "contact": contact.pk, "product": product.pk, "equipment": unit.pk,
        "order": order.pk, "ticket": ticket.pk, "attachment": attachment.pk, "visit": visit.pk,
        "contract": contract.pk, "plan": plan.pk, "survey": survey.pk, "team": team.pk,
        "assessment": assessment.pk, "fallback": other.pk,
    }  # fmt: skip


def _snapshot(ids):
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

    ticket = Ticket.objects.get(pk=ids["ticket"])
    return (
        Ticket.objects.count(), TicketComment.objects.count(), TicketEvent.objects.count(),
        TicketAttachment.objects.count(), NpsSurvey.objects.count(), FieldVisit.objects.count(),
        ticket.version, ticket.status, ticket.assignee_id,
        list(AccountTypeAssessment.objects.values_list("pk", "confirmed_type", "reason")),
        list(Concession.objects.values_list("pk", "status", "version")),
        list(Reminder.objects.values_list("pk", "read_at")),
        list(Activity.objects.values_list("pk", "version", "status")),
        list(Pain.objects.values_list("pk", "version", "status")),
        list(ReferenceCustomer.objects.values_list("pk", "lock_version")),
        list(BusinessEvent.objects.values_list("pk", "version", "status")),
        list(EventInvitation.objects.values_list("pk", "version", "status")),
        list(Gift.objects.values_list("pk", "version", "status")),
        list(VipMember.objects.values_list("pk", "version", "is_active")),
    )  # fmt: skip


def test_a_customer_reaches_nothing_of_another_account(client, portal_user, neighbour):
    client.force_login(portal_user)
    api = APIClient()
    api.force_authenticate(portal_user)
    before = _snapshot(neighbour)
    checked = []
    for pattern, name in _patterns(get_resolver().url_patterns):
        if name in SKIP:
            continue
        path = _path(pattern, neighbour, name)
        if path is None:
            continue
        paths = (
            [path.replace("<str:kind>.<str:fmt>", f"{kind}.csv") for kind in KINDS]
            if "<str:kind>" in path
            else [path]
        )
        is_api = name.startswith("api:")
        takes_object = bool(re.search(r"<int:(account_)?pk>|\(\?P<pk>", pattern))
        owned = takes_object and RESOURCES[_resource(name)] not in (None, "product", "team")
        for url in ("/" + p for p in paths):
            caller = api if is_api else client
            response = caller.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            leaked = [m for m in MARKERS if m in text]
            assert not leaked, f"GET {url} ({response.status_code}) shows {leaked}"
            if owned:
                # 405: a POST-only action answers a GET before looking anything up
                assert response.status_code in (403, 404, 405), f"GET {url}: {response.status_code}"
                for method in ("post", "patch", "delete") if is_api else ("post",):
                    sent = (
                        getattr(caller, method)(url, {}, format="json")
                        if is_api
                        else caller.post(url, {})
                    )
                    assert sent.status_code in (403, 404, 405), (
                        f"{method} {url}: {sent.status_code}"
                    )
            checked.append(url)
    assert _snapshot(neighbour) == before
    # the generator really walked the service URLs, with the other account's objects
    assert f"/service/{neighbour['ticket']}/" in checked
    assert f"/service/attachments/{neighbour['attachment']}/" in checked
    assert f"/api/v1/tickets/{neighbour['ticket']}/comments/" in checked
    assert f"/api/v1/surveys/{neighbour['survey']}/" in checked
    assert f"/insights/types/{neighbour['account']}/" in checked
    assert f"/concessions/{neighbour['concession']}/" in checked
    assert f"/api/v1/insights/types/assessments/{neighbour['assessment']}/confirm/" in checked
    assert len(checked) > 60


def test_a_customer_does_not_see_what_the_company_thinks_of_them(client, portal_user, kam):
    """Their own account and people, without the tier, the buying roles, styles, scores, the
    relationship map or the internal notes — on the pages and in the API."""
    from rest_framework.test import APIClient

    from keycare.accounts.tests.factories import AccountFactory, ContactFactory

    own = AccountFactory(name="自家公司", owner=kam, tier="iron", notes="价格敏感，少给折扣")
    me = ContactFactory(account=own, user=portal_user, name="客户本人", decision_style="checker")
    ContactFactory(account=own, name="采购经理", buying_role="decision_maker", influence=5)
    client.force_login(portal_user)
    page = client.get(f"/accounts/{own.pk}/").content.decode()
    assert "自家公司" in page and "采购经理" in page
    for internal in (
        "Decision style",
        "Buying role",
        "Relationship map",
        "kc-tier-iron",
        "价格敏感",
    ):
        assert internal not in page, internal
    contact = client.get(f"/contacts/{me.pk}/").content.decode()
    assert (
        "客户本人" in contact
        and "Decision style" not in contact
        and "style-guidance" not in contact
    )
    api = APIClient()
    api.force_authenticate(portal_user)
    account = api.get(f"/api/v1/accounts/{own.pk}/").json()
    assert account["name"] == "自家公司" and not {"tier", "notes", "owner", "account_type"} & set(
        account
    )
    people = api.get("/api/v1/contacts/").json()["results"]
    assert people and all("decision_style" not in p and "buying_role" not in p for p in people)
