"""``csmap plan``: where k new Community Schools would reach the most unserved children.

Reads the current build (ZCTAs and existing schools), runs the greedy
maximal-coverage planner (:mod:`geo.planner`), prints a table or JSON, and
writes the plan as GeoJSON, CSV and JSON into ``--out`` (default ``./plans``;
builds are immutable and pruned, so plans are never written into them).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click
import pandas as pd

from geo import store
from geo.errors import CsmapError, InvalidParameterError
from geo.plan_files import plan_csv, plan_geojson
from geo.planner import OBJECTIVES, Plan, plan_sites, what_if
from geo.planner_build import add_build_facts, build_planner_options
from geo.reach import LOCALE4
from scripts.common import data_dir_option, resolve_data_dir

logger = logging.getLogger(__name__)

#: The planner's parameter names and the options that set them, for usage errors.
OPTION_FOR_PARAMETER = {
    "k": "--k",
    "state": "--state",
    "objective": "--objective",
    "poverty_threshold": "--poverty-threshold",
    "reach_miles": "--reach",
    "candidates": "--candidates",
}
DEFAULT_OUT = Path("plans")


def parse_reach(text: str | None) -> dict[str, float] | float | None:
    """Parse ``--reach``: one number of miles for every class, or ``city=1,rural=12``."""
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        pass
    table = {}
    for part in text.split(","):
        name, sep, miles = part.partition("=")
        name = name.strip().lower()
        try:
            value = float(miles)
        except ValueError:
            value = None
        if not sep or name not in LOCALE4 or value is None:
            classes = ", ".join(LOCALE4)
            msg = f"expected MILES or CLASS=MILES,... with CLASS one of {classes}; got {part.strip()!r}"
            raise click.BadParameter(msg, param_hint="--reach")
        table[name] = value
    return table


def _load_build(data_dir: Path | None) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], Path]:
    """Return (zctas, schools, manifest, build folder) of the current build."""
    build = store.current_build_dir(resolve_data_dir(data_dir))
    try:
        zctas = store.read_table(build, "zctas")
        schools = store.read_table(build, "schools")
        manifest = store.read_manifest(build)
    except (OSError, ValueError) as exc:  # pyogrio's DataSourceError is an OSError/ValueError subclass
        msg = f"cannot read the build in {build}: {exc}; rebuild it with 'csmap build --force'"
        raise click.ClickException(msg) from exc
    return zctas, schools, manifest, build


def _file_stem(plan: Plan, what_if_mode: bool) -> str:
    a = plan.assumptions
    if what_if_mode:
        return f"whatif-{a['scope']}-{a['objective']}-{len(plan.picks)}sites"
    return f"plan-{a['scope']}-{a['objective']}-k{a['k']}"


def write_plan_files(plan: Plan, out_dir: Path, stem: str) -> list[Path]:
    """Write ``<stem>.geojson`` (picks as points), ``.csv`` (picks) and ``.json`` (the whole plan).

    The GeoJSON and CSV are the web planner's (:mod:`geo.plan_files`), with
    the build's sample flag and time.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    geojson = out_dir / f"{stem}.geojson"
    geojson.write_bytes(plan_geojson(plan, title=f"expansion plan {stem}"))
    table = out_dir / f"{stem}.csv"
    table.write_bytes(plan_csv(plan))
    summary = out_dir / f"{stem}.json"
    summary.write_text(json.dumps(plan.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")
    return [geojson, table, summary]


def _number(value: float | None) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:,.0f}"


def _share(value: float | None) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:.1%}"


def format_plan(plan: Plan) -> str:
    """Return the plan as a plain-text report: assumptions, picks, totals, by locale."""
    a = plan.assumptions
    reach = ", ".join(f"{name} {miles:g} mi" for name, miles in a["reach_miles"].items())
    objective = (
        "unserved children"
        if a["objective"] == "unserved"
        else f"unserved children in ZCTAs with >= {a['poverty_threshold']:.0%} below poverty"
    )
    sample = " (generated SAMPLE schools)" if a.get("is_sample") else ""
    lines = [
        f"{'What-if' if a['method'] == 'what-if' else 'Expansion plan'} for {a['scope']}: {objective}; "
        f"{len(plan.picks)} site(s) from {a['candidate_source']}",
        f"Reach: {reach}. Data: {a['data_vintage']}. Existing schools: {a['existing_schools']:,}{sample}.",
        "",
    ]
    picks = plan.picks.assign(
        name=plan.picks["name"].astype("string").str.slice(0, 36),
        lat=plan.picks["lat"].map("{:.4f}".format),
        lon=plan.picks["lon"].map("{:.4f}".format),
        gain=plan.picks["gain"].map(_number),
        cumulative=plan.picks["cumulative"].map(_number),
        children_newly_reached=plan.picks["children_newly_reached"].map(_number),
    ).rename(
        columns={
            "candidate_id": "id",
            "children_newly_reached": "all_children",
            "zctas_newly_reached": "zctas",
        }
    )
    lines.append(picks.to_string(index=False))
    lines.append("")
    b, after = plan.before, plan.after
    lines.append(
        f"Children within reach: {_number(b['children_within_reach'])} -> "
        f"{_number(after['children_within_reach'])} of {_number(b['children'])} "
        f"({_share(b['share_within_reach'])} -> {_share(after['share_within_reach'])})"
    )
    lines.append(
        f"High-poverty children within reach: {_number(b['high_poverty_children_within_reach'])} -> "
        f"{_number(after['high_poverty_children_within_reach'])} "
        f"of {_number(b['high_poverty_children'])} "
        f"({_share(b['high_poverty_share_within_reach'])} -> "
        f"{_share(after['high_poverty_share_within_reach'])})"
    )
    lines.append("By locale (children within reach, before -> after):")
    for row in plan.by_locale.itertuples(index=False):
        label = ("  " if row.level == "locale" else "    ") + row.locale_class
        lines.append(
            f"{label:<13} {_number(row.within_reach_before):>12} -> "
            f"{_number(row.within_reach_after):>12} of {_number(row.children):>12} "
            f"({_share(row.share_before)} -> {_share(row.share_after)})"
        )
    lines.append("")
    lines.extend(f"note: {note}" for note in a["notes"])
    return "\n".join(lines)


@click.command("plan")
@data_dir_option
@click.option(
    "--state", default=None, metavar="XX", help="USPS code of the state; omit to plan for the nation."
)
@click.option("-k", "--k", "k", type=int, default=10, show_default=True, help="Number of new sites.")
@click.option(
    "--objective",
    type=click.Choice(OBJECTIVES),
    default="unserved",
    show_default=True,
    help="unserved: all children beyond reach; poverty: those in high-poverty ZCTAs.",
)
@click.option(
    "--poverty-threshold",
    type=float,
    default=None,
    help="Share below poverty marking a high-poverty ZCTA (default: the build's, else 0.20).",
)
@click.option(
    "--reach",
    "reach_text",
    default=None,
    metavar="MILES|CLASS=MILES,...",
    help="Reach distances, e.g. 'rural=15' (default: the build's, else city 1, suburb 3, town 5, rural 10).",
)
@click.option(
    "--candidates",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV (name,lat,lon) or GeoJSON points to choose from instead of the ZCTA points.",
)
@click.option(
    "--what-if",
    "what_if_mode",
    is_flag=True,
    help="Add every --candidates site in file order and report each one's gain (--k is ignored).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the plan's GeoJSON, CSV and JSON (default: ./plans).",
)
@click.option(
    "--target-children",
    "target_children",
    type=float,
    default=None,
    metavar="N",
    help="Target mode: the fewest new sites (greedy) that reach N more children (--k is ignored).",
)
@click.option("--no-files", is_flag=True, help="Print only; write no files.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON instead of a table.")
def plan_command(
    data_dir: Path | None,
    state: str | None,
    k: int,
    objective: str,
    poverty_threshold: float | None,
    reach_text: str | None,
    candidates: Path | None,
    what_if_mode: bool,
    out_dir: Path | None,
    no_files: bool,
    as_json: bool,
    target_children: float | None = None,
) -> None:
    """Pick k new Community School sites that reach the most unserved children (greedy, CELF)."""
    if what_if_mode and candidates is None:
        raise click.UsageError("--what-if needs --candidates FILE (the sites to add, in order)")
    reach = parse_reach(reach_text)
    try:
        zctas, schools, manifest, build = _load_build(data_dir)
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc
    built = build_planner_options(manifest)
    if reach is None:
        reach = built["reach_miles"]
    if poverty_threshold is None:
        poverty_threshold = built["poverty_threshold"]
    if target_children is not None:
        _target_mode(
            zctas,
            schools,
            manifest,
            build,
            target_children=target_children,
            options={
                "state": state,
                "objective": objective,
                "candidates": candidates,
                "reach_miles": reach,
                "poverty_threshold": poverty_threshold,
            },
            out_dir=None if no_files else (out_dir or DEFAULT_OUT),
            as_json=as_json,
        )
        return
    try:
        if what_if_mode:
            plan = what_if(
                zctas,
                schools,
                candidates,
                state=state,
                objective=objective,
                reach_miles=reach,
                poverty_threshold=poverty_threshold,
            )
        else:
            plan = plan_sites(
                zctas,
                schools,
                k=k,
                state=state,
                objective=objective,
                candidates=candidates,
                reach_miles=reach,
                poverty_threshold=poverty_threshold,
            )
    except InvalidParameterError as exc:
        raise click.BadParameter(str(exc), param_hint=OPTION_FOR_PARAMETER.get(exc.parameter)) from exc
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc
    add_build_facts(plan, manifest, build.name)  # the build's own sample flag wins over the schools column
    written = []
    if not no_files:
        written = write_plan_files(plan, out_dir or DEFAULT_OUT, _file_stem(plan, what_if_mode))
    if as_json:
        click.echo(json.dumps(plan.to_json(), indent=1, ensure_ascii=False))
    else:
        click.echo(format_plan(plan))
    for path in written:
        click.echo(f"wrote {path}", err=as_json)


def _target_mode(
    zctas: pd.DataFrame,
    schools: pd.DataFrame,
    manifest: dict[str, Any],
    build: Path,
    *,
    target_children: float,
    options: dict[str, Any],
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Answer ``--target-children N``: the fewest greedy sites that reach N, or say it cannot be done."""
    from geo.planner_target import plan_to_target

    option_for = {**OPTION_FOR_PARAMETER, "target_children": "--target-children"}
    try:
        answer = plan_to_target(zctas, schools, target_children=target_children, **options)
    except InvalidParameterError as exc:
        raise click.BadParameter(str(exc), param_hint=option_for.get(exc.parameter)) from exc
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc
    written = []
    if answer.plan is not None:
        add_build_facts(answer.plan, manifest, build.name)
        if out_dir is not None:
            stem = f"plan-{answer.plan.assumptions['scope']}-target{answer.target:.0f}"
            written = write_plan_files(answer.plan, out_dir, stem)
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=1, ensure_ascii=False))
    else:
        click.echo(answer.message)
        if answer.plan is not None:
            click.echo("")
            click.echo(format_plan(answer.plan))
    for path in written:
        click.echo(f"wrote {path}", err=as_json)
