"""Descriptive growth analytics (layer 3): one module per insight, written as Ibis expressions.

See :mod:`growthkit.analytics._common` for the conventions every insight follows.
"""

from growthkit.analytics.referral import ReferralQuery, ReferralResult, run_referral

__all__ = ["ReferralQuery", "ReferralResult", "run_referral"]
