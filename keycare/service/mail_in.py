"""Inbound email (mail-in): a message from a known contact opens a ticket, or, when its
subject carries a ticket number (SR-2026-000123), adds a reply to that ticket."""

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.utils import parseaddr

from django.db import IntegrityError, transaction
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from keycare.accounts.models import Contact
from keycare.core.exceptions import ApplicationError

from .choices import TicketEventKind, TicketStatus
from .models import InboundMessage, Ticket, TicketComment
from .services import _event, ticket_create, ticket_transition

NUMBER = re.compile(r"\bSR-\d{4}-\d{6}\b")
MAX_BYTES = 10 * 1024 * 1024


@dataclass
class MailInResult:
    action: str  # "created", "replied" or "duplicate"
    ticket: Ticket | None


def _text(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if part.get_content_subtype() == "html":
        content = strip_tags(content)
    # keep the new text, not the quoted history below it
    lines = []
    for line in content.splitlines():
        if line.startswith(">") or re.match(
            r"^(-{2,}\s*(Original|原始邮件)|On .+ wrote:)", line.strip()
        ):
            break
        lines.append(line)
    return "\n".join(lines).strip()


@transaction.atomic
def mail_in_process(raw: bytes) -> MailInResult:
    if len(raw) > MAX_BYTES:
        raise ApplicationError(_("The message is larger than 10 MB."), extra={"code": "too_large"})
    message = email.message_from_bytes(raw, policy=email.policy.default)
    sender = parseaddr(str(message.get("From", "")))[1].strip().lower()
    if not sender:
        raise ApplicationError(_("The message has no sender address."), extra={"code": "no_sender"})
    message_id = (
        str(message.get("Message-ID", "")).strip() or "sha256:" + hashlib.sha256(raw).hexdigest()
    )
    subject = str(message.get("Subject", "")).strip() or _("(no subject)")
    body = _text(message)
    contact = (
        Contact.objects.filter(email__iexact=sender, is_active=True)
        .select_related("account", "user")
        .first()
    )
    if contact is None:
        raise ApplicationError(
            _("%(sender)s is not a known contact; the message was not accepted.")
            % {"sender": sender},
            extra={"code": "unknown_sender"},
        )
    try:
        with transaction.atomic():
            record = InboundMessage.objects.create(message_id=message_id[:255], sender=sender)
    except IntegrityError:
        return MailInResult(
            "duplicate", InboundMessage.objects.get(message_id=message_id[:255]).ticket
        )
    match = NUMBER.search(subject)
    ticket = None
    if match:
        ticket = Ticket.objects.filter(number=match.group(0)).select_related("account").first()
        allowed = ticket is not None and (
            ticket.contact_id == contact.pk or ticket.account_id == contact.account_id
        )
        ticket = ticket if allowed else None
    comment = None
    if ticket is not None:
        comment = TicketComment.objects.create(
            ticket=ticket, author=contact.user, body=body or subject, is_public=True
        )
        _event(ticket, TicketEventKind.COMMENT, contact.user, comment=comment.pk, email=sender)
        if ticket.status == TicketStatus.WAITING_ON_CUSTOMER:
            ticket_transition(actor=None, ticket=ticket, status=TicketStatus.IN_PROGRESS)
        action = "replied"
    else:
        ticket = ticket_create(
            actor=None, account=contact.account, contact=contact, subject=subject[:200],
            description=body, channel="email",
        )  # fmt: skip
        action = "created"
    record.ticket = ticket
    record.save(update_fields=["ticket"])
    _attach(message, ticket=ticket, comment=comment, contact=contact)  # last: it writes files
    return MailInResult(action, ticket)


def _attach(message, *, ticket: Ticket, comment: TicketComment | None, contact: Contact) -> None:
    """The message's files become the ticket's (or the reply's) attachments. A file that may
    not be attached (type, size, count) does not lose the customer's message: it is left out
    and an internal note says which and why."""
    from django.conf import settings
    from django.core.exceptions import ValidationError
    from django.core.files.base import ContentFile

    from .attachments import attachment_check, attachments_add

    accepted, skipped = [], []
    for part in message.iter_attachments():
        name = part.get_filename() or _("attachment")
        try:
            data = part.get_content()
        except (LookupError, ValueError):
            skipped.append((name, _("it could not be decoded")))
            continue
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, bytes):  # e.g. an attached message
            skipped.append((name, _("this kind of attachment is not accepted")))
            continue
        upload = ContentFile(data, name=name)
        if len(accepted) >= settings.KEYCARE_ATTACHMENT_MAX_FILES:
            skipped.append((name, _("too many files in one message")))
            continue
        try:
            attachment_check(upload=upload)
        except ValidationError as error:
            skipped.append((name, " ".join(error.messages)))
            continue
        upload.seek(0)
        accepted.append(upload)
    if skipped:
        lines = "\n".join(f"- {name}: {reason}" for name, reason in skipped)
        note = TicketComment.objects.create(
            ticket=ticket, author=None, is_public=False,
            body=_("Files in the email that were not attached:") + "\n" + lines,
        )  # fmt: skip
        _event(ticket, TicketEventKind.NOTE, None, comment=note.pk)
    if accepted:
        attachments_add(actor=None, ticket=ticket, uploads=accepted, comment=comment,
                        is_public=True)  # fmt: skip
