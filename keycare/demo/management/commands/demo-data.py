from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from keycare.accounts.models import Account
from keycare.demo.generators import demo_data_generate, demo_users_ensure


class Command(BaseCommand):
    help = "Generate deterministic zh_CN demo data (accounts, contacts, users)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=60, help="Number of accounts.")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Only generate when there are no accounts yet (used by make demo).",
        )

    def handle(self, *args, accounts: int, seed: int, if_empty: bool, **options):

        if accounts < 1 or accounts > 100_000:
            raise CommandError(_("--accounts must be between 1 and 100000."))
        if if_empty and Account.objects.exists():
            logins = demo_users_ensure()
            self.stdout.write(_("Demo data already present; nothing generated."))
        else:
            summary = demo_data_generate(accounts=accounts, seed=seed)
            logins = summary.users
            self.stdout.write(
                _(
                    "Generated %(a)d accounts in %(g)d groups with %(c)d contacts, %(p)d products, "
                    "%(e)d installed units, %(o)d orders and %(t)d tickets."
                )
                % {
                    "a": summary.accounts,
                    "g": summary.groups,
                    "c": summary.contacts,
                    "p": summary.products,
                    "e": summary.equipment,
                    "o": summary.orders,
                    "t": summary.tickets,
                }
            )
        self.stdout.write(_("Demo logins (username / password / role):"))
        for username, password, role in logins:
            self.stdout.write(f"  {username:<10} {password:<14} {role}")
