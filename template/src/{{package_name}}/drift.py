"""Population Stability Index (PSI) of live inputs against the training reference.

Training stores, per feature, the edges of its bins and the share of training rows in
each bin: ten quantile bins for a number, one bin per allowed value for a category (a
category the training data never contained has a share of 0, and live values of it
are counted as unseen). At serving time each record is only copied into a ring buffer of the
last `window` records; binning and PSI are computed when Prometheus scrapes, so the
request path pays for a memory copy and nothing more.

PSI = sum over bins of (live - reference) * ln(live / reference). Rule of thumb:
< 0.1 stable, 0.1-0.25 moderate shift, > 0.25 significant drift.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

N_BINS = 10
_EPSILON = 1e-4


def quantile_edges(values: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Interior bin edges (n_bins - 1) of one feature; duplicates padded with +inf."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.full(n_bins - 1, np.inf)
    return padded(np.unique(np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1])), n_bins - 1)


def category_edges(n_categories: int) -> np.ndarray:
    """Edges between category codes (0.5, 1.5, ...): bin i holds the code i."""
    return np.arange(n_categories - 1, dtype=np.float64) + 0.5


def padded(values: Sequence[float] | np.ndarray, width: int, fill: float = np.inf) -> np.ndarray:
    """Stored edges (or fractions) back to a fixed width: +inf edges (or 0 shares) appended."""
    return np.concatenate(
        [np.asarray(values, dtype=np.float64), np.full(width - len(values), fill)]
    )


def assign_bins(matrix: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index per cell (rows x features); -1 where the value is missing."""
    bins: np.ndarray = (matrix[:, :, np.newaxis] >= edges[np.newaxis, :, :]).sum(axis=2)
    bins[np.isnan(matrix)] = -1
    return bins.astype(np.int8)


def bin_fractions(bins: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Share of non-missing values per bin, per feature (features x bins)."""
    fractions = np.zeros((bins.shape[1], n_bins))
    for feature in range(bins.shape[1]):
        column = bins[:, feature]
        counts = np.bincount(column[column >= 0], minlength=n_bins).astype(np.float64)
        total = counts.sum()
        if total > 0:
            fractions[feature] = counts / total
    return fractions


def psi(live: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """PSI per row of two (features x bins) fraction matrices."""
    live = np.clip(live, _EPSILON, None)
    reference = np.clip(reference, _EPSILON, None)
    result: np.ndarray = ((live - reference) * np.log(live / reference)).sum(axis=1)
    return result


class DriftMonitor:
    """Keeps the last `window` records and reports PSI per feature against the reference.

    The request path only copies each record into a ring buffer; binning and PSI happen
    in `scores()`, which runs when Prometheus scrapes.
    """

    def __init__(
        self,
        feature_names: Sequence[str],
        edges: np.ndarray,
        reference_fractions: np.ndarray,
        window: int = 1000,
        min_samples: int = 100,
    ) -> None:
        n_bins = edges.shape[1] + 1 if edges.ndim == 2 else 0
        if edges.shape != (len(feature_names), n_bins - 1) or n_bins < 2:
            raise ValueError(f"edges must be {len(feature_names)} x (bins - 1)")
        if reference_fractions.shape != (len(feature_names), n_bins):
            raise ValueError(f"reference fractions must be {len(feature_names)} x {n_bins}")
        self.n_bins = n_bins
        self.feature_names = tuple(feature_names)
        self.edges = edges
        self.reference = reference_fractions
        self.window = window
        self.min_samples = min_samples
        self._buffer = np.full((window, len(feature_names)), np.nan)
        self._next = 0
        self._count = 0
        self._lock = threading.Lock()

    def observe(self, matrix: np.ndarray) -> None:
        """Record a batch of records (rows x features, NaN = missing)."""
        rows = matrix[-self.window :]
        with self._lock:
            end = self._next + rows.shape[0]
            if end <= self.window:
                self._buffer[self._next : end] = rows
            else:
                split = self.window - self._next
                self._buffer[self._next :] = rows[:split]
                self._buffer[: end - self.window] = rows[split:]
            self._next = end % self.window
            self._count = min(self.window, self._count + rows.shape[0])

    @property
    def samples(self) -> int:
        """Records currently in the window."""
        return self._count

    def scores(self) -> dict[str, float] | None:
        """PSI per feature over the window, or None until `min_samples` records are in."""
        with self._lock:
            if self._count < self.min_samples:
                return None
            recent = self._buffer[: self._count].copy()
        live = bin_fractions(assign_bins(recent, self.edges), self.n_bins)
        return dict(zip(self.feature_names, psi(live, self.reference).tolist(), strict=True))
