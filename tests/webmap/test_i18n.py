"""Spanish for the public pages (issue 16 point 5): the catalog, the switch, the caches, the text.

The page test renders every page of :data:`PAGES` in English and in Spanish and fails on any
visible text node of the Spanish page that is still its English self, unless it is data (a
name, code or number of the build) or a word of :data:`SAME_IN_BOTH`. The catalog tests fail
on an empty translation and on a marked string of the sources that the catalog lacks.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from webmap import i18n

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "webmap" / "translations" / "es" / "LC_MESSAGES" / "messages.po"

#: Every public page the Spanish catalog covers, one line each: (name, URL). ``{state}`` is a
#: state of the build with schools and desert counties, ``{partner}`` a partner's id, ``{school}``
#: the first school of the build.
PAGES: list[tuple[str, str]] = [
    ("home", "/"),
    ("states", "/states/"),
    ("state", "/states/{state}"),
    ("state, second page of schools", "/states/{state}?schools_page=2"),
    ("find", "/find"),
    ("find results", "/find?q=78701"),
    ("find, place not found", "/find?q=qqqzzzxxx"),
    ("about", "/about"),
    ("gaps", "/gaps"),
    ("downloads", "/downloads/"),
    ("data dictionary", "/downloads/data-dictionary"),
    ("partners", "/partners"),
    ("partner", "/partners/{partner}"),
    ("not found", "/states/ZZ"),
    ("bad parameter", "/gaps?sort=nonsense"),
    ("embedded map", "/embed/map"),
    ("embedded state", "/embed/states/{state}"),
    ("fact sheet (the PDF's HTML)", "factsheet:{state}"),
    ("school", "/schools/{school}"),
    ("school, unknown id", "/schools/ZZ-no-such-school"),
    ("census form", "/count"),
    ("census form, a correction", "/count?school_id={school}"),
    ("planner", "/plan"),
    ("planner, target mode form", "/plan?mode=target"),
    ("planner, target mode", "/plan?mode=target&target_children=50000&state={state}"),
    ("planner, what-if by place", "/plan?state={state}&place=Springfield%2C+{state}"),
    ("planner, target page (redirects)", "/plan/target?target_children=20000"),
]

#: Words that are the same in English and Spanish, or names that are not translated.
SAME_IN_BOTH = {
    "English",
    "Español",
    "API",
    "CSV",
    "JSON",
    "GeoJSON",
    "GeoPackage",
    "OpenAPI",
    "PDF",
    "Error",
    "rural",
    "mi",
    "UTC",
    "ZIP",
    "SAMPLE",  # the tag's class names; the visible tag is translated (checked by the catalog)
    "no",
    "ZCTA",
    "Total",
}

#: Elements whose text is not prose to translate: code, scripts, styles, and the data the map reads.
SKIPPED_ELEMENTS = {"script", "style", "code", "textarea", "template"}
#: Attributes a person sees or hears.
SPOKEN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "label")
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class VisibleText(HTMLParser):
    """Collect the visible text nodes and spoken attributes of a page, whitespace-normalized.

    Text inside :data:`SKIPPED_ELEMENTS`, inside any element marked ``lang="en"`` (English on
    purpose, such as the server's own error detail), and inside any marked ``translate="no"`` (a
    name from the data, such as a planner site's place), is left out.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._stack: list[bool] = []  # per open element: does it hide its text?

    def _hidden(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hides = (
            tag in SKIPPED_ELEMENTS
            or (values.get("lang") == "en" and tag != "html")
            or values.get("translate") == "no"
        )
        if not self._hidden() and not hides:
            for name in SPOKEN_ATTRIBUTES:
                if values.get(name):
                    self._add(values[name] or "")
            if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
                self._add(values["value"] or "")
        if tag not in VOID_ELEMENTS:
            self._stack.append(hides)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_ELEMENTS and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden():
            self._add(data)

    def _add(self, text: str) -> None:
        text = " ".join(text.split())
        if text:
            self.nodes.append(text)


def visible_text(html: str) -> list[str]:
    """Return the visible text nodes of ``html`` (see :class:`VisibleText`)."""
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser.nodes


#: Separators between data values in one text node ("Springfield, IL", "12 · 3.4%", "Name — 2 mi").
PARTS = re.compile(r"[,;·—–()\[\]/:|“”\"'<>.#→↗›▲▼⇅…]+|\s-\s")


def is_data(node: str, data_words: set[str]) -> bool:
    """Whether ``node`` holds only data: numbers, names and codes of the build, or shared words."""
    if node in data_words or node in SAME_IN_BOTH or node.strip(" :,;·—–|") in data_words:
        return True  # the last: a name after a separator, e.g. the find list's hidden ": {name}"
    for part in PARTS.split(node):
        part = part.strip()
        if not part or not re.search(r"[^\W\d_]", part):
            continue
        if part in data_words or part in SAME_IN_BOTH:
            continue
        words = part.split()
        if all(w in SAME_IN_BOTH or not re.search(r"[^\W\d_]", w) or w in data_words for w in words):
            continue
        return False
    return True


@pytest.fixture(scope="module")
def site_app(shared_app):
    """The session's shared app (tests/webmap/conftest.py); this module only reads it."""
    return shared_app


@pytest.fixture(scope="module")
def data_words(site_app) -> set[str]:
    """The build's own names and codes: states, counties, schools, partners, coalitions, sources."""
    from webmap import docs
    from webmap import page_data as pd_
    from webmap.data import get_data
    from webmap.record_data import TABLES, table

    words: set[str] = set()
    with site_app.app_context():
        data = get_data()
        for code, row in pd_.state_rows(data).items():
            words.update({code, str(row.get("name"))})
        schools = data.schools
        for column in (
            "school_id",
            "name",
            "city",
            "district",
            "address",
            "state",
            "zip",
            "grades",
            "geocode_note",
        ):
            if column in schools:
                words.update(str(v) for v in schools[column].dropna().unique())
        counties = data.layer("county_metrics")
        words.update(str(v) for v in counties["name"].dropna().unique())
        for name in TABLES:
            frame = table(data, name)
            for column in (
                "name",
                "coalition_name",
                "lead_organization",
                "lead_organizations",
                "district",
                "contact_email",
            ):
                if column in frame:
                    words.update(str(v) for v in frame[column].dropna().unique())
            if "website" in frame:
                words.update(str(v).replace("https://", "") for v in frame["website"].dropna().unique())
        for source in data.manifest.get("sources") or []:
            words.update(str(v) for v in source.values())
            words.add("{source} ({package}; {licence})".format_map(source))  # the fact sheet's form
        words.update(
            {data.build_id, str(data.manifest.get("built_at")), str(data.manifest.get("school_list"))}
        )
        words.update(docs.doc_names())
        from geo.reference import CANADA_PROVINCES, TERRITORIES

        words.update(CANADA_PROVINCES)
        words.update(TERRITORIES)
        import us

        words.update(place.name for place in us.states.STATES_AND_TERRITORIES)
    return {w for w in words if w and w != "None"}


@pytest.fixture(scope="module")
def page_urls(site_app) -> dict[str, str]:
    """Fill :data:`PAGES`' slots with a state that has schools on two pages and desert counties."""
    from webmap import page_data as pd_
    from webmap.data import get_data
    from webmap.record_data import table

    with site_app.app_context():
        data = get_data()
        rows = pd_.state_rows(data)
        state = next(
            code
            for code, row in sorted(rows.items(), key=lambda item: -(item[1].get("community_schools") or 0))
            if pd_.state_deserts(data, code)
        )
        partner = str(table(data, "partners")["partner_id"].iloc[0])
        school = str(data.schools["school_id"].iloc[0])
    return {name: url.format(state=state, partner=partner, school=school) for name, url in PAGES}


def _render(site_app, url: str, language: str) -> str:
    client = site_app.test_client()
    if url.startswith("factsheet:"):
        from webmap.data import get_data
        from webmap.factsheet import factsheet_html

        with site_app.test_request_context(f"/?lang={language}"):
            return factsheet_html(get_data(), url.split(":", 1)[1], site="http://127.0.0.1")
    response = client.get(
        url, headers={"Accept-Language": language, "Accept": "text/html"}, follow_redirects=True
    )
    assert response.status_code in (200, 400, 404), (url, response.status_code)
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.mark.parametrize("name", [name for name, _ in PAGES])
def test_no_visible_english_left_on_the_spanish_page(site_app, page_urls, data_words, name):
    url = page_urls[name]
    english, spanish = _render(site_app, url, "en"), _render(site_app, url, "es")
    assert '<html lang="es">' in spanish and '<html lang="en">' in english
    english_nodes = set(visible_text(english))
    spanish_nodes = visible_text(spanish)
    assert len(spanish_nodes) > 3, f"{url}: too little text to check"
    left = sorted({n for n in spanish_nodes if n in english_nodes and not is_data(n, data_words)})
    assert left == [], f"{url} in Spanish still shows English: {left}"


def test_the_page_checker_catches_english(data_words):
    english = "<p>Children within reach</p><p>Ohio</p><p>12,345</p><p lang='en'>server detail</p>"
    spanish = "<p>Children within reach</p><p>Ohio</p><p>12.345</p><p lang='en'>server detail</p>"
    english_nodes = set(visible_text(english))
    left = [n for n in visible_text(spanish) if n in english_nodes and not is_data(n, data_words)]
    assert left == ["Children within reach"]


# --------------------------------------------------------------------------
# The catalog


def _catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="es")


def test_every_msgid_has_a_spanish_msgstr():
    catalog = _catalog()
    empty = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            empty.append(message.id)
    assert len(catalog) > 300
    assert empty == []


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s|\{\w+\}", text))


def test_every_translation_keeps_the_placeholders_of_its_msgid():
    wrong = []
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = _placeholders(ids[-1]) - {"%(num)s"}
        for text in strings:
            if not expected <= _placeholders(text) or text.count("%%") != ids[0].count("%%"):
                wrong.append((message.id, text))
    assert wrong == []


def test_the_catalog_holds_every_string_the_sources_mark():
    """``pybabel extract -F babel.cfg -k N_`` finds no msgid the catalog lacks (and vice versa)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    extracted = {
        (message[0] if isinstance(message, tuple) else message)
        for _, _, message, _, _ in (
            item[:5] for item in extract_from_dir(str(ROOT), method_map, options_map, keywords)
        )
    }
    in_catalog = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalog() if m.id}
    assert sorted(extracted - in_catalog) == [], "marked in the sources but missing from the catalog"
    assert sorted(in_catalog - extracted) == [], "in the catalog but no longer in the sources"


def test_every_script_string_is_in_the_list_the_page_sends():
    literals = set()
    for script in (ROOT / "webmap" / "static" / "js").glob("*.js"):
        literals |= set(re.findall(r'\bt\("((?:[^"\\]|\\.)*)"', script.read_text(encoding="utf-8")))
    assert literals, "the scripts call t()"
    assert sorted(literals - set(i18n.SCRIPT_MESSAGES)) == []


def test_the_metric_labels_of_the_registry_are_in_the_catalog():
    from webmap.i18n_extract import registry_labels

    translated = {m.id: m.string for m in _catalog() if m.id}
    labels = registry_labels()
    assert "Reach (share of children)" in labels
    assert all(translated.get(label) for label in labels)


# --------------------------------------------------------------------------
# Choosing the language, and the caches


def test_english_by_default_and_spanish_from_accept_language(site_app):
    client = site_app.test_client()
    english = client.get("/gaps")
    assert '<html lang="en">' in english.get_data(as_text=True)
    spanish = client.get("/gaps", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    body = spanish.get_data(as_text=True)
    assert '<html lang="es">' in body and "Dónde están las brechas" in body
    assert spanish.headers["Content-Language"] == "es"
    assert {"Accept-Language", "Cookie"} <= set(spanish.vary)
    assert client.get("/gaps", headers={"Accept-Language": "fr, de"}).headers["Content-Language"] == "en"


def test_the_switch_remembers_the_choice_in_a_cookie(site_app):
    client = site_app.test_client()
    page = client.get("/gaps?sort=name").get_data(as_text=True)
    assert 'href="/language/es?next=%2Fgaps%3Fsort%3Dname"' in page
    switched = client.get("/language/es?next=/gaps%3Fsort%3Dname")
    assert switched.status_code == 303 and switched.headers["Location"] == "/gaps?sort=name"
    cookie = client.get_cookie(i18n.COOKIE_NAME)
    assert cookie is not None and cookie.value == "es" and cookie.http_only
    # The cookie outranks the browser's language; ?lang= outranks the cookie.
    again = client.get("/about", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="es">' in again and "Acerca de este mapa" in again
    assert '<html lang="en">' in client.get("/about?lang=en").get_data(as_text=True)
    client.get("/language/en")
    assert '<html lang="en">' in client.get("/about").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", ""])
def test_the_switch_never_leaves_the_site(site_app, target):
    response = site_app.test_client().get("/language/es", query_string={"next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_unknown_languages_are_refused_naming_the_value(site_app):
    client = site_app.test_client()
    response = client.get("/language/fr", headers={"Accept": "application/json"})
    assert response.status_code == 404 and "'fr'" in response.json["description"]
    bad = client.get("/gaps?lang=xx", headers={"Accept": "application/json"})
    assert bad.status_code == 400
    assert bad.json["parameter"] == "lang" and "'xx'" in bad.json["description"]


def test_cached_pages_are_kept_per_language(site_app, page_urls):
    client = site_app.test_client()
    for url in ("/", page_urls["state"]):
        spanish = client.get(url, headers={"Accept-Language": "es"}).get_data(as_text=True)
        english = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert '<html lang="es">' in spanish and "Escuelas Comunitarias" in spanish
        assert '<html lang="en">' in english and "Escuelas Comunitarias" not in english
        # The switch on a page cached for everyone links back to the path alone.
        assert 'href="/language/es?next=' in english


def test_staff_pages_stay_english(site_app):
    response = site_app.test_client().get("/staff/login", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in response.get_data(as_text=True)


def test_the_scripts_get_their_words_as_a_blob(site_app):
    client = site_app.test_client()

    def blob(language: str) -> dict:
        page = client.get("/", headers={"Accept-Language": language}).get_data(as_text=True)
        found = re.search(r'<script type="application/json" id="csmap-i18n">(.*?)</script>', page, re.S)
        assert found
        return json.loads(found.group(1))

    assert blob("en") == {}
    spanish = blob("es")
    assert set(spanish) == set(i18n.SCRIPT_MESSAGES) | set(i18n.TERMS)
    assert spanish["developing"] == "en desarrollo"
    assert spanish["no data"] == "sin datos"
    assert spanish["Open the {name} page →"] == "Abrir la página de {name} →"


def test_map_legends_and_layer_names_are_spanish(site_app):
    page = site_app.test_client().get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    config = json.loads(re.search(r'id="csmap-config">(.*?)</script>', page, re.S).group(1))
    legend = next(item for item in config["legends"] if item["key"] == "reach_share")
    assert legend["label"] == "Alcance (proporción de niños)"
    assert all(label.endswith("\u00a0%") and "," in label for label in legend["labels"])
    # The layer control names the choropleth in folium's script, JSON-escaped.
    assert json.dumps("Alcance (proporción de niños)") in page


# --------------------------------------------------------------------------
# Numbers


def test_figures_are_formatted_for_spanish():
    from webmap.figures import format_value

    assert format_value(12345.6, "count", "es") == "12.346"
    assert format_value(12345.6, "count") == "12,346"
    assert format_value(0.4834, "share", "es") == "48,3\u00a0%"
    assert format_value(3.14159, "rate", "es") == "3,14"
    assert format_value(None, "share", "es") == "—"


def test_the_spanish_pdf_reads_back_in_spanish(site_app, page_urls):
    import io

    from pypdf import PdfReader

    state = page_urls["state"].rsplit("/", 1)[1]
    response = site_app.test_client().get(f"/states/{state}.pdf", headers={"Accept-Language": "es"})
    assert response.status_code == 200 and response.headers["Content-Language"] == "es"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Cifras principales" in text and "Fuentes" in text
    assert "Headline figures" not in text


def test_build_dates_are_written_out_in_spanish(site_app):
    with site_app.test_request_context("/?lang=es"):
        assert i18n.format_timestamp("2026-11-28T12:00:00+00:00") == "28 de noviembre de 2026, 12:00"
        assert i18n.format_timestamp("2026-11-28T12:00:00+00:00", date_only=True) == "28 de noviembre de 2026"
        assert i18n.format_timestamp("not a date") == "not a date"
    with site_app.test_request_context("/"):
        assert i18n.format_timestamp("2026-11-28T12:00:00+00:00") == "2026-11-28T12:00:00+00:00"
