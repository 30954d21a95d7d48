"""The inputs of the viral use cases: the social graph with a probability model, candidates, costs, evaluation.

Shared by :mod:`growthkit.workflows.viral` (seeding, analysis) and
:mod:`growthkit.workflows.viral_check` (the end-to-end check on the simulator):

* :func:`load_graph`: the store's ``edges`` (:func:`~growthkit.models.influence.graph_from_store`)
  or an edge-list file, with one probability model from :data:`PROB_MODELS`;
* :func:`candidate_ids` and :func:`read_costs`: who may be seeded (a file, a saved
  segment, the users who consented to marketing) and what each costs;
* :func:`world_counts`: an independent Monte-Carlo check, one count per simulated world;
  two seed sets checked with the same ``random_state`` share their worlds (common random
  numbers), so their difference is a paired comparison;
* :func:`rr_marginal_gains`: each seed's marginal gain on fresh reverse-reachable sets.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from growthkit.config import Settings
from growthkit.errors import ConfigError, SchemaError, SourceError
from growthkit.models.influence import (
    BetaPrior,
    SocialGraph,
    SpreadEstimate,
    graph_from_store,
    learned,
    read_edge_list,
    referral_cascades,
    trivalency,
    uniform,
    weighted_cascade,
)
from growthkit.models.influence.diffusion import (
    DiffusionModel,
    check_model,
    prepare,
    resolve_n_jobs,
    seed_indices,
    simulate,
    stream_base,
)
from growthkit.models.influence.graph_sources import edge_positions
from growthkit.schema import EDGE_KINDS
from growthkit.store import Store, open_store
from growthkit.workflows.viral_learn import learn_from_cascades, read_cascade_log

log = logging.getLogger(__name__)

PROB_MODELS: tuple[str, ...] = ("uniform", "weighted-cascade", "trivalency", "learned", "cascades", "file")
"""Edge probability models: :mod:`growthkit.models.influence.probs`, ``cascades`` :mod:`.viral_learn`."""
SEGMENTS_TABLE = "segments"
Progress = Callable[[str, float], None]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_ID_HEADERS = frozenset({"user_id", "user", "id", "uid"})


def no_progress(what: str, fraction: float) -> None:
    """A progress callback that does nothing."""


@dataclass(frozen=True)
class GraphSpec:
    """Where the graph comes from and how its edges get probabilities.

    Attributes
    ----------
    kinds : tuple of str
        Edge kinds read from the store's ``edges`` table (``friend``, ``follow``, ``referral``).
    graph_file : pathlib.Path or None
        An edge list (``src dst [prob]`` per line) instead of the store.
    undirected : bool
        Read every edge-list line as a tie both ways.
    prob : str
        One of :data:`PROB_MODELS`. ``learned`` needs the store (it learns from who
        referred whom); ``cascades`` needs the store and ``cascades``; ``file`` a third column.
    p : float
        The probability of the ``uniform`` model.
    cascades : pathlib.Path or None
        A cascade log (Parquet or CSV: exposures and activations) for ``prob="cascades"``.
    """

    kinds: tuple[str, ...] = EDGE_KINDS
    graph_file: Path | None = None
    undirected: bool = False
    prob: str = "weighted-cascade"
    p: float = 0.1
    cascades: Path | None = None

    def __post_init__(self) -> None:
        if self.prob not in PROB_MODELS:
            raise ConfigError(f"prob must be one of {', '.join(PROB_MODELS)}; got {self.prob!r}")
        bad = sorted(set(self.kinds) - set(EDGE_KINDS))
        if bad or not self.kinds:
            raise ConfigError(
                f"edge kinds must be among {', '.join(EDGE_KINDS)}; got {', '.join(self.kinds) or '(none)'}"
            )
        if self.prob == "file" and self.graph_file is None:
            raise ConfigError("--prob file reads the probabilities from an edge list: give --graph FILE too")
        if self.prob == "learned" and self.graph_file is not None:
            raise ConfigError("--prob learned learns from the store's referrals; it cannot be used with --graph FILE")
        if self.prob == "cascades" and (self.cascades is None or self.graph_file is not None):
            raise ConfigError("--prob cascades learns from a cascade log on the store's graph: give --cascades FILE")
        if not 0.0 <= self.p <= 1.0:
            raise ConfigError(f"p must lie in [0, 1], got {self.p}")

    @property
    def source(self) -> str:
        """A short description of the graph's origin."""
        return f"file {self.graph_file}" if self.graph_file is not None else f"store edges ({', '.join(self.kinds)})"


@dataclass(frozen=True)
class GraphInfo:
    """Size and probabilities of the graph a use case ran on."""

    source: str
    prob: str
    n_nodes: int
    n_edges: int
    mean_prob: float

    @classmethod
    def of(cls, graph: SocialGraph, spec: GraphSpec) -> GraphInfo:
        mean = float(graph.prob.mean()) if graph.n_edges else 0.0
        return cls(spec.source, spec.prob, graph.n_nodes, graph.n_edges, mean)


def load_graph(store: Store | None, spec: GraphSpec, *, random_state: int = 0) -> tuple[SocialGraph, list[str]]:
    """The graph of ``spec`` with its probability model; returns the graph and notes on how it was built."""
    notes: list[str] = []
    if spec.graph_file is not None:
        graph = read_edge_list(spec.graph_file, undirected=spec.undirected)
    else:
        if store is None:
            raise ConfigError("the graph comes from the store's edges table: open a store (--db) or give --graph FILE")
        graph = graph_from_store(store, spec.kinds)
    if graph.n_edges == 0:
        raise SchemaError(f"the graph from {spec.source} has no edges; load the edges table or check --kinds")
    if spec.prob == "uniform":
        graph = uniform(graph, spec.p)
    elif spec.prob == "weighted-cascade":
        graph = weighted_cascade(graph)
    elif spec.prob == "trivalency":
        graph = trivalency(graph, seed=random_state)
    elif spec.prob == "learned":
        assert store is not None
        graph = learned_probabilities(store, graph, spec.kinds, notes)
    elif spec.prob == "cascades" and store is not None and spec.cascades is not None:
        fit = learn_from_cascades(store, graph, read_cascade_log(spec.cascades))
        graph = fit.graph
        notes.append(fit.note)
    elif not graph.prob.any():
        notes.append("every edge of the file has probability 0 (no third column?): nothing can spread")
    return graph, notes


def _map_nodes(ids: npt.NDArray[np.object_], into: npt.NDArray[np.object_]) -> I64:
    """Position of each of ``ids`` in ``into`` (``-1`` where absent)."""
    if into.shape[0] == 0:
        return np.full(ids.shape[0], -1, dtype=np.int64)
    keys = into.astype(str)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    want = ids.astype(str)
    pos = np.searchsorted(sorted_keys, want)
    ok = pos < sorted_keys.shape[0]
    ok[ok] = sorted_keys[pos[ok]] == want[ok]
    return np.where(ok, order[np.minimum(pos, order.shape[0] - 1)], -1).astype(np.int64)


def learned_probabilities(store: Store, graph: SocialGraph, kinds: Sequence[str], notes: list[str]) -> SocialGraph:
    """Goyal et al.'s Bernoulli probabilities learned from the store's referrals, put on ``graph``'s edges.

    Learning runs on the ``friend``/``follow`` part of ``kinds`` (referral edges exist only
    where a referral happened, so each would be a certain success; see
    :func:`~growthkit.models.influence.referral_cascades`). Edges of ``graph`` that are not
    in that part (referral-only ties) get the fitted prior's mean.
    """
    social = tuple(k for k in kinds if k != "referral") or ("friend", "follow")
    base = graph_from_store(store, social)
    trials = referral_cascades(store, base)
    if not trials.counts.exposed.any():
        raise SchemaError(
            "no signup had an earlier-joined neighbour: there is nothing to learn probabilities from; "
            "use --prob weighted-cascade or uniform"
        )
    prior = BetaPrior.fit(trials.counts)
    fitted = learned(base, trials.counts, prior=prior)
    node = _map_nodes(graph.node_ids, base.node_ids)
    src, dst = node[graph.edge_sources()], node[graph.indices]
    pos = edge_positions(base, src, dst)
    prob = np.where(pos >= 0, fitted.prob[np.maximum(pos, 0)], prior.mean)
    notes.append(
        f"learned from {int(trials.counts.exposures.sum()):,} signups next to earlier-joined neighbours on "
        f"{int(trials.counts.exposed.sum()):,} edges; prior Beta({prior.a:.3g}, {prior.b:.3g}), mean {prior.mean:.3g}"
        + (f"; {int((pos < 0).sum()):,} referral-only edges get the prior mean" if (pos < 0).any() else "")
    )
    return graph.with_prob(prob)


@contextmanager
def store_if(settings: Settings, needed: bool) -> Iterator[Store | None]:
    """The store of ``settings`` opened read-only (None when not ``needed``)."""
    if not needed:
        yield None
        return
    with open_store(settings, read_only=not settings.is_memory) as store:
        yield store


# --------------------------------------------------------------------------- candidates and costs


def _fields(line: str) -> list[str]:
    return line.split("#", 1)[0].replace(",", " ").replace(";", " ").split()


def read_ids(path: Path) -> list[str]:
    """User ids from a file: the first field of each line (CSV or plain), a ``user_id`` header skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    ids: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        f = _fields(raw)
        if not f or (number == 1 and f[0].lower() in _ID_HEADERS):
            continue
        ids.append(f[0])
    return ids


def read_costs(path: Path) -> dict[str, float]:
    """``user_id,cost`` lines (a header allowed); every bad line is named in one :class:`SchemaError`."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read costs file {path}: {exc}") from exc
    costs: dict[str, float] = {}
    problems: list[str] = []
    first = True
    for number, raw in enumerate(text.splitlines(), start=1):
        f = _fields(raw)
        if not f:
            continue
        header, first = first and f[0].lower() in _ID_HEADERS, False
        if header:
            continue
        try:
            value = float(f[1]) if len(f) == 2 else float("nan")
        except ValueError:
            value = float("nan")
        if len(f) != 2 or not math.isfinite(value) or value < 0:
            problems.append(f"line {number}: {raw.strip()!r}")
            continue
        costs[f[0]] = value
    if problems:
        shown = "; ".join(problems[:10]) + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
        raise SchemaError(f"{path}: {len(problems)} bad line(s): {shown}. Each line must be 'user_id,cost' (cost >= 0)")
    return costs


_SEGMENT_KEYS = ("name", "segment_name", "segment_id")


def _segments(store: Store) -> pd.DataFrame | None:
    """The ``segments`` table as ``user_id, name, segment_name, segment_id`` (None when the store has none).

    Read layouts: the analytics' saved segments ``(name, user_id, created_at)``, the
    segmentation workflow's (those plus ``segment_id, segment_name, method, ...``) and a
    plain ``(user_id, segment_id, segment_name)``. Missing name columns are filled from
    the others (``name`` from ``segment_name``, ``segment_name`` from ``name``, the id from
    the name).
    """
    if SEGMENTS_TABLE not in store.tables():
        return None
    t = store.ibis().table(SEGMENTS_TABLE)
    have = [c for c in _SEGMENT_KEYS if c in t.columns]
    if "user_id" not in t.columns or not {"name", "segment_name"} & set(have):
        log.warning("the segments table has no user_id and name (or segment_name) columns; ignored")
        return None
    df: pd.DataFrame = t.select(**{c: t[c].cast("string") for c in ("user_id", *have)}).execute()
    df = df.dropna(subset=["user_id"]).astype(object)
    if "name" not in df.columns:
        df["name"] = df["segment_name"]
    if "segment_name" not in df.columns:
        df["segment_name"] = df["name"]
    df["name"] = df["name"].where(df["name"].notna(), df["segment_name"])  # hand-saved rows may lack one
    df["segment_name"] = df["segment_name"].where(df["segment_name"].notna(), df["name"])
    if "segment_id" not in df.columns:
        df["segment_id"] = df["name"]
    return df


def segment_members(store: Store, name: str) -> list[str]:
    """Users of the saved segment ``name``: matched on ``name``, else ``segment_name``, else ``segment_id``."""
    df = _segments(store)
    if df is None:
        raise ConfigError(
            f"the store has no {SEGMENTS_TABLE} table, so there is no segment {name!r}; "
            "save segments first or pass the users with --candidates FILE"
        )
    for col in _SEGMENT_KEYS:
        hit = df[df[col] == name]
        if not hit.empty:
            return sorted(set(hit.user_id.astype(str)))
    known = sorted(set(df["name"].dropna().astype(str)))
    raise ConfigError(f"no segment named {name!r}; segments: {', '.join(known[:20]) or 'none'}")


def segment_labels(store: Store | None) -> pd.Series | None:
    """user id -> saved segment name(s) (``"a, b"`` for users in several), or None without a segments table."""
    df = _segments(store) if store is not None else None
    if df is None or df.empty:
        return None
    names = df.dropna(subset=["name"]).groupby("user_id")["name"]
    return names.agg(lambda s: ", ".join(sorted(set(s.astype(str))))).rename("segment")


def consented_users(store: Store) -> list[str]:
    """Users whose ``users.marketing_consent`` is true (the data contract's opt-in column)."""
    users = store.ibis().table("users")
    rows = users.filter(users.marketing_consent).select("user_id").execute()
    return sorted(str(u) for u in rows.user_id.dropna())


@dataclass(frozen=True)
class Candidates:
    """Who may be seeded: ``ids`` (None: everyone), and how the sources narrowed it down."""

    ids: list[str] | None
    notes: list[str]


def candidate_ids(
    graph: SocialGraph,
    store: Store | None,
    *,
    candidates_file: Path | None = None,
    segment: str | None = None,
    consented: bool = False,
) -> Candidates:
    """The intersection of the given sources, restricted to nodes of ``graph`` (None when no source is given)."""
    sources: list[tuple[str, list[str]]] = []
    if candidates_file is not None:
        sources.append((f"file {candidates_file}", read_ids(candidates_file)))
    if segment is not None or consented:
        if store is None:
            raise ConfigError("--segment and --consented read the store: give --db")
        if segment is not None:
            sources.append((f"segment {segment!r}", segment_members(store, segment)))
        if consented:
            sources.append(("marketing consent", consented_users(store)))
    if not sources:
        return Candidates(None, [])
    keep: set[str] | None = None
    notes = []
    for what, ids in sources:
        notes.append(f"{what}: {len(set(ids)):,} users")
        keep = set(ids) if keep is None else keep & set(ids)
    assert keep is not None
    in_graph = _map_nodes(np.asarray(sorted(keep), dtype=object), graph.node_ids) >= 0
    chosen = [u for u, ok in zip(sorted(keep), in_graph, strict=True) if ok]
    if len(chosen) < len(keep):
        notes.append(f"{len(keep) - len(chosen):,} candidate(s) have no tie in the graph and cannot be seeded")
    if not chosen:
        raise ConfigError("no candidate is a node of the graph: check the candidate sources and --kinds")
    notes.append(f"{len(chosen):,} candidate(s) in the graph")
    return Candidates(chosen, notes)


def restrict_costs(
    graph: SocialGraph, costs: dict[str, float], candidates: list[str] | None, notes: list[str]
) -> tuple[dict[str, float], list[str] | None]:
    """Costs of graph nodes only; candidates without a cost are dropped (with a note)."""
    ids = np.asarray(list(costs), dtype=object)
    known = _map_nodes(ids, graph.node_ids) >= 0 if ids.size else np.zeros(0, dtype=bool)
    kept = {str(u): costs[str(u)] for u in ids[known]}
    if (~known).any():
        notes.append(f"{int((~known).sum()):,} user(s) of the costs file are not in the graph (ignored)")
    if candidates is not None:
        priced = [u for u in candidates if u in kept]
        if len(priced) < len(candidates):
            notes.append(f"{len(candidates) - len(priced):,} candidate(s) have no cost and are left out")
        if not priced:
            raise ConfigError("no candidate has a cost in the costs file")
        return {u: kept[u] for u in priced}, priced
    if not kept:
        raise ConfigError("no user of the costs file is a node of the graph")
    return kept, None


# --------------------------------------------------------------------------- independent evaluation


def world_counts(
    graph: SocialGraph,
    seeds: Iterable[str],
    *,
    model: str = "ic",
    n_sims: int = 10_000,
    random_state: int = 12345,
    n_jobs: int = 2,
    progress: Progress = no_progress,
    chunks: int = 10,
) -> I64:
    """Active users in each of ``n_sims`` simulated worlds (IC or LT), seeds included.

    The worlds are split into ``chunks`` streams (chunk ``i`` is stream ``1000 + i`` of
    ``random_state``), so the answer depends on ``n_sims``, ``random_state`` and
    ``chunks`` only, never on ``n_jobs`` or on whether anyone watches the progress.
    """
    if n_sims < 2:
        raise ConfigError(f"the Monte-Carlo check needs at least 2 simulations, got {n_sims}")
    prep = prepare(graph, model)
    idx = seed_indices(graph, seeds)
    jobs = resolve_n_jobs(n_jobs)
    parts: list[I64] = []
    bounds = np.linspace(0, n_sims, max(1, min(chunks, n_sims // 2)) + 1).astype(int)
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        progress(f"Monte-Carlo check: {a:,} of {n_sims:,} simulations", a / n_sims)
        if idx.size == 0:
            parts.append(np.zeros(b - a, dtype=np.int64))
        else:
            parts.append(simulate(prep, idx, stream_base(random_state, 1000 + i), int(b - a), jobs))
    return np.concatenate(parts).astype(np.int64)


def spread_of(counts: npt.ArrayLike, confidence: float = 0.95) -> SpreadEstimate:
    """Mean, standard error and normal interval of per-world counts (or of paired differences)."""
    x = np.asarray(counts, dtype=np.float64)
    mean = float(x.mean())
    stderr = float(x.std(ddof=1) / math.sqrt(x.shape[0])) if x.shape[0] > 1 else 0.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    return SpreadEstimate(mean, stderr, mean - z * stderr, mean + z * stderr, int(x.shape[0]), confidence)


def rr_marginal_gains(
    graph: SocialGraph,
    seeds: Sequence[str],
    *,
    model: str = "ic",
    n_sets: int = 100_000,
    random_state: int = 54321,
    n_jobs: int = 2,
) -> F64:
    """Marginal gain of each seed in order, ``n * (sets first covered by seed i) / n_sets``, on fresh RR sets.

    An RR set is covered first by the earliest seed it contains; the gains sum to the
    RR-set estimate of the whole set's spread (Borgs et al. 2014; Tang et al. 2015).
    """
    from growthkit.models.influence.rrsets import RRSets

    check_model(model)
    k = len(seeds)
    if k == 0:
        return np.zeros(0)
    rr = RRSets(prepare(graph, model), stream_base(random_state, 7), resolve_n_jobs(n_jobs))
    rr.grow_to(max(int(n_sets), 1))
    rank = np.full(graph.n_nodes, k, dtype=np.int64)
    rank[seed_indices(graph, seeds)] = np.arange(k)
    first = np.minimum.reduceat(rank[rr.nodes], rr.set_ptr[:-1])  # every RR set holds its root
    gains: F64 = np.bincount(first[first < k], minlength=k).astype(np.float64) * graph.n_nodes / rr.n_sets
    return gains


def as_model(model: str) -> DiffusionModel:
    """``model`` checked and typed as a :data:`DiffusionModel`."""
    check_model(model)
    return cast(DiffusionModel, model)


def to_jsonable(value: Any) -> Any:
    """Plain JSON types from dataclasses' numbers (``nan``/``inf`` become None)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, Path):
        return str(value)
    return value
