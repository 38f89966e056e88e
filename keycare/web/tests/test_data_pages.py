"""The import flow in the web UI (upload, background job, report) and the account form."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from keycare.accounts.models import Account
from keycare.accounts.tests.factories import AccountFactory
from keycare.dataio.models import ImportJob

pytestmark = pytest.mark.django_db

CSV = "客户名称,统一社会信用代码,省份\n华为技术有限公司,914403001922038216,广东省\n".encode("gbk")


@pytest.fixture
def upload(client, django_capture_on_commit_callbacks):
    """Post a file; the background job runs when the request's transaction commits."""

    def post(content=CSV, name="accounts.csv", dry_run=False, kind="accounts"):
        data = {"kind": kind, "file": SimpleUploadedFile(name, content, content_type="text/csv")}
        if dry_run:
            data["dry_run"] = "on"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("web:import"), data)

    return post


def test_import_dry_run_then_real(client, admin_user, upload):
    client.force_login(admin_user)
    response = upload(dry_run=True)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "web:import_job", args=[job.pk]
    )
    assert (job.status, job.created, job.encoding) == ("checked", 1, "gb18030")
    assert Account.objects.count() == 0
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="job-result"' in page and "Dry run" in page
    upload()
    assert ImportJob.objects.latest("pk").status == "succeeded"
    assert Account.objects.get().credit_code == "914403001922038216"


def test_import_with_errors_shows_rows_and_changes_nothing(client, admin_user, upload):
    client.force_login(admin_user)
    bad = "客户名称,统一社会信用代码\n坏公司,914403001922038217\n".encode()
    response = upload(content=bad)
    job = ImportJob.objects.get()
    assert job.status == "rejected" and job.rejected == 1
    assert job.errors[0]["row"] == 2 and job.errors[0]["column"] == "统一社会信用代码"
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-errors"' in page
    assert Account.objects.count() == 0


def test_import_rejects_wrong_file_type_on_the_form(client, admin_user, upload):
    client.force_login(admin_user)
    response = upload(content=b"x", name="accounts.pdf")
    assert response.status_code == 400
    assert "Upload a .csv or .xlsx file." in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_job_status_fragment_for_htmx(client, admin_user, upload):
    client.force_login(admin_user)
    upload(dry_run=True)
    job = ImportJob.objects.get()
    fragment = client.get(reverse("web:import_job", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    assert fragment["HX-Refresh"] == "true"  # finished: reload once for the full report


def test_account_form_warns_about_a_similar_account(client, kam):
    AccountFactory(name="苏州华鑫精密机械有限公司")
    client.force_login(kam)
    data = {"name": "苏州华鑫精密机械股份有限公司", "status": "active"}
    response = client.post(reverse("web:account_create"), data)
    assert response.status_code == 400
    assert 'data-testid="duplicate-warning"' in response.content.decode()
    assert Account.objects.count() == 1
    response = client.post(reverse("web:account_create"), {**data, "confirm_duplicate": "on"})
    assert response.status_code == 302
    assert Account.objects.count() == 2


def test_account_form_shows_credit_code_errors_on_the_field(client, kam):
    client.force_login(kam)
    response = client.post(
        reverse("web:account_create"),
        {"name": "新公司", "status": "active", "credit_code": "914403001922038217"},
    )
    assert response.status_code == 400
    assert "check character" in response.content.decode()
    assert Account.objects.count() == 0


def test_account_edit_with_a_stale_version_is_refused(client, kam):
    account = AccountFactory(owner=kam, name="原名")
    client.force_login(kam)
    url = reverse("web:account_edit", args=[account.pk])
    base = {"name": "甲", "status": "active", "owner": kam.pk, "version": 1}
    assert client.post(url, base).status_code == 302
    stale = client.post(url, {**base, "name": "乙"})
    assert stale.status_code == 400
    assert "Someone else changed this record" in stale.content.decode()
    account.refresh_from_db()
    assert account.name == "甲"


def test_contact_can_be_added_to_another_account_of_the_group(client, kam):
    from keycare.accounts.tests.factories import ContactFactory

    group = AccountFactory(owner=kam, name="集团")
    branch = AccountFactory(owner=kam, name="分公司", parent=group)
    contact = ContactFactory(account=branch, name="赵总")
    client.force_login(kam)
    page = client.get(reverse("web:contact_detail", args=[contact.pk]))
    assert [a.name for a in page.context["group_accounts"]] == ["集团"]
    client.post(reverse("web:contact_membership", args=[contact.pk]),
                {"account": group.pk, "buying_role": "decision_maker"})  # fmt: skip
    assert [(m.account.name, m.buying_role) for m in contact.memberships.all()] == [
        ("集团", "decision_maker")
    ]
    client.post(
        reverse("web:contact_membership", args=[contact.pk]),
        {"account": group.pk, "action": "remove"},
    )
    assert not contact.memberships.exists()
