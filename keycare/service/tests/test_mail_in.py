import io
import sys

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.service import services
from keycare.service.mail_in import mail_in_process
from keycare.service.models import Ticket
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def message(
    subject,
    body="主轴有异响，请派人来看。",
    sender="Li Lei <li@huaxin.example>",
    msg_id="<1@huaxin>",
):
    return (
        f"From: {sender}\r\nTo: service@keycare.example\r\nSubject: {subject}\r\nMessage-ID: {msg_id}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n\r\n> 以前的邮件\r\n"
    ).encode()


@pytest.fixture
def contact():
    return ContactFactory(account=AccountFactory(), email="li@huaxin.example", name="李雷")


def test_a_new_mail_opens_a_ticket_once(contact):
    result = mail_in_process(message("加工中心故障"))
    ticket = result.ticket
    assert (result.action, ticket.channel, ticket.contact, ticket.account) == (
        "created",
        "email",
        contact,
        contact.account,
    )
    assert ticket.description == "主轴有异响，请派人来看。"  # the quoted history is left out
    assert mail_in_process(message("加工中心故障")).action == "duplicate"
    assert Ticket.objects.count() == 1


def test_a_reply_with_the_number_goes_to_the_ticket_and_resumes_the_clock(contact, admin_user):
    ticket = TicketFactory(account=contact.account, contact=contact)
    services.ticket_transition(actor=admin_user, ticket=ticket, status="waiting_on_customer")
    result = mail_in_process(
        message(f"Re: [{ticket.number}] 设备故障", body="已按要求重启", msg_id="<2@huaxin>")
    )
    ticket.refresh_from_db()
    assert result.action == "replied" and ticket.status == "in_progress"
    assert ticket.comments.get().body == "已按要求重启"


def test_unknown_sender_is_refused_and_nothing_is_created(contact):
    from keycare.core.exceptions import ApplicationError

    with pytest.raises(ApplicationError, match="not a known contact"):
        mail_in_process(message("x", sender="spam@elsewhere.example"))
    assert Ticket.objects.count() == 0


def test_cli_and_endpoint(contact, admin_user, kam, monkeypatch, capsys):
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(message("命令行来信", msg_id="<3@h>")))
    )
    call_command("mail-in")
    assert "opened" in capsys.readouterr().out
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post(
        "/api/v1/mail-in/", data=message("接口来信", msg_id="<4@h>"), content_type="message/rfc822"
    )
    assert response.status_code == 201 and response.json()["number"].startswith("SR-")
    api.force_authenticate(kam)
    assert api.post("/api/v1/mail-in/", data=message("x", msg_id="<5@h>"),
                    content_type="message/rfc822").status_code == 403  # fmt: skip
    assert Ticket.objects.count() == 2


def _with_files(subject, files, msg_id="<9@huaxin>"):
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = (
        "li@huaxin.example", "service@keycare.example", subject, msg_id,
    )  # fmt: skip
    mail.set_content("照片见附件。")
    for name, data, maintype, subtype in files:
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail.as_bytes()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_mail_files_become_attachments_and_refused_ones_are_noted(contact):
    raw = _with_files("主轴异响", [
        ("现场照片.png", PNG, "image", "png"),
        ("setup.exe", b"MZ\x90\x00", "application", "octet-stream"),
        ("fake.pdf", b"MZ not a pdf", "application", "pdf"),
    ])  # fmt: skip
    ticket = mail_in_process(raw).ticket
    files = list(ticket.attachments.values_list("name", "content_type", "is_public"))
    assert files == [("现场照片.png", "image/png", True)]
    note = ticket.comments.get(is_public=False)
    assert "setup.exe" in note.body and "fake.pdf" in note.body
    assert ticket.events.filter(kind="attachment").count() == 1


def test_files_on_a_reply_belong_to_the_reply(contact):
    ticket = TicketFactory(account=contact.account, contact=contact)
    raw = _with_files(
        f"Re: {ticket.number}", [("log.txt", "报警代码 E102".encode(), "text", "plain")]
    )
    mail_in_process(raw)
    reply = ticket.comments.get()
    assert list(reply.attachments.values_list("name", flat=True)) == ["log.txt"]
