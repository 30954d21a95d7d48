"""Social-graph analysis, diffusion models and influence maximization.

The graph is a :class:`~growthkit.models.influence.graph.SocialGraph`: forward and
reverse compressed sparse rows over node numbers ``0..n-1``, with the shop's own
user ids kept alongside so that every public result speaks in user ids.
"""

from growthkit.models.influence.graph import SocialGraph

__all__ = ["SocialGraph"]
