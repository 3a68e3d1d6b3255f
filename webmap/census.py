"""The public Community Schools Census form, ``/count`` ("Be counted"); docs/CENSUS.md.

* ``GET /count``: the form; ``?school_id=`` fills it from a school of the
  current build and marks the answer as a correction of that school.
* ``GET /count/locate``: where the offline geocoder (the loader's chain)
  places an address, as JSON, for the form's "Is this your school?" map.
* ``POST /count``: checked field by field (geo.census); a bad answer comes
  back with what was typed and one message per field. The "Check the place"
  button does the same without JavaScript.

Abuse: a CSRF token (double submit: a signed token in the form, its nonce in
a cookie scoped to ``/count``; public pages keep no session), a honeypot
field that drops bots quietly (audited, answered like a success), a limit of
:data:`MAX_PER_HOUR` submissions per client address (the 6th gets 429), and
size limits (the body, 413; each field, a message). Nothing submitted is
public: only ``/staff/submissions`` reads the table.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import math
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from geo.census import CENSUS_FIELDS, MAX_BODY_BYTES, SECTIONS, CensusCheck, check_census, choice_label
from geo.errors import InvalidParameterError, NotFoundError
from webmap import submissions
from webmap.auth import audit, client_address
from webmap.data import get_data
from webmap.db import get_session
from webmap.models import AuditEvent, utcnow
from webmap.params import COUNT_LOCATE, COUNT_PAGE

logger = logging.getLogger(__name__)

bp = Blueprint("census", __name__, url_prefix="/count")

#: Submissions per client address in :data:`RATE_WINDOW` (issue 14: the 6th in an hour gets 429).
MAX_PER_HOUR = 5
RATE_WINDOW = dt.timedelta(hours=1)
#: The honeypot: a field people never see (hidden by CSS, out of the tab order) that bots fill in.
HONEYPOT = "website"
CSRF_COOKIE = "csmap_count"
#: A form older than this must be reloaded (its token expires): long enough to fill it in slowly.
CSRF_MAX_AGE = 4 * 3600


def _serializer() -> URLSafeTimedSerializer:
    if not current_app.secret_key:
        from webmap.db import secret_key

        current_app.secret_key = secret_key(Path(current_app.config["DATA_DIR"]))
    return URLSafeTimedSerializer(str(current_app.secret_key), salt="csmap-count")


def _new_token() -> tuple[str, str]:
    """Return (nonce for the cookie, signed token for the form)."""
    nonce = g.get("count_nonce") or request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    g.count_nonce = nonce
    return nonce, str(_serializer().dumps(nonce))


def _csrf_ok() -> bool:
    token = request.form.get("csrf_token") or ""
    nonce = request.cookies.get(CSRF_COOKIE) or ""
    try:
        signed = _serializer().loads(token, max_age=CSRF_MAX_AGE)
    except BadSignature:
        return False
    return bool(nonce) and hmac.compare_digest(str(signed), nonce)


def _with_cookie(response: Response) -> Response:
    nonce = g.get("count_nonce")
    if nonce:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            max_age=CSRF_MAX_AGE,
            path="/count",
            httponly=True,
            samesite="Strict",
            secure=str(current_app.config.get("SECURE_COOKIES", "")).lower() in ("1", "true"),
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def _directory(name: str) -> list[str]:
    """Names of the build's partners or communities, for the form's suggestions (empty if none)."""
    from webmap import record_data

    try:
        frame = record_data.table(get_data(), name)
    except Exception as exc:  # a build without the records still takes answers
        logger.info("no %s table for the census suggestions: %s", name, exc)
        return []
    return sorted({str(v) for v in frame["name"].dropna()})


def _render(
    typed: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    placed: dict[str, Any] | None = None,
    place_error: str = "",
    correction_of: str = "",
    status: int = 200,
) -> Response:
    from webmap import tiles

    _, token = _new_token()
    layer = tiles.tile_layer()
    page = render_template(
        "census/count.html",
        fields=CENSUS_FIELDS,
        sections=SECTIONS,
        typed=typed,
        errors=errors or {},
        placed=placed,
        preview=_tile_preview(placed),
        place_error=place_error,
        correction_of=correction_of,
        csrf=token,
        honeypot=HONEYPOT,
        choice_label=choice_label,
        partners=_directory("partners"),
        communities=_directory("communities"),
        map_config={
            "locate_url": f"{request.script_root}/count/locate",
            "tiles": layer.url if layer else None,
            "attribution": layer.attribution if layer else "",
            "max_native_zoom": layer.max_native_zoom if layer else None,
        },
    )
    return _with_cookie(current_app.make_response((page, status)))


def _tile_preview(placed: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the no-JavaScript map: one embedded basemap tile with the point marked (pixel offsets)."""
    from webmap import tiles

    if not placed or tiles.tile_layer() is None or current_app.config.get("TILES"):
        return None
    zoom = tiles.BASEMAP_MAX_ZOOM
    lat = max(min(float(placed["lat"]), 85.05), -85.05)
    x = (float(placed["lon"]) + 180.0) / 360.0 * 2**zoom
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * 2**zoom
    return {
        "url": f"{request.script_root}/tiles/{zoom}/{int(x)}/{int(y)}.png",
        "left": round((x - int(x)) * 256),
        "top": round((y - int(y)) * 256),
    }


def _school_of_build(school_id: str) -> dict[str, str]:
    """Return the census fields of a school of the current build (the "Suggest a correction" link)."""
    schools = get_data().schools
    found = schools[schools["school_id"].astype("str") == school_id]
    if found.empty:
        msg = f"no school {school_id!r} in this build; open /count without school_id to add a new school"
        raise NotFoundError(msg)
    row = found.iloc[0]
    typed = {}
    for spec in CENSUS_FIELDS:
        value = row.get(spec.school_field) if spec.school_field else None
        typed[spec.name] = (
            "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        )
    typed["state"] = str(row.get("stusps") or typed.get("state") or "")
    typed["country"] = typed.get("country") or "US"
    return typed


def locate(values: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    """Place an answer's address with the loader's offline chain: (placement, "") or (None, why not)."""
    from webmap.staff.loading import check_school

    fields = {k: values.get(k, "") for k in ("name", "address", "city", "state", "zip", "country")}
    fields["name"] = fields["name"] or "(the school)"
    check = check_school(fields, Path(current_app.config["DATA_DIR"]))
    if check.reject:
        return None, check.reject
    return {**check.placed, "note": check.notes, "state": check.values.get("state", "")}, ""


def _rate_limited(address: str) -> bool:
    since = utcnow() - RATE_WINDOW
    session = get_session()
    stored = submissions.count_from(session, address, since)
    bots = session.scalar(
        select(func.count()).where(
            AuditEvent.action == "census.honeypot", AuditEvent.address == address, AuditEvent.at > since
        )
    )
    return stored + (bots or 0) >= int(current_app.config.get("CENSUS_MAX_PER_HOUR", MAX_PER_HOUR))


def _too_many() -> Response:
    limit = int(current_app.config.get("CENSUS_MAX_PER_HOUR", MAX_PER_HOUR))
    message = (
        f"this address sent {limit} answers in the last hour; wait an hour and try again, "
        "or write to the Coalition if you are counting many schools"
    )
    page = render_template("error.html", status=429, title="Too Many Requests", message=message)
    response = current_app.make_response((page, 429))
    response.headers["Retry-After"] = str(int(RATE_WINDOW.total_seconds()))
    return response


@bp.get("")
def form():
    """Show the census form, empty or filled from ``?school_id=`` (a correction)."""
    values = COUNT_PAGE.parse(request.args)
    school_id = values.get("school_id") or ""
    typed = _school_of_build(school_id) if school_id else {"country": "US"}
    return _render(typed, correction_of=school_id)


@bp.post("")
def submit():
    """Take a census answer: size, CSRF, honeypot and rate limit first, then the fields and the place."""
    request.max_content_length = MAX_BODY_BYTES
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _too_large()
    try:
        form_data = request.form
    except Exception:  # werkzeug's RequestEntityTooLarge on a body with no Content-Length
        return _too_large()
    address = client_address()
    if not _csrf_ok():
        audit("census.csrf_refused", "/count", detail="a census answer without a valid csrf_token")
        message = (
            "the form's csrf_token is missing, expired or does not match; reload /count and send it again"
        )
        return _with_cookie(
            current_app.make_response(
                (render_template("error.html", status=400, title="Bad Request", message=message), 400)
            )
        )
    if _rate_limited(address):
        audit("census.rate_limited", "/count", detail="over the census limit of answers per hour")
        return _too_many()
    if form_data.get(HONEYPOT):
        # A bot: logged, and answered exactly like a person, so it learns nothing.
        audit("census.honeypot", "/count", detail=f"honeypot {HONEYPOT}={form_data.get(HONEYPOT)[:100]!r}")
        return _thanks(None)
    correction_of = (form_data.get("correction_of") or "").strip()[:80]
    check = check_census(form_data)
    if form_data.get("action") == "locate":  # "Check the place" without JavaScript: the school's fields only
        return _locate_page(check, correction_of)
    if not check.ok:
        return _render(check.typed, errors=check.errors, correction_of=correction_of, status=400)
    placed, why = locate(check.values)
    if placed is None:
        errors = {
            "address": f"We could not place this school: {why}. Check the address, city, state and ZIP."
        }
        return _render(check.typed, errors=errors, correction_of=correction_of, status=400)
    session = get_session()
    submission = submissions.add(
        session, check.values, address=address, placed=placed, correction_of=correction_of
    )
    audit(
        "census.submit",
        f"submission {submission.id}",
        state=submission.state,
        after={"name": submission.name, "correction_of": correction_of},
        commit=False,
    )
    session.commit()
    logger.info("census submission %d from %s (%s)", submission.id, address, submission.state)
    return _thanks(submission.name)


def _locate_page(check: CensusCheck, correction_of: str) -> Response:
    """Answer "Check the place" without JavaScript: the place, or what to fix in the school's fields."""
    school = {f.name for f in CENSUS_FIELDS if f.section == "school"}
    errors = {k: v for k, v in check.errors.items() if k in school}
    if errors:
        return _render(check.typed, errors=errors, correction_of=correction_of, status=400)
    placed, why = locate(check.values)
    if placed is None:
        return _render(check.typed, place_error=f"We could not place this school: {why}.", status=400)
    return _render(check.typed, placed=placed, correction_of=correction_of)


def _thanks(name: str | None) -> Response:
    page = render_template("census/thanks.html", name=name)
    return _with_cookie(current_app.make_response((page, 200)))


def _too_large() -> Response:
    message = f"the answer is larger than {MAX_BODY_BYTES // 1024} KB; shorten the longest fields"
    page = render_template("error.html", status=413, title="Content Too Large", message=message)
    return current_app.make_response((page, 413))


@bp.get("/locate")
def locate_json():
    """Return where the offline geocoder places an address: ``{lat, lon, precision, method, note}``."""
    values = COUNT_LOCATE.parse(request.args)
    typed = {k: (v or "") for k, v in values.items()}
    if not any(typed.get(k) for k in ("address", "city", "zip", "state")):
        msg = "give at least one of address, city, state or zip; got none"
        raise InvalidParameterError("address", msg)
    check = check_census({**typed, "contact_email": "x@example.org"})
    for name in ("state", "zip", "country"):
        if name in check.errors and typed.get(name):
            raise InvalidParameterError(name, check.errors[name])
    placed, why = locate({**typed, **{k: v for k, v in check.values.items() if k in typed}})
    if placed is None:
        raise InvalidParameterError("address", f"cannot place address={typed.get('address', '')!r}: {why}")
    response = jsonify(placed)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app) -> None:  # noqa: ANN001
    """Register the census blueprint (and the filter that shows its words in the page's language)."""
    from webmap.census_words import translate_census_text

    app.jinja_env.filters["census_text"] = translate_census_text
    app.register_blueprint(bp)
