"""growthkit: an open-source growth engine for e-commerce.

The growth loop: shop data -> understanding -> action -> measurement.
Start with :mod:`growthkit.workflows` (what the CLI calls) or the
``growthkit`` command.
"""

__version__ = "0.1.0"
