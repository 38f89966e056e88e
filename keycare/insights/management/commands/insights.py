import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from keycare.insights.metrics import metrics_recompute, trailing_twelve_months


def _period(value: str | None) -> tuple[dt.date, dt.date]:
    """`trailing` (default: the last twelve months), a year (`2025`) or `FROM:TO` dates."""
    if value in (None, "", "trailing"):
        return trailing_twelve_months()
    try:
        if ":" in value:
            start, end = (dt.date.fromisoformat(part.strip()) for part in value.split(":", 1))
        else:
            year = int(value)
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    except ValueError:
        raise CommandError(
            _(
                "Give the period as 'trailing', a year (2025) or FROM:TO dates (2025-01-01:2025-06-30)."
            )
        ) from None
    if start > end:
        raise CommandError(_("The period ends before it starts."))
    return start, end


class Command(BaseCommand):
    help = (
        "Value insights: `recompute [--period …]` rebuilds every account's metrics, `score` "
        "recomputes the value scorecard's scores, `apply-tiers` writes the tiers."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        recompute = sub.add_parser("recompute", help="Recompute the metrics of every account.")
        recompute.add_argument(
            "--period", default="trailing",
            help="'trailing' (the last twelve months), a year such as 2025, or FROM:TO dates.",
        )  # fmt: skip
        recompute.add_argument("--no-progress", action="store_true", help="No progress bar.")
        apply = sub.add_parser(
            "apply-tiers",
            help="Write the tiers (from the pyramid or the scorecard grade, as set) to the "
            "accounts; they select the SLA policy.",
        )
        apply.add_argument("--period", default="trailing", help="As for recompute.")
        score = sub.add_parser(
            "score", help="Recompute the scores of the scorecard in use (also a past period's)."
        )
        score.add_argument("--period", default="trailing", help="As for recompute.")

    def handle(self, *args, action: str, period: str, no_progress: bool = False, **options):
        start, end = _period(period)
        if action == "apply-tiers":
            from keycare.insights.tiers import tiers_apply

            counts = tiers_apply(actor=None, start=start, end=end)
            self.stdout.write(
                _("%(changed)d tiers changed, %(kept)d unchanged, %(overridden)d set by hand.")
                % counts
            )
            return
        if action == "score":
            from keycare.core.exceptions import ApplicationError
            from keycare.insights.scorecard import scorecard_active, scores_compute

            try:
                scorecard = scorecard_active()
            except ApplicationError as error:
                raise CommandError(error.message) from None
            scored = scores_compute(scorecard=scorecard, start=start, end=end)
            self.stdout.write(
                _("%(n)d accounts scored on scorecard version %(version)s for %(start)s to %(end)s.")
                % {"n": scored, "version": scorecard.version, "start": start.isoformat(),
                   "end": end.isoformat()}
            )  # fmt: skip
            return
        bar = None if no_progress else tqdm(total=0, unit=" rows", file=self.stderr._out)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total
                bar.update(done - bar.n)

        rows = metrics_recompute(start=start, end=end, progress=progress)
        if bar is not None:
            bar.close()
        self.stdout.write(
            _("%(rows)d metric rows for %(start)s to %(end)s.")
            % {"rows": rows, "start": start.isoformat(), "end": end.isoformat()}
        )
