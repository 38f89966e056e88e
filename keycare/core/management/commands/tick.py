from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from keycare.core import ticks


class Command(BaseCommand):
    help = "Run the periodic tick registry once, or every minute with --loop (embedded mode)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running every interval.")
        parser.add_argument(
            "--every", type=int, default=settings.KEYCARE_TICK_SECONDS, help="Seconds between runs."
        )

    def handle(self, *args, loop: bool, every: int, **options):
        if every < 1:
            self.stderr.write(_("--every must be at least 1 second."))
            raise SystemExit(2)
        if loop:
            self.stdout.write(_("Running ticks every %(n)d s; stop with Ctrl-C.") % {"n": every})
            try:
                ticks.run_forever(every)
            except KeyboardInterrupt:
                return
        failed = [r for r in ticks.run_ticks() if not r.ok]
        for result in failed:
            self.stderr.write(f"{result.name}: {result.detail}")
        if failed:
            raise SystemExit(1)
