"""The seeded shop simulator: a vectorised online shop whose ground truth is known.

Layer 2. It writes the canonical tables (``events``, ``users``, ``items``,
``reviews``, ``edges``) plus the ground truth that later models are scored
against (churn dates, category preferences, coupon response types and effects,
customer types, influence probabilities). Its randomised coupon campaigns come out
as experiments too: exposures and definitions for the store, and their true effect
(:mod:`growthkit.sim.campaigns`). See ``docs/simulator.md``.

Examples
--------
>>> from growthkit.sim import SimConfig, simulate
>>> data = simulate(SimConfig(users=300, days=30, seed=3))
>>> sorted(data.tables)
['edges', 'events', 'items', 'reviews', 'users']
"""

from growthkit.sim.config import COUPON_TYPES, CUSTOMER_TYPES, DEFAULT_PROMOTIONS, SimConfig
from growthkit.sim.writer import SimData, SimManifest, simulate, write_simulation

__all__ = [
    "COUPON_TYPES",
    "CUSTOMER_TYPES",
    "DEFAULT_PROMOTIONS",
    "SimConfig",
    "SimData",
    "SimManifest",
    "simulate",
    "write_simulation",
]
