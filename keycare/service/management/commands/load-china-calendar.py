from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from keycare.service.calendars import china_calendar_load


class Command(BaseCommand):
    help = (
        "Create or refresh the mainland-China working calendar from the chinese-calendar package."
    )

    def handle(self, *args, **options):
        calendar = china_calendar_load()
        self.stdout.write(
            _("%(name)s: holidays and make-up working days known for %(first)d–%(last)d.")
            % {"name": calendar.name, "first": calendar.covered_from, "last": calendar.covered_to}
        )
