"""``csmap metrics``: coverage and gap figures for the current build (docs/METRICS.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pandas as pd

from geo import registry, store
from geo.errors import CsmapError
from geo.metrics import POVERTY_AREA_THRESHOLD, MetricsResult, compute_metrics
from geo.metrics_tables import frame_records
from scripts.common import data_dir_option, resolve_data_dir

#: --sort choices: metric -> ascending? Every order puts the biggest gaps first.
SORT_ORDERS: dict[str, bool] = {
    "rank_unserved_high_poverty": True,
    "unserved_high_poverty_children": False,
    "unserved_children": False,
    "high_poverty_reach_share": True,
    "reach_share": True,
    "schools_per_10k_children": True,
    "coverage_share": True,
    "desert_counties": False,
    "community_schools": False,
    "children": False,
    "stusps": True,
    "name": True,
}

STATE_COLUMNS = [
    "stusps",
    "name",
    "coalition_status",
    "community_schools",
    "children",
    "schools_per_10k_children",
    "reach_share",
    "high_poverty_reach_share",
    "unserved_children",
    "unserved_high_poverty_children",
    "desert_counties",
    "rank_unserved_high_poverty",
    "coverage_share",
]
LOCALE_COLUMNS = [
    "locale_scheme",
    "locale_class",
    "community_schools",
    "children",
    "schools_per_10k_children",
    "reach_share",
    "high_poverty_reach_share",
    "unserved_children",
    "representation",
    "coverage_share",
]
COUNTY_COLUMNS = [
    "geoid",
    "name",
    "community_schools",
    "children",
    "reach_share",
    "unserved_children",
    "unserved_high_poverty_children",
    "nearest_school_miles",
    "is_desert",
]
NATIONAL_COLUMNS = [
    "community_schools",
    "children",
    "schools_per_10k_children",
    "children_within_reach",
    "reach_share",
    "unserved_children",
    "high_poverty_children",
    "high_poverty_reach_share",
    "unserved_high_poverty_children",
    "desert_counties",
    "schools_outside_scope",
    "public_schools",
    "coverage_share",
]

#: Every column a table may show (geo.registry): its short header, kind and dtype.
COLUMNS: dict[str, registry.Column] = {
    name: column
    for dataset in ("national", "states", "counties", "locales")
    for name, column in registry.columns_by_name(dataset).items()
}
#: Short column headers for the text tables (the JSON keeps the full names).
HEADERS = {name: c.header for name, c in COLUMNS.items() if c.header}
LEGEND = (
    "per_10k = schools per 10,000 children; reach = share of children within reach; hp = high-poverty "
    "ZCTAs; rank 1 = most unserved high-poverty children; repr = share of schools / share of children"
)


def _layer(build: Path, name: str, *, required: bool = True) -> pd.DataFrame | None:
    """Read one layer's attributes; points get lat/lon from their geometry when the columns are absent."""
    if name not in store.list_layers(build):
        if required:
            msg = f"the build in {build} has no {name!r} layer; rebuild it with 'csmap build --force'"
            raise click.ClickException(msg)
        return None
    frame = store.read_table(build, name)
    if name in ("zctas", "schools") and not {"lat", "lon"} <= set(frame.columns):
        points = store.read_layer(build, name)
        frame = pd.DataFrame(points.drop(columns="geometry")).assign(
            lat=points.geometry.y, lon=points.geometry.x
        )
    return frame


def _read_public_schools(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={"state": str, "stusps": str, "locale": str})
    except (OSError, ValueError) as exc:
        msg = f"cannot read public-schools table {str(path)!r}: {exc}"
        raise click.ClickException(msg) from exc


def _cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else ""
    kind = COLUMNS[column].kind if column in COLUMNS else None
    if kind == "share":
        return f"{value:.1%}"
    if kind in ("count", "rank"):
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def format_table(frame: pd.DataFrame, columns: list[str]) -> str:
    """Return ``frame`` as an aligned text table of the ``columns`` it has."""
    present = [c for c in columns if c in frame.columns]
    rows = [
        [_cell(c, v) for c, v in zip(present, row, strict=True)]
        for row in frame[present].astype(object).itertuples(index=False)
    ]
    headers = [HEADERS.get(c, c) for c in present]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    text_columns = {c for c in present if c in COLUMNS and COLUMNS[c].dtype == "string"}

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(w) if col in text_columns else cell.rjust(w)
            for cell, w, col in zip(cells, widths, present, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _national_text(result: MetricsResult) -> str:
    row = result.national.iloc[0]
    lines = [f"{row['name']}:"]
    lines += [f"  {c:<32} {_cell(c, row[c])}" for c in NATIONAL_COLUMNS if c in row.index]
    lines.append(
        f"Canada: {int(result.canada['community_schools'].iloc[0]):,} community schools (counted only)"
    )
    return "\n".join(lines)


def _state_text(result: MetricsResult, stusps: str) -> str:
    state = result.states[result.states["stusps"] == stusps]
    locales = result.state_locales[result.state_locales["stusps"] == stusps]
    counties = result.counties[result.counties["stusps"] == stusps]
    counties = counties.sort_values(["unserved_children", "geoid"], ascending=[False, True])
    return "\n\n".join(
        [
            format_table(state, STATE_COLUMNS),
            "Locales:\n" + format_table(locales, LOCALE_COLUMNS),
            f"Counties ({len(counties)}; most unserved children first):\n"
            + format_table(counties, COUNTY_COLUMNS),
            LEGEND,
        ]
    )


def _state_json(result: MetricsResult, stusps: str) -> dict[str, Any]:
    document = result.to_json()
    return {
        "parameters": document["parameters"],
        "state": document["states"][stusps],
        "locales": document["state_locales"][stusps],
        "counties": frame_records(result.counties[result.counties["stusps"] == stusps]),
        "deserts": [d for d in document["deserts"] if d["stusps"] == stusps],
    }


@click.command("metrics")
@data_dir_option
@click.option(
    "--reach-miles",
    type=float,
    default=None,
    help="One reach distance in miles for every locale class (default: city 1, suburb 3, town 5, rural 10).",
)
@click.option(
    "--poverty-threshold",
    type=float,
    default=POVERTY_AREA_THRESHOLD,
    show_default=True,
    help="Share below poverty at which a ZCTA counts as high-poverty.",
)
@click.option(
    "--public-schools",
    "public_schools_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV of public-school counts (state, locale, public_schools) for coverage_share.",
)
@click.option(
    "--sort",
    "sort_by",
    type=click.Choice(list(SORT_ORDERS)),
    default="rank_unserved_high_poverty",
    show_default=True,
    help="Order of the state table (biggest gaps first).",
)
@click.option("--state", "state", default=None, metavar="XX", help="Show one state's locales and counties.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the JSON document (docs/METRICS.md) instead of tables."
)
def metrics_command(
    data_dir: Path | None,
    reach_miles: float | None,
    poverty_threshold: float,
    public_schools_file: Path | None,
    sort_by: str,
    state: str | None,
    as_json: bool,
) -> None:
    """Compute coverage and gap metrics for the current build and print them.

    Tables show the nation, then every state (50 states, DC and PR) sorted by
    --sort; --state XX shows that state's locales and counties instead.
    """
    if sort_by == "coverage_share" and public_schools_file is None:
        raise click.UsageError("--sort coverage_share needs --public-schools FILE")
    try:
        build = store.current_build_dir(resolve_data_dir(data_dir))
        inputs = {name: _layer(build, name) for name in ("zctas", "schools", "states", "counties")}
        coalitions = _layer(build, "coalitions", required=False)
        public = None if public_schools_file is None else _read_public_schools(public_schools_file)
        result = compute_metrics(
            inputs["zctas"],
            inputs["schools"],
            states=inputs["states"],
            counties=inputs["counties"],
            coalitions=coalitions,
            public_schools=public,
            reach_miles=reach_miles,
            poverty_threshold=poverty_threshold,
        )
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc

    if state is not None:
        code = state.strip().upper()
        if code not in set(result.states["stusps"]):
            states_layer = inputs["states"]
            known = set() if states_layer is None else set(states_layer["stusps"].astype(str))
            why = "is a territory the metrics do not cover" if code in known else "is not a known state"
            msg = f"--state {state!r} {why}; use a USPS code of the 50 states, DC or PR"
            raise click.UsageError(msg)
        if as_json:
            click.echo(json.dumps(_state_json(result, code), indent=1, allow_nan=False))
        else:
            click.echo(_state_text(result, code))
        return
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=1, allow_nan=False))
        return
    states = result.states.sort_values(
        [sort_by, "stusps"], ascending=[SORT_ORDERS[sort_by], True], na_position="last"
    )
    reach = ", ".join(f"{k} {v:g} mi" for k, v in result.parameters["reach_miles"].items())
    click.echo(f"Reach: {reach}; high poverty: >= {poverty_threshold:.0%} below poverty")
    click.echo(_national_text(result))
    click.echo(f"\nStates, sorted by {sort_by}:")
    click.echo(format_table(states, STATE_COLUMNS))
    click.echo(LEGEND)
