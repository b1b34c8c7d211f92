"""Baselines on the same :class:`~ranking.features.Batch` as the neural ranker.

* :class:`LogisticRanker`: the seed's formula, ``f(x, h) = sigmoid(w . [h_t; x] + b)``, trained
  with cross-entropy. ``x`` is the standardised numeric candidate and user features plus one-hot
  category and brand; ``h_t`` is the history summarised as its category histogram. Linear in
  both, it cannot express "this candidate's category is in this user's history", which is what
  the attention in :class:`~ranking.model.DINRanker` is for.

Example:
    >>> import numpy as np
    >>> from ranking.features import CandidateTable, UserContext, Vocabularies, build_batch
    >>> vocab = Vocabularies.fit(items=["a"], categories=["c"], brands=["b"], segments=[])
    >>> cands = CandidateTable(["a", "a"], ["c", "c"], ["b", "b"], np.array([0.9, 0.1]),
    ...     np.array([100, 100]), np.array([100, 100]), np.zeros(2), np.zeros(2), np.zeros(2),
    ...     np.ones(2), np.ones(2))
    >>> batch = build_batch(cands, [UserContext(hour=0, weekday=0)], vocab)
    >>> lr = LogisticRanker(vocab).fit(batch, np.array([1.0, 0.0]))
    >>> bool(lr.score(batch)[0] > lr.score(batch)[1])
    True
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from ranking.features import PAD_ID, Batch, Vocabularies

__all__ = ["LogisticRanker"]


class LogisticRanker:
    """Logistic regression over ``[h_t; x]`` (see the module doc), fitted with L-BFGS.

    Args:
        vocab: the vocabularies the batches are built with (sizes the one-hot blocks).
        l2: L2 penalty on the weights.
    """

    def __init__(self, vocab: Vocabularies, l2: float = 1e-4) -> None:
        self.n_categories = vocab.category.size
        self.n_brands = vocab.brand.size
        self.l2 = l2
        self.mean: torch.Tensor | None = None
        self.std: torch.Tensor | None = None
        self.linear: nn.Linear | None = None

    def _features(self, batch: Batch) -> torch.Tensor:
        ri = batch.request_index
        dense = torch.cat([batch.numeric, batch.user_numeric[ri]], dim=1)
        if self.mean is None or self.std is None:
            self.mean, self.std = dense.mean(dim=0), dense.std(dim=0).clamp_min(1e-6)
        dense = (dense - self.mean) / self.std
        cat = nn.functional.one_hot(batch.category, self.n_categories).float()
        brand = nn.functional.one_hot(batch.brand, self.n_brands).float()
        mask = batch.hist_mask.float()
        hist = nn.functional.one_hot(batch.hist_category, self.n_categories).float()
        hist = (hist * mask.unsqueeze(-1)).sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp_min(1)
        hist[:, PAD_ID] = 0.0
        return torch.cat([hist[ri], dense, cat, brand], dim=1)

    def fit(self, batch: Batch, labels: ArrayLike, steps: int = 200) -> LogisticRanker:
        """Fit on ``batch`` with binary ``labels`` of shape ``(n,)``; returns ``self``."""
        y = torch.as_tensor(np.asarray(labels, dtype=np.float32))
        if y.shape != (len(batch),):
            raise ValueError(f"labels must have shape ({len(batch)},), got {tuple(y.shape)}")
        self.mean = self.std = None
        x = self._features(batch)
        linear = nn.Linear(x.shape[1], 1)
        nn.init.zeros_(linear.weight)
        nn.init.zeros_(linear.bias)
        opt = torch.optim.LBFGS(linear.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            logits = linear(x).squeeze(1)
            loss = nn.functional.binary_cross_entropy_with_logits(logits, y)
            loss = loss + self.l2 * linear.weight.pow(2).sum()
            loss.backward()  # type: ignore[no-untyped-call]
            return loss

        opt.step(closure)  # type: ignore[no-untyped-call]
        self.linear = linear
        return self

    def score(self, batch: Batch) -> NDArray[np.float32]:
        """Probabilities, shape ``(n,)``."""
        if self.linear is None:
            raise RuntimeError("LogisticRanker.score before fit")
        with torch.inference_mode():
            out: NDArray[np.float32] = torch.sigmoid(
                self.linear(self._features(batch)).squeeze(1)
            ).numpy()
        return out
