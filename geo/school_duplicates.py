"""Duplicate rows of a school list: the same NCES ID, or the same normalized name and ZIP (issue #3).

:func:`duplicate_groups` links the rows into groups; :func:`merge_duplicates`
fills each group's first row from the later rows' values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def duplicate_groups(frame: pd.DataFrame, eligible: np.ndarray) -> np.ndarray:
    """Return, for each row, the position of the row it merges into (itself when unique).

    Rows are linked by the same NCES ID or the same normalized name and
    5-digit ZIP; links are transitive (connected components), and each group
    is represented by its first row. Rows not ``eligible`` stay alone.
    """
    n = len(frame)
    rows = np.arange(n)
    name_zip = frame["name_norm"] + "|" + frame["zip"]
    keys = (
        frame["nces_id"].where(frame["nces_id"] != ""),
        name_zip.where((frame["zip"] != "") & (frame["name"] != "")),
    )
    sources, targets = [rows], [rows]
    for key in keys:
        key = key.where(eligible)
        codes, _ = pd.factorize(key, use_na_sentinel=True)
        valid = codes >= 0
        if not valid.any():
            continue
        # The first row of each key: rows are in order, so np.unique's first index is the smallest.
        _, first_index = np.unique(codes[valid], return_index=True)
        first = rows[valid][first_index][np.unique(codes[valid], return_inverse=True)[1]]
        linked = first != rows[valid]
        if linked.any():
            sources.append(rows[valid][linked])
            targets.append(first[linked])
    if len(sources) == 1:
        return rows
    src, dst = np.concatenate(sources), np.concatenate(targets)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    # Each component's smallest row represents it.
    smallest = np.full(label.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, label, rows)
    representative: np.ndarray = smallest[label]
    return representative


def merge_duplicates(frame: pd.DataFrame, representative: np.ndarray) -> pd.DataFrame:
    """Return ``frame`` with each group's first row filled from the later rows' values."""
    grouped = representative != np.arange(len(frame))
    if not grouped.any():
        return frame
    in_group = np.isin(representative, representative[grouped])
    members = frame[in_group].replace("", pd.NA)
    # Coordinates fill as a pair: never a latitude from one row and a longitude from another.
    complete = members["lat"].notna() & members["lon"].notna()
    pair = (members["lat"].fillna("") + "\x1f" + members["lon"].fillna("")).where(complete)
    members = members.assign(lat=pair, lon=pd.NA)
    filled = members.groupby(representative[in_group], sort=True).first()
    # A group with no complete pair keeps its first row's (incomplete) coordinates, to be reported.
    kept = frame.iloc[filled.index.to_numpy()]
    fallback = (kept["lat"] + "\x1f" + kept["lon"]).to_numpy()
    filled["lat"] = filled["lat"].fillna(pd.Series(fallback, index=filled.index))
    lat_lon = filled["lat"].str.split("\x1f", n=1, expand=True)
    filled["lat"], filled["lon"] = lat_lon[0], lat_lon[1]
    out = frame.copy()
    out.iloc[filled.index.to_numpy()] = filled[frame.columns].fillna("").astype("str").to_numpy()
    return out
