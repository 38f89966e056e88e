"""Ticket attachments (附件): checking an upload (size, allowed type, content matching the
extension, file name), storing it under a random name in private storage, and the ticket
event. Every check runs before anything is written, so a rejected file leaves no row and
no file behind."""

import codecs
import datetime as dt
import hashlib
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.models import Account
from keycare.core.exceptions import PermissionDeniedError
from keycare.core.services import require_permission
from keycare.users.choices import STAFF_ROLES
from keycare.users.models import User

from .choices import TicketEventKind
from .models import Ticket, TicketAttachment, TicketComment, private_storage
from .services import _event, ticket_comment, ticket_create

NAME_MAX_LENGTH = 200
TEXT_EXTENSIONS = {"txt", "log", "csv"}
OOXML_FOLDERS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The allowed extensions and the content type each is stored and served with.
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "zip": "application/zip",
    "mp4": "video/mp4",
}
#: Types a browser may show in the page (served inline); everything else is a download.
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
_SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "jpg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "gif": lambda head: head[:6] in (b"GIF87a", b"GIF89a"),
    "webp": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
    "pdf": lambda head: head.startswith(b"%PDF-"),
    "doc": lambda head: head.startswith(OLE2),
    "mp4": lambda head: head[4:8] == b"ftyp",
}
_SIGNATURES.update(jpeg=_SIGNATURES["jpg"], xls=_SIGNATURES["doc"])
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*]')


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check, with what will be stored about it."""

    upload: File
    name: str
    extension: str
    content_type: str
    size: int
    sha256: str


def attachment_clean_name(name: str) -> str:
    """The name to show and offer on download: no folders, no control or formatting
    characters (which could disguise the extension), no characters Windows rejects, single
    spaces, at most 200 characters with the extension kept. Chinese is kept as it is."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(_UNSAFE_NAME_CHARS.sub("_", name).split()).strip(" .")
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 10:
            keep = NAME_MAX_LENGTH - len(extension) - 1
            name = f"{stem[:keep].rstrip(' .')}.{extension}"
        else:
            name = name[:NAME_MAX_LENGTH]
    return name


def _invalid(message: str, code: str) -> ValidationError:
    return ValidationError({"file": ValidationError(message, code=code)})


def _text_encoding(chunks: list[bytes]) -> str | None:
    """The first of UTF-8 and GB18030 that decodes the whole content, else None."""
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for chunk in chunks:
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _is_zip(upload: File, folder: str | None) -> bool:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False
    finally:
        upload.seek(0)
    if folder is None:
        return True
    return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)


def attachment_check(*, upload: File) -> CheckedUpload:
    """Check one upload without writing anything: the size limit, the allowed types (by
    extension) and that the content is what the extension says (magic bytes for binary
    types; UTF-8 or GB18030 without NUL bytes for text). Raises ValidationError on "file"."""
    name = attachment_clean_name(getattr(upload, "name", ""))
    shown = name or _("(no name)")
    limit_mb = settings.KEYCARE_ATTACHMENT_MAX_MB
    limit = limit_mb * 1024 * 1024
    too_large = _invalid(
        _("“%(name)s” is larger than %(max)d MB, the largest file that can be attached.")
        % {"name": shown, "max": limit_mb},
        "too_large",
    )
    if (getattr(upload, "size", None) or 0) > limit:
        raise too_large  # before reading a file that is too large anyway
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in CONTENT_TYPES:
        raise _invalid(
            _("“%(name)s” cannot be attached: allowed are %(types)s files.")
            % {"name": shown, "types": ", ".join(sorted(CONTENT_TYPES))},
            "type_not_allowed",
        )
    digest = hashlib.sha256()
    size = 0
    head = b""
    text_chunks: list[bytes] = []
    is_text = extension in TEXT_EXTENSIONS
    for chunk in upload.chunks():
        size += len(chunk)
        if size > limit:
            raise too_large
        digest.update(chunk)
        if len(head) < 64:
            head += chunk[: 64 - len(head)]
        if is_text:
            if b"\x00" in chunk:
                raise _invalid(
                    _("“%(name)s” contains binary data: a .%(ext)s file must be plain text.")
                    % {"name": shown, "ext": extension},
                    "not_text",
                )
            text_chunks.append(chunk)
    if size == 0:
        raise _invalid(_("“%(name)s” is empty.") % {"name": shown}, "empty")
    content_type = CONTENT_TYPES[extension]
    if is_text:
        encoding = _text_encoding(text_chunks)
        if encoding is None:
            raise _invalid(
                _("“%(name)s” is not text in UTF-8 or GB18030.") % {"name": shown}, "not_text"
            )
        content_type = f"{content_type}; charset={encoding}"
        matches = True
    elif extension in OOXML_FOLDERS:
        # a password-protected Office document is an OLE container, not a zip
        matches = head.startswith(OLE2) or _is_zip(upload, OOXML_FOLDERS[extension])
    elif extension == "zip":
        matches = head[:4] in (b"PK\x03\x04", b"PK\x05\x06") and _is_zip(upload, None)
    else:
        matches = _SIGNATURES[extension](head)
    if not matches:
        raise _invalid(
            _("The content of “%(name)s” is not a .%(ext)s file.")
            % {"name": shown, "ext": extension},
            "content_mismatch",
        )
    upload.seek(0)
    return CheckedUpload(upload=upload, name=name, extension=extension,
                         content_type=content_type, size=size, sha256=digest.hexdigest())  # fmt: skip


def attachments_check(*, uploads: Sequence[File]) -> list[CheckedUpload]:
    """Check several uploads; the count limit first, then every file (the first problem
    found is raised)."""
    limit = settings.KEYCARE_ATTACHMENT_MAX_FILES
    if len(uploads) > limit:
        raise _invalid(
            _("Attach at most %(max)d files at a time.") % {"max": limit}, "too_many_files"
        )
    return [attachment_check(upload=upload) for upload in uploads]


def _authorise(*, actor: User | None, ticket: Ticket, is_public: bool, comment) -> bool:
    """Whether the files will be public; raises when the actor may not add them."""
    if comment is not None:
        if comment.ticket_id != ticket.pk:
            raise ValueError("The reply belongs to another ticket")
        is_public = is_public and comment.is_public  # a file on an internal note is internal
    if actor is not None:
        require_permission(actor=actor, action="view", obj=ticket)
        if not is_public and not actor.has_role(*STAFF_ROLES):
            raise PermissionDeniedError(
                _("Customers can only add files that they can see."),
                extra={"code": "permission_denied"},
            )
    return is_public


def _store(
    *, actor: User | None, ticket: Ticket, checked: list[CheckedUpload], is_public: bool,
    comment: TicketComment | None, at: dt.datetime | None,
) -> list[TicketAttachment]:  # fmt: skip
    at = at or timezone.now()
    stored: list[str] = []
    try:
        with transaction.atomic():
            created = []
            for item in checked:
                attachment = TicketAttachment(
                    ticket=ticket, comment=comment, name=item.name,
                    content_type=item.content_type, size=item.size, sha256=item.sha256,
                    is_public=is_public, uploaded_by=actor, uploaded_at=at,
                )  # fmt: skip
                # a random name on disk: the user's name is only shown and offered on download
                attachment.file.save(f"{secrets.token_hex(16)}.{item.extension}", item.upload,
                                     save=False)  # fmt: skip
                stored.append(attachment.file.name)
                attachment.full_clean()
                attachment.save()
                kind = (
                    TicketEventKind.ATTACHMENT if is_public else TicketEventKind.INTERNAL_ATTACHMENT
                )
                _event(ticket, kind, actor, at=at, attachment=attachment.pk, name=item.name,
                       size=item.size, comment=comment.pk if comment else None)  # fmt: skip
                created.append(attachment)
    except BaseException:
        for name in stored:
            private_storage.delete(name)
        raise
    return created


def attachments_add(
    *,
    actor: User | None,
    ticket: Ticket,
    uploads: Sequence[File],
    is_public: bool = True,
    comment: TicketComment | None = None,
    at: dt.datetime | None = None,
) -> list[TicketAttachment]:
    """Attach several files to a ticket, all or nothing. Every file is checked before any is
    stored; if the transaction fails after storing, the files stored here are removed again.
    Inside a larger transaction, call this last, so that nothing rolls back after the files
    are written. Each file writes an event ("attachment", or "internal_attachment" for
    staff-only files) in the same transaction."""
    is_public = _authorise(actor=actor, ticket=ticket, is_public=is_public, comment=comment)
    checked = attachments_check(uploads=list(uploads))
    return _store(actor=actor, ticket=ticket, checked=checked, is_public=is_public,
                  comment=comment, at=at)  # fmt: skip


def attachment_add(
    *,
    actor: User | None,
    ticket: Ticket,
    upload: File,
    is_public: bool = True,
    comment: TicketComment | None = None,
    at: dt.datetime | None = None,
) -> TicketAttachment:
    """Attach one file to a ticket (see `attachments_add`)."""
    return attachments_add(actor=actor, ticket=ticket, uploads=[upload], is_public=is_public,
                           comment=comment, at=at)[0]  # fmt: skip


@transaction.atomic
def ticket_create_with_attachments(
    *, actor: User | None, account: Account, subject: str, uploads: Sequence[File] = (),
    **fields: Any,
) -> Ticket:  # fmt: skip
    """Open a ticket with its files, all or nothing: a rejected file opens no ticket."""
    checked = attachments_check(uploads=list(uploads))  # before the ticket takes a number
    ticket = ticket_create(actor=actor, account=account, subject=subject, **fields)
    if checked:
        is_public = _authorise(actor=actor, ticket=ticket, is_public=True, comment=None)
        _store(actor=actor, ticket=ticket, checked=checked, is_public=is_public, comment=None,
               at=ticket.opened_at)  # fmt: skip
    return ticket


@transaction.atomic
def ticket_comment_with_attachments(
    *, actor: User, ticket: Ticket, body: str, is_public: bool = True,
    uploads: Sequence[File] = (),
) -> TicketComment | None:  # fmt: skip
    """A reply or internal note with files, all or nothing; files on an internal note are
    internal. Files without a message go on the ticket alone (and None is returned)."""
    checked = attachments_check(uploads=list(uploads))
    if checked and not body.strip():
        is_public = _authorise(actor=actor, ticket=ticket, is_public=is_public, comment=None)
        _store(actor=actor, ticket=ticket, checked=checked, is_public=is_public, comment=None,
               at=None)  # fmt: skip
        return None
    comment = ticket_comment(actor=actor, ticket=ticket, body=body, is_public=is_public)
    if checked:
        _store(actor=actor, ticket=ticket, checked=checked, is_public=comment.is_public,
               comment=comment, at=comment.created_at)  # fmt: skip
    return comment
