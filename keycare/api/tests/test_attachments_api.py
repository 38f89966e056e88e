"""Attachments through the API: upload (multipart, all or nothing), list and download per
role, errors in the one format, and the OpenAPI schema."""

from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.service.attachments import attachment_add
from keycare.service.models import TicketAttachment, TicketEvent
from keycare.service.tests.factories import TicketFactory, stored_files, upload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
EXE = b"MZ\x90\x00" + bytes(60)


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture(autouse=True)
def _own_private_root(private_root):
    return private_root


@pytest.fixture
def world(kam, engineer, portal_user, other_kam, make_user):
    mine = AccountFactory(owner=kam)
    AccountTeamMemberFactory(account=mine, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    ContactFactory(account=mine, user=portal_user)
    other = AccountFactory(owner=other_kam)
    other_customer = make_user("customer_contact", username="customer2")
    ContactFactory(account=other, user=other_customer)
    ticket = TicketFactory(account=mine)
    internal = attachment_add(
        actor=engineer, ticket=ticket, upload=upload("内部报价.pdf", PDF), is_public=False
    )
    return {"ticket": ticket, "internal": internal, "other_customer": other_customer,
            "outsider": make_user("service_engineer", username="eng9")}  # fmt: skip


def test_the_customer_uploads_lists_and_downloads(world, portal_user):
    ticket = world["ticket"]
    client = api(portal_user)
    url = f"/api/v1/tickets/{ticket.pk}/attachments/"
    created = client.post(
        url, {"file": [upload("故障照片.pdf", PDF), upload("日志.txt", "报警 E-201".encode())]},
        format="multipart",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert [(a["name"], a["is_public"], a["uploaded_by"]) for a in body] == [
        ("故障照片.pdf", True, portal_user.pk), ("日志.txt", True, portal_user.pk),
    ]  # fmt: skip
    assert body[1]["content_type"] == "text/plain; charset=utf-8"
    listed = client.get(url).json()
    assert [a["name"] for a in listed] == ["故障照片.pdf", "日志.txt"]  # not the internal one
    response = client.get(listed[0]["download_url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert (
        response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('故障照片.pdf')}"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    internal = client.get(f"/api/v1/attachments/{world['internal'].pk}/download/")
    assert internal.status_code == 404 and internal.json()["extra"]["code"] == "not_found"


def test_the_customer_cannot_add_internal_files(world, portal_user, private_root):
    before = len(stored_files(private_root))
    response = api(portal_user).post(
        f"/api/v1/tickets/{world['ticket'].pk}/attachments/",
        {"file": [upload("a.pdf", PDF)], "is_public": "false"},
        format="multipart",
    )
    assert response.status_code == 403
    assert response.json()["extra"]["code"] == "permission_denied"
    assert TicketAttachment.objects.count() == 1 and len(stored_files(private_root)) == before


def test_staff_add_internal_files_with_an_event(world, engineer, portal_user):
    ticket = world["ticket"]
    response = api(engineer).post(
        f"/api/v1/tickets/{ticket.pk}/attachments/",
        {"file": [upload("图纸.pdf", PDF)], "is_public": "false"},
        format="multipart",
    )
    assert response.status_code == 201 and response.json()[0]["is_public"] is False
    assert TicketEvent.objects.filter(ticket=ticket, kind="internal_attachment").count() == 2
    assert api(portal_user).get(f"/api/v1/tickets/{ticket.pk}/attachments/").json() == []
    staff = api(engineer).get(f"/api/v1/attachments/{world['internal'].pk}/download/")
    assert staff.status_code == 200


def test_a_rejected_file_is_a_400_with_the_field_and_nothing_is_kept(world, engineer, private_root):
    before = len(stored_files(private_root))
    response = api(engineer).post(
        f"/api/v1/tickets/{world['ticket'].pk}/attachments/",
        {"file": [upload("ok.pdf", PDF), upload("invoice.pdf", EXE)]},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {
        "file": ["The content of “invoice.pdf” is not a .pdf file."]
    }
    assert TicketAttachment.objects.count() == 1 and len(stored_files(private_root)) == before
    missing = api(engineer).post(
        f"/api/v1/tickets/{world['ticket'].pk}/attachments/", {}, format="multipart"
    )
    assert missing.status_code == 400 and "file" in missing.json()["extra"]["fields"]


@pytest.mark.parametrize("who", ["other_customer", "outsider"])
def test_others_get_404(world, who):
    client = api(world[who])
    ticket, internal = world["ticket"], world["internal"]
    assert client.get(f"/api/v1/tickets/{ticket.pk}/attachments/").status_code == 404
    assert client.get(f"/api/v1/attachments/{internal.pk}/").status_code == 404
    assert client.get(f"/api/v1/attachments/{internal.pk}/download/").status_code == 404
    posted = client.post(
        f"/api/v1/tickets/{ticket.pk}/attachments/",
        {"file": [upload("a.pdf", PDF)]},
        format="multipart",
    )
    assert posted.status_code == 404 and TicketAttachment.objects.count() == 1


def test_anonymous_is_not_authenticated(world):
    for url in (
        f"/api/v1/tickets/{world['ticket'].pk}/attachments/",
        f"/api/v1/attachments/{world['internal'].pk}/download/",
    ):
        response = api().get(url)
        # as everywhere in the API: the session authenticator comes first and sends no
        # WWW-Authenticate challenge, so DRF answers 403 (not 401) with this code
        assert response.status_code == 403
        assert response.json()["extra"]["code"] == "not_authenticated"


def test_the_schema_documents_the_attachment_endpoints(kam):
    paths = api(kam).get("/api/v1/schema/?format=json").json()["paths"]
    upload_body = paths["/api/v1/tickets/{id}/attachments/"]["post"]["requestBody"]
    assert list(upload_body["content"]) == ["multipart/form-data"]
    download = paths["/api/v1/attachments/{id}/download/"]["get"]["responses"]["200"]
    assert list(download["content"]) == ["application/octet-stream"]
