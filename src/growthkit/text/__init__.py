"""The AI seam (layer 1): text generation and text embeddings behind small protocols.

* :mod:`growthkit.text.llm` — text generation behind the ``TextGenerator`` protocol.
* :mod:`growthkit.text.embed` — the :class:`~growthkit.text.embed.Embedder` protocol
  (``embed(texts) -> float32 array (n, dim)``) and its backends.

Backends import their heavy dependencies lazily, so importing this package is cheap.
"""
