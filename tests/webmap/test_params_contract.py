"""The served OpenAPI documents against the server's behaviour, parameter by parameter.

For every query parameter that /api/openapi.json and /ogcapi/api document, the
test reads the bounds, enums and empty-value rule *from the served document*
and sends requests at each bound and just beyond it: the server must accept
what the document allows and refuse (400, naming the parameter) what it does
not. A bound changed in the code but not in the document (``api.MAX_K = 50``
with the document still saying 100) fails here, whichever side moved.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

from webmap import api

#: A valid value for each path parameter and for parameters a request must carry.
PATH_VALUES = {"state": "IL", "name": None, "featureId": None}
REQUIRED_VALUES = {"lat": "41.88", "lon": "-87.63", "target_children": "1000"}


def _operations(client):
    """Yield (label, url prefix, path, parameters) for every documented GET with query parameters."""
    for doc_url, prefix in (("/api/openapi.json", ""), ("/ogcapi/api?f=json", "/ogcapi")):
        document = client.get(doc_url).get_json()
        for path, item in document["paths"].items():
            if "{" in path and not path.endswith("{state}"):
                continue  # per-collection paths are listed concretely; downloads are per file
            operation = item.get("get")
            if operation is None:
                continue
            concrete = path.replace("{state}", PATH_VALUES["state"])
            query = [p for p in operation["parameters"] if p["in"] == "query"]
            yield f"{prefix}{path}", prefix + concrete, query


def _probes(parameter: dict) -> list[tuple[str, bool]]:
    """(value, should it be accepted) pairs read from one documented parameter."""
    schema, name = parameter["schema"], parameter["name"]
    probes = [("", bool(parameter.get("allowEmptyValue")))]
    kind = schema.get("type")
    if kind in ("integer", "number"):
        step = 1 if kind == "integer" else 0.001
        # Whole numbers exactly (1e+08 is not an integer); other numbers to 6 significant digits.
        fmt = (lambda v: str(int(v))) if kind == "integer" else (lambda v: f"{v:g}")
        low, high = schema.get("minimum"), schema.get("maximum")
        if "enum" in schema:
            probes += [(str(v), True) for v in schema["enum"]]
            probes.append((str(max(schema["enum"]) + 1), False))
        if low is not None:
            if schema.get("exclusiveMinimum"):
                probes += [(fmt(low), False), (fmt(low + step), True)]
            else:
                probes += [(fmt(low), True), (fmt(low - step), False)]
        if high is not None:
            # OGC API limit: above the maximum the server clamps (17-069r4 §7.15.3), as documented.
            clamps = name == "limit" and "clamped" in parameter["description"]
            probes += [(fmt(high), True), (fmt(high + step), clamps)]
        probes.append(("x", False))
    elif "enum" in schema:
        probes += [(str(v), True) for v in schema["enum"]]
        probes.append(("not-a-choice", False))
    elif "pattern" in schema:
        probes.append(("1", False))
    return probes


def _query(parameters: list[dict], name: str, value: str) -> str:
    values = {p["name"]: REQUIRED_VALUES[p["name"]] for p in parameters if p.get("required")}
    values[name] = value
    return urlencode(values)


def test_every_documented_bound_is_the_servers(client):
    checked, wrong = 0, []
    for label, url, parameters in _operations(client):
        for parameter in parameters:
            for value, accepted in _probes(parameter):
                if parameter["name"] == "state" and value:
                    continue  # a state's pattern is probed below, with codes the build has
                response = client.get(f"{url}?{_query(parameters, parameter['name'], value)}")
                checked += 1
                ok = response.status_code == 200 if accepted else response.status_code == 400
                if not accepted and ok:
                    body = response.get_json()
                    ok = body.get("parameter", parameter["name"]) == parameter["name"] or "code" in body
                if not ok:
                    wrong.append((label, parameter["name"], value, accepted, response.status_code))
    assert checked > 150
    assert wrong == []


def test_unknown_and_repeated_parameters_are_refused_where_documented(client):
    for label, url, parameters in _operations(client):
        required = {p["name"]: REQUIRED_VALUES[p["name"]] for p in parameters if p.get("required")}
        response = client.get(f"{url}?{urlencode({**required, 'not_a_parameter': '1'})}")
        assert response.status_code == 400, label
        if parameters and not any(p["schema"].get("type") == "array" for p in parameters):
            name = parameters[0]["name"]
            schema = parameters[0]["schema"]
            value = REQUIRED_VALUES.get(name) or str(schema.get("default", (schema.get("enum") or ["IL"])[0]))
            query = urlencode([*required.items(), (name, value), (name, value)])
            assert client.get(f"{url}?{query}").status_code == 400, (label, name)


def test_state_pattern_is_the_servers(client):
    for label, url, parameters in _operations(client):
        for parameter in parameters:
            if parameter["name"] != "state":
                continue
            base = {p["name"]: REQUIRED_VALUES[p["name"]] for p in parameters if p.get("required")}
            assert client.get(f"{url}?{urlencode({**base, 'state': 'il'})}").status_code == 200, label
            assert client.get(f"{url}?{urlencode({**base, 'state': 'ILL'})}").status_code == 400, label


def test_a_bound_changed_in_the_code_alone_is_caught(fresh_client, monkeypatch):
    """The case the issue names: api.MAX_K = 50 while the document said 100."""
    nearest = api.PARAMETERS["/api/schools/nearest"]
    smaller = dataclasses.replace(nearest["k"], maximum=50)
    changed = type(nearest)(tuple(smaller if p.name == "k" else p for p in nearest.params))
    monkeypatch.setitem(api.PARAMETERS, "/api/schools/nearest", changed)
    document = fresh_client.get("/api/openapi.json").get_json()
    (k,) = [p for p in document["paths"]["/api/schools/nearest"]["get"]["parameters"] if p["name"] == "k"]
    # One declaration: the document follows the code, so the two cannot disagree...
    assert k["schema"]["maximum"] == 50
    # ...and the server refuses just beyond the documented bound.
    assert fresh_client.get("/api/schools/nearest?lat=41.88&lon=-87.63&k=51").status_code == 400
    assert fresh_client.get("/api/schools/nearest?lat=41.88&lon=-87.63&k=50").status_code == 200


def test_every_route_under_the_api_is_documented(client):
    """No undocumented routes: every rule under /api, each download and the plan files are in the document."""
    from webmap.downloads import DICTIONARY_FILES, DOWNLOADS

    documented = set(client.get("/api/openapi.json").get_json()["paths"])
    served = set()
    for rule in client.application.url_map.iter_rules():
        path = rule.rule.rstrip("/") or "/"
        if path.startswith("/api") or path in ("/plan.csv", "/plan.geojson"):
            served.add(path.replace("<code>", "{state}").replace("<school_id>", "{school_id}"))
        elif path == "/downloads/<name>":
            served |= {f"/downloads/{name}" for name in [*DOWNLOADS, *DICTIONARY_FILES]}
    assert served == documented
    for path in documented - {"/api/states/{state}"}:
        query = {
            "target": "?target_children=1000",
            "plan": "?state=TX&k=1",
            "nearest": "?lat=41.88&lon=-87.63",
        }
        school_id = client.get("/api/schools?limit=1").get_json()["schools"][0]["school_id"]
        path = path.replace("{school_id}", school_id)
        response = client.get(path + next((q for key, q in query.items() if key in path), ""))
        assert response.status_code == 200, path
