"""The escalation ladder: at risk → the assignee and the service managers; breached → the
service managers and, for key accounts, the executive sponsor; still breached after
KEYCARE_ESCALATION_MINUTES → the executives too. Each notice is recorded once (unique per
ticket, target and level) and sent after commit by email and to the active webhooks, with
retries."""

import datetime as dt
import json
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from keycare.accounts.choices import AccountTeamRole, AccountTier
from keycare.core.background import enqueue_on_commit
from keycare.users.models import User

from .choices import SlaState
from .models import SlaAlert, Ticket, Webhook

KEY_TIERS = (AccountTier.PLATINUM, AccountTier.GOLD)


def _users_with_role(role: str) -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=role).exclude(email=""))


def alert_recipients(ticket: Ticket, level: int) -> list[str]:
    people: list[User] = []
    if level == SlaAlert.Level.AT_RISK:
        if ticket.assignee_id:
            people.append(ticket.assignee)
        people += _users_with_role("service_manager")
    else:
        people += _users_with_role("service_manager")
        if ticket.assignee_id:
            people.append(ticket.assignee)
        if ticket.account.tier in KEY_TIERS:
            people += [
                m.user
                for m in ticket.account.team.filter(
                    role=AccountTeamRole.EXECUTIVE_SPONSOR
                ).select_related("user")
            ]
        if level == SlaAlert.Level.ESCALATED:
            people += _users_with_role("executive")
    return sorted({p.email for p in people if p.email and p.is_active})


def alerts_for(ticket: Ticket, now: dt.datetime) -> list[SlaAlert]:
    """Record the notices this ticket's SLA state calls for (once each)."""
    created = []
    due = {"response": ticket.first_response_due_at, "resolution": ticket.resolution_due_at}
    for target, state in (("response", ticket.response_sla), ("resolution", ticket.resolution_sla)):
        levels = []
        if state == SlaState.AT_RISK:
            levels = [SlaAlert.Level.AT_RISK]
        elif state == SlaState.BREACHED and (
            target == "resolution" or ticket.first_responded_at is None
        ):
            levels = [SlaAlert.Level.BREACHED]
            late = due[target] and now - due[target] >= dt.timedelta(
                minutes=settings.KEYCARE_ESCALATION_MINUTES
            )
            if late:
                levels.append(SlaAlert.Level.ESCALATED)
        for level in levels:
            try:
                with transaction.atomic():
                    alert = SlaAlert.objects.create(
                        ticket=ticket,
                        target=target,
                        level=level,
                        recipients=alert_recipients(ticket, level),
                    )
            except IntegrityError:
                continue  # already recorded: never twice
            created.append(alert)
            from .tasks import send_sla_alert_task

            enqueue_on_commit(send_sla_alert_task, alert.pk)
    return created


def alert_text(alert: SlaAlert) -> tuple[str, str]:
    ticket = alert.ticket
    with translation.override("zh-hans"):
        target = _("first response") if alert.target == "response" else _("resolution")
        subject = _("[SLA %(level)s] %(number)s %(subject)s") % {
            "level": SlaAlert.Level(alert.level).label, "number": ticket.number, "subject": ticket.subject,
        }  # fmt: skip
        due = (
            ticket.first_response_due_at if alert.target == "response" else ticket.resolution_due_at
        )
        body = _(
            "Ticket %(number)s of %(account)s (%(priority)s): the %(target)s target due %(due)s is "
            "%(state)s. Assignee: %(assignee)s.\n%(link)s"
        ) % {
            "number": ticket.number, "account": ticket.account.name, "priority": ticket.priority,
            "target": target, "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M") if due else "—",
            "state": SlaAlert.Level(alert.level).label, "assignee": ticket.assignee or "—",
            "link": settings.KEYCARE_BASE_URL.rstrip("/") + f"/service/{ticket.pk}/",
        }  # fmt: skip
    return subject, body


def _iso(moment: dt.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def robot_or_json(webhook: Webhook, subject: str, body: str, data: dict) -> dict:
    """What a webhook is sent: the text for a WeCom or DingTalk robot (both take
    {"msgtype": "text", "text": {"content": …}}), else `data` as generic JSON."""
    if webhook.format in (Webhook.Format.WECOM, Webhook.Format.DINGTALK):
        return {"msgtype": "text", "text": {"content": f"{subject}\n{body}"}}
    return data


def webhook_payload(webhook: Webhook, alert: SlaAlert, subject: str, body: str) -> dict:
    ticket = alert.ticket
    return robot_or_json(webhook, subject, body, {
        "event": "sla_alert", "level": alert.level, "level_name": SlaAlert.Level(alert.level).name.lower(),
        "target": alert.target, "ticket": {"id": ticket.pk, "number": ticket.number, "subject": ticket.subject,
        "account": ticket.account.name, "priority": ticket.priority,
        "first_response_due_at": _iso(ticket.first_response_due_at),
        "resolution_due_at": _iso(ticket.resolution_due_at)},
        "recipients": alert.recipients, "subject": subject, "text": body,
    })  # fmt: skip


def post_json(url: str, payload: dict, timeout: float = 10) -> None:
    if not url.lower().startswith(("https://", "http://")):
        raise OSError(f"not an http(s) URL: {url[:40]}")
    data = json.dumps(payload, ensure_ascii=False).encode()
    # the scheme is checked above; the URL is set by an administrator
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        if response.status >= 300:
            raise OSError(f"HTTP {response.status}")


def alert_send(*, alert_id: int) -> bool:
    """Send a recorded notice (idempotent: a sent notice is not sent again). Raises on a
    delivery failure so the task retries."""
    with transaction.atomic():
        alert = (
            SlaAlert.objects.select_for_update(of=("self",))
            .select_related("ticket__account", "ticket__assignee")
            .get(pk=alert_id)
        )
        if alert.sent_at is not None:
            return False
        alert.attempts += 1
        alert.save(update_fields=["attempts"])
    subject, body = alert_text(alert)
    try:
        if alert.recipients:
            send_mail(subject, body, None, alert.recipients)
        for webhook in Webhook.objects.filter(is_active=True):
            post_json(webhook.url, webhook_payload(webhook, alert, subject, body))
    except Exception as exc:
        SlaAlert.objects.filter(pk=alert.pk).update(last_error=f"{type(exc).__name__}: {exc}"[:255])
        raise
    SlaAlert.objects.filter(pk=alert.pk).update(sent_at=timezone.now(), last_error="")
    return True
