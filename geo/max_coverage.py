"""Greedy maximal coverage on a 0/1 incidence matrix, with no knowledge of schools or ZCTAs.

Choose k rows of a rows × columns incidence so that the total weight of the
columns covered by at least one chosen row is as large as possible (the
*maximal covering location problem*, Church & ReVelle, 1974). Coverage is
submodular, so the greedy pick-the-largest-gain rule is within a factor
(1 - 1/e) ≈ 0.632 of the optimum (Nemhauser, Wolsey & Fisher, 1978). Gains
only shrink as rows are picked, which lets the lazy greedy "CELF" (Leskovec
et al., 2007) re-evaluate only the heap's top instead of every row.

:mod:`geo.planner` poses the Community Schools problem in these terms
(candidate sites × unserved ZCTAs, weighted by children).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from geo.errors import InvalidParameterError

logger = logging.getLogger(__name__)

METHODS = ("celf", "greedy")


def incidence_matrix(coverage: Sequence[np.ndarray], n_columns: int) -> sparse.csr_array:
    """Build the row × column 0/1 incidence (CSR) from per-row index lists.

    Parameters
    ----------
    coverage : sequence of int arrays
        ``coverage[i]`` are the columns row ``i`` covers (in the planner, the
        ZCTA positions candidate ``i`` reaches, from :func:`geo.reach.coverage_lists`).
    n_columns : int
        Number of columns.
    """
    lengths = np.fromiter((len(c) for c in coverage), dtype=np.int64, count=len(coverage))
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    indices = np.concatenate(list(coverage)).astype(np.int64) if len(coverage) else np.empty(0, np.int64)
    data = np.ones(len(indices), dtype=np.int64)
    return sparse.csr_array((data, indices, indptr), shape=(len(coverage), n_columns))


def greedy_max_coverage(
    incidence: sparse.csr_array,
    weights: np.ndarray,
    k: int,
    *,
    method: str = "celf",
    forced: Sequence[int] = (),
    excluded: Sequence[int] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Pick k rows of ``incidence`` greedily to maximize the weight of covered columns.

    Each step picks the row with the largest marginal gain (the weight of its
    not-yet-covered columns); ties go to the lowest row index, so ``"celf"``
    and ``"greedy"`` return identical picks. A row is picked at most once;
    when no row gains anything the lowest-index unpicked rows follow with 0.

    Parameters
    ----------
    incidence : scipy.sparse CSR array, shape (rows, columns)
        1 where a row covers a column (the planner: a candidate site reaches a ZCTA).
    weights : int array, shape (columns,)
        Non-negative weight per column; integers keep sums exact.
    k : int
        Number of picks, ``len(forced)`` ≤ k ≤ number of rows not excluded.
    method : {"celf", "greedy"}
        Lazy greedy with a max-heap, or plain greedy recomputing all gains.
    forced : sequence of int, optional
        Rows picked first, in the order given, whatever their gain (a planner's
        "keep this site"); the greedy then continues from what they cover.
    excluded : sequence of int, optional
        Rows never picked ("exclude this site"); disjoint from ``forced``.

    Returns
    -------
    picks, gains : int arrays of length k
        Row indices in pick order and each pick's marginal gain.
    """
    if method not in METHODS:
        msg = f"unknown method {method!r}; expected one of {METHODS}"
        raise InvalidParameterError("method", msg)
    n_rows = incidence.shape[0]
    forced_rows = np.asarray(forced, dtype=np.int64).reshape(-1)
    excluded_rows = np.asarray(excluded, dtype=np.int64).reshape(-1)
    blocked = np.zeros(n_rows, dtype=bool)
    for rows, what in ((forced_rows, "forced"), (excluded_rows, "excluded")):
        if len(rows) and (rows.min() < 0 or rows.max() >= n_rows):
            raise InvalidParameterError("k", f"{what} rows must be in 0..{n_rows - 1}, got {rows.tolist()!r}")
    if len(np.unique(forced_rows)) != len(forced_rows) or blocked[forced_rows].any():
        raise InvalidParameterError("k", f"forced rows must be distinct, got {forced_rows.tolist()!r}")
    blocked[forced_rows] = True
    if blocked[excluded_rows].any():
        raise InvalidParameterError("k", "a row cannot be both forced and excluded")
    blocked[excluded_rows] = True
    available = n_rows - int(blocked.sum())
    if not max(1, len(forced_rows)) <= k <= len(forced_rows) + available:
        msg = (
            f"k must be between {max(1, len(forced_rows))} and the number of candidates not excluded "
            f"({len(forced_rows) + available}), got {k!r}"
        )
        raise InvalidParameterError("k", msg)
    csr = incidence if isinstance(incidence, sparse.csr_array) else sparse.csr_array(incidence)
    remaining = np.array(weights, dtype=np.int64, copy=True)
    forced_gains = np.empty(len(forced_rows), dtype=np.int64)
    for step, row in enumerate(forced_rows):  # in the order given, each gaining what is left
        span = csr.indices[csr.indptr[row] : csr.indptr[row + 1]]
        forced_gains[step] = remaining[span].sum()
        remaining[span] = 0
    rest = k - len(forced_rows)
    if rest == 0:
        return forced_rows, forced_gains
    if method == "greedy":
        picks, gains = _plain_greedy(csr, remaining, rest, blocked)
    else:
        picks, gains = _celf(csr, remaining, rest, blocked=blocked)
    return np.concatenate([forced_rows, picks]), np.concatenate([forced_gains, gains])


def _plain_greedy(
    csr: sparse.csr_array, remaining: np.ndarray, k: int, blocked: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    picked = blocked.copy()  # forced and excluded rows are never (re-)picked
    picks, gains = np.empty(k, dtype=np.int64), np.empty(k, dtype=np.int64)
    for step in range(k):
        gain = csr @ remaining
        gain[picked] = -1  # never re-pick; a zero-gain row still beats a picked one
        best = int(np.argmax(gain))  # argmax returns the first maximum: lowest index wins ties
        picks[step], gains[step] = best, gain[best]
        picked[best] = True
        remaining[csr.indices[csr.indptr[best] : csr.indptr[best + 1]]] = 0
    return picks, gains


def greedy_until(
    incidence: sparse.csr_array, weights: np.ndarray, target: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pick rows greedily (CELF) until the covered weight reaches ``target``, or no row gains.

    The greedy's picks do not depend on k (each pick is the best given the earlier
    ones), so the first j picks here are :func:`greedy_max_coverage`'s for k = j, and
    the number of picks is the smallest k at which the greedy's gain reaches ``target``.

    Returns
    -------
    picks, gains : int arrays
        The picks made, in order, and their gains; when their sum is below
        ``target`` the candidates cannot reach it (every row with a gain was taken).
    """
    csr = incidence if isinstance(incidence, sparse.csr_array) else sparse.csr_array(incidence)
    remaining = np.array(weights, dtype=np.int64, copy=True)
    picks, gains = _celf(csr, remaining, csr.shape[0], stop_at=int(target))
    taken = np.flatnonzero(gains > 0)
    last = int(taken[-1]) + 1 if len(taken) else 0
    return picks[:last], gains[:last]


def _celf(
    csr: sparse.csr_array,
    remaining: np.ndarray,
    k: int,
    *,
    stop_at: int | None = None,
    blocked: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    indptr, indices = csr.indptr, csr.indices
    initial = csr @ remaining
    if blocked is not None:
        initial[blocked] = 0  # never in the heap, so never picked for a gain
    # Entries are (-gain, row, step the gain was computed at). Submodularity makes
    # every stored gain an upper bound of the current one, so the smallest entry,
    # if computed in this step, is the true maximum (and, by the (gain, row)
    # order, the lowest-index one among equals). Rows never re-evaluated are read
    # in order from `ranked` (initial gain descending, then row); re-evaluated
    # rows go to a heap. Rows that can gain nothing are left out altogether.
    positive = np.flatnonzero(initial > 0)
    ranked = positive[np.argsort(-initial[positive], kind="stable")]
    ranked_gain = initial[ranked]
    heap: list[tuple[int, int, int]] = []
    picks, gains = np.empty(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
    picked = np.zeros(len(initial), dtype=bool) if blocked is None else blocked.copy()
    step, next_ranked, evaluations, total = 0, 0, 0, 0
    while step < k:
        if next_ranked < len(ranked):
            entry = (-int(ranked_gain[next_ranked]), int(ranked[next_ranked]), 0)
            from_ranked = not heap or entry < heap[0]
        elif heap:
            from_ranked = False
        else:
            break
        if from_ranked:
            next_ranked += 1
        else:
            entry = heapq.heappop(heap)
        neg_gain, row, computed_at = entry
        span = indices[indptr[row] : indptr[row + 1]]
        if computed_at == step:
            picks[step], gains[step], picked[row] = row, -neg_gain, True
            remaining[span] = 0
            step += 1
            total += -neg_gain
            if stop_at is not None and total >= stop_at:
                return picks[:step], gains[:step]
            continue
        fresh = int(remaining[span].sum())
        evaluations += 1
        if fresh > 0:  # a row whose gain fell to 0 can never gain again: drop it
            heapq.heappush(heap, (-fresh, row, step))
    if step < k:
        # Nothing gains any more; like plain greedy, take the lowest unpicked rows.
        picks[step:] = np.flatnonzero(~picked)[: k - step]
    logger.debug(
        "CELF: %d re-evaluations for k=%d over %d rows (plain greedy: %d)",
        evaluations,
        k,
        len(initial),
        k * len(initial),
    )
    return picks, gains
