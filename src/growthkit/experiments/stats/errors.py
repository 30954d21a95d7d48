"""Errors raised by the statistics engine."""

from __future__ import annotations

from growthkit.errors import GrowthkitError


class StatsInputError(GrowthkitError, ValueError):
    """The statistics engine was given input it cannot analyse (wrong shape, unknown option, malformed spec).

    Degenerate *data* (zero variance, too few units, a zero baseline) is not an error: it yields a
    result whose ``status`` says what happened. This error is for input that is structurally wrong.
    """
