"""CLV models against the published CDNOW results, plus exact small cases and the CLI contract.

Published figures: BG/NBD — Fader, Hardie & Lee (2005), Marketing Science 24(2), p. 280:
r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4. Gamma-Gamma — Fader & Hardie (2013),
"The Gamma-Gamma Model of Monetary Value": p = 6.25, q = 3.74, γ = 15.44. Data: see data/README.
"""

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.insights import clv

DATA = Path(__file__).parent / "data"
CALIBRATION_END = dt.date(1997, 9, 30)  # 39 weeks after 1997-01-01, the CDNOW calibration


def _summary(filename: str, *, x: str, t_x: str, T: str, m: str | None = None) -> clv.RFM:
    with (DATA / filename).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    column = lambda name: np.array([float(row[name]) for row in rows])  # noqa: E731
    frequency = column(x)
    monetary = column(m) if m else np.zeros_like(frequency)
    return clv.RFM([row["ID"] for row in rows], frequency, column(t_x), column(T), monetary, "week")


def _cdnow_transactions() -> list[tuple[str, dt.date, Decimal]]:
    """CDNOW_sample.txt: master customer id, sample customer id (1–2357), date YYYYMMDD,
    number of CDs, dollar value; whitespace-separated."""
    rows = []
    with (DATA / "CDNOW_sample.txt").open() as handle:
        for line in handle:
            _master_id, sample_id, day, _cds, dollars = line.split()
            when = dt.datetime.strptime(day, "%Y%m%d").date()  # noqa: DTZ007
            rows.append((sample_id, when, Decimal(dollars)))
    return rows


@pytest.fixture(scope="module")
def cdnow_summary() -> clv.RFM:
    return _summary("cdnow_customers_summary.csv", x="frequency", t_x="recency", T="T")


@pytest.fixture(scope="module")
def cdnow_bgnbd(cdnow_summary) -> clv.BGNBD:
    return clv.bgnbd_fit(cdnow_summary)


@pytest.fixture(scope="module")
def cdnow_rfm() -> clv.RFM:
    return clv.rfm_from_transactions(
        _cdnow_transactions(), calibration_end=CALIBRATION_END, time_unit="week"
    )


def _assert_published_bgnbd(model: clv.BGNBD) -> None:
    assert model.r == pytest.approx(0.243, abs=0.005)
    assert model.alpha == pytest.approx(4.414, abs=0.005)
    assert model.a == pytest.approx(0.793, abs=0.005)
    assert model.b == pytest.approx(2.426, abs=0.005)
    # The plain sum of FHL's eq. (6) over customers: it has no constant term to leave out.
    assert model.log_likelihood == pytest.approx(-9582.4, abs=0.1)


# --- published CDNOW results ----------------------------------------------------------------


def test_bgnbd_reproduces_the_published_cdnow_fit(cdnow_summary):
    assert len(cdnow_summary) == 2357
    started = time.perf_counter()
    model = clv.bgnbd_fit(cdnow_summary)
    assert time.perf_counter() - started < 3
    _assert_published_bgnbd(model)


def test_gamma_gamma_reproduces_the_published_cdnow_fit():
    rfm = _summary(
        "cdnow_customers_summary_with_transactions.csv", x="x", t_x="t_x", T="T", m="zbar"
    )
    assert int(rfm.repeat_buyers.sum()) == 946
    model = clv.gamma_gamma_fit(rfm)
    assert model.p == pytest.approx(6.25, abs=0.005)
    assert model.q == pytest.approx(3.74, abs=0.005)
    # zbar in this file is rounded to cents, which moves the optimum to γ = 15.448 (15.45
    # rounded, as lifetimes' docs print); the raw transactions give 15.4435 (test below).
    assert model.gamma == pytest.approx(15.44, abs=0.01)


def test_raw_cdnow_transactions_give_the_published_summary_and_fits(cdnow_rfm, cdnow_summary):
    assert len(cdnow_rfm) == 2357
    assert int(cdnow_rfm.repeat_buyers.sum()) == 946
    # Same customers as the published summary (ids 1…2357 in both), to its 2-decimal rounding.
    order = np.argsort([int(c) for c in cdnow_rfm.customers])
    assert np.array_equal(cdnow_rfm.frequency[order], cdnow_summary.frequency)
    assert np.allclose(cdnow_rfm.recency[order], cdnow_summary.recency, atol=0.005)
    assert np.allclose(cdnow_rfm.T[order], cdnow_summary.T, atol=0.005)
    _assert_published_bgnbd(clv.bgnbd_fit(cdnow_rfm))
    spend = clv.gamma_gamma_fit(cdnow_rfm)
    assert spend.p == pytest.approx(6.25, abs=0.005)
    assert spend.q == pytest.approx(3.74, abs=0.005)
    assert spend.gamma == pytest.approx(15.44, abs=0.005)


def test_expected_purchases_match_the_direct_closed_form(cdnow_bgnbd, cdnow_summary):
    """The Euler-transformed ₂F₁ in the code equals FHL (2005) eq. (10) written out."""
    from scipy.special import hyp2f1

    m, s, t = cdnow_bgnbd, cdnow_summary, 39.0
    x = s.frequency
    direct = (
        (m.a + m.b + x - 1)
        / (m.a - 1)
        * (
            1
            - ((m.alpha + s.T) / (m.alpha + s.T + t)) ** (m.r + x)
            * hyp2f1(m.r + x, m.b + x, m.a + m.b + x - 1, t / (m.alpha + s.T + t))
        )
        / (
            1
            + (x > 0)
            * m.a
            / (m.b + np.maximum(x, 1) - 1)
            * ((m.alpha + s.T) / (m.alpha + s.recency)) ** (m.r + x)
        )
    )
    ours = clv.bgnbd_expected_purchases(m, t, x, s.recency, s.T)
    assert np.allclose(ours, direct, rtol=1e-9)


def test_expected_purchases_stay_finite_for_heavy_buyers(cdnow_bgnbd):
    """x = 5000: the direct form is 0 · ∞ (₂F₁(r+x, b+x; …) overflows); Euler's form is not."""
    from scipy.special import hyp2f1

    m = cdnow_bgnbd
    assert np.isinf(hyp2f1(m.r + 5000, m.b + 5000, m.a + m.b + 4999, 52 / (m.alpha + 39 + 52)))
    expected = clv.bgnbd_expected_purchases(m, 52.0, [5000.0], [39.0], [39.0])
    # Bought in the last week, ~128 purchases a week: most of the next 52 weeks' ~6,700.
    assert 3000 < expected[0] < 5000 * 52 / 39


# --- exact small cases ----------------------------------------------------------------------


def test_same_day_purchases_count_once_and_monetary_skips_the_first_day():
    rows = [
        ("A", dt.date(2025, 1, 1), 100),
        ("A", dt.date(2025, 1, 1), 50),  # same day: one purchase of 150
        ("A", dt.date(2025, 1, 11), 30),
        ("A", dt.date(2025, 1, 11), 10),  # same day: one purchase of 40
        ("A", dt.date(2025, 1, 15), Decimal("20")),
        ("A", dt.date(2025, 2, 1), 999),  # after the calibration end: ignored
        ("B", dt.date(2025, 1, 21), 70),
        ("C", dt.date(2025, 2, 1), 10),  # only after the calibration end: not a customer
    ]
    rfm = clv.rfm_from_transactions(rows, calibration_end=dt.date(2025, 1, 31))
    assert rfm.customers == ["A", "B"]
    assert rfm.frequency.tolist() == [2.0, 0.0]
    assert rfm.recency.tolist() == [14.0, 0.0]
    assert rfm.T.tolist() == [30.0, 10.0]
    assert rfm.monetary.tolist() == [30.0, 0.0]  # (40 + 20) / 2
    assert rfm.repeat_buyers.tolist() == [True, False]

    weeks = clv.rfm_from_transactions(rows, calibration_end=dt.date(2025, 1, 31), time_unit="week")
    assert weeks.recency.tolist() == [2.0, 0.0]
    assert weeks.T.tolist() == [30 / 7, 10 / 7]


def test_unknown_time_unit_is_refused():
    with pytest.raises(clv.CLVError):
        clv.rfm_from_transactions([], calibration_end=dt.date(2025, 1, 1), time_unit="month")


def test_one_time_buyer_has_frequency_zero_and_is_alive(cdnow_bgnbd):
    rfm = clv.rfm_from_transactions(
        [("A", dt.date(2025, 1, 1), 10)], calibration_end=dt.date(2025, 6, 30)
    )
    assert rfm.frequency.tolist() == [0.0]
    alive = clv.bgnbd_probability_alive(cdnow_bgnbd, rfm.frequency, rfm.recency, rfm.T)
    assert alive.tolist() == [1.0]


def test_probability_alive_is_a_probability_and_falls_with_inactivity(cdnow_bgnbd, cdnow_summary):
    s = cdnow_summary
    alive = clv.bgnbd_probability_alive(cdnow_bgnbd, s.frequency, s.recency, s.T)
    assert np.all((alive >= 0) & (alive <= 1))
    # Same purchases, last one longer ago → less likely to be alive.
    recent, stale = clv.bgnbd_probability_alive(cdnow_bgnbd, [3, 3], [35.0, 10.0], [39.0, 39.0])
    assert stale < recent


def test_expected_purchases_increase_with_the_horizon(cdnow_bgnbd, cdnow_summary):
    s = cdnow_summary
    horizons = [0.0, 1.0, 10.0, 39.0, 52.0, 104.0]
    expected = np.array(
        [
            clv.bgnbd_expected_purchases(cdnow_bgnbd, t, s.frequency, s.recency, s.T)
            for t in horizons
        ]
    )
    assert np.all(expected[0] == 0)
    assert np.all(np.diff(expected, axis=0) > 0)


def test_gamma_gamma_expected_spend_and_revenue(cdnow_rfm):
    spend_model = clv.GammaGamma(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0)
    spend = clv.gamma_gamma_expected_spend(spend_model, [0, 2], [0.0, 50.0])
    assert spend[0] == pytest.approx(6.25 * 15.44 / 2.74)  # the population mean pγ/(q−1)
    assert spend[1] == pytest.approx(6.25 * (15.44 + 100) / (12.5 + 2.74))

    bgnbd, gamma_gamma = clv.fit(cdnow_rfm)
    revenue = clv.expected_revenue(cdnow_rfm, bgnbd, gamma_gamma)
    t = 365.25 / 7
    purchases = clv.bgnbd_expected_purchases(
        bgnbd, t, cdnow_rfm.frequency, cdnow_rfm.recency, cdnow_rfm.T
    )
    per_purchase = clv.gamma_gamma_expected_spend(
        gamma_gamma, cdnow_rfm.frequency, cdnow_rfm.monetary
    )
    assert np.allclose(revenue, purchases * per_purchase)
    assert np.all(revenue > 0)


def test_fits_need_repeat_buyers():
    rfm = clv.rfm_from_transactions(
        [("A", dt.date(2025, 1, 1), 10), ("B", dt.date(2025, 1, 2), 20)],
        calibration_end=dt.date(2025, 3, 1),
    )
    with pytest.raises(clv.CLVError):
        clv.bgnbd_fit(rfm)
    with pytest.raises(clv.CLVError):
        clv.gamma_gamma_fit(rfm)


# --- the `keycare clv fit` command ----------------------------------------------------------


@pytest.fixture
def cdnow_csv(tmp_path) -> Path:
    path = tmp_path / "cdnow.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "sample_id", "date", "cds", "dollars"])
        for line in (DATA / "CDNOW_sample.txt").read_text().splitlines():
            writer.writerow(line.split())
    return path


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("clv", "fit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


CSV_ARGS = ("--customer-column", "sample_id", "--date-column", "date", "--amount-column", "dollars")


def test_command_fits_the_cdnow_csv(cdnow_csv):
    out, err = _run(
        "--csv", str(cdnow_csv), *CSV_ARGS, "--calibration-end", "1997-09-30",
        "--time-unit", "week", "--date-format", "%Y%m%d", "--json",
    )  # fmt: skip
    assert err == ""
    result = json.loads(out)
    assert result["n_customers"] == 2357
    _assert_published_bgnbd(clv.BGNBD(**result["bgnbd"]))
    assert result["gamma_gamma"]["p"] == pytest.approx(6.25, abs=0.005)
    assert result["gamma_gamma"]["q"] == pytest.approx(3.74, abs=0.005)
    assert result["gamma_gamma"]["gamma"] == pytest.approx(15.44, abs=0.005)


def _order(account, day: dt.date, net: str, product):
    return OrderFactory(
        account=account,
        order_date=day,
        lines=[{"product": product, "quantity": Decimal("1"), "net_price": Decimal(net)}],
    )


@pytest.fixture
def orders():
    product = ProductFactory()
    today = timezone.localdate()
    day = lambda n: today - dt.timedelta(days=n)  # noqa: E731
    plan = {
        "甲": [(300, "1000.00"), (200, "1500.00"), (200, "500.00"), (90, "1200.00"), (20, "800.00")],
        "乙": [(280, "400.00"), (150, "600.00"), (40, "450.00")],
        "丙": [(250, "2000.00")],
        "丁": [(330, "700.00"), (300, "650.00"), (100, "900.00"), (60, "300.00")],
        "戊": [(200, "5000.00"), (5, "4000.00")],
        "己": [(120, "100.00")],
    }  # fmt: skip
    made = []
    for name, purchases in plan.items():
        account = AccountFactory(name=f"{name}公司")
        made += [_order(account, day(n), net, product) for n, net in purchases]
    _order(made[0].account, today + dt.timedelta(days=3), "9999.00", product)  # future: ignored
    return made


@pytest.mark.django_db
def test_command_fits_the_accounts_orders(orders):
    out, err = _run("--json")
    assert err == ""
    result = json.loads(out)
    assert result["n_customers"] == 6
    assert result["n_repeat_buyers"] == 4
    assert result["calibration_end"] == timezone.localdate().isoformat()
    # Exactly what the pure functions give on the same rows (account, date, net revenue).
    rows = [(o.account_id, o.order_date, o.total_net) for o in orders]
    bgnbd, gamma_gamma = clv.fit(
        clv.rfm_from_transactions(rows, calibration_end=timezone.localdate())
    )
    assert result["bgnbd"]["r"] == pytest.approx(bgnbd.r)
    assert result["bgnbd"]["log_likelihood"] == pytest.approx(bgnbd.log_likelihood)
    assert result["gamma_gamma"]["p"] == pytest.approx(gamma_gamma.p)
    assert result["gamma_gamma"]["gamma"] == pytest.approx(gamma_gamma.gamma)


@pytest.mark.django_db
def test_command_without_json_prints_a_summary(orders):
    out, _err = _run("--calibration-end", timezone.localdate().isoformat())
    assert out.splitlines()[0].startswith("6 customers, 4 repeat buyers")
    assert len(out.splitlines()) == 3


@pytest.mark.django_db
def test_command_on_no_orders_is_an_error():
    with pytest.raises(CommandError, match="No transactions on or before"):
        _run("--json")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--csv", "{missing}", *CSV_ARGS), "File not found"),
        (("--csv", "{csv}", "--customer-column", "who", "--date-column", "date",
          "--amount-column", "dollars"), "Column who is not in"),
        (("--csv", "{csv}", *CSV_ARGS), "Line 2: 19970101 is not a date in the format %Y-%m-%d"),
        (("--csv", "{csv}", *CSV_ARGS, "--date-format", "%Y%m%d", "--calibration-end", "30/9/1997"),
         "--calibration-end 30/9/1997 is not a date"),
        (("--csv", "{csv}", "--date-format", "%Y%m%d"), "--csv needs --customer-column"),
        (("--customer-column", "x"), "The column options only apply with --csv"),
        (("--csv", "{csv}", *CSV_ARGS, "--date-format", "%Y%m%d", "--calibration-end",
          "1997-01-01"), "No repeat buyers to fit"),
        (("--csv", "{csv}", *CSV_ARGS, "--date-format", "%Y%m%d", "--calibration-end",
          "1996-12-31"), "No transactions on or before 1996-12-31"),
        (("--csv", "{bad_amount}", *CSV_ARGS), "Line 3: 12,5 is not an amount"),
    ],
)  # fmt: skip
def test_command_input_errors(cdnow_csv, tmp_path, args, message):
    bad_amount = tmp_path / "bad.csv"
    bad_amount.write_text('sample_id,date,dollars\n1,1997-01-01,10\n1,1997-02-01,"12,5"\n')
    paths = {"csv": cdnow_csv, "missing": tmp_path / "nope.csv", "bad_amount": bad_amount}
    args = tuple(a.format(**paths) if a.startswith("{") else a for a in args)
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("clv", "fit", *args, "--json", stdout=out, stderr=StringIO())
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)
    assert out.getvalue() == ""


def test_command_line_error_is_one_stderr_line_and_exit_code_1(tmp_path):
    """The real console script: Django prints "CommandError: …" and exits with 1."""
    missing = tmp_path / "nope.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "keycare", "clv", "fit", "--csv", str(missing), *CSV_ARGS,
         "--json"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )  # fmt: skip
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr == f"CommandError: File not found: {missing}\n"
