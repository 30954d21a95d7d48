"""Matrix factorisation for implicit feedback: ALS and BPR, trained by the ``implicit`` library.

Both models learn a float32 vector per user (``user_factors_``) and per item
(``item_factors_``); a user's scores are ``user_factors_[u] @ item_factors_.T``. Training
runs in ``implicit`` (``pip install growthkit[models]``), on the GPU when its CUDA build is
usable and ``use_gpu`` allows; everything after training — scoring, fold-in, similar items,
save/load — is growthkit's own NumPy code on the learned arrays, so a saved model needs neither
``implicit`` nor a GPU.

* :class:`ALS` — Hu, Koren & Volinsky (2008), "Collaborative Filtering for Implicit Feedback
  Datasets" (ICDM '08): every (user, item) cell has a preference ``p = 1`` if the user
  interacted and ``0`` otherwise, with confidence ``c = 1 + alpha * weight`` (``c = 1`` for
  cells without interaction), and the factors minimise
  ``sum c (p - x_u . y_i)^2 + regularization (|x_u|^2 + |y_i|^2)`` by alternating least squares
  (``implicit`` solves each step with the conjugate-gradient method of Takács, Pilászy &
  Tikk 2011).
* :class:`BPR` — Rendle, Freudenthaler, Gantner & Schmidt-Thieme (2009), "BPR: Bayesian
  Personalized Ranking from Implicit Feedback" (UAI '09): SGD on sampled (user, seen item,
  unseen item) triples so that seen items score higher. ``implicit`` adds an item bias: the
  last column of ``item_factors_`` is the bias and the last column of ``user_factors_`` is 1.

Fold-in (anonymous visitors, :meth:`~growthkit.models.recommend.base.Recommender.recommend_from_items`)
builds a user vector from a profile ``w`` (item weights) without refitting:

* ALS keeps the item factors ``Y`` fixed and solves its user step in closed form (Hu et al.
  2008, eq. 4): ``x = (Y^T Y + Y^T (C - I) Y + lambda I)^-1 Y^T C p`` with
  ``C = diag(1 + alpha * w)`` and ``p`` the indicator of the profile's items — the vector the
  next ALS sweep would give this user; ``O(f^2 |profile| + f^3)``, microseconds at ``f = 64``.
* BPR has no closed-form user step, and a least-squares projection onto BPR's item factors
  ranks poorly (BPR's geometry is tuned for pairwise order, not for reconstructing the profile).
  Its fold-in is the weighted mean, over the profile's items, of each item's *user centroid*
  (the mean factor vector of the training users who touched the item): the visitor is placed
  where users with the same items sit. This is growthkit's own heuristic, not from the paper.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from threadpoolctl import threadpool_limits

from growthkit.features.interactions import Interactions
from growthkit.models.recommend.base import Recommender, RecommendError

log = logging.getLogger(__name__)

_HINT = "the ALS and BPR recommenders need the 'implicit' library: pip install 'growthkit[models]'"


def _implicit() -> Any:
    try:
        import implicit  # heavy and optional: imported only when a model is fitted
        import implicit.cpu.als
        import implicit.cpu.bpr
        import implicit.gpu
        import implicit.gpu.als
        import implicit.gpu.bpr
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RecommendError(_HINT) from exc
    return implicit


def gpu_available() -> bool:
    """Whether the installed ``implicit`` can train on a GPU (its CUDA build and a device)."""
    try:
        return bool(_implicit().gpu.HAS_CUDA)
    except RecommendError:
        return False


class _Factorisation(Recommender):
    """Shared scoring, fold-in, similarity and persistence of the factor models."""

    name = "base"

    factors: int
    regularization: float
    iterations: int
    use_gpu: bool | str
    random_state: int | None
    num_threads: int
    user_factors_: NDArray[np.float32]
    item_factors_: NDArray[np.float32]

    # ---- hooks for the two models ------------------------------------------------------
    def _train(self, x: sparse.csr_matrix, gpu: bool) -> tuple[NDArray[Any], NDArray[Any]]:
        raise NotImplementedError

    def fold_in(self, profiles: sparse.csr_matrix) -> NDArray[np.float32]:
        """User vectors (rows x ``user_factors_.shape[1]``) for rows of a users x items weight matrix."""
        raise NotImplementedError

    def _prepare_fold_in(self) -> None:
        """Caches the fold-in needs (called after fit and after load)."""

    def _similarity_factors(self) -> NDArray[np.float32]:
        return self.item_factors_

    # ---- fitting ----------------------------------------------------------------------
    def _validate(self) -> None:
        for key in ("factors", "iterations", "num_threads"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise RecommendError(f"{key} must be a positive integer, got {v!r}")
        if isinstance(self.regularization, bool) or not (np.isfinite(self.regularization) and self.regularization >= 0):
            raise RecommendError(f"regularization must be a finite number >= 0, got {self.regularization!r}")
        if self.use_gpu not in (True, False, "auto"):
            raise RecommendError(f"use_gpu must be True, False or 'auto', got {self.use_gpu!r}")
        rs = self.random_state
        if rs is not None and (isinstance(rs, bool) or not isinstance(rs, int | np.integer)):
            raise RecommendError(f"random_state must be an integer or None, got {rs!r}")

    def _want_gpu(self) -> bool:
        if self.use_gpu is False:
            return False
        has = gpu_available()
        if self.use_gpu is True and not has:
            raise RecommendError(
                "use_gpu=True but implicit has no usable CUDA build here; "
                "use use_gpu='auto' or False, or install implicit's GPU build (needs rmm)"
            )
        return has

    def _fit(self, x: sparse.csr_matrix, interactions: Interactions) -> None:
        self._validate()
        _implicit()
        gpu = self._want_gpu()
        with threadpool_limits(1, "blas"):
            users, items = self._train(x, gpu)
        self.user_factors_ = np.ascontiguousarray(users, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(items, dtype=np.float32)
        self.fitted_on_gpu_ = gpu
        if not (np.all(np.isfinite(self.user_factors_)) and np.all(np.isfinite(self.item_factors_))):
            raise RecommendError(
                f"{type(self).__name__} diverged (non-finite factors); lower the learning rate or raise regularization"
            )
        self._prepare()

    def _prepare(self) -> None:
        """Caches derived from the factors (also after :meth:`load`)."""
        self._items64 = self.item_factors_.astype(np.float64)
        v = self._similarity_factors()
        norms = np.linalg.norm(v, axis=1)
        self._unit = np.divide(v, norms[:, None], out=np.zeros_like(v), where=norms[:, None] > 0).astype(np.float32)
        self._prepare_fold_in()

    # ---- scoring ----------------------------------------------------------------------
    def _score_users(self, rows: NDArray[np.int64]) -> NDArray[np.floating[Any]]:
        # float64 products rounded to float32: a user's scores do not depend on which batch
        # (matrix-vector or matrix-matrix BLAS kernel) computed them, so near-ties rank the same
        scores: NDArray[np.float32] = (self.user_factors_[rows].astype(np.float64) @ self._items64.T).astype(np.float32)
        return scores

    def _score_profiles(self, profiles: sparse.csr_matrix) -> NDArray[np.floating[Any]]:
        x = self.fold_in(sparse.csr_matrix(profiles)).astype(np.float64)
        scores: NDArray[np.float32] = (x @ self._items64.T).astype(np.float32)
        return scores

    def _similar(self, items: NDArray[np.int64]) -> NDArray[np.floating[Any]]:
        sims: NDArray[np.float32] = self._unit[items] @ self._unit.T  # cosine of the item factors
        return sims

    # ---- persistence ------------------------------------------------------------------
    def _state(self) -> dict[str, NDArray[Any]]:
        return {"user_factors": self.user_factors_, "item_factors": self.item_factors_}

    def _restore(self, state: dict[str, NDArray[Any]]) -> None:
        self.user_factors_ = np.ascontiguousarray(state["user_factors"], dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(state["item_factors"], dtype=np.float32)
        self.fitted_on_gpu_ = False
        self._prepare()


class ALS(_Factorisation):
    """Implicit-feedback matrix factorisation by alternating least squares (Hu et al. 2008).

    Parameters
    ----------
    factors
        Length of the user and item vectors.
    regularization
        L2 penalty ``lambda`` on every vector (as ``implicit`` applies it: not scaled by counts).
    alpha
        Confidence slope: a cell with interaction weight ``w`` has confidence ``1 + alpha * w``.
        Hu et al. found ``alpha = 40`` best on their TV data with raw counts; tune it on a
        validation split (the weights here already carry event-type weights and decay).
    iterations
        ALS sweeps (each solves all users, then all items).
    use_gpu
        ``"auto"`` trains on the GPU when ``implicit``'s CUDA build works here; ``True``
        requires it; ``False`` never uses it.
    random_state
        Seed of the initial factors; results are reproducible for a fixed seed and thread count.
    num_threads
        Threads of ``implicit``'s solver (BLAS stays at one thread, as ``implicit`` advises).

    Examples
    --------
    >>> import pandas as pd
    >>> from growthkit.features.interactions import Interactions
    >>> x = Interactions.from_frame(pd.DataFrame({"user_id": list("aabbc"), "item_id": list("ijijk")}))
    >>> ALS(factors=2, iterations=5).fit(x).user_factors_.shape
    (3, 2)
    """

    name = "als"

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float = 0.01,
        alpha: float = 10.0,
        iterations: int = 15,
        use_gpu: bool | str = "auto",
        random_state: int | None = 0,
        num_threads: int = 1,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.use_gpu = use_gpu
        self.random_state = random_state
        self.num_threads = num_threads

    def _validate(self) -> None:
        super()._validate()
        if isinstance(self.alpha, bool) or not (np.isfinite(self.alpha) and self.alpha >= 0):
            raise RecommendError(f"alpha must be a finite number >= 0, got {self.alpha!r}")

    def _prepare_fold_in(self) -> None:
        y = self.item_factors_.astype(np.float64)
        self._gram = y.T @ y

    def fold_in(self, profiles: sparse.csr_matrix) -> NDArray[np.float32]:
        """ALS user vectors for rows of a users x items weight matrix, item factors fixed.

        Solves ``(Y^T Y + Y^T (C - I) Y + lambda I) x = Y^T C p`` per row with
        ``C = diag(1 + alpha * w)`` and ``p`` the indicator of the row's items (Hu et al. 2008,
        eq. 4). Rows without items get the zero vector.
        """
        y = self._items64
        f = y.shape[1]
        profiles = sparse.csr_matrix(profiles)
        out = np.zeros((profiles.shape[0], f), dtype=np.float64)
        base = self._gram + float(self.regularization) * np.eye(f)
        alpha = float(self.alpha)
        for r in range(profiles.shape[0]):
            lo, hi = profiles.indptr[r], profiles.indptr[r + 1]
            if hi == lo:
                continue
            yi = y[profiles.indices[lo:hi]]
            conf = 1.0 + alpha * profiles.data[lo:hi].astype(np.float64)
            a = base + yi.T @ ((conf - 1.0)[:, None] * yi)
            out[r] = np.linalg.solve(a, yi.T @ conf)
        return out.astype(np.float32)

    def _train(self, x: sparse.csr_matrix, gpu: bool) -> tuple[NDArray[Any], NDArray[Any]]:
        implicit = _implicit()
        confidence = x.copy()
        confidence.data = (1.0 + float(self.alpha) * confidence.data).astype(np.float32)
        kwargs: dict[str, Any] = {
            "factors": int(self.factors),
            "regularization": float(self.regularization),
            "alpha": 1.0,  # implicit uses the matrix values as the confidence c itself
            "iterations": int(self.iterations),
            "random_state": self.random_state,
        }
        if gpu:
            model = implicit.gpu.als.AlternatingLeastSquares(**kwargs)
            model.fit(confidence, show_progress=False)
            model = model.to_cpu()
        else:
            model = implicit.cpu.als.AlternatingLeastSquares(num_threads=int(self.num_threads), **kwargs)
            model.fit(confidence, show_progress=False)
        return model.user_factors, model.item_factors


class BPR(_Factorisation):
    """Bayesian Personalized Ranking matrix factorisation (Rendle et al. 2009).

    Parameters
    ----------
    factors
        Length of the user and item vectors (``implicit`` adds one item-bias column).
    learning_rate
        SGD step size.
    regularization
        L2 penalty of the SGD updates.
    iterations
        Epochs (each samples about as many triples as there are interactions). The defaults
        (50 epochs at rate 0.02) matched 100 epochs at ``implicit``'s rate 0.01 on a planted
        low-rank test set at half the time; one epoch over 1M interactions with 64 factors
        takes about 0.5 s on one core.
    use_gpu, random_state
        As for :class:`ALS`.
    num_threads
        SGD threads. With more than one, updates race (Hogwild style) and results are no
        longer bit-for-bit reproducible; the default 1 is.

    Notes
    -----
    BPR learns from which items a user touched, not how strongly; interaction weights only
    weight the items of a fold-in profile.
    """

    name = "bpr"

    def __init__(
        self,
        *,
        factors: int = 64,
        learning_rate: float = 0.02,
        regularization: float = 0.01,
        iterations: int = 50,
        use_gpu: bool | str = "auto",
        random_state: int | None = 0,
        num_threads: int = 1,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.use_gpu = use_gpu
        self.random_state = random_state
        self.num_threads = num_threads

    def _validate(self) -> None:
        super()._validate()
        lr = self.learning_rate
        if isinstance(lr, bool) or not (np.isfinite(lr) and lr > 0):
            raise RecommendError(f"learning_rate must be a positive number, got {lr!r}")

    def _similarity_factors(self) -> NDArray[np.float32]:
        return self.item_factors_[:, :-1]  # without the item-bias column

    def _prepare_fold_in(self) -> None:
        seen = self.user_items_.T.tocsr()
        seen.data = np.ones_like(seen.data)
        counts = np.diff(seen.indptr).astype(np.float64)
        sums = np.asarray(seen @ self.user_factors_.astype(np.float64))
        self._centroids = np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)

    def fold_in(self, profiles: sparse.csr_matrix) -> NDArray[np.float32]:
        """BPR user vectors: the weighted mean of the profile items' user centroids.

        An item's centroid is the mean ``user_factors_`` row of the training users who touched
        it (its last entry is 1, the bias slot). Rows without items get the zero vector.
        """
        profiles = sparse.csr_matrix(profiles)
        total = np.asarray(profiles.sum(axis=1), dtype=np.float64).ravel()
        sums = np.asarray(profiles.astype(np.float64) @ self._centroids)
        mean = np.divide(sums, total[:, None], out=np.zeros_like(sums), where=total[:, None] > 0)
        out: NDArray[np.float32] = mean.astype(np.float32)
        return out

    def _train(self, x: sparse.csr_matrix, gpu: bool) -> tuple[NDArray[Any], NDArray[Any]]:
        implicit = _implicit()
        kwargs: dict[str, Any] = {
            "factors": int(self.factors),
            "learning_rate": float(self.learning_rate),
            "regularization": float(self.regularization),
            "iterations": int(self.iterations),
            "random_state": self.random_state,
        }
        if gpu:
            model = implicit.gpu.bpr.BayesianPersonalizedRanking(**kwargs)
            model.fit(x, show_progress=False)
            model = model.to_cpu()
        else:
            model = implicit.cpu.bpr.BayesianPersonalizedRanking(num_threads=int(self.num_threads), **kwargs)
            model.fit(x, show_progress=False)
        return model.user_factors, model.item_factors
