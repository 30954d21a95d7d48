"""Descriptive growth analytics (layer 3): one module per insight, written as Ibis expressions.

See :mod:`growthkit.analytics._common` for the conventions every insight follows.
"""
