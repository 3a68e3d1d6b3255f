"""Schemathesis hooks for tests/webmap/test_conformance.py (loaded through SCHEMATHESIS_HOOKS).

OpenAPI 3.0 describes each parameter alone; it has no way to say that two of
them exclude each other. The documents state these rules in words, and the
server answers a request that breaks one with a 400 naming the parameter; the
hooks below keep Schemathesis from calling such a request "schema-valid".
Each rule is quoted from the parameter's description in the document.
"""

from __future__ import annotations

import schemathesis


@schemathesis.hook
def filter_query(ctx, query):
    """Drop a query that breaks a rule between parameters or numbers.

    * ``k`` with ``site``: "With site, k must be omitted" (GET /api/plan, /plan.*);
    * a ``bbox`` whose south edge is above its north edge: "with minLat <= maxLat".
    """
    if not query:
        return True
    if query.get("site") and "k" in query:
        return False
    bbox = query.get("bbox")
    return not (isinstance(bbox, str) and len(bbox.split(",")) in (4, 6) and _south_above_north(bbox))


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Every phase (coverage too, which no filter sees): send no ``k`` with a ``site``.

    And no ``keep`` / ``exclude`` in a request meant to be valid: "Ids that are not candidates
    in the scope are refused (400, naming them)" (GET /api/plan, /plan.*). Which five-digit
    codes are candidates depends on the scope and the build, which no schema can list; the
    ids are tested against the build in tests/webmap/test_plan_modes.py.
    """
    if case.query and case.query.get("site") and "k" in case.query:
        del case.query["k"]
    if case.query and _is_positive(case):
        for name in ("keep", "exclude"):
            case.query.pop(name, None)


def _is_positive(case) -> bool:
    meta = getattr(case, "meta", None)
    generation = getattr(meta, "generation", None)
    mode = getattr(generation, "mode", None)
    return mode is None or bool(getattr(mode, "is_positive", True))


@schemathesis.hook
def before_add_examples(ctx, examples):
    """The examples phase joins every parameter's example: drop its ``k`` where it has a ``site``."""
    for case in examples:
        if case.query and case.query.get("site") and "k" in case.query:
            del case.query["k"]


def _south_above_north(bbox: str) -> bool:
    numbers = bbox.split(",")
    south, north = (numbers[1], numbers[4]) if len(numbers) == 6 else (numbers[1], numbers[3])
    try:
        return float(south) > float(north)
    except ValueError:
        return False  # not a bbox at all: a negative case, kept
