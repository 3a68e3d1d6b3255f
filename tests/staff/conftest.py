"""Fixtures of the staff workspace: a database on SQLite *and* PostgreSQL, a data folder, accounts.

PostgreSQL is the server ``.ci/run`` starts (Debian's cluster, ``pg_ctlcluster``);
``CSMAP_TEST_POSTGRES_URL`` points at a role that may create databases, and
each test gets a database of its own. Without a reachable server the
PostgreSQL half of each test is skipped with the reason, except under CI,
where it fails: CI must never pass on SQLite alone.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_support import create_database, drop_database
from tests.staff.staff_support import ADMIN, EDITOR, EDITOR_STATES, sign_in


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite in tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'staff.sqlite'}"
        return
    from webmap.db import dispose_engines

    name, url = create_database("csmap_test")
    yield url
    dispose_engines()
    drop_database(name)


#: The staff apps' signing key: the signed-in cookies made with a template (``_Templates``) fit them.
SECRET_KEY = "test key"


def _add_staff(url: str, data: Path) -> None:
    from webmap import accounts, db
    from webmap.staff.publisher import adopt_current_build

    db.upgrade(url)
    with db.session_scope(url) as session:
        accounts.add_user(session, ADMIN[0], ADMIN[1], "admin")
        accounts.add_user(session, EDITOR[0], EDITOR[1], "editor", EDITOR_STATES)
    # What the first signed-in visit does (webmap.staff.require_sign_in), done once here: it takes
    # about 3 s, which every test paid before.
    adopt_current_build(url, data, actor=ADMIN[0])
    db.dispose_engines()  # a template database must have no open sessions to be copied


def _signed_in_cookies(url: str, data: Path, scratch: Path) -> dict[str, str]:
    """Sign the admin and the editor in once, on the template database; return their session cookies.

    Sessions live in the database (webmap.auth), so every copy of the template holds them:
    ``admin_client`` and ``editor_client`` send these cookies instead of signing in again.
    A sign-in verifies an argon2id hash (64 MiB, about 0.25 CPU-seconds), which each staff
    test paid once or twice before; sign-in itself is tested in test_staff_auth.py.
    """
    from webmap import create_app, db

    folder = scratch / "data"  # the app never writes into the shared seeded folder
    shutil.copytree(data, folder, symlinks=True, copy_function=os.link, ignore=_NOT_THE_BUILD)
    app = create_app(
        {"TESTING": True, "DATA_DIR": str(folder), "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY}
    )
    cookies = {}
    for role, who in (("admin", ADMIN), ("editor", EDITOR)):
        client = app.test_client()
        assert sign_in(client, who).status_code == 302
        cookies[role] = client.get_cookie("csmap_staff").value
    db.dispose_engines()
    return cookies


#: What a served app may have added to the shared session build (another worker's census form
#: makes ``secret_key`` there): never copied, so each staff test starts without it.
_NOT_THE_BUILD = shutil.ignore_patterns("secret_key")


@pytest.fixture(scope="session")
def _seeded_data_dir(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session build, plus the list the staff records were seeded from (written beside it)."""
    target = tmp_path_factory.mktemp("staff-seeded") / "data"
    shutil.copytree(built_data_dir, target, symlinks=True, copy_function=os.link, ignore=_NOT_THE_BUILD)
    return target


@pytest.fixture(scope="session")
def _fixture_world_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated sample built on the tiny fixture world (tests/scripts/fixture_build.py).

    For tests whose claim needs real builds but not the national sample: a publish here
    takes a fraction of a second where the national sample takes seconds.
    """
    from geo.build import run_build
    from tests.scripts import fixture_build

    target = tmp_path_factory.mktemp("staff-fixture-world") / "data"
    with pytest.MonkeyPatch.context() as patch:
        fixture_build.use_fixture_reference(patch)
        run_build(target)
    return target


class _Templates:
    """Migrated, seeded databases with the two accounts, one per seeded data folder, made on first use."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.sqlite_files: dict[Path, Path] = {}
        self.postgres_names: dict[Path, str] = {}
        #: The signed-in cookies of each template (by SQLite path or PostgreSQL name).
        self.cookies: dict[Path | str, dict[str, str]] = {}
        #: The cookies that fit each test's database (by URL), while it exists.
        self.cookies_of: dict[str, dict[str, str]] = {}

    def sqlite(self, seed: Path) -> Path:
        """Return the SQLite template of ``seed``, each test's copy's source."""
        if seed not in self.sqlite_files:
            folder = self.tmp_path_factory.mktemp("staff-template")
            path = folder / "staff.sqlite"
            _add_staff(f"sqlite:///{path}", seed)
            self.cookies[path] = _signed_in_cookies(f"sqlite:///{path}", seed, folder)
            self.sqlite_files[seed] = path
        return self.sqlite_files[seed]

    def postgres(self, seed: Path) -> str:
        """Return the name of the PostgreSQL template database of ``seed``."""
        if seed not in self.postgres_names:
            name, url = create_database("csmap_template")
            self.postgres_names[seed] = name
            _add_staff(url, seed)
            self.cookies[name] = _signed_in_cookies(url, seed, self.tmp_path_factory.mktemp("staff-template"))
        return self.postgres_names[seed]


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory)
    yield templates
    for name in templates.postgres_names.values():
        drop_database(name)


@pytest.fixture
def staff_seed(_seeded_data_dir: Path) -> Path:
    """The data folder every staff fixture starts from: the session build of the national sample.

    A module whose claims hold in the fixture world overrides this with
    ``_fixture_world_data_dir`` (and makes its builds use that world).
    """
    return _seeded_data_dir


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_url(
    request: pytest.FixtureRequest, tmp_path: Path, staff_seed: Path, _templates
) -> Iterator[str]:
    """A database of its own: migrated, an admin and an editor for IL and IN, records seeded.

    The records hold the list of ``staff_seed``'s build, as after the first signed-in visit.
    """
    if request.param == "sqlite":
        path = tmp_path / "staff.sqlite"
        template = _templates.sqlite(staff_seed)
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
        _templates.cookies_of[url] = _templates.cookies[template]
        yield url
        _templates.cookies_of.pop(url)
        return
    from webmap.db import dispose_engines

    template = _templates.postgres(staff_seed)
    name, url = create_database("csmap_test", template=template)
    _templates.cookies_of[url] = _templates.cookies[template]
    yield url
    _templates.cookies_of.pop(url)
    dispose_engines()
    drop_database(name)


@pytest.fixture
def staff_data_dir(staff_seed: Path, tmp_path: Path) -> Path:
    """A private data folder sharing ``staff_seed``'s files by hard link (cheap to make).

    Builds never change a file in place, so hard links are safe; new builds and files are private.
    """
    target = tmp_path / "data"
    shutil.copytree(staff_seed, target, symlinks=True, copy_function=os.link, ignore=_NOT_THE_BUILD)
    return target


@pytest.fixture
def staff_app(migrated_url: str, staff_data_dir: Path):
    """The whole app on the private data folder and database."""
    from webmap import create_app

    return create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(staff_data_dir),
            "DATABASE_URL": migrated_url,
            "SECRET_KEY": SECRET_KEY,
        }
    )


def _signed_in_client(staff_app, migrated_url: str, _templates, role: str):
    client = staff_app.test_client()
    client.set_cookie("csmap_staff", _templates.cookies_of[migrated_url][role])
    assert client.get("/staff/").status_code == 200, f"the {role}'s session of the template is not valid"
    return client


@pytest.fixture
def admin_client(staff_app, migrated_url: str, _templates):
    """A test client signed in as the admin (with the session made on the template database)."""
    return _signed_in_client(staff_app, migrated_url, _templates, "admin")


@pytest.fixture
def editor_client(staff_app, migrated_url: str, _templates):
    """A test client signed in as the editor of IL and IN (with the template database's session)."""
    return _signed_in_client(staff_app, migrated_url, _templates, "editor")
