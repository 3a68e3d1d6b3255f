"""Normalizing the fields of each row of a school list, with notes and early rejections.

:func:`normalize_fields` turns the mapped columns of a read list into
canonical fields: placeholders emptied, long text cut, one-line addresses
split, states and provinces to USPS/Canada Post codes, ZIPs to five digits,
countries to US/CA, years and NCES IDs cleaned. It is vectorized: lookups map
over distinct values, regular expressions run over whole columns.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.reference import CANADA_PROVINCES, normalize_place
from geo.school_columns import FIELDS, SOURCE_ROW
from geo.school_contact import normalize_contact
from geo.school_files import EXTRA_CELLS, extra_cells

#: Cells treated as empty in every field (spreadsheet placeholders).
NULL_TOKENS = frozenset({"", "na", "n/a", "#n/a", "null", "none", "nan", "-", "--", "?"})
#: Longest text kept in a field; a longer cell is cut with a note. Names of real
#: schools and partners are far shorter; a 100,000-character cell is an error
#: that would otherwise bloat every map popup and download.
MAX_TEXT = 500


def _lookup(values: pd.Series, table: Mapping[str, str]) -> pd.Series:
    """Map each value's folded spelling through ``table`` (computed once per distinct value)."""
    distinct = pd.unique(values.fillna("").astype("str"))
    codes = {value: table.get(_key(value)) for value in distinct}
    return values.map(codes).astype("str")


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "", folded.lower())


@functools.cache
def state_codes() -> dict[str, str]:
    """Return a lookup from folded state/province spellings to USPS/Canada Post codes.

    USPS codes, names, FIPS codes (with and without the leading zero) and AP
    abbreviations of the states, DC and the territories (package ``us``);
    names and codes of the Canadian provinces and territories.
    """
    import us

    table: dict[str, str] = {}
    for state in (*us.states.STATES_AND_TERRITORIES, us.states.DC):
        fips = state.fips or ""  # every state and territory in ``us`` has one
        for key in (state.abbr, state.name, fips, str(int(fips)) if fips else "", state.ap_abbr):
            if key:
                table[_key(key)] = state.abbr
    for name, code in CANADA_PROVINCES.items():
        table[_key(name)] = code
        table[code.lower()] = code
    # Older or common alternative spellings (Canada Post's pre-1990 codes PQ and NF).
    table.update(
        {
            "washingtondc": "DC",
            "pq": "QC",
            "nf": "NL",
            "nfld": "NL",
            "newfoundland": "NL",
            "usvi": "VI",
            "virginislands": "VI",
            "usvirginislands": "VI",
        }
    )
    return table


_COUNTRIES = {
    "us": "US",
    "usa": "US",
    "unitedstates": "US",
    "unitedstatesofamerica": "US",
    "america": "US",
    "ca": "CA",
    "can": "CA",
    "canada": "CA",
}
_US_ZIP = r"^(\d{3,5})(?:[-\s]?\d{4})?$"
#: Canada Post's postal code format: letter digit letter, digit letter digit (no D, F, I, O, Q, U).
CANADIAN_POSTAL = r"^([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])\s*-?\s*(\d[ABCEGHJ-NPRSTV-Z]\d)$"
#: "..., City, ST 12345" at the end of a one-line address.
_ADDRESS_TAIL = (
    r"^(?P<street>.*?),\s*(?P<city>[^,]+?)\s*,?\s+"
    r"(?P<state>[A-Za-z]{2})\.?\s*,?\s+(?P<zip>\d{5})(?:-\d{4})?\s*$"
)


def normalize_zip(values: pd.Series) -> pd.Series:
    """Return 5-digit US ZIPs and ``A1A 1A1`` Canadian postal codes; ``""`` for anything else.

    Leading zeros lost by spreadsheets are restored ("2134" -> "02134"), a
    ZIP+4 suffix is dropped ("02134-1234", "021341234" -> "02134") and a
    spreadsheet's float ("2134.0") is read as its integer.
    """
    text = values.fillna("").astype("str").str.strip()
    plain = (text.str.len() == 5) & text.str.isdigit()
    out = text.where(plain, "")
    rest = ~plain & (text != "")
    if rest.any():
        odd = text[rest].str.upper().str.lstrip("'").str.replace(r"\.0+$", "", regex=True)
        us_zip = odd.str.extract(_US_ZIP, expand=False).str.zfill(5)
        canadian = odd.str.extract(CANADIAN_POSTAL)
        out[rest] = us_zip.fillna(canadian[0] + " " + canadian[1]).fillna("").astype("str")
    return out.astype("str")


def _normalize_nces_id(values: pd.Series) -> pd.Series:
    text = values.str.strip().str.replace(r"\.0+$", "", regex=True)
    digits = text.str.fullmatch(r"\d+")
    # NCES school IDs (NCESSCH) are 12 digits; spreadsheets drop the leading zero of states 01-09.
    restore = digits & text.str.len().between(9, 11)
    return text.where(~restore, text.str.zfill(12))


@dataclass
class NormalizedFields:
    """Normalized canonical fields of every row, with the notes and rejections found on the way.

    Attributes
    ----------
    frame : DataFrame
        One text column per field of :data:`geo.school_columns.FIELDS`, plus
        ``street``, ``zip_raw`` and ``name_norm``; same index as the input.
    notes : ndarray of object
        Each row's notes, ``"; "``-separated ("" when none).
    reject : ndarray of object
        Each row's rejection reason, ``None`` when it may go on.
    """

    frame: pd.DataFrame
    notes: np.ndarray
    reject: np.ndarray


def _text(raw: pd.DataFrame, mapping: Mapping[str, str], name: str) -> pd.Series:
    if name not in mapping:
        return pd.Series("", index=raw.index, dtype="str")
    text = raw[mapping[name]].fillna("").astype("str").str.strip()
    short = (text.str.len() <= 4) & (text != "")
    if short.any():
        placeholder = text[short].str.lower().isin(NULL_TOKENS)
        text[placeholder.index[placeholder.to_numpy(dtype=bool)]] = ""
    return text


def _add(notes: np.ndarray, mask: np.ndarray, note: Any) -> None:
    """Add ``note`` (a str, or a callable of the masked row positions) to the notes of ``mask``'s rows."""
    if mask.any():
        value = np.asarray(note(np.flatnonzero(mask)), dtype=object) if callable(note) else note
        old = notes[mask]
        notes[mask] = np.where(old == "", value, old + "; " + value)


def normalize_fields(raw: pd.DataFrame, mapping: Mapping[str, str]) -> NormalizedFields:
    """Return the canonical fields of every row, normalized, with notes and early rejections."""
    n = len(raw)
    notes = np.full(n, "", dtype=object)
    reject = np.full(n, None, dtype=object)
    frame = pd.DataFrame({name: _text(raw, mapping, name) for name in FIELDS}, index=raw.index)
    for name in ("name", "address", "city", "district", "grades", "lead_partner"):
        long = (frame[name].str.len() > MAX_TEXT).to_numpy(dtype=bool)
        if long.any():
            length = frame[name].str.len().astype("str")
            _add(
                notes,
                long,
                lambda rows, length=length, name=name: (
                    f"{name} cut to {MAX_TEXT} characters from " + length.iloc[rows].to_numpy(dtype=object)
                ),
            )
            frame.loc[long, name] = frame.loc[long, name].str[:MAX_TEXT] + "…"

    # One-line addresses ("12 Main St, Springfield, IL 62701") supply missing city, state and ZIP.
    frame["street"] = frame["address"]
    one_line = frame["address"].str.contains(r"\d{5}(?:-\d{4})?\s*$", regex=True) & (
        (frame["zip"] == "") | (frame["city"] == "") | (frame["state"] == "")
    )
    if one_line.any():
        tail = frame.loc[one_line, "address"].str.extract(_ADDRESS_TAIL)
        found = tail["street"].notna()
        frame.loc[tail.index[found], "street"] = tail.loc[found, "street"]
        for name in ("city", "state", "zip"):
            given = frame.loc[tail.index, name]
            frame.loc[tail.index, name] = given.where(given != "", tail[name].fillna("")).astype("str")

    state = _lookup(frame["state"], state_codes())
    unknown_state = ((frame["state"] != "") & state.isna()).to_numpy(dtype=bool)
    _add(notes, unknown_state, lambda rows: "state " + quoted(frame["state"].iloc[rows]) + " not recognized")
    frame["state"] = state.fillna("").astype("str")

    frame["zip_raw"] = frame["zip"]
    frame["zip"] = normalize_zip(frame["zip"])
    bad_zip = ((frame["zip_raw"] != "") & (frame["zip"] == "")).to_numpy(dtype=bool)
    _add(notes, bad_zip, lambda rows: "ZIP " + quoted(frame["zip_raw"].iloc[rows]) + " not recognized")

    country_given = _lookup(frame["country"], _COUNTRIES)
    province = frame["state"].isin(list(CANADA_PROVINCES.values()))
    postal = frame["zip"].str.contains(" ", regex=False)
    inferred = np.where(province | postal, "CA", "US")
    country = country_given.fillna(pd.Series(inferred, index=frame.index)).where(~province, "CA")
    foreign = (frame["country"] != "") & country_given.isna()
    foreign = foreign.to_numpy(dtype=bool)
    if foreign.any():
        reject[foreign] = (
            "country " + quoted(frame["country"][foreign]) + " is outside the map (US and Canada only)"
        )
    frame["country"] = country.astype("str")

    year = frame["year_started"].where(
        (frame["year_started"].str.len() == 4) & frame["year_started"].str.isdigit()
    )
    odd_year = year.isna() & (frame["year_started"] != "")
    if odd_year.any():
        year[odd_year] = frame.loc[odd_year, "year_started"].str.extract(r"((?:18|19|20)\d{2})", expand=False)
    bad_year = ((frame["year_started"] != "") & year.isna()).to_numpy(dtype=bool)
    _add(
        notes,
        bad_year,
        lambda rows: "year started " + quoted(frame["year_started"].iloc[rows]) + " not understood",
    )
    frame["year_started"] = year.fillna("").astype("str")
    frame["nces_id"] = _normalize_nces_id(frame["nces_id"])
    contact, contact_notes = normalize_contact(frame)
    for name in contact.columns:
        frame[name] = contact[name]
    _add(notes, contact_notes != "", lambda rows: contact_notes[rows])

    frame["name_norm"] = normalize_place(frame["name"])
    no_name = (frame["name"] == "").to_numpy(dtype=bool)
    reject[no_name & pd.isna(reject)] = "missing school name"
    if EXTRA_CELLS in raw.columns:
        # A row wider than its header: its cells may sit under the wrong headers, so it is
        # rejected, whatever else is wrong with it, with its extra cells named (docs/SCHOOLS.md).
        width = sum(1 for c in raw.columns if c not in (EXTRA_CELLS, SOURCE_ROW))
        extra = raw[EXTRA_CELLS].fillna("").astype("str").to_numpy(dtype=object)
        for row in np.flatnonzero(extra != ""):
            reject[row] = _extra_cells_reason(extra[row], width)
    return NormalizedFields(frame, notes, reject)


def _extra_cells_reason(text: str, width: int) -> str:
    cells = extra_cells(text)
    shown = ", ".join(repr(c if len(c) <= 40 else c[:40] + "…") for c in cells[:5])
    more = f" and {len(cells) - 5:,} more" if len(cells) > 5 else ""
    return (
        f"the row has {len(cells):,} more cell(s) than the {width:,} headers: {shown}{more} "
        f"(cells {width + 1:,}-{width + len(cells):,}; a stray or missing delimiter?)"
    )


def quoted(values: pd.Series, limit: int = 40) -> np.ndarray:
    """Return each value in single quotes, cut to ``limit`` characters with "…", for messages."""
    text = values.astype("str")
    text = text.where(text.str.len() <= limit, text.str[:limit] + "…")
    quoted_text: np.ndarray = ("'" + text + "'").to_numpy(dtype=object)
    return quoted_text
