"""What the text models share: the embedder they fit with."""

from __future__ import annotations

import copy

from growthkit.text.embed import Embedder, TfidfEmbedder


def fitted_embedder(
    embedder: Embedder | None,
    docs: list[str],
    *,
    dim: int,
    random_state: int,
    ngram_range: tuple[int, int] = (1, 3),
) -> Embedder:
    """The embedder a model uses on ``docs``.

    ``None`` gives a character ``ngram_range`` TF-IDF + SVD of ``dim`` dimensions fitted on ``docs``; an
    unfitted :class:`TfidfEmbedder` is fitted on them as a copy (the estimator's
    parameter stays as given); any other embedder (a pretrained model) is used as it is.
    """
    if embedder is None:
        return TfidfEmbedder(dim=dim, ngram_range=ngram_range, random_state=random_state).fit(docs)
    if isinstance(embedder, TfidfEmbedder) and not embedder.fitted_:
        return copy.deepcopy(embedder).fit(docs)
    return embedder
