from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from keycare.core.tabular import TabularError, detect_format
from keycare.dataio.exports import export_to_file
from keycare.dataio.kinds import KINDS
from keycare.users.models import User


class Command(BaseCommand):
    help = "Export accounts, contacts, products, equipment or orders to CSV or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("file", help="Target file; .csv or .xlsx decides the format.")
        parser.add_argument("--user", help="Export only what this user may see.")
        parser.add_argument(
            "--language",
            default="en",
            choices=["en", "zh-hans"],
            help="Column headers and labels in English or Chinese.",
        )

    def handle(self, *args, kind, file, user, language, **options):
        try:
            fmt = detect_format(file)
        except TabularError as exc:
            raise CommandError(str(exc)) from None
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(_("No active user %(u)s.") % {"u": user})
        _none, count = export_to_file(
            kind=kind, fmt=fmt, actor=actor, language=language, target=file
        )
        self.stdout.write(
            self.style.SUCCESS(_("Exported %(n)d rows to %(f)s.") % {"n": count, "f": file})
        )
