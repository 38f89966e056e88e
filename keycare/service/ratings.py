"""CSAT ratings: a one-time, expiring link per resolved ticket (no login needed)."""

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from keycare.core.background import enqueue_on_commit
from keycare.core.exceptions import ApplicationError
from keycare.core.figures import account_figures_changed
from keycare.core.tokens import token_hash, token_new

from .models import Ticket, TicketRating

LINK_DAYS = 14


def rating_invite(
    *, ticket: Ticket, now: dt.datetime | None = None
) -> tuple[TicketRating, str] | None:
    """Create the rating request for a resolved ticket (once per ticket) and mail the link
    after commit. Returns the rating and the plain token (only ever shown in the mail)."""
    email = ticket.contact.email if ticket.contact_id else ""
    if not email or TicketRating.objects.filter(ticket=ticket).exists():
        return None
    now = now or timezone.now()
    token = token_new()
    rating = TicketRating.objects.create(
        ticket=ticket, token_hash=token_hash(token), email=email, sent_at=now,
        expires_at=now + dt.timedelta(days=LINK_DAYS),
    )  # fmt: skip
    from .tasks import send_rating_invitation_task

    enqueue_on_commit(send_rating_invitation_task, rating.pk, token)
    return rating, token


def rating_link(token: str) -> str:
    return settings.KEYCARE_BASE_URL.rstrip("/") + reverse("web:rate", args=[token])


def rating_invitation_send(*, rating_id: int, token: str) -> bool:
    rating = (
        TicketRating.objects.select_related("ticket")
        .filter(pk=rating_id, rated_at__isnull=True)
        .first()
    )
    if rating is None:
        return False
    with translation.override("zh-hans"):
        subject = _("How did we do? Your service request %(number)s") % {
            "number": rating.ticket.number
        }
        body = _(
            "Your service request %(number)s (%(subject)s) has been resolved. Please tell us how "
            "satisfied you are, in one click: %(link)s\n\nThe link works once and expires in %(days)d days."
        ) % {"number": rating.ticket.number, "subject": rating.ticket.subject, "link": rating_link(token),
             "days": LINK_DAYS}  # fmt: skip
    send_mail(subject, body, None, [rating.email])
    return True


def rating_get(*, token: str) -> TicketRating:
    """The open rating for this token; a clear error when it is unknown, used or expired."""
    rating = (
        TicketRating.objects.select_related("ticket").filter(token_hash=token_hash(token)).first()
    )
    if rating is None:
        raise ApplicationError(_("This link is not valid."), extra={"code": "invalid_link"})
    if rating.rated_at is not None:
        raise ApplicationError(
            _("Thank you: this ticket has already been rated."), extra={"code": "used"}
        )
    if rating.expires_at < timezone.now():
        raise ApplicationError(_("This link has expired."), extra={"code": "expired"})
    return rating


@transaction.atomic
def rating_submit(*, token: str, score: int, comment: str = "") -> TicketRating:
    rating = rating_get(token=token)
    account_id = rating.ticket.account_id  # a ticket keeps its account
    rating = TicketRating.objects.select_for_update().get(pk=rating.pk)
    if rating.rated_at is not None:  # a second submit racing the first
        raise ApplicationError(
            _("Thank you: this ticket has already been rated."), extra={"code": "used"}
        )
    if score not in range(1, 6):
        raise ApplicationError(_("Choose a score from 1 to 5."), extra={"code": "invalid_score"})
    rating.score, rating.comment, rating.rated_at = score, comment.strip()[:2000], timezone.now()
    rating.save(update_fields=["score", "comment", "rated_at"])
    account_figures_changed(account_ids=[account_id])  # the account's CSAT
    return rating
