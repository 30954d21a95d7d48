"""Turning insight into reviewable actions (layer 5): audiences, offers, referral seeding, grounded copy.

* :mod:`growthkit.campaigns.copy` — marketing copy whose facts come from the catalog and
  offer records, checked for unsupported claims, banned phrases and channel rules.
"""
