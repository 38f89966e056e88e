import factory

from keycare.accounts.tests.factories import AccountFactory
from keycare.service.defaults import service_defaults_ensure
from keycare.service.models import Ticket
from keycare.service.services import ticket_create


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    account = factory.SubFactory(AccountFactory)
    subject = factory.Sequence(lambda n: f"设备故障 {n}")
    priority = "P3"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # a transactional test flushes what the data migration created
        service_defaults_ensure()
        return ticket_create(actor=None, **kwargs)


def upload(name: str, content: bytes):
    """An uploaded file, as a form or the API receives it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def stored_files(root) -> list:
    """The files written under the private media root."""
    from pathlib import Path

    return [p for p in Path(root).rglob("*") if p.is_file()]
