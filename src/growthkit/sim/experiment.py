"""A simulated A/B test with a known true effect (layer 2: numpy and pyarrow only).

Users enter the experiment (first exposure ``t0``) uniformly over ``enroll_days``. Each user has
latent traits: a session rate ``s`` (Gamma, mean ``sessions_per_day``), a per-session purchase
probability ``q`` (Beta, mean ``purchase_prob``, at most 0.5) and a typical order value ``m``
(log-normal around ``mean_amount``). Sessions are Poisson over the pre-period
``[t0 - pre_days, t0 - 1 h)`` and the outcome period ``[t0, t0 + window_days - 1 h)``; a session
has 1 + Poisson(1.5) ``view`` events and, with probability ``q``, a ``purchase`` 5 minutes after
its start, of amount ``m`` times a log-normal factor with mean 1. Outcome-period purchases are
refunded with probability ``refund_prob`` 1 to 7 days later (uniform); pre-period purchases never are.

**Treatment.** In every non-control variation, ``q`` is multiplied by ``1 + conversion_lift``
and amounts by ``1 + amount_lift`` during the outcome period. Because of the covariate
structure (the same ``s``, ``q``, ``m`` drive both periods), CUPED has something to find.

**Truth.** :class:`ExperimentTruth` holds, for the metrics ``conversion`` (any purchase in the
window), ``orders`` (purchases), ``revenue`` (purchases minus refunds in the window) and
``revenue_per_order`` (gross amount per purchase), the expected value in control and in
treatment averaged over all simulated users given their traits, and the lifts. They are exact:
``P(any purchase) = 1 - exp(-s W q)`` for Poisson sessions, and refunds inside the window are
the same share of revenue in both arms.

Assignment is given as a function (``assign``) so the experiment layer's hashing can be used
without the simulator importing it; by default it is a seeded random draw with ``weights``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from growthkit.sim.frames import EVENTS_SCHEMA, TS

AssignFn = Callable[[npt.NDArray[np.str_]], npt.NDArray[np.int64]]
"""Maps user ids to variation indices (-1 = not in the experiment)."""

EXPOSURES_SCHEMA = pa.schema(
    [("variation", pa.string()), ("user_id", pa.string()), ("ts", TS), ("context", pa.string())]
)
_US_DAY = 86_400_000_000
_US_HOUR = 3_600_000_000
_PURCHASE_DELAY_US = 300_000_000  # 5 minutes after the session starts
_AMOUNT_SIGMA = 0.6


@dataclass(frozen=True, kw_only=True)
class ExperimentSimConfig:
    """Everything that determines a simulated experiment; same config, same data."""

    key: str = "sim-experiment"
    users: int = 20_000
    seed: int = 11
    start: date = date(2025, 3, 1)
    enroll_days: int = 14
    window_days: int = 14
    pre_days: int = 14
    variations: tuple[str, ...] = ("control", "treatment")
    weights: tuple[float, ...] | None = None
    conversion_lift: float = 0.10
    amount_lift: float = 0.0
    sessions_per_day: float = 0.3
    purchase_prob: float = 0.08
    mean_amount: float = 120.0
    refund_prob: float = 0.05

    def __post_init__(self) -> None:
        if self.users < 1 or self.enroll_days < 1 or self.window_days < 1 or self.pre_days < 1:
            raise ValueError("users, enroll_days, window_days and pre_days must be >= 1")
        if len(self.variations) < 2 or len(set(self.variations)) != len(self.variations):
            raise ValueError("give at least two distinct variations, control first")
        if self.weights is not None and (
            len(self.weights) != len(self.variations) or not np.isclose(sum(self.weights), 1.0)
        ):
            raise ValueError("weights need one value per variation and must sum to 1")
        if not -1.0 < self.conversion_lift <= 1.0 or not self.amount_lift > -1.0:
            raise ValueError("conversion_lift must be in (-1, 1] (purchase probability stays <= 1); amount_lift > -1")
        if not 0.0 < self.purchase_prob <= 0.3 or self.sessions_per_day <= 0 or self.mean_amount <= 0:
            raise ValueError("purchase_prob must be in (0, 0.3]; sessions_per_day and mean_amount > 0")
        if not 0.0 <= self.refund_prob < 1.0:
            raise ValueError("refund_prob must be in [0, 1)")

    @property
    def end(self) -> datetime:
        """When every user's outcome window is over (the analysis end)."""
        first = datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)
        return first + timedelta(days=self.enroll_days + self.window_days)


@dataclass(frozen=True)
class ExperimentTruth:
    """Expected metric values given the users' traits (see the module docstring)."""

    control: dict[str, float]
    treatment: dict[str, float]
    relative_lift: dict[str, float]
    absolute_lift: dict[str, float]


@dataclass(frozen=True)
class ExperimentSimData:
    """The simulated experiment: canonical ``events``, ``exposures`` rows and the truth."""

    config: ExperimentSimConfig
    events: pa.Table
    exposures: pa.Table
    truth: ExperimentTruth
    variation_index: npt.NDArray[np.int64] = field(repr=False)


def _sessions(
    rng: np.random.Generator, rate: npt.NDArray[np.float64], lo_us: npt.NDArray[np.int64], span_us: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Poisson sessions per user over ``[lo, lo + span)``: (user index, start time in us)."""
    counts = rng.poisson(rate * span_us / _US_DAY)
    user = np.repeat(np.arange(rate.size), counts)
    start = lo_us[user] + rng.integers(0, span_us, user.size)
    return user, start


def _refund_share_in_window(window_us: int) -> float:
    """P(refund of an outcome purchase lands inside the window): session start t ~ U(0, W - 1 h),
    purchase at t + 5 min, refund delay d ~ U(1, 7) days; P = E_d[clip((W - 5 min - d) / (W - 1 h), 0, 1)]."""
    d = 1.0 + 6.0 * (np.arange(100_000) + 0.5) / 100_000
    span = (window_us - _US_HOUR) / _US_DAY
    room = (window_us - _PURCHASE_DELAY_US) / _US_DAY - d
    return float(np.clip(room / span, 0.0, 1.0).mean())


def simulate_experiment(config: ExperimentSimConfig, *, assign: AssignFn | None = None) -> ExperimentSimData:
    """Simulate ``config``: exposures, canonical events and the true effect.

    Examples
    --------
    >>> data = simulate_experiment(ExperimentSimConfig(users=2_000, seed=3))
    >>> data.exposures.num_rows, sorted(set(data.exposures["variation"].to_pylist()))
    (2000, ['control', 'treatment'])
    >>> round(data.truth.relative_lift["orders"], 6)
    0.1
    """
    c = config
    rng = np.random.default_rng(np.random.SeedSequence(c.seed))
    n = c.users
    ids = np.array([f"u{i:07d}" for i in range(n)])
    if assign is None:
        weights = np.asarray(c.weights if c.weights is not None else [1.0 / len(c.variations)] * len(c.variations))
        vidx = rng.choice(len(c.variations), size=n, p=weights).astype(np.int64)
    else:
        vidx = np.asarray(assign(ids), dtype=np.int64)
        if vidx.shape != (n,) or vidx.max(initial=-1) >= len(c.variations):
            raise ValueError("assign must return one variation index (or -1) per user id")
    s = rng.gamma(1.5, c.sessions_per_day / 1.5, n)
    q = np.minimum(rng.beta(2.0, 2.0 / c.purchase_prob - 2.0, n), 0.5)
    m = c.mean_amount * rng.lognormal(-0.125, 0.5, n)
    start_us = int(datetime(c.start.year, c.start.month, c.start.day, tzinfo=UTC).timestamp() * 1_000_000)
    t0 = start_us + rng.integers(0, c.enroll_days * _US_DAY, n)
    treated = vidx > 0
    in_exp = vidx >= 0

    pre_span, post_span = c.pre_days * _US_DAY - _US_HOUR, c.window_days * _US_DAY - _US_HOUR
    pu, ps = _sessions(rng, np.where(in_exp, s, 0.0), t0 - c.pre_days * _US_DAY, pre_span)
    ou, os_ = _sessions(rng, np.where(in_exp, s, 0.0), t0, post_span)
    users = np.concatenate([pu, ou])
    starts = np.concatenate([ps, os_])
    post = np.concatenate([np.zeros(pu.size, bool), np.ones(ou.size, bool)])
    lift_q = np.where(post & treated[users], 1.0 + c.conversion_lift, 1.0)
    lift_a = np.where(post & treated[users], 1.0 + c.amount_lift, 1.0)
    session_no = np.arange(users.size)

    n_views = 1 + rng.poisson(1.5, users.size)
    v_sess = np.repeat(session_no, n_views)
    v_ts = starts[v_sess] + rng.integers(0, _PURCHASE_DELAY_US, v_sess.size)
    buy = rng.random(users.size) < q[users] * lift_q
    b_sess = session_no[buy]
    b_amt = np.round(
        m[users[buy]] * lift_a[buy] * rng.lognormal(-(_AMOUNT_SIGMA**2) / 2, _AMOUNT_SIGMA, b_sess.size), 2
    )
    b_ts = starts[b_sess] + _PURCHASE_DELAY_US
    refund = post[b_sess] & (rng.random(b_sess.size) < c.refund_prob)
    r_ts = b_ts[refund] + rng.integers(_US_DAY, 7 * _US_DAY, int(refund.sum()))

    ev_user = np.concatenate([users[v_sess], users[b_sess], users[b_sess[refund]]])
    ev_ts = np.concatenate([v_ts, b_ts, r_ts])
    ev_type = np.concatenate(
        [np.zeros(v_sess.size, np.int8), np.ones(b_sess.size, np.int8), np.full(r_ts.size, 2, np.int8)]
    )
    ev_sess = np.concatenate([v_sess, b_sess, np.full(r_ts.size, -1)])
    ev_amt = np.concatenate([np.full(v_sess.size, np.nan), b_amt, b_amt[refund]])
    order = np.lexsort((ev_type, ev_ts, ev_user))
    events = _events_table(ids, ev_user[order], ev_ts[order], ev_type[order], ev_sess[order], ev_amt[order])

    exp_rows = np.flatnonzero(in_exp)
    exposures = pa.table(
        {
            "variation": pa.array(np.asarray(c.variations, dtype=object)[vidx[exp_rows]].tolist(), pa.string()),
            "user_id": pa.array(ids[exp_rows].tolist(), pa.string()),
            "ts": pa.array(t0[exp_rows], pa.int64()).cast(TS),
            "context": pa.nulls(exp_rows.size, pa.string()),
        },
        schema=EXPOSURES_SCHEMA,
    )
    truth = _truth(c, s[in_exp], q[in_exp], m[in_exp], post_span)
    return ExperimentSimData(c, events, exposures, truth, vidx)


def _events_table(
    ids: npt.NDArray[np.str_],
    user: npt.NDArray[np.int64],
    ts: npt.NDArray[np.int64],
    etype: npt.NDArray[np.int8],
    sess: npt.NDArray[np.int64],
    amount: npt.NDArray[np.float64],
) -> pa.Table:
    k = user.size
    uid = pa.array(ids[user].tolist(), pa.string()) if k else pa.array([], pa.string())
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(k), pa.int64()), pa.string()), width=10, padding="0")
    sess_ids = pc.binary_join_element_wise(uid, pc.cast(pa.array(sess, pa.int64()), pa.string()), "-s")
    has_amount = ~np.isnan(amount)
    cols = {
        "event_id": pc.binary_join_element_wise("x", digits, ""),
        "user_id": uid,
        "ts": pa.array(ts, pa.int64()).cast(TS),
        "event_type": pc.take(pa.array(["view", "purchase", "refund"]), pa.array(etype.astype(np.int64))),
        "item_id": pa.nulls(k, pa.string()),
        "session_id": pc.if_else(pa.array(sess >= 0), sess_ids, pa.scalar(None, pa.string())),
        "quantity": pa.array(np.where(has_amount, 1.0, np.nan), pa.float64(), mask=~has_amount),
        "amount": pa.array(amount, pa.float64(), mask=~has_amount),
        "currency": pc.if_else(pa.array(has_amount), pa.scalar("CNY"), pa.scalar(None, pa.string())),
        "query": pa.nulls(k, pa.string()),
        "channel": pa.nulls(k, pa.string()),
        "properties": pa.nulls(k, pa.string()),
    }
    return pa.table(cols, schema=EVENTS_SCHEMA)


def _truth(
    c: ExperimentSimConfig,
    s: npt.NDArray[np.float64],
    q: npt.NDArray[np.float64],
    m: npt.NDArray[np.float64],
    post_span_us: int,
) -> ExperimentTruth:
    w = post_span_us / _US_DAY
    keep = 1.0 - c.refund_prob * _refund_share_in_window(c.window_days * _US_DAY)
    lq, la = 1.0 + c.conversion_lift, 1.0 + c.amount_lift

    def values(fq: float, fa: float) -> dict[str, float]:
        orders = s * w * q * fq
        return {
            "conversion": float(np.mean(1.0 - np.exp(-orders))),
            "orders": float(np.mean(orders)),
            "revenue": float(np.mean(orders * m * fa) * keep),
            "revenue_per_order": float(np.sum(orders * m * fa) / np.sum(orders)),
        }

    control, treatment = values(1.0, 1.0), values(lq, la)
    return ExperimentTruth(
        control=control,
        treatment=treatment,
        relative_lift={k: treatment[k] / control[k] - 1.0 for k in control},
        absolute_lift={k: treatment[k] - control[k] for k in control},
    )
