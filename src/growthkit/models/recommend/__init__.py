"""Recommenders (layer 4): recall and ranking from views, carts and purchases.

Every model implements :class:`Recommender` (``fit``, ``recommend``,
``recommend_from_items``, ``similar_items``, ``score``, ``save``/``load``) and speaks the
shop's own user and item ids. Interactions come from
:func:`growthkit.features.interactions.build_interactions`.
"""

from growthkit.models.recommend.als import ALS, BPR
from growthkit.models.recommend.base import (
    Recommendations,
    Recommender,
    RecommendError,
    registered_models,
    top_k,
)
from growthkit.models.recommend.content import ContentTfidf
from growthkit.models.recommend.content_embedding import ContentEmbedding
from growthkit.models.recommend.ease import EASE
from growthkit.models.recommend.fbt import FrequentlyBoughtTogether
from growthkit.models.recommend.hybrid import Hybrid
from growthkit.models.recommend.itemknn import ItemKNN
from growthkit.models.recommend.popularity import Popularity
from growthkit.models.recommend.session import ItemTransitions, SessionKNN

__all__ = [
    "ALS",
    "BPR",
    "EASE",
    "ContentEmbedding",
    "ContentTfidf",
    "FrequentlyBoughtTogether",
    "Hybrid",
    "ItemKNN",
    "ItemTransitions",
    "Popularity",
    "RecommendError",
    "Recommendations",
    "Recommender",
    "SessionKNN",
    "registered_models",
    "top_k",
]
