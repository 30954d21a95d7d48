"""Customer lifetime value: who will buy again, how often, for how much, and what they are worth.

* :class:`BGNBD` (Fader, Hardie & Lee 2005) and :class:`ParetoNBD` (Schmittlein,
  Morrison & Colombo 1987): repeat purchases and "still a customer?" from each
  customer's frequency, recency and age (T);
* :class:`GammaGamma` (Fader, Hardie & Lee 2005b): expected spend per transaction;
* :func:`customer_lifetime_value`: discounted expected value over a horizon;
* :func:`holdout_check`: predicted against actual purchases in a holdout period;
* :func:`rfm_summary`: the per-customer summary the models are fit on, from purchases;
* :func:`simulate_bgnbd`, :func:`simulate_paretonbd`, :func:`simulate_spend`: data with known parameters.

See ``docs/clv.md`` for the formulas and the reproduction of the papers' CDNOW estimates.

Examples
--------
>>> from growthkit.models.clv import BGNBD, simulate_bgnbd
>>> data = simulate_bgnbd(r=0.25, alpha=4.0, a=0.8, b=2.5, durations=[39.0] * 2000, seed=0)
>>> model = BGNBD(n_starts=1).fit(data)
>>> sorted(model.params_)
['a', 'alpha', 'b', 'r']
"""

from growthkit.models.clv._optim import FitReport, StartResult
from growthkit.models.clv.bgnbd import BGNBD
from growthkit.models.clv.gammagamma import GammaGamma
from growthkit.models.clv.paretonbd import ParetoNBD
from growthkit.models.clv.simulate import cohort_durations, simulate_bgnbd, simulate_paretonbd, simulate_spend
from growthkit.models.clv.summary import RFMSummary, rfm_from_aggregates, rfm_summary
from growthkit.models.clv.value import (
    HoldoutBucket,
    HoldoutCheck,
    TransactionModel,
    customer_lifetime_value,
    holdout_check,
)

__all__ = [
    "BGNBD",
    "FitReport",
    "GammaGamma",
    "HoldoutBucket",
    "HoldoutCheck",
    "ParetoNBD",
    "RFMSummary",
    "StartResult",
    "TransactionModel",
    "cohort_durations",
    "customer_lifetime_value",
    "holdout_check",
    "rfm_from_aggregates",
    "rfm_summary",
    "simulate_bgnbd",
    "simulate_paretonbd",
    "simulate_spend",
]
