"""Staff accounts: argon2id password hashes, roles, states, and the rules for creating them.

No Flask here: ``csmap user`` and the web pages share these functions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from webmap.models import ROLES, User

logger = logging.getLogger(__name__)

#: argon2-cffi's defaults are argon2id with RFC 9106's "low memory" parameters (t=3, 64 MiB, p=4).
_hasher = PasswordHasher()
#: NIST SP 800-63B asks for at least 8 characters; a shared admin tool earns a little more.
MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: A hash verified for unknown e-mails, so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class AccountError(ValueError):
    """A bad e-mail, role, state list or password; the message names the value."""


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Return True when ``password`` matches ``password_hash`` (always spends one verification)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def normalize_email(email: str) -> str:
    """Return the e-mail in lower case, or raise :class:`AccountError`."""
    value = (email or "").strip().lower()
    if not _EMAIL.match(value) or len(value) > 320:
        msg = f"{email!r} is not an e-mail address"
        raise AccountError(msg)
    return value


def normalize_states(states: str | Sequence[str] | None) -> list[str]:
    """Return USPS codes from ``"IL,IN"`` or a list; raise :class:`AccountError` for an unknown one."""
    from geo.school_fields import state_codes

    items = states.split(",") if isinstance(states, str) else list(states or [])
    table = state_codes()
    out = []
    for item in (s.strip() for s in items):
        if not item:
            continue
        code = table.get(re.sub(r"[^a-z0-9]+", "", item.lower()))
        if code is None:
            msg = f"unknown state {item!r}; use USPS codes such as IL,IN"
            raise AccountError(msg)
        if code not in out:
            out.append(code)
    return out


def check_password(password: str) -> None:
    """Raise :class:`AccountError` when ``password`` is too short."""
    if len(password or "") < MIN_PASSWORD:
        msg = f"the password must have at least {MIN_PASSWORD} characters"
        raise AccountError(msg)


def add_user(
    session: Session, email: str, password: str, role: str, states: str | Sequence[str] | None = None
) -> User:
    """Create an account; an editor needs at least one state, an admin takes none."""
    address = normalize_email(email)
    if role not in ROLES:
        msg = f"unknown role {role!r}; roles are {', '.join(ROLES)}"
        raise AccountError(msg)
    codes = normalize_states(states)
    if role == "editor" and not codes:
        msg = "an editor needs --states (e.g. --states IL,IN): the states whose schools they may edit"
        raise AccountError(msg)
    if role == "admin" and codes:
        msg = f"an admin is not limited to states; drop --states {','.join(codes)!r}"
        raise AccountError(msg)
    check_password(password)
    if session.scalar(select(User).where(User.email == address)) is not None:
        msg = f"an account for {address!r} already exists"
        raise AccountError(msg)
    user = User(email=address, password_hash=hash_password(password), role=role, states=",".join(codes))
    session.add(user)
    session.flush()
    logger.info("added %s %s", role, address)
    return user


def find_user(session: Session, email: str) -> User | None:
    """Return the account of ``email`` (any case), or None."""
    return session.scalar(select(User).where(User.email == (email or "").strip().lower()))


def list_users(session: Session) -> list[User]:
    """Return every account, by e-mail."""
    return list(session.scalars(select(User).order_by(User.email)))


def describe(user: User) -> dict[str, Any]:
    """Return an account as a JSON-ready dict (no hash), for the audit log and listings."""
    return {"email": user.email, "role": user.role, "states": user.state_list, "disabled": user.disabled}


def set_password(session: Session, user: User, password: str) -> None:
    """Give ``user`` a new password and end every session they have."""
    from sqlalchemy import delete

    from webmap.models import StaffSession

    check_password(password)
    user.password_hash = hash_password(password)
    session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
