"""Staff: the movement's record tables (coalitions, communities, partners, links): edit, import, export.

The tables are build inputs in the data folder (``inputs/<table>.csv``,
docs/RECORDS.md); :mod:`geo.records_io` checks and saves them, so an edit or an
import here goes through the same row checks and row accounting as
``csmap records import``. A change reaches the map at the next publish.

Roles: admins edit every row and import whole tables; editors edit the rows
of their own states (coalitions, communities, and partners whose home state
is theirs). Every change is audited; saves are refused when the table changed
since the form was opened.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from geo import registry
from geo.errors import CsmapError
from geo.records_build import RECORD_TABLES
from geo.records_io import (
    CARRIED_COLUMNS,
    ROW_KEYS,
    RecordConflictError,
    RecordRowError,
    edit_row,
    editable_frame,
    import_table,
    known_for,
    save_import,
    table_version,
)
from webmap.auth import audit, forbid, rate_limited
from webmap.staff import bp, data_dir
from webmap.staff.schools import CHANGE_LIMIT

logger = logging.getLogger(__name__)

#: Imports per person in 15 minutes (whole tables: a handful is plenty).
IMPORT_LIMIT = 20
#: Largest CSV accepted for an import.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
_ROW_ACTIONS = ("record.edit", "record.add", "record.remove", "record.conflict")
_COLUMNS = {
    "coalitions": registry.COALITIONS,
    "communities": registry.COMMUNITIES,
    "partners": registry.PARTNERS,
    "partner_schools": registry.PARTNER_SCHOOLS,
}
TITLES = {
    "coalitions": "State coalitions",
    "communities": "Coalition Communities",
    "partners": "Partners",
    "partner_schools": "Partner–school links",
}


def changed_since_live(root: Path) -> list[str]:
    """Return the record tables saved in ``inputs/`` after the live build was made (not yet published)."""
    from geo import store

    try:
        built = (store.current_build_dir(root) / "manifest.json").stat().st_mtime
    except (CsmapError, OSError):
        return []
    return [
        table
        for table in RECORD_TABLES
        if (root / "inputs" / f"{table}.csv").exists()
        and (root / "inputs" / f"{table}.csv").stat().st_mtime > built
    ]


def _table(table: str) -> str:
    if table not in RECORD_TABLES:
        abort(404, description=f"no record table {table!r}; the tables are {', '.join(RECORD_TABLES)}")
    return table


def _frame(table: str):  # noqa: ANN202  (DataFrame)
    try:
        return editable_frame(data_dir(), table)
    except CsmapError as exc:
        abort(503, description=f"the {table} table cannot be read yet: {exc}")


def _help(table: str) -> dict[str, str]:
    """Each column's description, for the form's hints."""
    return {c.name: c.description for c in _COLUMNS[table]}


def _may_edit(table: str, row: dict[str, str] | None) -> bool:
    if g.user.is_admin:
        return True
    state = (row or {}).get("stusps", "")
    return bool(state) and g.user.may_edit_state(state)


@bp.route("/records")
def record_overview():
    """List the four tables: rows, where each comes from, import and export."""
    tables = []
    for table in RECORD_TABLES:
        try:
            rows = len(editable_frame(data_dir(), table))
        except CsmapError:
            rows = None
        imported = (data_dir() / "inputs" / f"{table}.csv").exists()
        tables.append({"name": table, "title": TITLES[table], "rows": rows, "imported": imported})
    return render_template("staff/records.html", tables=tables, editable=ROW_KEYS)


@bp.route("/records/<table>")
def record_list(table: str):
    """One table's rows, filtered by state or text, with an edit link where the user may edit."""
    table = _table(table)
    frame = _frame(table)
    q = (request.args.get("q") or "").strip()[:200]
    state = (request.args.get("state") or "").strip().upper()[:8]
    if state and "stusps" in frame.columns:
        frame = frame[frame["stusps"] == state]
    if q:
        hits = frame.apply(lambda row: row.str.contains(q, case=False, regex=False).any(), axis=1)
        frame = frame[hits] if len(frame) else frame
    shown = frame.head(200)
    columns = _fields(frame)[:6]
    return render_template(
        "staff/record_list.html",
        table=table,
        title=TITLES[table],
        rows=shown.to_dict("records"),
        total=len(frame),
        columns=columns,
        key=ROW_KEYS.get(table),
        may_edit=lambda row: table in ROW_KEYS and _may_edit(table, row),
        q=q,
        state=state,
    )


@bp.route("/records/<table>/export.csv")
def record_export(table: str):
    """Send the table as CSV, as saved in the data folder (contacts included: staff only)."""
    table = _table(table)
    body = _frame(table).to_csv(index=False)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{table}.csv"'},
    )


def _fields(frame) -> list[str]:  # noqa: ANN001  (DataFrame)
    """Return the columns a form shows: every column but those carried unseen (``is_sample``)."""
    return [c for c in frame.columns if c not in CARRIED_COLUMNS]


def _edit_form(
    table: str, frame, key: str | None, values: dict[str, str], version: str | None = None, **extra
):
    """Render a row's form; ``version`` defaults to the version of ``frame``, the table as read."""
    return render_template(
        "staff/record_edit.html",
        table=table,
        title=TITLES[table],
        key=key,
        key_column=ROW_KEYS[table],
        fields=_fields(frame),
        help=_help(table),
        values=values,
        version=version if version is not None else table_version(frame),
        **extra,
    )


def _row(table: str, frame, key: str) -> dict[str, str]:  # noqa: ANN001  (DataFrame)
    found = frame[frame[ROW_KEYS[table]] == key]
    if not len(found):
        abort(404, description=f"no {table} row with {ROW_KEYS[table]} {key!r}")
    return found.iloc[0].to_dict()


def _editable(table: str) -> str:
    table = _table(table)
    if table not in ROW_KEYS:
        abort(404, description=f"the {table} table is changed by import only")
    return table


@bp.route("/records/<table>/new")
def record_new(table: str):
    """Show an empty form for a new row."""
    table = _editable(table)
    return _edit_form(table, _frame(table), None, {})


@bp.route("/records/<table>/row/<key>")
def record_edit(table: str, key: str):
    """One row's form."""
    table = _editable(table)
    frame = _frame(table)
    row = _row(table, frame, key)
    return _edit_form(table, frame, key, row, may_edit=_may_edit(table, row))


@bp.route("/records/<table>/new", methods=["POST"])
@rate_limited(_ROW_ACTIONS, "STAFF_CHANGE_LIMIT", CHANGE_LIMIT)
def record_add(table: str):
    """Add a row: checked with the whole table, as an import would check it."""
    return _save(_editable(table), None, remove=False)


@bp.route("/records/<table>/row/<key>", methods=["POST"])
@rate_limited(_ROW_ACTIONS, "STAFF_CHANGE_LIMIT", CHANGE_LIMIT)
def record_save(table: str, key: str):
    """Save a row: role-checked, checked with the whole table, refused on a concurrent change."""
    return _save(_editable(table), key, remove=False)


@bp.route("/records/<table>/row/<key>/remove", methods=["POST"])
@rate_limited(_ROW_ACTIONS, "STAFF_CHANGE_LIMIT", CHANGE_LIMIT)
def record_remove(table: str, key: str):
    """Remove a row (a coalition's row cannot be removed: every state has one)."""
    table = _editable(table)
    if table == "coalitions":
        abort(400, description="every state keeps a coalitions row; set its stage to none instead")
    return _save(table, key, remove=True)


def _save(table: str, key: str | None, *, remove: bool):  # noqa: ANN202
    frame = _frame(table)
    values = {name: (request.form.get(name) or "").strip()[:2000] for name in _fields(frame)}
    before = _row(table, frame, key) if key is not None else None
    target = f"{table} {key or values.get(ROW_KEYS[table]) or values.get('name', '')}"
    for row in (before, None if remove else values):
        if row is not None and not _may_edit(table, row):
            state = row.get("stusps", "")
            forbid(
                "edit", target, state=state, detail=f"you may not edit {table} rows of {state or 'no state'}"
            )
    if before is not None:
        for column in CARRIED_COLUMNS:  # a sample row stays labelled sample
            values[column] = before.get(column, "")
    version = request.form.get("version", "")
    try:
        edit = edit_row(data_dir(), table, key, None if remove else values, expected_version=version)
    except RecordConflictError as exc:
        audit("record.conflict", target, state=values.get("stusps", ""), after=values, detail=str(exc))
        return _edit_form(table, _frame(table), key, values, conflict=str(exc)), 409  # the table as it is now
    except RecordRowError as exc:
        return _edit_form(table, frame, key, values, version, error=f"Not saved: {exc}"), 400
    action = "record.remove" if remove else ("record.add" if key is None else "record.edit")
    state = (edit.after or edit.before or {}).get("stusps", "")
    audit(action, f"{table} {edit.key}", state=state, before=edit.before, after=edit.after)
    verb = {"record.remove": "Removed", "record.add": "Added", "record.edit": "Saved"}[action]
    flash(f"{verb} {table} row {edit.key}. Publish to put it on the map.", "info")
    if remove:
        return redirect(url_for("staff.record_list", table=table))
    return redirect(url_for("staff.record_edit", table=table, key=edit.key))


@bp.route("/records/<table>/import", methods=["POST"])
@rate_limited(("record.import", "record.import_checked"), "STAFF_UPLOAD_LIMIT", IMPORT_LIMIT)
def record_import(table: str):
    """Import a whole table from CSV (admins): every row loaded, merged or rejected with a reason."""
    table = _table(table)
    if not g.user.is_admin:
        forbid("import", f"{table} table", detail="only admins import whole record tables")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400, description="choose a CSV file to import (form field 'file')")
    content = upload.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        abort(413, description=f"the file is over {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
    check_only = bool(request.form.get("check_only"))
    name = Path(upload.filename).name[:200] or f"{table}.csv"
    with tempfile.TemporaryDirectory(prefix="csmap-records-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            result = import_table(table, path, **known_for(data_dir(), table))
        except CsmapError as exc:
            return render_template(
                "staff/record_import.html", table=table, title=TITLES[table], error=str(exc), name=name
            ), 400
    if not check_only:
        save_import(data_dir(), result)
    report = {k: v for k, v in result.report.items() if k != "source"}
    audit(
        "record.import_checked" if check_only else "record.import",
        f"{table} table",
        after=report,
        detail=f"{name}: {report['loaded']} loaded, {report['merged']} merged, {report['rejected']} rejected",
    )
    rejects = result.rejects.head(200).astype(str).to_dict("records")
    return render_template(
        "staff/record_import.html",
        table=table,
        title=TITLES[table],
        report=report,
        rejects=rejects,
        reject_columns=list(result.rejects.columns[:8]),
        saved=not check_only,
        name=name,
    )
