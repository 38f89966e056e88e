import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from keycare.core.exceptions import ApplicationError
from keycare.service.mail_in import mail_in_process


class Command(BaseCommand):
    help = "Read one RFC 822 email from standard input (a mail server's pipe) into a ticket."

    def handle(self, *args, **options):
        raw = sys.stdin.buffer.read()
        try:
            result = mail_in_process(raw)
        except ApplicationError as exc:
            self.stderr.write(exc.message)
            raise SystemExit(1) from None
        labels = {"created": _("Ticket %(number)s opened."), "replied": _("Reply added to %(number)s."),
                  "duplicate": _("Already received (%(number)s).")}  # fmt: skip
        self.stdout.write(
            labels[result.action] % {"number": result.ticket.number if result.ticket else "—"}
        )
