"""A school's contact fields: phone, website and email, checked and normalized (docs/SCHOOLS.md).

They are optional. A value that cannot be understood never costs the row: it
gets a note quoting it, and only a value that is safe to link to is kept as a
link target. The web layer renders ``website`` as a link only when it is an
http(s) URL and ``email`` as a ``mailto:`` only when it looks like an address,
so a ``javascript:`` or ``data:`` URL in a spreadsheet cannot reach a page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: The contact fields of the registry (geo.registry.schools), in layer order.
CONTACT_FIELDS = ("phone", "website", "email")

#: Longest contact value kept: no real phone, address or URL comes close (RFC 5321 caps an
#: address at 254 characters; browsers handle URLs of a few thousand, but a school's home
#: page is far shorter), and a longer cell is a spreadsheet accident.
MAX_CONTACT = 300

#: A practical email check (not RFC 5322's full grammar): one @, no spaces, a dotted domain.
EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)
#: An http(s) URL with a host (and no spaces); what a page may link to.
HTTP_URL = re.compile(r"https?://[^\s/?#@]+(?::\d+)?(?:[/?#]\S*)?", re.IGNORECASE)
#: "www.school.org/path": a host with a dot and no scheme, which gets https://.
_BARE_HOST = re.compile(r"(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::\d+)?(?:[/?#]\S*)?")
#: A scheme such as "ftp:" or "javascript:" (anything but http/https is refused).
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
#: An extension after a North American number: "x12", "ext. 12", "extension 12".
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension)\s*(\d{1,6})\s*$", re.IGNORECASE)


def is_http_url(text: object) -> bool:
    """Return whether ``text`` is an http(s) URL a page may link to."""
    return isinstance(text, str) and HTTP_URL.fullmatch(text.strip()) is not None


def is_email(text: object) -> bool:
    """Return whether ``text`` looks like an email address (a ``mailto:`` may be made of it)."""
    return isinstance(text, str) and EMAIL.fullmatch(text.strip()) is not None


def _phone(text: str) -> tuple[str, str]:
    """Return ``(normalized, note)``: ``(312) 555-0100 x12`` for a NANP number, else as given with a note."""
    extension = _EXTENSION.search(text)
    body = text[: extension.start()] if extension else text
    digits = re.sub(r"\D", "", body)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    # NANP numbers (US and Canada): 10 digits, area code and exchange not starting with 0 or 1.
    if (
        len(digits) == 10
        and digits[0] not in "01"
        and digits[3] not in "01"
        and not re.search(r"[A-Za-z]", body)
    ):
        out = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
        return (out + f" x{extension.group(1)}" if extension else out), ""
    return text, f"phone {_quote(text)} is not a 10-digit US or Canadian number; kept as given"


def _website(text: str) -> tuple[str, str]:
    """Return ``(url, note)``: an http(s) URL, https:// added to a bare host; else ``""`` and a note."""
    if is_http_url(text):
        return text, ""
    if not _SCHEME.match(text) and _BARE_HOST.fullmatch(text):
        return "https://" + text, ""
    if text.startswith("//") and _BARE_HOST.fullmatch(text[2:]):
        return "https:" + text, ""
    return "", f"website {_quote(text)} is not an http(s) web address; left out"


def _email(text: str) -> tuple[str, str]:
    """Return ``(address, note)``; ``mailto:`` is dropped, anything else unlike an address is left out."""
    address = text[7:] if text.lower().startswith("mailto:") else text
    if is_email(address):
        return address, ""
    return "", f"email {_quote(text)} is not an email address; left out"


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


_RULES: dict[str, Callable[[str], tuple[str, str]]] = {"phone": _phone, "website": _website, "email": _email}


def normalize_contact(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the contact fields normalized, and each row's notes about them.

    Parameters
    ----------
    frame : DataFrame
        Text columns ``phone``, ``website`` and ``email`` ("" when empty); others are ignored.

    Returns
    -------
    (DataFrame, ndarray)
        The three columns normalized ("" when empty or left out), on ``frame``'s
        index; and one ``"; "``-joined note string per row ("" when none).
        ``frame`` is not changed.
    """
    notes = np.full(len(frame), "", dtype=object)
    out = pd.DataFrame(index=frame.index)
    for name in CONTACT_FIELDS:
        values = frame[name].fillna("").astype("str").str.strip() if name in frame else None
        if values is None:
            out[name] = pd.Series("", index=frame.index, dtype="str")
            continue
        # Each distinct value is checked once: a list repeats a district's phone or website often.
        distinct = {}
        for text in pd.unique(values[values != ""]):
            if len(text) > MAX_CONTACT:
                distinct[text] = ("", f"{name} of {len(text):,} characters is too long; left out")
            else:
                distinct[text] = _RULES[name](text)
        result = values.map(lambda t, d=distinct: d[t][0] if t else "")
        out[name] = result.astype("str")
        row_notes = values.map(lambda t, d=distinct: d[t][1] if t else "").to_numpy(dtype=object)
        has = row_notes != ""
        notes[has] = np.where(notes[has] == "", row_notes[has], notes[has] + "; " + row_notes[has])
    return out, notes
