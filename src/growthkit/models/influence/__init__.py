"""Social-graph analysis, diffusion models and influence maximization.

The graph is a :class:`~growthkit.models.influence.graph.SocialGraph`: forward and
reverse compressed sparse rows over node numbers ``0..n-1``, with the shop's own
user ids kept alongside so that every public result speaks in user ids.
"""

from growthkit.models.influence.graph import SocialGraph

__all__ = ["SocialGraph"]

# the data side: graph sources, edge probability models, graph analysis, propagation paths
from growthkit.models.influence.analysis import (
    DegreeDistribution,
    PowerLawFit,
    Spreaders,
    degree_distribution,
    fit_power_law,
    pagerank,
    referral_reach,
    spreaders,
)
from growthkit.models.influence.cascade_em import CascadeEM
from growthkit.models.influence.cascade_log import CascadeTrials, cascade_trials
from growthkit.models.influence.celf import CELF
from growthkit.models.influence.communities import Communities, louvain, modularity
from growthkit.models.influence.diffusion import DiffusionModel, SpreadEstimate, estimate_spread, exact_spread
from growthkit.models.influence.edge_prior import EdgeFeatures, LogisticBetaPrior, edge_features, fit_logistic_beta
from growthkit.models.influence.graph_sources import (
    Cascades,
    EdgeCounts,
    EdgeListError,
    graph_from_store,
    read_edge_list,
    referral_cascades,
    share_cascades,
)
from growthkit.models.influence.heuristics import DegreeDiscountSeeds, DegreeSeeds, PageRankSeeds, RandomSeeds
from growthkit.models.influence.imm import IMM, Guarantee
from growthkit.models.influence.opim import OPIMC
from growthkit.models.influence.paths import (
    LikelyPaths,
    PropagationPath,
    activation_probabilities,
    most_likely_paths,
    reach_by_community,
)
from growthkit.models.influence.probs import (
    BetaPrior,
    TruthComparison,
    compare_with_truth,
    learned,
    trivalency,
    uniform,
    weighted_cascade,
)

__all__ += [
    "BetaPrior",
    "CascadeEM",
    "CascadeTrials",
    "Cascades",
    "Communities",
    "DegreeDistribution",
    "EdgeCounts",
    "EdgeFeatures",
    "EdgeListError",
    "LikelyPaths",
    "LogisticBetaPrior",
    "PowerLawFit",
    "PropagationPath",
    "Spreaders",
    "TruthComparison",
    "activation_probabilities",
    "cascade_trials",
    "compare_with_truth",
    "degree_distribution",
    "edge_features",
    "fit_logistic_beta",
    "fit_power_law",
    "graph_from_store",
    "learned",
    "louvain",
    "modularity",
    "most_likely_paths",
    "pagerank",
    "reach_by_community",
    "read_edge_list",
    "referral_cascades",
    "referral_reach",
    "share_cascades",
    "spreaders",
    "trivalency",
    "uniform",
    "weighted_cascade",
]

# diffusion models (IC, LT) and seed selection (IMM, OPIM-C, CELF, baselines; budgets and segments)
__all__ += [
    "CELF",
    "IMM",
    "OPIMC",
    "DegreeDiscountSeeds",
    "DegreeSeeds",
    "DiffusionModel",
    "Guarantee",
    "PageRankSeeds",
    "RandomSeeds",
    "SpreadEstimate",
    "estimate_spread",
    "exact_spread",
]
