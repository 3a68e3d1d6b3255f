"""A state's figures beside the nation's, and its rank (geo.compare)."""

from __future__ import annotations

from geo.compare import rank_of, state_comparison

STATES = {
    "AA": {"reach_share": 0.5, "community_schools": 10, "children": 100},
    "BB": {"reach_share": 0.7, "community_schools": 10, "children": 300},
    "CC": {"reach_share": 0.2, "community_schools": 3, "children": None},
    "DD": {"reach_share": None, "community_schools": 0, "children": 50},
}
NATIONAL = {"reach_share": 0.45, "community_schools": 23, "children": 450}


def test_rank_is_one_for_the_highest_and_ties_share_the_better_rank():
    assert rank_of(STATES, "BB", "reach_share") == (1, 3)
    assert rank_of(STATES, "CC", "reach_share") == (3, 3)
    assert rank_of(STATES, "AA", "community_schools") == (1, 4)
    assert rank_of(STATES, "BB", "community_schools") == (1, 4)
    assert rank_of(STATES, "CC", "community_schools") == (3, 4)


def test_a_missing_value_has_no_rank_and_is_not_counted():
    assert rank_of(STATES, "DD", "reach_share") == (None, 3)
    assert rank_of(STATES, "CC", "children") == (None, 3)


def test_comparison_carries_state_national_and_rank_for_present_keys():
    rows = state_comparison(STATES, NATIONAL, "AA", ["reach_share", "children", "not_a_metric"])
    assert [r.key for r in rows] == ["reach_share", "children"]
    share, children = rows
    assert (share.value, share.national, share.rank, share.of) == (0.5, 0.45, 2, 3)
    assert (children.value, children.national, children.rank, children.of) == (100.0, 450.0, 2, 3)


def test_comparison_on_a_real_build_ranks_every_state_among_52(built_data_dir):
    import json

    from geo import store

    document = json.loads((store.current_build_dir(built_data_dir) / "metrics.json").read_text())
    states, national = document["states"], document["national"]
    assert len(states) == 52
    ranks = sorted(state_comparison(states, national, code, ["children"])[0].rank for code in states)
    assert ranks == list(range(1, 53))  # 52 distinct child counts: a permutation of 1..52
    ohio = {r.key: r for r in state_comparison(states, national, "OH")}
    assert ohio["children"].national == national["children"]
    assert ohio["reach_share"].of == 52
