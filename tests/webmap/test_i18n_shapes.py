"""Spanish for the sentences geo/ writes in English: the census form's messages and the planner's notes.

webmap.census_words and webmap.plan_words translate them by shape (webmap.i18n_shapes). These
tests feed the real producers (geo.census.check_census, the planner on the session build,
webmap.plan.resolve_place) and fail when a sentence they write has no shape, i.e. would stay
English on a Spanish page.
"""

from __future__ import annotations

import pytest

from geo.census import CENSUS_FIELDS, SECTIONS, check_census, choice_label
from geo.planner_target import MAX_TARGET_CHILDREN
from webmap.census_words import WORDS, translate_census_text
from webmap.i18n import TERMS
from webmap.plan_words import translate_plan_text

#: Census answers that are wrong in every way the form checks, one field at a time or together.
BAD_ANSWERS = [
    {},  # every required field missing
    {"name": "x" * 500, "contact_email": "not-an-email", "contact_phone": "call me", "nces_id": "12"},
    {"grades": "first to fifth", "stage": "finished", "country": "FR", "setting": "lunar"},
    {"state": "Atlantis", "zip": "1234"},
    {"state": "Ontario", "country": "US", "zip": "99999"},
    {"state": "ON", "country": "CA", "zip": "12345"},
    {"other_partners": "\n".join(f"partner {i}" for i in range(40))},
    {"other_partners": "y" * 250},
    {"element_coordination": "maybe", "element_leadership": "perhaps", "element_planning": "?"},
]


@pytest.fixture(scope="module")
def site_app(shared_app):
    """The session's shared app (tests/webmap/conftest.py); this module only reads it."""
    return shared_app


def _census_messages() -> list[str]:
    messages = []
    for answer in BAD_ANSWERS:
        messages.extend(check_census(answer).errors.values())
    return messages


def test_every_census_message_reads_in_spanish_and_keeps_the_bad_value(site_app):
    messages = _census_messages()
    assert len(set(messages)) >= 15
    with site_app.test_request_context("/count?lang=es"):
        for message in messages:
            spanish = translate_census_text(message)
            assert spanish != message, f"no Spanish shape for {message!r}"
            quoted = message.rsplit("got ", 1)[1].split(" (use", 1)[0] if "got " in message else None
            if quoted:
                assert quoted in spanish, (message, spanish)
        assert translate_census_text("Street address is required") == "El campo «Dirección» es obligatorio"
        too_long = check_census({"name": "x" * 1500}).errors["name"]
        assert "1.500" in translate_census_text(too_long)  # a Spanish number


def test_census_messages_stay_as_written_in_english(site_app):
    with site_app.test_request_context("/count"):
        assert all(translate_census_text(m) == m for m in _census_messages())
        assert translate_census_text("a sentence of no known shape") == "a sentence of no known shape"


def test_every_census_word_is_marked_for_the_catalog():
    words = set(WORDS) | set(TERMS)
    shown = {*SECTIONS.values(), *(f.label for f in CENSUS_FIELDS)}
    shown |= {choice_label(c) for f in CENSUS_FIELDS for c in f.choices if f.name != "country"}
    hints = {f.hint for f in CENSUS_FIELDS if f.hint and not any(ch.isdigit() for ch in f.hint[-3:])}
    assert sorted(shown - words) == []
    assert sorted(hints - words) == []


def _plan_sentences(site_app) -> list[str]:
    """Every English sentence the planner page shows for a few real plans and target answers."""
    from webmap import page_data as pd_
    from webmap.data import get_data
    from webmap.plan import PlanRequest, compute_plan, compute_target, resolve_place

    sentences: list[str] = []
    with site_app.app_context():
        data = get_data()
        states = pd_.state_rows(data)
        state = next(code for code, row in states.items() if row.get("community_schools"))
        first = compute_plan(data, PlanRequest(state, "unserved", 3))
        picked = [str(i) for i in first.picks["candidate_id"]]
        plans = [
            first,
            compute_plan(data, PlanRequest(state, "poverty", 3, keep=(picked[0],), exclude=(picked[1],))),
        ]
        for objective in ("unserved", "poverty"):
            for target in (1, MAX_TARGET_CHILDREN):
                answer = compute_target(data, state, objective, target)
                sentences.append(answer.message)
                if answer.plan is not None:
                    plans.append(answer.plan)
        for plan in plans:
            facts = plan.assumptions
            sentences += [*facts["notes"], facts["data_vintage"], facts["candidate_source"]]
        for typed in ("Springfield", states[state]["name"], "qqqzzzxxx", "78701"):
            site, note = resolve_place(data, typed, states)
            sentences.append(note if site is None else f"Added {note} as your site 1.")  # as webmap.plan says
        sentences.append("At most 10 sites; remove one first.")
    return sentences


def test_every_planner_sentence_reads_in_spanish(site_app):
    sentences = _plan_sentences(site_app)
    assert any("Kept by request" in s for s in sentences) and any("cannot reach" in s for s in sentences)
    with site_app.test_request_context("/plan?lang=es"):
        english_left = [s for s in sentences if translate_plan_text(s) == s]
    assert english_left == []
    with site_app.test_request_context("/plan"):
        assert all(translate_plan_text(s) == s for s in sentences)
