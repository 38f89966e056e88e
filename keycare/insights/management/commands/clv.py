import csv
import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.models import Order
from keycare.insights import clv


def _parse_calibration_end(value: str | None) -> dt.date:
    if value is None:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("--calibration-end %(value)s is not a date (YYYY-MM-DD).") % {"value": value}
        ) from None


def _csv_rows(path: Path, *, customer: str, date: str, amount: str, date_format: str) -> list:
    """(customer, date, amount) rows of a CSV file with a header line."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")  # utf-8-sig: Excel's BOM
    except FileNotFoundError:
        raise CommandError(_("File not found: %(path)s") % {"path": path}) from None
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
        ) from None
    rows = []
    with handle:
        try:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            for column in (customer, date, amount):
                if column not in columns:
                    raise CommandError(
                        _("Column %(column)s is not in %(path)s (columns: %(columns)s).")
                        % {"column": column, "path": path, "columns": ", ".join(columns)}
                    )
            for record in reader:
                line = reader.line_num
                raw_date, raw_amount = record[date], record[amount]
                try:
                    when = dt.datetime.strptime((raw_date or "").strip(), date_format).date()  # noqa: DTZ007 - calendar dates
                except ValueError:
                    raise CommandError(
                        _("Line %(line)d: %(value)s is not a date in the format %(format)s.")
                        % {"line": line, "value": raw_date, "format": date_format}
                    ) from None
                try:
                    value = Decimal((raw_amount or "").strip())
                    if not value.is_finite():
                        raise InvalidOperation
                except InvalidOperation:
                    raise CommandError(
                        _("Line %(line)d: %(value)s is not an amount.")
                        % {"line": line, "value": raw_amount}
                    ) from None
                rows.append((record[customer], when, value))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from None
    return rows


def _order_rows() -> list:
    """Every account's orders as (account, date, net revenue): a system-wide read for the
    operator's CLI, so deliberately not scoped to a user."""
    return list(Order.objects.values_list("account_id", "order_date", "total_net"))


class Command(BaseCommand):
    help = "Predictive customer value: fit the BG/NBD and Gamma-Gamma models."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        fit = subcommands.add_parser(
            "fit",
            help="Fit both models to a transactions CSV, or to the accounts' orders without --csv.",
        )
        fit.add_argument("--csv", type=Path, help="Transactions CSV with a header line.")
        fit.add_argument("--customer-column", help="Column of the customer id (with --csv).")
        fit.add_argument("--date-column", help="Column of the purchase date (with --csv).")
        fit.add_argument("--amount-column", help="Column of the amount (with --csv).")
        fit.add_argument("--date-format", default="%Y-%m-%d", help="strptime format of dates.")
        fit.add_argument(
            "--calibration-end", help="Last day of data to use, YYYY-MM-DD (default: today)."
        )
        fit.add_argument("--time-unit", choices=["day", "week"], default="day")
        fit.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, subcommand: str, **options):
        # "fit" is the only sub-command; argparse has already rejected any other.
        calibration_end = _parse_calibration_end(options["calibration_end"])
        columns = {
            "customer": options["customer_column"],
            "date": options["date_column"],
            "amount": options["amount_column"],
        }
        if options["csv"] is not None:
            if not all(columns.values()):
                raise CommandError(
                    _("--csv needs --customer-column, --date-column and --amount-column.")
                )
            rows = _csv_rows(options["csv"], date_format=options["date_format"], **columns)
        else:
            if any(columns.values()):
                raise CommandError(_("The column options only apply with --csv."))
            rows = _order_rows()

        rfm = clv.rfm_from_transactions(
            rows, calibration_end=calibration_end, time_unit=options["time_unit"]
        )
        if len(rfm) == 0:
            raise CommandError(
                _("No transactions on or before %(date)s.") % {"date": calibration_end}
            )
        if not rfm.repeat_buyers.any():
            raise CommandError(
                _(
                    "No repeat buyers to fit: the models need customers who bought on two days or more."
                )
            )
        try:
            bgnbd, gamma_gamma = clv.fit(rfm)
        except clv.CLVError:
            raise CommandError(_("The models could not be fitted to this data.")) from None

        result = {
            "n_customers": len(rfm),
            "n_repeat_buyers": int(rfm.repeat_buyers.sum()),
            "calibration_end": calibration_end.isoformat(),
            "time_unit": rfm.time_unit,
            "bgnbd": {
                "r": bgnbd.r,
                "alpha": bgnbd.alpha,
                "a": bgnbd.a,
                "b": bgnbd.b,
                "log_likelihood": bgnbd.log_likelihood,
            },
            "gamma_gamma": {"p": gamma_gamma.p, "q": gamma_gamma.q, "gamma": gamma_gamma.gamma},
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(
            _("%(n)d customers, %(repeat)d repeat buyers, calibration end %(date)s.")
            % {"n": result["n_customers"], "repeat": result["n_repeat_buyers"],
               "date": result["calibration_end"]}
        )  # fmt: skip
        m, g = bgnbd, gamma_gamma
        self.stdout.write(
            f"BG/NBD: r={m.r:.4f} alpha={m.alpha:.4f} a={m.a:.4f} b={m.b:.4f} "
            f"LL={m.log_likelihood:.2f}"
        )
        self.stdout.write(f"Gamma-Gamma: p={g.p:.4f} q={g.q:.4f} gamma={g.gamma:.4f}")
