"""Customer segmentation: RFM segments, behavioural clusters, profiles and grounded personas.

* :class:`RFMSegmenter` — recency, frequency and monetary scores 1-5 (quantile thresholds)
  and the usual named segments from a rule table declared as data (:data:`RFM_SEGMENTS`).
* :class:`BehaviourClusters` — k-means or a Gaussian mixture on standardised, log-scaled
  features, with k chosen by silhouette or BIC (kept in ``k_selection_``) and segment ids
  kept across refits by Hungarian matching of centroids (:func:`match_ids`).
* :func:`profile_segments` — size, shares of users and revenue, feature means, the
  features that set a segment apart (standardised mean difference) and top categories.
* :func:`write_personas` — a name and description per segment from a language model or the
  template backend, checked against the profile (:func:`check_grounding`), with the
  template text as the fallback and the provenance recorded.
* :func:`score_against_truth` — adjusted Rand index against known types (the simulator's).

See ``docs/segments.md``.

Examples
--------
>>> import pandas as pd
>>> X = pd.DataFrame({"recency_days": [2.0, 50, 9, 80, 30, 4], "frequency": [8, 1, 3, 0, 1, 5],
...                   "monetary_total": [640.0, 30, 150, 0, 25, 400], "has_purchased": [1, 1, 1, 0, 1, 1]},
...                  index=["u1", "u2", "u3", "u4", "u5", "u6"])
>>> rfm = RFMSegmenter().fit(X)
>>> profiles = profile_segments(X, rfm.labels_, names=rfm.segment_names_, method="rfm")
>>> [(p.name, p.users) for p in profiles][:2]
[('Champions', 2), ('Loyal', 1)]
>>> write_personas(profiles[:1], lang="zh")[0].name
'冠军客户'
"""

from growthkit.models.segment.cluster import DEFAULT_FEATURES, BehaviourClusters, default_log_features
from growthkit.models.segment.evaluate import TruthScore, adjusted_rand, score_against_truth
from growthkit.models.segment.grounding import GroundingCheck, check_grounding
from growthkit.models.segment.kselect import K_SELECTION_COLUMNS, kmeans_bic
from growthkit.models.segment.persona import Persona, persona_facts, persona_request, write_persona, write_personas
from growthkit.models.segment.persona_text import PERSONA_RENDERERS, PERSONA_TASK, render_persona
from growthkit.models.segment.profile import (
    PROFILE_FEATURES,
    CategoryStat,
    FeatureStat,
    SegmentProfile,
    profile_segments,
    profiles_frame,
)
from growthkit.models.segment.rfm import PROSPECTS, RFM_SEGMENTS, RFMRule, RFMSegmenter, segment_grid
from growthkit.models.segment.stable import IdMatch, SegmentReference, match_ids

__all__ = [
    "DEFAULT_FEATURES",
    "K_SELECTION_COLUMNS",
    "PERSONA_RENDERERS",
    "PERSONA_TASK",
    "PROFILE_FEATURES",
    "PROSPECTS",
    "RFM_SEGMENTS",
    "BehaviourClusters",
    "CategoryStat",
    "FeatureStat",
    "GroundingCheck",
    "IdMatch",
    "Persona",
    "RFMRule",
    "RFMSegmenter",
    "SegmentProfile",
    "SegmentReference",
    "TruthScore",
    "adjusted_rand",
    "check_grounding",
    "default_log_features",
    "kmeans_bic",
    "match_ids",
    "persona_facts",
    "persona_request",
    "profile_segments",
    "profiles_frame",
    "render_persona",
    "score_against_truth",
    "segment_grid",
    "write_persona",
    "write_personas",
]
