"""Predictive customer value (CLV): pure numeric code, no ORM.

Three pieces, each the standard published model:

* ``rfm_from_transactions`` — raw (customer, date, amount) rows to the per-customer summary
  (frequency, recency, T, monetary value) in the convention of Fader, Hardie & Lee and of the
  ``lifetimes`` package: purchases on one day are one purchase, frequency counts the *repeat*
  purchase days, monetary value is the mean spend of those repeat days.
* BG/NBD — Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative
  to the Pareto/NBD Model", Marketing Science 24(2), 275–284: how many purchases and whether
  the customer is still alive.
* Gamma-Gamma — Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (note at
  brucehardie.com; first used in Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4)): the
  expected spend per purchase.

Models are fitted by maximum likelihood on log-parameters (so every parameter stays positive)
with ``scipy.optimize.minimize``; log-likelihoods are vectorised over customers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

TimeUnit = Literal["day", "week"]
DAYS_PER_UNIT: dict[str, float] = {"day": 1.0, "week": 7.0}
DAYS_PER_MONTH = 365.25 / 12


class CLVError(ValueError):
    """The data cannot be summarised or a model cannot be fitted to it."""


# --- RFM summary ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RFM:
    """Per-customer summary, one array entry per customer (same order as ``customers``).

    Times are in ``time_unit`` (days, or days / 7 for weeks)."""

    customers: list[Hashable]
    frequency: np.ndarray  # repeat purchase days: distinct purchase days − 1
    recency: np.ndarray  # first → last purchase
    T: np.ndarray  # first purchase → calibration end
    monetary: np.ndarray  # mean amount of the repeat purchase days (0 for one-time buyers)
    time_unit: str = "day"

    def __len__(self) -> int:
        return len(self.customers)

    @property
    def repeat_buyers(self) -> np.ndarray:
        """Mask of the customers the Gamma-Gamma model is fitted on."""
        return (self.frequency > 0) & (self.monetary > 0)


def rfm_from_transactions(
    rows: Iterable[tuple[Hashable, dt.date, float | Decimal | int]],
    *,
    calibration_end: dt.date,
    time_unit: TimeUnit = "day",
) -> RFM:
    """Summarise raw transactions; rows after ``calibration_end`` are ignored.

    Same-day purchases of one customer are summed into one purchase day, so that
    frequency = distinct purchase days − 1 and monetary = mean of the repeat days' totals
    (the first purchase day is left out of the mean, as in lifetimes'
    ``summary_data_from_transaction_data``)."""
    if time_unit not in DAYS_PER_UNIT:
        raise CLVError(f"Unknown time unit {time_unit!r}; use 'day' or 'week'.")
    per_day: dict[Hashable, dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    for customer, when, amount in rows:
        day = when.date() if isinstance(when, dt.datetime) else when
        if day > calibration_end:
            continue
        per_day[customer][day] += float(amount)

    customers = list(per_day)
    n = len(customers)
    frequency, recency, T, monetary = (np.zeros(n) for _ in range(4))
    for i, customer in enumerate(customers):
        days = sorted(per_day[customer])
        first, last = days[0], days[-1]
        frequency[i] = len(days) - 1
        recency[i] = (last - first).days
        T[i] = (calibration_end - first).days
        if len(days) > 1:
            monetary[i] = sum(per_day[customer][d] for d in days[1:]) / (len(days) - 1)
    scale = DAYS_PER_UNIT[time_unit]
    return RFM(customers, frequency, recency / scale, T / scale, monetary, time_unit)


# Log-parameters are kept within ±LOG_BOUND (about 3e-7 … 3e6). Real customer bases fit well
# inside; on small or degenerate data the likelihood keeps rising towards a limit (e.g. r, α → ∞,
# the Poisson limit), and a parameter at the bound says so instead of the search running away.
LOG_BOUND = 15.0


def _optimise(negative_ll, n_params: int) -> np.ndarray:
    """Minimise on log-parameters from log(1) = 0; returns the parameters themselves.

    Nelder-Mead needs no gradient and is robust to the likelihood's flat regions; L-BFGS-B then
    polishes the optimum so the parameters are good to well below the published precision."""
    x0 = np.zeros(n_params)
    bounds = [(-LOG_BOUND, LOG_BOUND)] * n_params
    with np.errstate(all="ignore"):
        first = minimize(
            negative_ll,
            x0,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 2000 * n_params},
        )
        polished = minimize(
            negative_ll, first.x, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-14}
        )
    best = polished if polished.fun <= first.fun else first
    if not np.all(np.isfinite(best.x)) or not np.isfinite(best.fun):
        raise CLVError("The likelihood could not be maximised on this data.")
    return np.exp(best.x)


# --- BG/NBD ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD parameters: purchase rate λ ~ Gamma(r, α), drop-out p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


def bgnbd_log_likelihood(params, frequency, recency, T) -> np.ndarray:
    """Per-customer log-likelihood, FHL (2005) eq. (6):

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + δ(x>0) · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

    It has no additive constant, so its plain sum over customers is the log-likelihood the
    paper reports (−9582.4 on CDNOW). lifetimes 0.11 keeps only ``_negative_log_likelihood_``,
    the *mean* negative log-likelihood per customer (≈ 4.0655 on CDNOW; × −2357 = −9582.4)."""
    r, alpha, a, b = params
    x, t_x = frequency, recency
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    # Alive at T: every one of the x repeat purchases was followed by "no drop-out".
    alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    # Dropped out right after the last purchase; needs x > 0 (for x = 0, b + x − 1 may be ≤ 0,
    # so the term is evaluated on a safe x and masked out).
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)
    dead = betaln(a + 1, b + x_safe - 1) - betaln(a, b) - (r + x_safe) * np.log(alpha + t_x)
    return common + np.where(repeat, np.logaddexp(alive, dead), alive)


def bgnbd_fit(rfm: RFM) -> BGNBD:
    """Maximum-likelihood BG/NBD fit on the whole customer base."""
    if len(rfm) == 0:
        raise CLVError("No customers to fit.")
    if not np.any(rfm.frequency > 0):
        raise CLVError("No repeat buyers: the BG/NBD model cannot be fitted.")
    x, t_x, T = rfm.frequency, rfm.recency, rfm.T

    def negative_ll(log_params):
        value = -bgnbd_log_likelihood(np.exp(log_params), x, t_x, T).sum()
        return value if np.isfinite(value) else np.inf

    r, alpha, a, b = _optimise(negative_ll, 4)
    ll = float(bgnbd_log_likelihood((r, alpha, a, b), x, t_x, T).sum())
    return BGNBD(float(r), float(alpha), float(a), float(b), ll)


def _dropout_odds(model: BGNBD, frequency, recency, T) -> np.ndarray:
    """δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x): the odds of "dropped out" vs "alive"."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)
    log_odds = (
        np.log(a)
        - np.log(b + x_safe - 1)
        + (r + x_safe) * (np.log(alpha + T) - np.log(alpha + t_x))
    )
    return np.where(repeat, np.exp(log_odds), 0.0)


def bgnbd_probability_alive(model: BGNBD, frequency, recency, T) -> np.ndarray:
    """P(alive | x, t_x, T), FHL (2005) appendix / Fader, Hardie & Lee (2008) note eq. (1):
    1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)). One-time buyers get exactly 1."""
    return 1.0 / (1.0 + _dropout_odds(model, frequency, recency, T))


def bgnbd_expected_purchases(model: BGNBD, t: float, frequency, recency, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units, FHL (2005) eq. (10):

    (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
    / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))

    The bracket uses Euler's transformation ₂F₁(A, B; C; z) = (1−z)^(C−A−B) ₂F₁(C−A, C−B; C; z)
    so that (1−z)^(r+x) · ₂F₁(r+x, b+x; C; z) = (1−z)^(a−1) · ₂F₁(a+b−1−r, a−1; C; z): the same
    value, but ₂F₁ no longer overflows for customers with many purchases."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    if t <= 0:
        return np.zeros_like(x)
    c = a + b + x - 1
    z = t / (alpha + T + t)
    one_minus_z = (alpha + T) / (alpha + T + t)
    bracket = 1.0 - one_minus_z ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
    return (c / (a - 1)) * bracket / (1.0 + _dropout_odds(model, x, t_x, T))


# --- Gamma-Gamma ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters: spend per purchase ~ Gamma(p, ν), ν ~ Gamma(q, γ)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float


def gamma_gamma_log_likelihood(params, frequency, monetary) -> np.ndarray:
    """Per-customer log density of the mean spend m_x over x purchases, Fader & Hardie (2013)
    eq. (4): Γ(px+q)/(Γ(px)Γ(q)) · γ^q m_x^(px−1) x^(px) / (γ + m_x x)^(px+q)."""
    p, q, gamma = params
    x, m = frequency, monetary
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )


def gamma_gamma_fit(rfm: RFM) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma fit on the repeat buyers (frequency > 0, monetary > 0)."""
    mask = rfm.repeat_buyers
    if not np.any(mask):
        raise CLVError("No repeat buyers with a positive spend: Gamma-Gamma cannot be fitted.")
    x, m = rfm.frequency[mask], rfm.monetary[mask]

    def negative_ll(log_params):
        value = -gamma_gamma_log_likelihood(np.exp(log_params), x, m).sum()
        return value if np.isfinite(value) else np.inf

    p, q, gamma = _optimise(negative_ll, 3)
    ll = float(gamma_gamma_log_likelihood((p, q, gamma), x, m).sum())
    return GammaGamma(float(p), float(q), float(gamma), ll)


def gamma_gamma_expected_spend(model: GammaGamma, frequency, monetary) -> np.ndarray:
    """E[M | p, q, γ, m_x, x] = p (γ + m_x x) / (p x + q − 1), Fader & Hardie (2013) eq. (5):
    a weighted mean of the population mean p γ / (q − 1) and the customer's own m_x. Customers
    with no repeat purchase get the population mean. Needs q > 1 (a finite population mean)."""
    if model.q <= 1:
        raise CLVError("Gamma-Gamma q ≤ 1: the expected spend is not finite.")
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.asarray(monetary, dtype=float), 0.0)
    return model.p * (model.gamma + m * x) / (model.p * x + model.q - 1)


# --- Expected revenue -----------------------------------------------------------------------


def expected_revenue(rfm: RFM, bgnbd: BGNBD, gamma_gamma: GammaGamma, *, months: int = 12):
    """Expected revenue per customer over the next ``months`` (default 12): expected purchases
    × expected average spend, undiscounted (a month is 365.25 / 12 days)."""
    t = months * DAYS_PER_MONTH / DAYS_PER_UNIT[rfm.time_unit]
    purchases = bgnbd_expected_purchases(bgnbd, t, rfm.frequency, rfm.recency, rfm.T)
    return purchases * gamma_gamma_expected_spend(gamma_gamma, rfm.frequency, rfm.monetary)


def fit(rfm: RFM) -> tuple[BGNBD, GammaGamma]:
    """Both models on one summary."""
    return bgnbd_fit(rfm), gamma_gamma_fit(rfm)
