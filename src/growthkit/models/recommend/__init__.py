"""Recommenders (layer 4): recall and ranking from views, carts and purchases.

Every model implements :class:`Recommender` (``fit``, ``recommend``,
``recommend_from_items``, ``similar_items``, ``score``, ``save``/``load``) and speaks the
shop's own user and item ids. Interactions come from
:func:`growthkit.features.interactions.build_interactions`.
"""

from growthkit.models.recommend.base import (
    Recommendations,
    Recommender,
    RecommendError,
    registered_models,
    top_k,
)
from growthkit.models.recommend.popularity import Popularity

__all__ = [
    "Popularity",
    "RecommendError",
    "Recommendations",
    "Recommender",
    "registered_models",
    "top_k",
]
