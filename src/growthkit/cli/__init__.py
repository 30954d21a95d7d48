"""Command-line interface (layer 7): a thin adapter over :mod:`growthkit.workflows`."""

import growthkit.cli.assistant  # registers growthkit assistant ask|evaluate
import growthkit.cli.copy  # registers growthkit copy generate|audience|check
import growthkit.cli.llm  # registers growthkit llm fetch|info|generate
import growthkit.cli.recommend  # registers growthkit recommend evaluate|train|for|similar
import growthkit.cli.reviews  # registers growthkit reviews evaluate|sentiment|topics
import growthkit.cli.segment  # registers growthkit segment rfm|cluster
import growthkit.cli.viral  # noqa: F401  (registers growthkit viral ... and analytics referral)
from growthkit.cli import analytics, clv, data, datasets, experiment, predict, report, sim  # noqa: F401  (register the commands)
from growthkit.cli.app import cli


def main() -> None:
    """Entry point of the ``growthkit`` console script."""
    cli(prog_name="growthkit")


__all__ = ["cli", "main"]
