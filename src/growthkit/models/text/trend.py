"""How sentiment moves over time: mean sentiment and count per topic per week or month.

A pure aggregation over ``(timestamp, topic, sentiment)`` rows. Weeks start on
Monday (ISO), months on the 1st; timestamps are taken as UTC wall time. Rows
without a timestamp or a sentiment are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd

from growthkit.errors import ConfigError

Period = Literal["week", "month"]


@dataclass(frozen=True)
class TrendPoint:
    """One topic in one period."""

    topic: int
    period: date
    """First day of the week (Monday) or month."""
    n: int
    mean_sentiment: float


def period_start(ts: pd.Series, freq: Period) -> pd.Series:
    """The first day of the week (Monday) or month of each timestamp, as dates."""
    t = pd.to_datetime(ts, utc=True).dt.tz_localize(None)
    if freq == "month":
        start = t.dt.to_period("M").dt.start_time
    elif freq == "week":
        start = t.dt.normalize() - pd.to_timedelta(t.dt.day_of_week, unit="D")
    else:
        raise ConfigError(f"period must be 'week' or 'month', not {freq!r}")
    return start.dt.date


def sentiment_trend(
    ts: Sequence[datetime | None], topics: Sequence[int], sentiment: Sequence[float | None], *, freq: Period = "month"
) -> tuple[TrendPoint, ...]:
    """Mean sentiment and count per (topic, period), ordered by topic then period.

    Examples
    --------
    >>> pts = sentiment_trend([datetime(2025, 3, 3), datetime(2025, 3, 20), datetime(2025, 4, 1)],
    ...                       [0, 0, 0], [1.0, 0.0, -1.0])
    >>> [(p.period.isoformat(), p.n, p.mean_sentiment) for p in pts]
    [('2025-03-01', 2, 0.5), ('2025-04-01', 1, -1.0)]
    """
    if not len(ts) == len(topics) == len(sentiment):
        raise ConfigError(f"ts, topics and sentiment differ in length: {len(ts)}, {len(topics)}, {len(sentiment)}")
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(pd.Series(list(ts), dtype="object"), utc=True),
            "topic": np.asarray(topics, dtype=np.int64),
            "s": pd.to_numeric(pd.Series(list(sentiment), dtype="object")),
        }
    )
    frame = frame.dropna(subset=["ts", "s"])
    if frame.empty:
        return ()
    frame["period"] = period_start(frame["ts"], freq)
    agg = frame.groupby(["topic", "period"], sort=True)["s"].agg(["count", "mean"]).reset_index()
    return tuple(
        TrendPoint(int(topic), period, int(n), float(mean))
        for topic, period, n, mean in zip(agg["topic"], agg["period"], agg["count"], agg["mean"], strict=True)
    )
