"""Profit alerts: accounts whose margin fell below their policy floor, and accounts whose
concessions exceed their policy, told to the account's key account managers by email and
to the notification webhooks (WeCom, DingTalk, generic JSON). Each alert is recorded before
it is sent, once per account, kind and month, so a check that runs twice or a worker that
restarts sends nothing twice."""

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.models import Account, AccountTeamMember
from keycare.core.background import enqueue_on_commit
from keycare.core.filtering import trailing_twelve_months

from .choices import ConcessionStatus, ProfitAlertKind
from .models import Concession, ProfitAlert
from .reports import margin_floor_breaches, over_policy_rows


def _recipients(account_ids: list[int]) -> dict[int, list[str]]:
    """The e-mail addresses of each account's owner and key account managers."""
    found: dict[int, set[str]] = {pk: set() for pk in account_ids}
    for pk, email in Account.objects.filter(pk__in=account_ids).values_list("pk", "owner__email"):
        if email:
            found[pk].add(email)
    for pk, email in AccountTeamMember.objects.filter(
        account_id__in=account_ids, role=AccountTeamRole.KEY_ACCOUNT_MANAGER
    ).values_list("account_id", "user__email"):
        if email:
            found[pk].add(email)
    return {pk: sorted(emails) for pk, emails in found.items()}


def _json(value):
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    return str(value)


def profit_alerts_check(*, today: dt.date | None = None) -> int:
    """Record (and send after commit) the alerts of the trailing twelve months: margins
    below the floor and concessions over the policy. Returns the number of new alerts."""
    from .tasks import send_profit_alert_task

    today = today or timezone.localdate()
    start, end = trailing_twelve_months(today)
    month = today.strftime("%Y-%m")
    found: list[tuple[int, str, dict]] = []
    for row in margin_floor_breaches(start=start, end=end, accounts=Account.objects.all()):
        found.append((row["account_id"], ProfitAlertKind.MARGIN_BELOW_FLOOR, row))
    granted = Concession.objects.filter(
        status=ConcessionStatus.GRANTED, effective_date__gte=start, effective_date__lte=end
    )
    rows, _gifts = over_policy_rows(granted)
    for row in rows:
        found.append((row["account_id"], ProfitAlertKind.CONCESSIONS_OVER_POLICY, row))
    if not found:
        return 0
    recipients = _recipients(sorted({pk for pk, _kind, _row in found}))
    created = 0
    for pk, kind, row in found:
        alert, new = ProfitAlert.objects.get_or_create(
            account_id=pk, kind=kind, month=month,
            defaults={"detail": _json(row) | {"period": [start.isoformat(), end.isoformat()]},
                      "recipients": recipients.get(pk, [])},
        )  # fmt: skip
        if new:
            created += 1
            enqueue_on_commit(send_profit_alert_task, alert.pk)
    return created


def alert_text(alert: ProfitAlert) -> tuple[str, str]:
    """Subject and body, in the site's language."""
    with override(settings.LANGUAGE_CODE):
        account = alert.account
        lines = [
            str(item.get("message", ""))
            for item in alert.detail.get("below", alert.detail.get("exceeded", []))
        ]
        subject = _("[KeyCare] %(account)s: %(alert)s") % {
            "account": account.name,
            "alert": ProfitAlertKind(alert.kind).label,
        }
        link = settings.KEYCARE_BASE_URL.rstrip("/") + f"/accounts/{account.pk}/"
        body = "\n".join([*lines, link])
    return subject, body


def alert_send(*, alert_id: int) -> bool:
    """Send a recorded alert (idempotent: a sent alert is not sent again). Raises on a
    delivery failure, so the task retries."""
    from keycare.service.escalation import post_json, robot_or_json
    from keycare.service.models import Webhook

    with transaction.atomic():
        alert = (
            ProfitAlert.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=alert_id)
        )
        if alert.sent_at is not None:
            return False
        alert.attempts += 1
        alert.save(update_fields=["attempts"])
    subject, body = alert_text(alert)
    delivered = list(alert.delivered)

    def done(channel: str) -> None:
        delivered.append(channel)
        ProfitAlert.objects.filter(pk=alert.pk).update(delivered=delivered)

    try:
        if alert.recipients and "email" not in delivered:
            send_mail(subject, body, None, alert.recipients)
            done("email")
        for webhook in Webhook.objects.filter(is_active=True).order_by("pk"):
            if f"webhook:{webhook.pk}" in delivered:
                continue
            payload = robot_or_json(webhook, subject, body, {
                "event": "profit_alert", "kind": alert.kind, "month": alert.month,
                "account": {"id": alert.account_id, "name": alert.account.name},
                "detail": alert.detail, "subject": subject, "text": body,
            })  # fmt: skip
            post_json(webhook.url, payload)
            done(f"webhook:{webhook.pk}")
    except Exception as exc:
        ProfitAlert.objects.filter(pk=alert.pk).update(
            last_error=f"{type(exc).__name__}: {exc}"[:255]
        )
        raise
    ProfitAlert.objects.filter(pk=alert.pk).update(sent_at=timezone.now(), last_error="")
    return True
