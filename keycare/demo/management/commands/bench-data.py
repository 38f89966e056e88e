from django.core.management.base import BaseCommand, CommandError

from keycare.demo.scale import (
    BENCH_LOGINS,
    BENCH_PASSWORD,
    SCALES,
    BenchDataError,
    Sizes,
    bench_data_generate,
)


class Command(BaseCommand):
    help = (
        "Load deterministic benchmark data at scale (small, medium, large) straight into the "
        "configured, empty database: COPY on PostgreSQL, batched INSERTs on SQLite."
    )

    def add_arguments(self, parser):
        # tiny (a thousandth of large) is for the tests, so not offered in the help
        parser.add_argument("--scale", required=True, choices=list(SCALES),
                            metavar="{small,medium,large}",
                            help="large: 100,000 accounts, 5,000,000 order lines, 1,000,000 "
                                 "tickets; medium a tenth, small a hundredth.")  # fmt: skip
        parser.add_argument("--seed", type=int, default=2026, help="Random seed.")
        parser.add_argument("--no-insights", action="store_true",
                            help="Skip the derived figures (metrics, scores, tiers, key "
                                 "accounts).")  # fmt: skip

    def handle(self, *args, scale: str, seed: int, no_insights: bool, **options):
        sizes = Sizes.for_scale(scale)
        self.stdout.write(
            f"bench-data --scale {scale} --seed {seed}: {sizes.accounts:,} accounts, "
            f"{sizes.contacts:,} contacts, {sizes.equipment:,} units, ~{sizes.order_lines:,} "
            f"order lines, {sizes.tickets:,} tickets, {sizes.users:,} users"
        )
        try:
            report = bench_data_generate(
                scale=scale, seed=seed, insights=not no_insights, echo=self.stdout.write
            )
        except BenchDataError as error:
            raise CommandError(str(error)) from None
        load = sum(s for _t, _n, s in report.tables)
        total = dict(report.steps)["total"]
        self.stdout.write(
            f"rows: {report.rows:,} in {load:.1f} s of writing ({report.rows / load:,.0f} rows/s); "
            f"total {total:.1f} s ({report.rows / total:,.0f} rows/s overall)"
        )
        self.stdout.write(f"Bench logins (password {BENCH_PASSWORD}):")
        for username, _role, what in BENCH_LOGINS:
            self.stdout.write(f"  {username:<15} {what}")
