"""Ticket attachments: the checks (size, type, content, name), private storage under random
names, the events, who may add what, and that a rejected file leaves nothing behind."""

import hashlib
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.core.exceptions import PermissionDeniedError
from keycare.service import attachments
from keycare.service.attachments import attachment_add, attachment_clean_name, attachments_add
from keycare.service.models import Ticket, TicketAttachment, TicketComment, TicketEvent
from keycare.service.selectors import attachment_list, ticket_timeline
from keycare.service.tests.factories import TicketFactory, stored_files, upload

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64)


def ooxml(folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}/document.xml", "<document/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _own_private_root(private_root):
    return private_root


@pytest.fixture
def world(kam, engineer, portal_user):
    mine = AccountFactory(owner=kam)
    AccountTeamMemberFactory(account=mine, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    ContactFactory(account=mine, user=portal_user)
    return {"mine": mine, "ticket": TicketFactory(account=mine)}


def assert_nothing_written(private_root):
    assert TicketAttachment.objects.count() == 0
    assert not TicketEvent.objects.filter(kind__in=["attachment", "internal_attachment"]).exists()
    assert stored_files(private_root) == []


def test_a_file_is_stored_under_a_random_name_with_its_hash_and_an_event(
    world, engineer, private_root
):
    ticket = world["ticket"]
    attachment = attachment_add(actor=engineer, ticket=ticket, upload=upload("故障照片.PNG", PNG))
    assert (attachment.name, attachment.content_type, attachment.size, attachment.is_public) == (
        "故障照片.PNG", "image/png", len(PNG), True,
    )  # fmt: skip
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    assert attachment.uploaded_by == engineer
    assert attachment.file.name.startswith("tickets/") and "故障照片" not in attachment.file.name
    assert attachment.file.name.endswith(".png")
    [on_disk] = stored_files(private_root)
    assert on_disk.read_bytes() == PNG
    event = TicketEvent.objects.get(ticket=ticket, kind="attachment")
    assert (event.actor, event.data["attachment"], event.data["name"]) == (
        engineer, attachment.pk, "故障照片.PNG",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("报告.pdf", PDF, "application/pdf"),
        ("a.jpeg", b"\xff\xd8\xff\xe0" + bytes(20), "image/jpeg"),
        ("a.gif", b"GIF89a" + bytes(20), "image/gif"),
        ("a.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(20), "image/webp"),
        ("a.docx", ooxml("word"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("a.xlsx", ooxml("xl"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(20), "application/vnd.ms-excel"),
        ("a.zip", ooxml("any"), "application/zip"),
        ("a.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(20), "video/mp4"),
        ("日志.log", "主轴报警 E-201\n".encode(), "text/plain; charset=utf-8"),
        ("导出.csv", "编号,名称\n1,主轴\n".encode("gb18030"), "text/csv; charset=gb18030"),
    ],
)  # fmt: skip
def test_allowed_types_with_matching_content(world, engineer, name, content, content_type):
    attachment = attachment_add(
        actor=engineer, ticket=world["ticket"], upload=upload(name, content)
    )
    assert attachment.content_type == content_type


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("setup.exe", EXE, "type_not_allowed"),
        ("no-extension", PDF, "type_not_allowed"),
        ("drawing.svg", b"<svg/>", "type_not_allowed"),
        ("invoice.pdf", EXE, "content_mismatch"),
        ("photo.jpg", PNG, "content_mismatch"),
        ("report.docx", ooxml("xl"), "content_mismatch"),
        ("archive.zip", EXE, "content_mismatch"),
        ("notes.txt", b"hello\x00world", "not_text"),
        ("notes.txt", b"\xff\xfe\xff\xfe", "not_text"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_rejected_files_leave_nothing(world, engineer, private_root, name, content, code):
    with pytest.raises(ValidationError) as error:
        attachment_add(actor=engineer, ticket=world["ticket"], upload=upload(name, content))
    assert [e.code for e in error.value.error_dict["file"]] == [code]
    assert_nothing_written(private_root)


def test_the_size_limit_names_the_limit(world, engineer, private_root, settings):
    settings.KEYCARE_ATTACHMENT_MAX_MB = 1
    big = upload("scan.pdf", PDF + bytes(1024 * 1024))
    with pytest.raises(ValidationError) as error:
        attachment_add(actor=engineer, ticket=world["ticket"], upload=big)
    assert error.value.message_dict["file"] == [
        "“scan.pdf” is larger than 1 MB, the largest file that can be attached."
    ]
    assert_nothing_written(private_root)
    exactly = upload("scan.pdf", PDF + bytes(1024 * 1024 - len(PDF)))
    assert attachment_add(actor=engineer, ticket=world["ticket"], upload=exactly).size == 1048576


def test_several_files_are_all_or_nothing(world, engineer, private_root, settings):
    good, bad = upload("a.pdf", PDF), upload("b.pdf", EXE)
    with pytest.raises(ValidationError):
        attachments_add(actor=engineer, ticket=world["ticket"], uploads=[good, bad])
    assert_nothing_written(private_root)
    settings.KEYCARE_ATTACHMENT_MAX_FILES = 2
    with pytest.raises(ValidationError) as error:
        attachments_add(
            actor=engineer,
            ticket=world["ticket"],
            uploads=[upload(f"{i}.pdf", PDF) for i in range(3)],
        )
    assert [e.code for e in error.value.error_dict["file"]] == ["too_many_files"]
    assert_nothing_written(private_root)


def test_a_failure_after_storing_removes_the_stored_files(
    world, engineer, private_root, monkeypatch
):
    calls = []
    real_event = attachments._event

    def failing_event(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_event(*args, **kwargs)

    monkeypatch.setattr(attachments, "_event", failing_event)
    with pytest.raises(RuntimeError):
        attachments_add(
            actor=engineer,
            ticket=world["ticket"],
            uploads=[upload("a.pdf", PDF), upload("b.pdf", PDF)],
        )
    assert len(calls) == 2
    assert_nothing_written(private_root)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\张三\\Desktop\\维修报告.pdf", "维修报告.pdf"),
        ("报告\x00\x1f\r\n.pdf", "报告.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # a right-to-left override disguises .exe
        ('a<b>:"c"|?*.pdf', "a_b___c____.pdf"),
        ("  .hidden  name .pdf. ", "hidden name .pdf"),
        ("", ""),
    ],
)
def test_file_names_are_cleaned(given, expected):
    assert attachment_clean_name(given) == expected


def test_long_names_keep_their_extension():
    name = attachment_clean_name("设" * 300 + ".pdf")
    assert len(name) == 200 and name.endswith("设.pdf")


def test_customers_add_public_files_to_their_own_tickets_only(
    world, portal_user, private_root, other_kam
):
    mine = world["ticket"]
    attachment = attachment_add(actor=portal_user, ticket=mine, upload=upload("照片.png", PNG))
    assert attachment.is_public
    with pytest.raises(PermissionDeniedError):
        attachment_add(actor=portal_user, ticket=mine, upload=upload("x.png", PNG), is_public=False)
    theirs = TicketFactory(account=AccountFactory(owner=other_kam))
    with pytest.raises(PermissionDeniedError):
        attachment_add(actor=portal_user, ticket=theirs, upload=upload("x.png", PNG))
    assert list(TicketAttachment.objects.all()) == [attachment]
    assert len(stored_files(private_root)) == 1


def test_an_engineer_not_on_the_account_cannot_add(world, make_user):
    outsider = make_user("service_engineer", username="eng9")
    with pytest.raises(PermissionDeniedError):
        attachment_add(actor=outsider, ticket=world["ticket"], upload=upload("a.pdf", PDF))
    assert TicketAttachment.objects.count() == 0


def test_files_on_an_internal_note_are_internal_and_hidden_from_customers(
    world, engineer, portal_user
):
    ticket = world["ticket"]
    note = attachments.ticket_comment_with_attachments(
        actor=engineer, ticket=ticket, body="备件库存不足", is_public=False,
        uploads=[upload("库存.xlsx", ooxml("xl"))],
    )  # fmt: skip
    public = attachment_add(actor=engineer, ticket=ticket, upload=upload("说明.pdf", PDF))
    [internal] = note.attachments.all()
    assert (internal.is_public, internal.comment) == (False, note)
    assert list(attachment_list(actor=engineer, ticket=ticket)) == [internal, public]
    assert list(attachment_list(actor=portal_user, ticket=ticket)) == [public]
    kinds = [e.kind for e in ticket_timeline(actor=portal_user, ticket=ticket)]
    assert "attachment" in kinds and "internal_attachment" not in kinds
    staff_kinds = [e.kind for e in ticket_timeline(actor=engineer, ticket=ticket)]
    assert "internal_attachment" in staff_kinds


def test_a_reply_with_a_rejected_file_writes_no_reply(world, engineer, private_root):
    with pytest.raises(ValidationError):
        attachments.ticket_comment_with_attachments(
            actor=engineer, ticket=world["ticket"], body="见附件", uploads=[upload("a.pdf", EXE)]
        )
    assert TicketComment.objects.count() == 0
    assert_nothing_written(private_root)


def test_files_without_a_message_go_on_the_ticket(world, portal_user):
    result = attachments.ticket_comment_with_attachments(
        actor=portal_user, ticket=world["ticket"], body=" ", uploads=[upload("a.pdf", PDF)]
    )
    assert result is None and TicketComment.objects.count() == 0
    assert TicketAttachment.objects.get().is_public


def test_a_new_ticket_with_a_rejected_file_is_not_opened(world, portal_user, private_root):
    before = Ticket.objects.count()
    with pytest.raises(ValidationError):
        attachments.ticket_create_with_attachments(
            actor=portal_user, account=world["mine"], subject="主轴异响",
            uploads=[upload("a.pdf", PDF), upload("b.txt", b"\x00")],
        )  # fmt: skip
    assert Ticket.objects.count() == before
    assert_nothing_written(private_root)
    ticket = attachments.ticket_create_with_attachments(
        actor=portal_user, account=world["mine"], subject="主轴异响", uploads=[upload("a.pdf", PDF)]
    )
    assert [a.name for a in ticket.attachments.all()] == ["a.pdf"]
