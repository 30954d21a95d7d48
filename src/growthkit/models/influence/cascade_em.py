"""Calibrated independent-cascade probabilities from logged cascades: EM with credit splitting and an edge prior.

Model (independent cascade, Kempe, Kleinberg and Tardos, KDD 2003): every exposure
``u -> v`` of a still-inactive ``v`` succeeds with probability ``p_uv``, independently;
in addition, any user may activate on their own (another channel) with a small
probability ``lambda`` per credit window. An activation with credit set ``E_k`` (the
exposures in the window before it, :mod:`.cascade_log`) has probability

    P_k = 1 - (1 - lambda) * prod_{e in E_k} (1 - p_e),

and a failed trial has probability ``1 - p_e``. Which exposure caused an activation
is not observed, so the probabilities are fitted by the EM algorithm of Saito, Nakano
and Kimura ("Prediction of information diffusion probabilities for independent cascade
model", KES 2008):

* E-step: trial ``e`` of activation ``k`` succeeded with posterior probability
  ``p_e / P_k`` (and the background with ``lambda / P_k``);
* M-step: ``p_e = (s_e + kappa mu_e) / (n_e + kappa)`` with ``s_e`` the expected
  successes and ``n_e`` the trials of edge ``e``: the posterior mean under the
  logistic-Beta prior of :mod:`.edge_prior`, whose coefficients and strength are
  refitted by empirical Bayes from ``(s_e, n_e)`` between runs of EM steps (an ECM
  scheme, Meng and Rubin, Biometrika 1993);
  ``lambda`` = expected background activations / user-windows watched.

With ``kappa -> 0`` this is Saito et al.'s maximum-likelihood EM; the prior keeps
sparsely observed edges near what their features predict and gives never-exposed edges
exactly that prediction. The activations with no exposure at all (seeds, other
channels) are kept out of the edges' credit: counting them, or counting only successful
propagations, is what makes simpler estimates miscalibrated.

Assumptions: one trial per edge and cascade; an activation can only be caused by
exposures in the window before it (the log must give exposures a window of follow-up,
or mark its end with ``observed_until``); edges are independent given their features.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from growthkit.errors import NotFittedError, SchemaError
from growthkit.models.influence.cascade_log import CascadeTrials, cascade_trials
from growthkit.models.influence.edge_prior import EdgeFeatures, LogisticBetaPrior, fit_logistic_beta
from growthkit.models.influence.graph import SocialGraph

__all__ = ["CascadeEM"]

logger = logging.getLogger(__name__)
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_P_MAX = 1.0 - 1e-9
_INNER = 50  # EM steps per refit of the prior


class CascadeEM:
    """Edge probabilities of the independent cascade model, learned from a log of exposures and activations.

    Parameters
    ----------
    window
        Credit window: how long after an exposure an activation can be caused by it
        (used when ``fit`` gets a raw log).
    prior
        ``"logistic"``: the Beta prior's mean is logistic in the edge features given to
        ``fit`` (intercept only without features); ``"none"``: maximum likelihood
        (Saito et al. 2008), never-exposed edges get the pooled success rate.
    background
        Learn a background activation rate and let it take its share of the credit;
        ``False`` credits every exposed activation to the exposures.
    max_iter, tol
        EM stops after ``max_iter`` EM steps in all, or when a refit of the prior and
        the EM steps after it move no probability by more than ``tol``.
    min_strength, max_strength
        Bounds on the prior's strength ``kappa`` (in trials).
    ridge
        L2 penalty on the prior's standardised slopes.

    Attributes
    ----------
    trials_ : CascadeTrials
        The trials read from the log.
    prob_ : ndarray
        Learned probability of each forward edge (aligned with ``graph.indices``).
    graph_ : SocialGraph
        The graph with ``prob_``.
    prior_ : LogisticBetaPrior
        The fitted prior; ``prior_mean_`` its mean per edge.
    background_ : float
        Background activation probability per user and credit window.
    expected_successes_ : ndarray
        ``s_e`` of the last E-step.
    log_likelihood_ : float
        Observed-data log-likelihood of the trials under ``prob_`` and ``background_``.
    n_iter_, converged_, fit_seconds_
        EM iterations run, whether ``tol`` was reached, wall time.
    features_ : EdgeFeatures or None
        The features the prior was fitted on (kept for :meth:`bootstrap`).

    Examples
    --------
    >>> g = SocialGraph.from_edges(["a", "a", "b"], ["b", "c", "c"])
    >>> log = {"cascade_id": [1, 1, 1, 1, 2, 2, 2],
    ...        "event": ["activation", "exposure", "exposure", "activation",
    ...                  "activation", "exposure", "exposure"],
    ...        "user_id": ["a", "b", "c", "b", "a", "b", "c"],
    ...        "src_user": [None, "a", "a", None, None, "a", "a"],
    ...        "ts": [0, 10, 10, 20, 0, 10, 10], "observed_until": [100] * 7}
    >>> em = CascadeEM(window=timedelta(microseconds=30), prior="none").fit(g, log)
    >>> em.prob_.round(3).tolist()   # a->b worked once in two tries, a->c never; b->c never tried
    [0.5, 0.0, 0.25]
    """

    def __init__(
        self,
        *,
        window: timedelta = timedelta(days=1),
        prior: str = "logistic",
        background: bool = True,
        max_iter: int = 500,
        tol: float = 1e-5,
        min_strength: float = 0.5,
        max_strength: float = 1e4,
        ridge: float = 1e-2,
    ) -> None:
        self.window = window
        self.prior = prior
        self.background = background
        self.max_iter = max_iter
        self.tol = tol
        self.min_strength = min_strength
        self.max_strength = max_strength
        self.ridge = ridge

    def _validate(self) -> None:
        if self.prior not in ("logistic", "none"):
            raise SchemaError(f"prior must be 'logistic' or 'none', got {self.prior!r}")
        if self.max_iter < 1:
            raise SchemaError(f"max_iter must be >= 1, got {self.max_iter}")
        if not self.tol > 0:
            raise SchemaError(f"tol must be positive, got {self.tol}")
        if not 0 < self.min_strength <= self.max_strength:
            raise SchemaError(f"need 0 < min_strength <= max_strength, got {self.min_strength} and {self.max_strength}")
        if self.ridge < 0:
            raise SchemaError(f"ridge must be >= 0, got {self.ridge}")

    def fit(self, graph: SocialGraph, cascades: Any, features: EdgeFeatures | None = None) -> CascadeEM:
        """Learn the probabilities of ``graph``'s edges.

        Parameters
        ----------
        graph
            The social graph (its own probabilities are ignored).
        cascades
            A :class:`~.cascade_log.CascadeTrials` of this graph, or a cascade log
            for :func:`~.cascade_log.cascade_trials` (read with ``window``).
        features
            Edge covariates for the prior (:func:`~.edge_prior.edge_features`); only
            with ``prior="logistic"``.
        """
        self._validate()
        t0 = time.perf_counter()
        trials = (
            cascades if isinstance(cascades, CascadeTrials) else cascade_trials(graph, cascades, window=self.window)
        )
        if trials.n_edges != graph.n_edges:
            raise SchemaError(f"trials cover {trials.n_edges} edges, the graph has {graph.n_edges}; read them together")
        if features is not None and features.n_edges != graph.n_edges:
            raise SchemaError(f"features cover {features.n_edges} edges, the graph has {graph.n_edges}")
        if self.prior == "none" and features is not None:
            raise SchemaError("features shape the prior; pass prior='logistic' or no features")
        if not (trials.trials > 0).any():
            raise SchemaError(
                "no edge of the graph was tried in the log; check that the log's user ids are the graph's"
            )
        fit = self._em(trials, np.ones(trials.cascades), features, None, self.tol)
        self.trials_ = trials
        self.features_ = features
        self.prob_ = fit.prob
        self.prior_ = fit.prior
        self.prior_mean_ = fit.prior_mean
        self.background_ = fit.background
        self.expected_successes_ = fit.successes
        self.log_likelihood_ = fit.log_likelihood
        self.n_iter_ = fit.n_iter
        self.converged_ = fit.converged
        self.graph_ = graph.with_prob(fit.prob)
        self.fit_seconds_ = time.perf_counter() - t0
        if not fit.converged:
            logger.warning("CascadeEM: no convergence in %d iterations", fit.n_iter)
        return self

    def bootstrap(self, n_draws: int = 20, *, random_state: int = 0, tol: float | None = None) -> Iterator[F64]:
        """Probabilities refitted on reweighted cascades, one array per draw.

        A Bayesian bootstrap over cascades (Rubin, "The Bayesian bootstrap", Annals of
        Statistics 1981: each cascade weighs an Exp(1) draw, normalised to mean 1): the
        spread over the draws of any quantity computed from them (an expected spread, a
        margin between seed sets) is its estimation uncertainty, the prior's and the
        background's included. Each refit starts from the fitted solution and stops at
        ``tol`` (default: the estimator's).
        """
        self._check()
        if n_draws < 1:
            raise SchemaError(f"n_draws must be >= 1, got {n_draws}")
        rng = np.random.default_rng(random_state)
        for _ in range(n_draws):
            w = rng.exponential(1.0, self.trials_.cascades)
            weights = w * (w.size / max(float(w.sum()), 1e-12))
            yield self._em(self.trials_, weights, self.features_, self, tol or self.tol).prob

    def _em(
        self, trials: CascadeTrials, weights: F64, features: EdgeFeatures | None, start: CascadeEM | None, tol: float
    ) -> _Fit:
        m = trials.n_edges
        fails, act_w = trials.weighted(weights)
        ce, ptr = trials.credit_edge, trials.credit_ptr
        sizes = np.diff(ptr)
        edge_w = np.repeat(act_w, sizes)
        n_trials = fails + np.bincount(ce, weights=edge_w, minlength=m)
        windows = float(weights @ trials.user_windows)
        outside = float(weights @ trials.external)
        learn_bg = self.background and windows > 0
        prior: LogisticBetaPrior | None = None
        if start is not None:
            p, lam, prior = start.prob_.copy(), start.background_, start.prior_
        else:
            lam = min(outside / windows, 0.5) if learn_bg else 0.0
            hits = np.bincount(ce, weights=edge_w, minlength=m)
            pooled = float(hits.sum() / max(float(n_trials.sum()), 1e-12))
            p = np.where(n_trials > 0, (hits + pooled) / (n_trials + 1.0), pooled)
        s, bg = _e_step(p, lam, ce, ptr, sizes, act_w, m)
        mu = p
        converged = False
        it = 0
        # ECM (Meng and Rubin 1993): refit the prior on the current expected successes, then run
        # EM steps for the edges (and the background) under that prior until they settle
        for _ in range(self.max_iter):
            if self.prior == "logistic":
                prior = fit_logistic_beta(
                    s, n_trials, features, ridge=self.ridge, min_strength=self.min_strength,
                    max_strength=self.max_strength, start=prior,
                )  # fmt: skip
                mu = prior.mean(features, m)
            p_outer = p
            for _inner in range(_INNER):
                it += 1
                if self.prior == "logistic" and prior is not None:
                    new = (s + prior.strength * mu) / (n_trials + prior.strength)
                else:
                    mu = np.full(m, float(s.sum() / max(float(n_trials.sum()), 1e-12)))
                    new = np.where(n_trials > 0, s / np.maximum(n_trials, 1e-12), mu)
                new = np.clip(new, 0.0, _P_MAX)
                delta = float(np.abs(new - p).max()) if p.size else 0.0
                p = new
                s, bg = _e_step(p, lam, ce, ptr, sizes, act_w, m)
                if learn_bg:
                    lam = float(min((bg + outside) / windows, 0.5))
                if delta < tol or it >= self.max_iter:
                    break
            outer_delta = float(np.abs(p - p_outer).max()) if p.size else 0.0
            if outer_delta < tol:
                converged = True
                break
            if it >= self.max_iter:
                break
        if prior is None or self.prior == "none":
            mean = float(mu[0]) if m else 0.0
            prior = LogisticBetaPrior((), float(np.log(max(mean, 1e-12) / max(1.0 - mean, 1e-12))), np.zeros(0), 0.0)
        ll = _log_likelihood(p, lam, fails, ce, ptr, act_w)
        return _Fit(p, prior, mu, lam, s, ll, it, converged)

    def _check(self) -> None:
        if not hasattr(self, "prob_"):
            raise NotFittedError("CascadeEM is not fitted yet; call fit(graph, cascades) first")

    def score(self, cascades: CascadeTrials | Any, graph: SocialGraph | None = None) -> float:
        """Log-likelihood of other cascades (held out) under the fitted probabilities, per trial.

        ``cascades`` is a :class:`~.cascade_log.CascadeTrials` of the fitted graph, or
        a log (read against ``graph``, default the fitted one). Higher is better; use it
        to compare settings (window, prior, features) on cascades not used for fitting.
        """
        self._check()
        g = graph if graph is not None else self.graph_
        t = cascades if isinstance(cascades, CascadeTrials) else cascade_trials(g, cascades, window=self.window)
        if t.n_edges != self.prob_.shape[0]:
            raise SchemaError(f"trials cover {t.n_edges} edges, the fitted graph has {self.prob_.shape[0]}")
        fails, act_w = t.weighted(np.ones(t.cascades))
        ll = _log_likelihood(self.prob_, self.background_, fails, t.credit_edge, t.credit_ptr, act_w)
        return ll / max(int(t.trials.sum()), 1)


@dataclass(frozen=True)
class _Fit:
    prob: F64
    prior: LogisticBetaPrior
    prior_mean: F64
    background: float
    successes: F64
    log_likelihood: float
    n_iter: int
    converged: bool


def _e_step(p: F64, lam: float, ce: I64, ptr: I64, sizes: I64, act_w: F64, m: int) -> tuple[F64, float]:
    """Expected successes per edge and expected background activations (weighted by cascade)."""
    if ce.size == 0:
        return np.zeros(m), 0.0
    log_fail = np.add.reduceat(np.log1p(-p[ce]), ptr[:-1])
    big_p = np.maximum(1.0 - (1.0 - lam) * np.exp(log_fail), 1e-300)
    share = np.minimum(p[ce] / np.repeat(big_p, sizes), 1.0) * np.repeat(act_w, sizes)
    succ = np.bincount(ce, weights=share, minlength=m).astype(np.float64)
    return succ, float((act_w * lam / big_p).sum())


def _log_likelihood(p: F64, lam: float, fails: F64, ce: I64, ptr: I64, act_w: F64) -> float:
    """Observed-data log-likelihood: failed trials, and one term per credited activation."""
    ll = float((fails * np.log1p(-np.minimum(p, _P_MAX))).sum())
    if ce.size:
        log_fail = np.add.reduceat(np.log1p(-p[ce]), ptr[:-1])
        ll += float((act_w * np.log(np.maximum(1.0 - (1.0 - lam) * np.exp(log_fail), 1e-300))).sum())
    return ll
