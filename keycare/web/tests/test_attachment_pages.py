"""Attachments in the browser-less web client: who may download which file, the ticket page
listing them in a fixed number of queries, and uploads with a reply or a new (portal) ticket."""

from urllib.parse import quote

import pytest
from django.urls import reverse

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.service.attachments import attachment_add, ticket_comment_with_attachments
from keycare.service.defaults import service_defaults_ensure
from keycare.service.models import Ticket, TicketAttachment, TicketComment
from keycare.service.tests.factories import TicketFactory, stored_files, upload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)
EXE = b"MZ\x90\x00" + bytes(60)


@pytest.fixture(autouse=True)
def _own_private_root(private_root):
    return private_root


@pytest.fixture
def world(kam, engineer, portal_user, other_kam, make_user):
    service_defaults_ensure()
    mine = AccountFactory(owner=kam, name="华鑫汽车")
    AccountTeamMemberFactory(account=mine, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    ContactFactory(account=mine, user=portal_user, name="赵磊")
    other = AccountFactory(owner=other_kam, name="远东钢铁")
    other_customer = make_user("customer_contact", username="customer2")
    ContactFactory(account=other, user=other_customer, name="钱伟")
    ticket = TicketFactory(account=mine)
    public = attachment_add(actor=engineer, ticket=ticket, upload=upload("维修报告 V2.pdf", PDF))
    internal = attachment_add(
        actor=engineer, ticket=ticket, upload=upload("报价.pdf", PDF), is_public=False
    )
    photo = attachment_add(actor=portal_user, ticket=ticket, upload=upload("照片.png", PNG))
    return {"mine": mine, "ticket": ticket, "public": public, "internal": internal,
            "photo": photo, "other_customer": other_customer,
            "outsider": make_user("service_engineer", username="eng9")}  # fmt: skip


def download(client, attachment):
    return client.get(reverse("web:attachment_download", args=[attachment.pk]))


def test_the_customer_downloads_public_files_only(client, world, portal_user):
    client.force_login(portal_user)
    response = download(client, world["public"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f"attachment; filename*=utf-8''{quote('维修报告 V2.pdf')}"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert download(client, world["internal"]).status_code == 404


def test_pictures_open_in_the_browser(client, world, engineer):
    client.force_login(engineer)
    response = download(client, world["photo"])
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline; filename*=utf-8''")


@pytest.mark.parametrize("who", ["other_customer", "outsider"])
def test_others_get_404_for_every_file(client, world, who):
    client.force_login(world[who])
    for name in ("public", "internal", "photo"):
        assert download(client, world[name]).status_code == 404
    assert client.get(reverse("web:attachment_download", args=[99999])).status_code == 404


def test_staff_on_the_account_get_internal_files(client, world, engineer, kam, service_manager):
    for user in (engineer, kam, service_manager):
        client.force_login(user)
        assert download(client, world["internal"]).status_code == 200


def test_anonymous_is_sent_to_the_login_page(client, world):
    response = download(client, world["public"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_a_file_missing_on_disk_is_a_404(client, world, engineer, private_root):
    for path in stored_files(private_root):
        path.unlink()
    client.force_login(engineer)
    assert download(client, world["public"]).status_code == 404


def test_the_ticket_page_lists_the_files_by_role(client, world, engineer, portal_user):
    url = reverse("web:ticket_detail", args=[world["ticket"].pk])
    client.force_login(engineer)
    staff_page = client.get(url)
    assert [a.name for a in staff_page.context["attachments"]] == [
        "维修报告 V2.pdf",
        "报价.pdf",
        "照片.png",
    ]
    html = staff_page.content.decode()
    assert html.count('data-testid="attachment-internal"') == 1
    assert reverse("web:attachment_download", args=[world["internal"].pk]) in html
    assert 'enctype="multipart/form-data"' in html
    client.force_login(portal_user)
    html = client.get(url).content.decode()
    assert "维修报告 V2.pdf" in html and "报价.pdf" not in html
    assert 'data-testid="attachment-internal"' not in html
    assert reverse("web:attachment_download", args=[world["internal"].pk]) not in html


def test_the_ticket_page_costs_the_same_queries_with_more_files(
    client, world, service_manager, engineer, django_assert_num_queries
):
    ticket = world["ticket"]
    url = reverse("web:ticket_detail", args=[ticket.pk])
    client.force_login(service_manager)
    # session, user, roles, ticket (with its SLA policy), engineers, visits, attachments,
    # replies, timeline (no visit is open: no parts in stock to offer)
    with django_assert_num_queries(9):
        client.get(url)
    for i in range(3):
        ticket_comment_with_attachments(
            actor=engineer, ticket=ticket, body=f"第{i}次回复", is_public=bool(i % 2),
            uploads=[upload(f"{i}-a.pdf", PDF), upload(f"{i}-b.png", PNG)],
        )  # fmt: skip
        attachment_add(actor=engineer, ticket=ticket, upload=upload(f"{i}.pdf", PDF))
    with django_assert_num_queries(9):
        response = client.get(url)
    assert len(response.context["attachments"]) == 3 + 9
    assert sum(len(c.files) for c in response.context["comments"]) == 6


def test_an_internal_note_with_files_from_the_ticket_page(client, world, engineer, portal_user):
    ticket = world["ticket"]
    url = reverse("web:ticket_detail", args=[ticket.pk])
    client.force_login(engineer)
    response = client.post(url, {"action": "comment", "body": "报价见附件", "internal": "on",
                                 "file": [upload("报价单.xlsx", _xlsx()), upload("现场.png", PNG)]})  # fmt: skip
    assert response.status_code == 302
    note = TicketComment.objects.get(ticket=ticket)
    assert sorted((a.name, a.is_public) for a in note.attachments.all()) == [
        ("报价单.xlsx", False), ("现场.png", False),
    ]  # fmt: skip
    client.force_login(portal_user)
    html = client.get(url).content.decode()
    assert "报价见附件" not in html and "报价单.xlsx" not in html and "现场.png" not in html


def test_a_rejected_file_shows_on_the_form_and_saves_nothing(
    client, world, engineer, portal_user, private_root
):
    ticket = world["ticket"]
    url = reverse("web:ticket_detail", args=[ticket.pk])
    files_before = len(stored_files(private_root))
    for user in (engineer, portal_user):
        client.force_login(user)
        response = client.post(url, {"action": "comment", "body": "见附件",
                                     "file": [upload("ok.pdf", PDF), upload("发票.pdf", EXE)]})  # fmt: skip
        assert response.status_code == 400
        assert response.context["comment_form"].errors["file"] == [
            "The content of “发票.pdf” is not a .pdf file."
        ]
        assert "The content of “发票.pdf” is not a .pdf file." in response.content.decode()
    assert TicketComment.objects.filter(ticket=ticket).count() == 0
    assert TicketAttachment.objects.count() == 3
    assert len(stored_files(private_root)) == files_before


def test_the_customer_replies_with_a_file_only(client, world, portal_user):
    ticket = world["ticket"]
    client.force_login(portal_user)
    response = client.post(reverse("web:ticket_detail", args=[ticket.pk]),
                           {"action": "comment", "body": "", "file": [upload("铭牌.png", PNG)]})  # fmt: skip
    assert response.status_code == 302
    assert ticket.attachments.get(name="铭牌.png").is_public
    empty = client.post(
        reverse("web:ticket_detail", args=[ticket.pk]), {"action": "comment", "body": ""}
    )
    assert empty.status_code == 400 and empty.context["comment_form"].errors["body"] == [
        "Write a message."
    ]


def test_a_portal_ticket_with_attachments(client, world, portal_user, private_root):
    client.force_login(portal_user)
    form = client.get(reverse("web:ticket_create")).content.decode()
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form
    response = client.post(reverse("web:ticket_create"), {
        "account": world["mine"].pk, "ticket_type": "repair", "priority": "P2", "subject": "主轴异响",
        "file": [upload("异响录音.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(32)), upload("铭牌.png", PNG)],
    })  # fmt: skip
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="主轴异响")
    assert (ticket.channel, sorted(a.name for a in ticket.attachments.all())) == (
        "portal", ["异响录音.mp4", "铭牌.png"],
    )  # fmt: skip
    assert all(a.is_public and a.uploaded_by == portal_user for a in ticket.attachments.all())


def test_a_portal_ticket_with_a_rejected_file_is_not_opened(
    client, world, portal_user, private_root, settings
):
    settings.KEYCARE_ATTACHMENT_MAX_MB = 1
    client.force_login(portal_user)
    tickets, files = Ticket.objects.count(), len(stored_files(private_root))
    response = client.post(reverse("web:ticket_create"), {
        "account": world["mine"].pk, "ticket_type": "repair", "priority": "P2", "subject": "主轴异响",
        "file": [upload("铭牌.png", PNG), upload("扫描.pdf", PDF + bytes(1024 * 1024))],
    })  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "“扫描.pdf” is larger than 1 MB, the largest file that can be attached."
    ]
    assert (Ticket.objects.count(), len(stored_files(private_root))) == (tickets, files)


def _xlsx() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()
