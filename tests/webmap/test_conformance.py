"""Schemathesis against the served OpenAPI documents: the server answers as they say (issue 17, point 8).

Both documents, /api/openapi.json and the OGC API's /ogcapi/api, are run with
``--checks all`` (status codes, content types, headers and bodies against the
document; schema-valid requests accepted and schema-invalid ones refused;
405 with ``Allow`` for undocumented methods...) over the examples, coverage,
fuzzing and stateful phases, with a fixed seed and a bounded number of cases
per operation, so a run is repeatable and takes seconds.

The server is a real ``csmap serve`` child (gunicorn, as ``make serve`` runs it)
on a free loopback port, over the session's build of the embedded sample: some
answers come from gunicorn itself (a request line over its limit is a 414, not
anything Flask says), so werkzeug's server would test a different front door.

Rules OpenAPI 3.0 cannot state (one parameter excluding another, south <= north
in a bbox, keep/exclude ids that must be candidates of the build) are in
tests/webmap/conformance_hooks.py.

The POST operations (/api/plan, /plan.csv, /plan.geojson) are in the run too: their
JSON body is described exactly (the server checks the same types and members), a
CSV list by a pattern of its plain form, and k above the candidates is capped, not
refused (issue 17, point 8). A GeoJSON body, whose [lon, lat] positions OpenAPI 3.0
cannot describe, is documented in words and tested in tests/webmap/test_plan.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Cases per operation and phase, and the seed: small and fixed, so the run is bounded and repeatable.
MAX_EXAMPLES = 8
SEED = 17


@pytest.fixture
def served_port(served_sample):
    """Port of the session's ``csmap serve`` (gunicorn) child over its build (tests/conftest.py)."""
    return served_sample[0]


@pytest.mark.parametrize("document", ["/api/openapi.json", "/ogcapi/api?f=json"])
def test_server_conforms_to_its_openapi_document(served_port, document, tmp_path):
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if schemathesis is None:
        pytest.fail("schemathesis is not installed in this environment (make installs it)")
    command = [
        schemathesis,
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        f"http://127.0.0.1:{served_port}{document}",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--no-shrink",
        "--generation-database",
        "none",
        # One worker: with two threads, Hypothesis (describing a lambda) at times trips on
        # CPython 3.11's "AST constructor recursion depth mismatch" and reports an error.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--output-truncate",
        "false",
    ]
    env = dict(
        os.environ,
        SCHEMATHESIS_HOOKS="conformance_hooks",
        PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), str(ROOT)]),
    )
    # cwd: Schemathesis may write its report folder there, never into the checkout.
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = result.stdout + result.stderr
    assert "Tested: 0" not in output, output
    assert result.returncode == 0, output[-20000:]
