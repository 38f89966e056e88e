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


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)


def busy_ticket(*, account, engineers, n: int):
    """A ticket with n of everything its page and API show: replies and internal notes with
    a file each, files on the ticket, completed visits (every engineer on each) with a part
    taken from stock, one visit still planned, the CSAT rating and the events all of that
    writes. For the query budgets at two sizes."""
    import datetime as dt
    import uuid
    from decimal import Decimal

    from django.utils import timezone

    from keycare.accounts.tests.factories import ContactFactory, ProductFactory
    from keycare.service import services, visits
    from keycare.service.attachments import attachment_add
    from keycare.service.models import StockLevel, StockLocation, TicketRating

    engineer = engineers[0]
    part = ProductFactory(standard_cost=Decimal("10"))
    van = StockLocation.objects.create(
        name=f"车-{uuid.uuid4().hex[:6]}", kind="van", engineer=engineer
    )
    StockLevel.objects.create(location=van, product=part, quantity=Decimal(100 * n))
    ticket = TicketFactory(account=account, contact=ContactFactory(account=account))
    services.ticket_assign(actor=None, ticket=ticket, assignee=engineer)
    now = timezone.now()
    for i in range(n):
        comment = services.ticket_comment(
            actor=engineer, ticket=ticket, body=f"答复 {i}", is_public=i % 2 == 0
        )
        attachment_add(actor=engineer, ticket=ticket, upload=upload(f"照片{i}.png", PNG),
                       comment=comment)  # fmt: skip
        attachment_add(actor=engineer, ticket=ticket, upload=upload(f"铭牌{i}.png", PNG))
        visit = visits.visit_plan(actor=None, ticket=ticket, planned_start=now, engineers=engineers)
        visits.visit_complete(
            actor=None, visit=visit, work_done=f"维修 {i}", labour_hours=Decimal("1.5"),
            parts=[{"product": part, "location": van, "quantity": "1"}],
        )  # fmt: skip
    visits.visit_plan(actor=None, ticket=ticket, planned_start=now, engineers=engineers)
    TicketRating.objects.create(
        ticket=ticket, token_hash=uuid.uuid4().hex, email="kh@example.com", sent_at=now,
        expires_at=now + dt.timedelta(days=14), rated_at=now, score=5,
    )  # fmt: skip
    return ticket
