"""Point-in-time features (layer 3): what each user looked like at a cutoff, and time splits.

* :func:`build_user_features` — one row per user known before a cutoff, built only from
  data strictly before it (recency, frequency, monetary value, tenure, activity per
  window, trend, category shares, price level, coupon sensitivity, sessions, social
  activity, reviews, refunds, acquisition channel, optional text signals).
* :data:`FEATURES` / :func:`describe` — what every column means, declared as data.
* :func:`split_by_time` / :class:`TimeSplit` / :func:`horizon_labels` — calibration and
  horizon periods, and the outcomes (purchases, revenue, activity, churn) in the horizon.
* :func:`user_text_embeddings` — each user's mean text embedding, for models that fit
  their own reduction.

``docs/features.md`` documents every feature for people.
"""

from growthkit.features._base import ACTIVITY_TYPES, FeatureError
from growthkit.features.catalog import FAMILIES, FEATURES, FeatureFamily, FeatureSpec, describe
from growthkit.features.split import TimeSplit, horizon_labels, split_by_time
from growthkit.features.text import user_text_embeddings
from growthkit.features.users import build_user_features

__all__ = [
    "ACTIVITY_TYPES",
    "FAMILIES",
    "FEATURES",
    "FeatureError",
    "FeatureFamily",
    "FeatureSpec",
    "TimeSplit",
    "build_user_features",
    "describe",
    "horizon_labels",
    "split_by_time",
    "user_text_embeddings",
]
