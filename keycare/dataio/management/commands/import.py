from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from keycare.dataio.engine import run_import
from keycare.dataio.kinds import KINDS
from keycare.users.models import User


class Command(BaseCommand):
    help = (
        "Import accounts, contacts, products, equipment or orders from a CSV or XLSX file. "
        "All-or-nothing: a file with errors changes nothing. Re-importing is safe."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count; change nothing."
        )
        parser.add_argument("--user", help="Record the import as this user (default: system).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, kind, file, dry_run, user, no_progress, **options):
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(_("No active user %(u)s.") % {"u": user})
        bar = None
        if not no_progress:
            bar = tqdm(total=100, unit="%", desc=kind, leave=True, file=self.stderr._out)

        def progress(rows, done, total):
            if bar is None:
                return
            if done is not None and total:
                bar.n = round(100 * done / total)
            bar.set_postfix_str(_("%(rows)d rows") % {"rows": rows})
            bar.refresh()

        try:
            outcome = run_import(
                kind=kind, path=file, actor=actor, dry_run=dry_run, progress=progress
            )
        except FileNotFoundError:
            raise CommandError(_("No such file: %(f)s") % {"f": file}) from None
        finally:
            if bar is not None:
                if bar.n < 100 and not getattr(bar, "disable", False):
                    bar.n = 100
                    bar.refresh()
                bar.close()
        if outcome.encoding:
            self.stdout.write(_("Encoding: %(e)s") % {"e": outcome.encoding})
        if outcome.unknown_headers:
            self.stdout.write(
                _("Ignored columns: %(cols)s") % {"cols": ", ".join(outcome.unknown_headers)}
            )
        for error in outcome.errors:
            where = _("row %(row)d") % {"row": error.row}
            column = f" [{error.column}]" if error.column else ""
            self.stderr.write(f"{where}{column}: {error.message}")
        if len(outcome.rejected_rows) > len(outcome.errors):
            self.stderr.write(
                _("… and more; the first %(n)d errors are shown.") % {"n": len(outcome.errors)}
            )
        if outcome.ok:
            self.stdout.write(self.style.SUCCESS(outcome.message))
        else:
            self.stderr.write(outcome.message)
            raise SystemExit(1)
