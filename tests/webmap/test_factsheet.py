"""The state PDF fact sheet (/states/<ST>.pdf): its text read back from the PDF, on real builds."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from geo.compare import state_comparison
from webmap import page_data
from webmap.figures import format_value, metric


def pdf_text(body: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(body))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def ohio_pdf(built_data_dir):
    from webmap import create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(built_data_dir)})
    client = app.test_client()
    response = client.get("/states/OH.pdf")
    return app, response


def test_fact_sheet_is_a_one_or_two_page_letter_pdf(ohio_pdf):
    _, response = ohio_pdf
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert "OH" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    assert 1 <= len(reader.pages) <= 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # Letter, in points
    images = [image for page in reader.pages for image in page.images]
    assert images, "the static state map is missing"


def test_fact_sheet_prints_the_figures_with_national_value_and_rank(ohio_pdf):
    app, response = ohio_pdf
    _, text = pdf_text(response.data)
    with app.app_context():
        from webmap.data import get_data

        document = page_data.metrics_document(get_data())
        manifest = get_data().manifest
    rows = state_comparison(document["states"], document["national"], "OH")
    assert len(rows) >= 6
    flat = " ".join(text.split())
    for row in rows:
        info = metric(row.key)
        value, national = format_value(row.value, info.kind), format_value(row.national, info.kind)
        assert f"{info.label} {value} {national} {row.rank} of 52" in flat, info.label
    assert "Ohio" in text
    assert manifest["build_id"] in text
    assert str(manifest["built_at"])[:10] in text
    assert "US Census Bureau" in text and "ACS 2022" in text  # sources
    assert "Coalition contact" in text


def test_sample_build_prints_a_sample_mark(ohio_pdf):
    _, response = ohio_pdf
    _, text = pdf_text(response.data)
    assert "SAMPLE DATA" in text
    assert "SAMPLE" in response.headers["Content-Disposition"]


def test_real_data_prints_no_sample_mark(tmp_path, make_tiny_build):
    from webmap import create_app

    make_tiny_build(tmp_path, is_sample=False)
    client = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}).test_client()
    response = client.get("/states/IL.pdf")
    assert response.status_code == 200
    _, text = pdf_text(response.data)
    assert "Illinois" in text
    assert "SAMPLE" not in text
    assert "Illinois CS Coalition" in text  # the coalition from the coalitions table


def test_fact_sheet_is_cached_per_build(ohio_pdf):
    app, response = ohio_pdf
    with app.app_context():
        from webmap.data import get_data

        keys = [k for k in get_data().cache if k.startswith("factsheet/pdf/OH/")]
    assert len(keys) == 1
    again = app.test_client().get("/states/OH.pdf")
    assert again.data == response.data
    revalidated = app.test_client().get("/states/OH.pdf", headers={"If-None-Match": response.headers["ETag"]})
    assert revalidated.status_code == 304


def test_unknown_state_is_a_404_naming_it_and_codes_are_normalized(client):
    missing = client.get("/states/ZZ.pdf")
    assert missing.status_code == 404
    assert "unknown state &#39;ZZ&#39;" in missing.get_data(as_text=True)
    lower = client.get("/states/oh.pdf")
    assert lower.status_code == 301
    assert lower.headers["Location"].endswith("/states/OH.pdf")
