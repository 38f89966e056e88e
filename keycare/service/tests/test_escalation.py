"""The escalation ladder: the right people, once, by email and webhooks (a real HTTP server
on 127.0.0.1 stands in for WeCom / DingTalk / a generic endpoint)."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import AccountFactory, AccountTeamMemberFactory
from keycare.service import services
from keycare.service.escalation import alert_send
from keycare.service.models import SlaAlert, Ticket, Webhook
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def receiver():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def people(make_user):
    return {
        "manager": make_user("service_manager", username="mgr", email="mgr@example.com"),
        "engineer": make_user("service_engineer", username="eng", email="eng@example.com"),
        "sponsor": make_user("executive", username="vp", email="vp@example.com"),
        "boss": make_user("executive", username="ceo", email="ceo@example.com"),
    }


def late_ticket(people, tier):
    account = AccountFactory(tier=tier)
    AccountTeamMemberFactory(
        account=account, user=people["sponsor"], role=AccountTeamRole.EXECUTIVE_SPONSOR
    )
    ticket = TicketFactory(account=account, priority="P1", opened_at=dt.datetime(2026, 3, 2, 9, tzinfo=TZ),
                           assignee=people["engineer"])  # fmt: skip
    Ticket.objects.filter(pk=ticket.pk).update(response_sla="on_track", resolution_sla="on_track")
    return ticket


def test_breach_of_a_key_account_alerts_managers_and_the_sponsor_once(people, receiver, settings,
                                                                      django_capture_on_commit_callbacks):  # fmt: skip
    url, received = receiver
    Webhook.objects.create(name="企业微信群", url=url, format="wecom")
    Webhook.objects.create(name="generic", url=url, format="generic")
    settings.KEYCARE_ESCALATION_MINUTES = 10**7  # no executive level yet
    ticket = late_ticket(people, "gold")
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_sla_sweep()
    alerts = SlaAlert.objects.filter(ticket=ticket).order_by("target")
    assert [(a.target, a.level) for a in alerts] == [("resolution", 2), ("response", 2)]
    assert alerts[0].recipients == ["eng@example.com", "mgr@example.com", "vp@example.com"]
    assert all(a.sent_at is not None for a in alerts)
    assert len(mail.outbox) == 2
    wecom = [p for p in received if p.get("msgtype") == "text"]
    generic = [p for p in received if p.get("event") == "sla_alert"]
    assert len(wecom) == 2 and ticket.number in wecom[0]["text"]["content"]
    assert len(generic) == 2 and generic[0]["ticket"]["number"] == ticket.number
    assert generic[0]["ticket"]["resolution_due_at"].endswith("+08:00")
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_sla_sweep()  # again: nothing new
    assert len(mail.outbox) == 2 and len(received) == 4


def test_escalation_reaches_the_executives_after_the_delay(
    people, settings, django_capture_on_commit_callbacks
):
    settings.KEYCARE_ESCALATION_MINUTES = 60
    ticket = late_ticket(people, "")  # not a key account: no sponsor at level 2
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_sla_sweep()
    levels = {(a.target, a.level): a.recipients for a in SlaAlert.objects.filter(ticket=ticket)}
    assert levels[("resolution", 2)] == ["eng@example.com", "mgr@example.com"]
    assert levels[("resolution", 3)] == [
        "ceo@example.com",
        "eng@example.com",
        "mgr@example.com",
        "vp@example.com",
    ]


def test_a_failed_delivery_is_recorded_and_retried_not_lost(people, settings):
    Webhook.objects.create(name="down", url="http://127.0.0.1:9/nothing", format="dingtalk")
    ticket = late_ticket(people, "gold")
    alert = SlaAlert.objects.create(
        ticket=ticket, target="resolution", level=2, recipients=["mgr@example.com"]
    )
    with pytest.raises(OSError):
        alert_send(alert_id=alert.pk)
    alert.refresh_from_db()
    assert alert.sent_at is None and alert.attempts == 1 and alert.last_error
    Webhook.objects.update(is_active=False)
    assert alert_send(alert_id=alert.pk) is True
    assert alert_send(alert_id=alert.pk) is False  # already sent
