"""The HTTP API: every route, the limits, the token, the one error envelope, the batching worker.

API plumbing runs on the conftest ``fake_judge`` (deterministic, knows nothing about support);
the real model is exercised by tests/test_browser.py and benchmarks/load.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any, Callable, Iterator, Sequence

import pytest

pytest.importorskip("fastapi", reason="the [serve] extra is not installed")

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from verisum.checker import Checker  # noqa: E402
from verisum.errors import BackendTimeout  # noqa: E402
from verisum.judges import Judgement  # noqa: E402
from verisum.schema import CheckResultModel, ErrorModel, HighlightsResultModel  # noqa: E402
from verisum.server.app import create_app, openapi_text  # noqa: E402
from verisum.server.batching import Batcher  # noqa: E402
from verisum.server.settings import ServerSettings  # noqa: E402

ARTICLE = (
    "Putin meets Erdogan in Astana\n"
    "Russian President Vladimir Putin met Turkish President Recep Tayyip Erdogan in Astana on Wednesday. "
    "The two leaders discussed grain exports and a gas hub in Turkey. "
    "The Shanghai Cooperation Organization summit opens in Astana on Thursday."
)
BULLETS = ["Putin met Erdogan in Astana on Wednesday.", "Bananas will cost forty dollars on Mars."]
SEED_FORM = ARTICLE + "\n" + "\n".join(f"- {b}" for b in BULLETS) + "\n"
ENVELOPE_KEYS = {"ok", "error", "errors", "status", "code"}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read VERISUM_* variables; the tests must not see the developer's."""
    import os

    for name in list(os.environ):
        if name.startswith("VERISUM_"):
            monkeypatch.delenv(name)


@pytest.fixture
def client_for(fake_judge: Any) -> Iterator[Callable[..., TestClient]]:
    """``client_for(**settings)`` -> a TestClient with the lifespan running (fake judge by default)."""
    opened: list[TestClient] = []

    def make(judge: Any = None, raise_server_exceptions: bool = True, **settings: Any) -> TestClient:
        app = create_app(ServerSettings(**settings), judge=judge if judge is not None else fake_judge)
        client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def client(client_for: Callable[..., TestClient]) -> TestClient:
    return client_for()


def assert_envelope(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == ENVELOPE_KEYS, body
    ErrorModel.model_validate(body)
    assert body["ok"] is False and body["status"] == status and body["error"]
    if code is not None:
        assert body["code"] == code, body
    return body


def _without_timing(result: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(result))
    out["meta"].pop("seconds", None)
    return out


# -- /v1/check -----------------------------------------------------------------------------
def test_server_check_returns_the_cli_json(client: TestClient, cli: Any, fake_backend: str, tmp_path: Any) -> None:
    """POST /v1/check with a seed-form doc gives exactly what `verisum check --format json` prints."""
    path = tmp_path / "a.txt"
    path.write_text(SEED_FORM, encoding="utf-8")
    res = cli("check", path, "--format", "json", "--backend", fake_backend)
    assert res.exit_code == 1, res
    from_cli = json.loads(res.stdout)

    response = client.post("/v1/check", json={"doc": SEED_FORM})
    assert response.status_code == 200, response.text
    body = response.json()
    CheckResultModel.model_validate(body)
    assert _without_timing(body) == _without_timing(from_cli)


def test_server_check_equals_the_library(client: TestClient, fake_judge: Any) -> None:
    body = client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS, "id": "r1"}).json()
    expected = CheckResultModel.from_result(Checker(fake_judge).check(ARTICLE, BULLETS, id="r1")).model_dump(mode="json")
    assert _without_timing(body) == _without_timing(expected)
    assert body["id"] == "r1"
    assert [s["label"] for s in body["sentences"]] == ["supported", "unsupported"]
    for sentence in body["sentences"]:
        assert body["summary"][sentence["start"]:sentence["end"]] == sentence["text"]
        for claim in sentence["claims"]:
            for ev in claim["evidence"]:
                assert body["source"][ev["start"]:ev["end"]] == ev["text"]


@pytest.mark.parametrize("field", ["doc", "article", "source"])
def test_server_check_accepts_doc_aliases(client: TestClient, field: str) -> None:
    response = client.post("/v1/check", json={field: ARTICLE, "summary": BULLETS[0]})
    assert response.status_code == 200, response.text
    assert response.json()["source"] == ARTICLE


def test_server_check_summary_string_list_and_seed_form_agree(client: TestClient) -> None:
    as_list = client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS}).json()
    as_text = client.post("/v1/check", json={"doc": ARTICLE, "summary": "\n".join(f"- {b}" for b in BULLETS)}).json()
    as_seed = client.post("/v1/check", json={"doc": SEED_FORM}).json()
    assert [s["text"] for s in as_list["sentences"]] == BULLETS
    assert _without_timing(as_list) == _without_timing(as_text) == _without_timing(as_seed)


def test_server_check_options(client: TestClient) -> None:
    body = client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS,
                                          "options": {"threshold": 0.99, "top_k": 1}}).json()
    assert body["threshold"] == 0.99
    assert body["meta"]["judge"]["top_k"] == 1
    assert all(len(c["evidence"]) == 1 for s in body["sentences"] for c in s["claims"])
    assert body["sentences"][0]["label"] == "unsupported"  # 0.98 < 0.99
    default = client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS}).json()
    assert default["threshold"] == 0.5 and default["sentences"][0]["label"] == "supported"


def test_server_check_with_emoji_offsets_are_code_points(client: TestClient) -> None:
    doc = "🎉🎉 Party time! The ministry approved the new bridge on Friday."
    body = client.post("/v1/check", json={"doc": doc, "summary": ["🎉 The ministry approved the new bridge."]}).json()
    ev = body["sentences"][0]["claims"][0]["evidence"]
    assert any(e["text"] == "The ministry approved the new bridge on Friday." and e["start"] == doc.index("The ministry") == 15 for e in ev)


# -- 422 -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"summary": "x"}, "invalid_request", "doc: required field missing"),
        ({"doc": ARTICLE, "summary": 5}, "invalid_request", "summary"),
        ({"doc": ARTICLE, "summary": "x", "options": {"top_k": 0}}, "invalid_request",
         "options.top_k: Input should be greater than or equal to 1"),
        ({"doc": ARTICLE, "summary": "x", "options": {"threshold": 2}}, "invalid_request", "options.threshold"),
        ({"doc": ARTICLE, "summary": "x", "colour": "red"}, "invalid_request", "colour: unknown field"),
        ({"doc": ARTICLE, "summary": "x", "options": {"topk": 2}}, "invalid_request", "options.topk: unknown field"),
        ([ARTICLE], "invalid_request", "the body must be a JSON object"),
        ({"doc": "   ", "summary": "x"}, "invalid_request", "doc: must hold more than white space"),
        ({"doc": "", "summary": "x"}, "invalid_request", "doc: must hold more than white space"),
        ({"doc": ARTICLE, "summary": "x", "options": {"top_k": True}}, "invalid_request",
         "options.top_k: Value error, must be an integer"),
        ({"doc": ARTICLE, "summary": "x", "options": {"top_k": 2.5}}, "invalid_request",
         "options.top_k: Value error, must be an integer"),
        ({"doc": ARTICLE, "summary": "x", "options": {"top_k": "2"}}, "invalid_request",
         "options.top_k: Value error, must be an integer"),
        ({"doc": ARTICLE, "summary": "x", "options": {"threshold": False}}, "invalid_request",
         "options.threshold: Value error, must be a number"),
        ({"doc": ARTICLE, "summary": "  "}, "empty_input", "the summary is empty"),
        ({"doc": ARTICLE}, "empty_input", "no summary given"),
    ],
)
def test_server_check_malformed_input_is_422(client: TestClient, body: Any, code: str, message: str) -> None:
    err = assert_envelope(client.post("/v1/check", json=body), 422, code)
    assert message in err["error"]


def test_server_check_invalid_json_is_422(client: TestClient) -> None:
    err = assert_envelope(
        client.post("/v1/check", content=b'{"doc": "a", ', headers={"content-type": "application/json"}), 422,
        "invalid_request",
    )
    assert "not valid JSON" in err["error"]
    assert err["errors"][0]["type"] == "json_invalid"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_server_body_must_be_sent_as_json(client: TestClient, content_type: str | None) -> None:
    """A cross-site form or "simple" request cannot reach the checker: only JSON bodies are read."""
    headers = {"content-type": content_type} if content_type else {}
    body = json.dumps({"doc": ARTICLE, "summary": BULLETS})
    err = assert_envelope(client.post("/v1/check", content=body, headers=headers), 422, "invalid_request")
    assert "Content-Type: application/json" in err["error"]


def test_server_validation_errors_list_every_problem(client: TestClient) -> None:
    err = assert_envelope(client.post("/v1/check", json={"options": {"top_k": 0, "threshold": -1}}), 422)
    locs = sorted(tuple(e["loc"]) for e in err["errors"])
    assert locs == [("doc",), ("options", "threshold"), ("options", "top_k")]
    assert all(e["message"] in err["error"] for e in err["errors"])


# -- 413 -------------------------------------------------------------------------------------
def test_server_body_over_limit_is_413(client_for: Callable[..., TestClient]) -> None:
    client = client_for(max_body_bytes=2_000)
    err = assert_envelope(client.post("/v1/check", json={"doc": "word " * 1_000, "summary": "x"}), 413,
                          "input_too_large")
    assert "2,000 bytes" in err["error"]


def test_server_streamed_body_over_limit_is_413(client_for: Callable[..., TestClient]) -> None:
    """A chunked body declares no length; it is counted as it arrives."""
    client = client_for(max_body_bytes=2_000)

    def chunks() -> Iterator[bytes]:
        yield b'{"doc": "'
        for _ in range(100):
            yield b"word " * 10
        yield b'", "summary": "x"}'

    response = client.post("/v1/check", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_envelope(response, 413, "input_too_large")


def test_server_too_many_summary_sentences_is_413(client_for: Callable[..., TestClient]) -> None:
    client = client_for(max_summary_sentences=3)
    assert client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS}).status_code == 200
    err = assert_envelope(client.post("/v1/check", json={"doc": ARTICLE, "summary": ["Putin met Erdogan."] * 4}),
                          413, "input_too_large")
    assert "the limit is 3" in err["error"]


def test_server_article_over_limit_is_413(client_for: Callable[..., TestClient]) -> None:
    client = client_for(max_source_chars=100)
    err = assert_envelope(client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS}), 413,
                          "input_too_large")
    assert "the limit is 100" in err["error"]


# -- 401 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("header", [None, "Bearer wrong", "s3cret", "Basic s3cret", "Bearer "])
def test_server_token_required_when_set(client_for: Callable[..., TestClient], header: str | None) -> None:
    client = client_for(api_token="s3cret")
    headers = {} if header is None else {"Authorization": header}
    for route, body in (("/v1/check", {"doc": ARTICLE, "summary": BULLETS}), ("/v1/highlights", {"doc": ARTICLE})):
        response = client.post(route, json=body, headers=headers)
        err = assert_envelope(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
        assert "s3cret" not in err["error"]


def test_server_token_accepted_and_checked_before_the_body(client_for: Callable[..., TestClient]) -> None:
    client = client_for(api_token="s3cret", max_body_bytes=100)
    good = {"Authorization": "Bearer s3cret"}
    assert client.post("/v1/check", json={"doc": ARTICLE[:50], "summary": "Putin met."}, headers=good).status_code == 200
    # Without the token, neither a malformed nor an oversized body is looked at.
    assert_envelope(client.post("/v1/check", content=b"{", headers={"content-type": "application/json"}), 401)
    assert_envelope(client.post("/v1/check", json={"doc": ARTICLE * 10}), 401)
    # The page, the docs and the health check stay open.
    assert client.get("/health").status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/health").json()["token_required"] is True


def test_server_empty_token_setting_means_no_token(client_for: Callable[..., TestClient]) -> None:
    client = client_for(api_token="")
    assert client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS}).status_code == 200


def test_server_token_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERISUM_API_TOKEN", "from-env")
    assert ServerSettings().api_token.get_secret_value() == "from-env"
    assert "from-env" not in repr(ServerSettings())


# -- 404 / 405 and the envelope on every route ---------------------------------------------
@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("POST", "/v1/nope"), ("GET", "/static/nope.js"),
                                              ("GET", "/v2/check")])
def test_server_unknown_route_is_404(client: TestClient, method: str, path: str) -> None:
    err = assert_envelope(client.request(method, path), 404, "not_found")
    assert path in err["error"]


def _documented_routes() -> list[tuple[str, str]]:
    spec = json.loads(openapi_text())
    return [(method.upper(), path) for path, ops in spec["paths"].items() for method in ops]


def test_server_error_envelope_on_every_route(client: TestClient) -> None:
    """Every route, documented or not, answers errors with the one envelope."""
    routes = _documented_routes() + [("GET", "/"), ("GET", "/docs"), ("GET", "/openapi.json")]
    assert ("POST", "/v1/check") in routes and ("POST", "/v1/highlights") in routes and ("GET", "/health") in routes
    for method, path in routes:
        wrong = "DELETE" if method != "DELETE" else "PATCH"
        assert_envelope(client.request(wrong, path), 405, "method_not_allowed")
        if method == "POST":
            assert_envelope(client.post(path, json={"bogus": 1}), 422, "invalid_request")
            assert_envelope(client.post(path, content=b"[", headers={"content-type": "application/json"}), 422)


def test_server_backend_error_maps_to_its_status(client_for: Callable[..., TestClient]) -> None:
    class TimingOut:
        name = "timing-out"

        def params(self) -> dict[str, Any]:
            return {}

        def judge(self, pairs: Sequence[Any]) -> list[Judgement]:
            raise BackendTimeout("the judge did not answer within 5 s; raise its timeout")

    client = client_for(judge=TimingOut())
    err = assert_envelope(client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS}), 504, "backend_timeout")
    assert "did not answer" in err["error"]


def test_server_unexpected_error_is_500_without_details(client_for: Callable[..., TestClient]) -> None:
    class Broken:
        name = "broken"

        def params(self) -> dict[str, Any]:
            return {}

        def judge(self, pairs: Sequence[Any]) -> list[Judgement]:
            raise RuntimeError("secret internal detail")

    client = client_for(judge=Broken(), raise_server_exceptions=False)
    err = assert_envelope(client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS}), 500, "internal_error")
    assert "secret internal detail" not in err["error"]


# -- /v1/highlights --------------------------------------------------------------------------
def test_server_highlights_validates_n(client_for: Callable[..., TestClient]) -> None:
    client = client_for(max_highlights=4)
    err = assert_envelope(client.post("/v1/highlights", json={"doc": ARTICLE, "n": 5}), 422, "input_error")
    assert "at most 4" in err["error"]
    assert_envelope(client.post("/v1/highlights", json={"doc": ARTICLE, "n": 0}), 422, "invalid_request")
    # white space only: refused by the schema itself (the documented pattern says why)
    assert_envelope(client.post("/v1/highlights", json={"doc": " ", "n": 2}), 422, "invalid_request")
    assert_envelope(client.post("/v1/highlights", json={"n": 2}), 422, "invalid_request")


def test_server_highlights_501_without_the_writer(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without verisum.highlights answers 501 with the envelope, not a crash."""
    import verisum.server.app as app_module

    monkeypatch.setattr(app_module, "_has_highlights", lambda: False)
    err = assert_envelope(client.post("/v1/highlights", json={"doc": ARTICLE, "n": 2}), 501, "not_implemented")
    assert "verisum.highlights" in err["error"]
    assert client.get("/health").json()["highlights"] is False


def test_server_highlights_returns_the_cli_schema(client: TestClient, fake_judge: Any) -> None:
    response = client.post("/v1/highlights", json={"doc": ARTICLE, "n": 2, "id": "h1"})
    assert response.status_code == 200, response.text
    body = response.json()
    HighlightsResultModel.model_validate(body)
    assert body["id"] == "h1"
    assert 1 <= len(body["highlights"]) <= 2
    assert body["check"]["label"] == "supported"
    from verisum.highlights import write_highlights

    expected = HighlightsResultModel.from_result(write_highlights(ARTICLE, n=2, checker=Checker(fake_judge)))
    assert body["highlights"] == expected.highlights


def test_server_highlights_when_no_candidate_passes(client_for: Callable[..., TestClient]) -> None:

    class Doubter:
        name = "doubter"

        def params(self) -> dict[str, Any]:
            return {}

        def judge(self, pairs: Sequence[Any]) -> list[Judgement]:
            return [Judgement(supported=0.01, contradicted=0.01, unsupported=0.98) for _ in pairs]

    # verbatim_shortcut off: the writer's candidates copy article sentences, which the shortcut
    # would pass without asking the judge.
    app = create_app(ServerSettings(), checker=Checker(Doubter(), verbatim_shortcut=False))
    with TestClient(app) as client:
        response = client.post("/v1/highlights", json={"doc": ARTICLE, "n": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    HighlightsResultModel.model_validate(body)
    assert body["highlights"] == [] and body["check"] is None and body["dropped"]


# -- /health, /, /docs, /openapi.json --------------------------------------------------------
def test_server_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["ok"] is True and body["ready"] is True and body["judge"] == "fake"
    assert body["token_required"] is False
    assert body["limits"]["max_body_bytes"] == ServerSettings().max_body_bytes


def test_server_page_is_self_contained_and_locked_down(client: TestClient) -> None:
    import re

    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    html = page.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/") for r in refs), refs  # nothing from another host
    assert "<script>" not in html and " style=" not in html  # no inline code (CSP forbids it)
    for ref in refs:
        assert client.get(ref).status_code == 200, ref
    js = client.get("/static/app.js").text
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js


def test_server_docs_page_is_offline(client: TestClient) -> None:
    import re

    html = client.get("/docs").text
    assert all(r.startswith("/") for r in re.findall(r'(?:src|href)="([^"]+)"', html))
    assert "innerHTML" not in client.get("/static/docs.js").text


def test_server_openapi_document_is_kept_in_the_repo(client: TestClient) -> None:
    from pathlib import Path

    import verisum

    kept = Path(verisum.__file__).with_name("schema") / "openapi.json"
    assert kept.read_text(encoding="utf-8") == openapi_text(), (
        "src/verisum/schema/openapi.json is stale; run: verisum serve --openapi > src/verisum/schema/openapi.json"
    )
    assert client.get("/openapi.json").json() == json.loads(kept.read_text(encoding="utf-8"))


def test_server_openapi_uses_the_shared_schema_models() -> None:
    spec = json.loads(openapi_text())
    schemas = spec["components"]["schemas"]
    ok = spec["paths"]["/v1/check"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/CheckResultModel")
    assert set(schemas["ErrorModel"]["properties"]) >= ENVELOPE_KEYS
    for status in ("401", "413", "422"):
        err = spec["paths"]["/v1/check"]["post"]["responses"][status]["content"]["application/json"]["schema"]
        assert err["$ref"].endswith("/ErrorModel")


def test_server_settings_do_not_change_the_openapi_document(monkeypatch: pytest.MonkeyPatch) -> None:
    before = openapi_text()
    monkeypatch.setenv("VERISUM_MAX_HIGHLIGHTS", "2")
    monkeypatch.setenv("VERISUM_API_TOKEN", "x")
    assert openapi_text() == before


# -- batching and the event loop -------------------------------------------------------------
class GatedJudge:
    """A fake judge that blocks until released, counting calls and pairs per call."""

    name = "gated"

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.batches: list[int] = []

    def params(self) -> dict[str, Any]:
        return {}

    def judge(self, pairs: Sequence[Any]) -> list[Judgement]:
        self.entered.set()
        assert self.gate.wait(30), "the test never released the judge"
        self.batches.append(len(pairs))
        return self.inner.judge(pairs)


async def _lifespan_client(app: Any) -> Any:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def _queue_behind_busy_judge(app: Any, judge: GatedJudge, bodies: list[dict[str, Any]]) -> tuple[list[httpx.Response], dict[str, Any]]:
    """Send bodies[0]; while the judge holds it, queue the rest; then release the judge."""

    async def scenario() -> tuple[list[httpx.Response], dict[str, Any]]:
        async with app.router.lifespan_context(app):
            async with await _lifespan_client(app) as http:
                first = asyncio.create_task(http.post("/v1/check", json=bodies[0]))
                await asyncio.get_running_loop().run_in_executor(None, judge.entered.wait, 30)
                rest = [asyncio.create_task(http.post("/v1/check", json=b)) for b in bodies[1:]]
                while app.state.batcher._queue.qsize() < len(rest):
                    await asyncio.sleep(0.01)
                # The event loop is free while the model works: /health answers meanwhile.
                health = await http.get("/health")
                assert health.status_code == 200 and not judge.gate.is_set()
                judge.gate.set()
                responses = await asyncio.gather(first, *rest)
                return list(responses), (await http.get("/health")).json()

    return asyncio.run(scenario())


def test_server_requests_that_arrive_together_share_a_batch(fake_judge: Any) -> None:
    judge = GatedJudge(fake_judge)
    app = create_app(ServerSettings(max_batch=16, batch_wait_ms=0), judge=judge)
    bodies = [{"doc": ARTICLE, "summary": BULLETS, "id": "0"}]
    bodies += [{"doc": ARTICLE, "summary": [BULLETS[i % 2]], "id": str(i)} for i in range(1, 8)]
    responses, health = _queue_behind_busy_judge(app, judge, bodies)
    assert [r.status_code for r in responses] == [200] * 8
    assert [r.json()["id"] for r in responses] == [str(i) for i in range(8)]
    for i, r in enumerate(responses[1:], start=1):
        assert [s["text"] for s in r.json()["sentences"]] == [BULLETS[i % 2]]
    assert health["batching"] == {"batches": 2, "requests": 8, "largest": 7}
    # Each micro-batch judges in two model calls (the claims' premises, then the rejected claims'
    # occlusions), whatever the number of requests in it: the seven queued ones went through together.
    assert len(judge.batches) == 4


def test_server_bad_request_in_a_batch_fails_alone(fake_judge: Any) -> None:
    judge = GatedJudge(fake_judge)
    app = create_app(ServerSettings(batch_wait_ms=0), judge=judge)
    bodies = [{"doc": ARTICLE, "summary": BULLETS, "id": "0"},
              {"doc": ARTICLE, "summary": BULLETS[0], "id": "1"},
              {"doc": ARTICLE, "summary": " ", "id": "bad"},
              {"doc": ARTICLE, "summary": BULLETS[1], "id": "3"}]
    (first, one, bad, three), health = _queue_behind_busy_judge(app, judge, bodies)
    assert [first.status_code, one.status_code, three.status_code] == [200, 200, 200]
    assert (one.json()["id"], three.json()["id"]) == ("1", "3")
    assert [s["text"] for s in three.json()["sentences"]] == [BULLETS[1]]
    assert_envelope(bad, 422, "empty_input")


def test_server_different_options_are_not_batched_together(fake_judge: Any) -> None:
    judge = GatedJudge(fake_judge)
    app = create_app(ServerSettings(batch_wait_ms=0), judge=judge)

    async def scenario() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            async with await _lifespan_client(app) as http:
                first = asyncio.create_task(http.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS}))
                await asyncio.get_running_loop().run_in_executor(None, judge.entered.wait, 30)
                a = asyncio.create_task(http.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS,
                                                                    "options": {"threshold": 0.99}}))
                b = asyncio.create_task(http.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS}))
                while app.state.batcher._queue.qsize() < 2:
                    await asyncio.sleep(0.01)
                judge.gate.set()
                return list(await asyncio.gather(first, a, b))

    first, a, b = asyncio.run(scenario())
    assert a.json()["threshold"] == 0.99 and b.json()["threshold"] == 0.5
    assert a.json()["sentences"][0]["label"] == "unsupported" and b.json()["sentences"][0]["label"] == "supported"


def test_batching_worker_groups_queued_jobs_by_key() -> None:
    calls: list[tuple[Any, list[Any]]] = []
    gate = threading.Event()

    def run(key: Any, items: Sequence[Any]) -> list[Any]:
        gate.wait(30)
        calls.append((key, list(items)))
        return [ValueError(f"bad {i}") if i == "boom" else f"{key}:{i}" for i in items]

    batcher = Batcher(run, max_batch=4, max_wait_s=0).start()

    async def scenario() -> list[Any]:
        tasks = [asyncio.create_task(batcher.submit("k", "first"))]
        await asyncio.sleep(0.05)
        tasks += [asyncio.create_task(batcher.submit(k, i)) for k, i in
                  [("k", "a"), ("j", "b"), ("k", "boom"), ("k", "c"), ("k", "d")]]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        outcomes = asyncio.run(scenario())
    finally:
        batcher.close()
    assert outcomes[:3] == ["k:first", "k:a", "j:b"]
    assert isinstance(outcomes[3], ValueError) and str(outcomes[3]) == "bad boom"
    assert outcomes[4:] == ["k:c", "k:d"]
    # first alone; then at most max_batch=4 jobs, grouped by key; then the rest.
    assert calls == [("k", ["first"]), ("k", ["a", "boom", "c"]), ("j", ["b"]), ("k", ["d"])]


def test_batching_worker_refuses_jobs_over_max_queue() -> None:
    from verisum.server.batching import BatcherFull

    gate, busy = threading.Event(), threading.Event()

    def run(key: Any, items: Sequence[Any]) -> list[Any]:
        busy.set()
        gate.wait(30)
        return list(items)

    batcher = Batcher(run, max_queue=2, max_batch=1, max_wait_s=0).start()

    async def scenario() -> list[Any]:
        first = asyncio.create_task(batcher.submit("k", 0))
        await asyncio.get_running_loop().run_in_executor(None, busy.wait, 30)  # the worker holds job 0
        queued = [asyncio.create_task(batcher.submit("k", i)) for i in (1, 2)]
        await asyncio.sleep(0.05)
        with pytest.raises(BatcherFull, match="2 requests are already waiting"):
            await batcher.submit("k", 3)
        gate.set()
        return await asyncio.gather(first, *queued)

    try:
        assert asyncio.run(scenario()) == [0, 1, 2]
    finally:
        batcher.close()


def test_server_busy_is_503(client_for: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch) -> None:
    from verisum.server.batching import BatcherFull

    client = client_for()

    async def full(key: Any, item: Any) -> Any:
        raise BatcherFull("the server is busy: 256 requests are already waiting; retry later")

    monkeypatch.setattr(client.app.state.batcher, "submit", full)
    response = client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS})
    assert_envelope(response, 503, "unavailable")
    assert response.headers["retry-after"] == "1"


def test_batching_worker_failure_reaches_every_waiting_request() -> None:
    def run(key: Any, items: Sequence[Any]) -> list[Any]:
        raise RuntimeError("model crashed")

    batcher = Batcher(run).start()

    async def scenario() -> list[Any]:
        return await asyncio.gather(*(batcher.submit("k", i) for i in range(3)), return_exceptions=True)

    try:
        outcomes = asyncio.run(scenario())
    finally:
        batcher.close()
    assert all(isinstance(o, RuntimeError) and "model crashed" in str(o) for o in outcomes)
    assert not batcher.running


# -- the serve command -------------------------------------------------------------------------
def test_cli_serve_binds_loopback_by_default(cli: Any, fake_backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    res = cli("serve", "--backend", fake_backend)
    assert res.exit_code == 0, res
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8000
    assert "http://127.0.0.1:8000/" in res.stderr
    assert "warning" not in res.stderr


def test_cli_serve_flags_override_settings(cli: Any, fake_backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    monkeypatch.setenv("VERISUM_PORT", "9001")
    monkeypatch.setenv("VERISUM_TOP_K", "5")
    res = cli("serve", "--backend", fake_backend, "--host", "0.0.0.0", "--max-body-bytes", "1234")
    assert res.exit_code == 0, res
    settings = seen["app"].state.settings
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 9001)
    assert settings.max_body_bytes == 1234 and settings.judge == "fake"
    assert settings.top_k == 5  # --top-k was not given, so the environment's value stands
    assert "no API token" in res.stderr  # exposed without a token: warned


def test_premises_setting_reaches_the_servers_checker(cli: Any, fake_backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from verisum.server.app import build_checker
    from verisum.server.settings import ServerSettings

    assert build_checker(ServerSettings()).premises is None  # the judge's own rule, decided at load
    monkeypatch.setenv("VERISUM_PREMISES", "sentences")
    assert build_checker(ServerSettings()).premises == "sentences"
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    res = cli("serve", "--backend", fake_backend, "--premises", "joined")  # the flag overrides the variable
    assert res.exit_code == 0, res
    assert seen["app"].state.settings.premises == "joined"
    monkeypatch.setenv("VERISUM_PREMISES", "all")
    res = cli("serve", "--backend", fake_backend)
    assert res.exit_code == 2 and "premises" in res.stderr


def test_cli_serve_judge_param_reaches_the_settings(cli: Any, fake_backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    res = cli("serve", "--backend", fake_backend, "--judge-param", 'contradict_words=["green"]')
    assert res.exit_code == 0, res
    assert seen["app"].state.settings.judge_params == {"contradict_words": ["green"]}


def test_cli_serve_model_that_cannot_load_is_a_clear_error(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: pytest.fail("must not serve without a model"))
    res = cli("serve", "--backend", "no-such-judge")
    assert res.exit_code == 2
    assert res.stderr.startswith("verisum: error: unknown judge 'no-such-judge'")


def test_cli_serve_bad_setting_is_a_clear_error(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERISUM_MAX_BODY_BYTES", "lots")
    res = cli("serve")
    assert res.exit_code == 2
    assert res.stderr.startswith("verisum: error: bad server setting") and "max_body_bytes" in res.stderr


def test_cli_serve_openapi_prints_the_document(cli: Any) -> None:
    res = cli("serve", "--openapi")
    assert res.exit_code == 0, res
    assert res.stdout == openapi_text()


def test_server_package_import_is_light() -> None:
    """``import verisum.server`` (and ``import verisum``) must not pull in FastAPI or uvicorn."""
    import subprocess
    import sys

    code = ("import sys, verisum, verisum.server; "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'pydantic_settings') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_server_one_bad_request_does_not_poison_its_batch(fake_judge: Any) -> None:
    """12 concurrent requests, one of them with a lone surrogate: 11 answered 200 with their own
    results, the bad one its own 422, every round."""
    app = create_app(ServerSettings(max_batch=16, batch_wait_ms=20), judge=fake_judge)
    bodies = [{"doc": ARTICLE, "summary": [BULLETS[i % 2]], "id": str(i)} for i in range(12)]
    bodies[5] = {"doc": ARTICLE + " \ud800", "summary": [BULLETS[1]], "id": "5"}

    async def scenario() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            async with await _lifespan_client(app) as http:
                rounds = []
                for _ in range(2):
                    rounds += await asyncio.gather(*(  # json.dumps escapes the surrogate as \\ud800
                        http.post("/v1/check", content=json.dumps(b), headers={"content-type": "application/json"})
                        for b in bodies))
                return rounds

    responses = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert [r.status_code for r in responses] == ([200] * 5 + [422] + [200] * 6) * 2
    assert responses[5].json()["code"] == "invalid_request" and "unicode" in responses[5].json()["error"]
    assert [r.json()["id"] for r in responses[:5]] == ["0", "1", "2", "3", "4"]


# -- POST /v1/fix ---------------------------------------------------------------------------
def test_server_fix_returns_the_fix_schema(client: TestClient) -> None:
    from verisum.schema import FixResultModel

    r = client.post("/v1/fix", json={"id": "f1", "doc": ARTICLE, "summary": BULLETS})
    assert r.status_code == 200, r.text
    model = FixResultModel.model_validate(r.json())
    assert model.id == "f1" and model.source == ARTICLE
    assert model.check.summary == model.summary
    for e in model.edits:
        assert model.summary[e.sentence.start:e.sentence.end] == e.sentence.text == e.before
        for ev in e.evidence:
            assert model.source[ev.start:ev.end] == ev.text
    if model.edits:
        assert model.fixed != model.summary
    else:
        assert model.fixed == model.summary and model.check.label == "supported"


def test_server_fix_seed_form_and_errors(client: TestClient) -> None:
    r = client.post("/v1/fix", json={"doc": SEED_FORM})
    assert r.status_code == 200, r.text
    assert r.json()["summary"].startswith("- " + BULLETS[0])
    assert_envelope(client.post("/v1/fix", json={"doc": ARTICLE}), 422, "empty_input")
    assert_envelope(client.post("/v1/fix", json={"doc": ARTICLE, "summary": ";"}), 422, "empty_input")
    assert_envelope(client.post("/v1/fix", json={"doc": "  "}), 422)


def test_server_413_reaches_a_client_still_sending_over_real_http(fake_judge: Any) -> None:
    """A body declared over the limit is read into nothing before the 413 goes out, so a client
    still uploading it gets the answer instead of a reset connection (the soak found this)."""
    pytest.importorskip("uvicorn")
    from support.live_server import LiveServer

    app = create_app(ServerSettings(max_body_bytes=100_000), judge=fake_judge)
    body = json.dumps({"doc": "word " * 200_000, "summary": "A word."}).encode()

    async def hammer(url: str) -> list[int]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            async def one(k: int) -> int:
                if k % 2:
                    return (await client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS})).status_code
                r = await client.post("/v1/check", content=body, headers={"content-type": "application/json"})
                assert_envelope(r, 413, "input_too_large")
                return r.status_code
            return list(await asyncio.gather(*(one(k) for k in range(12))))

    with LiveServer(app) as server:
        assert asyncio.run(hammer(server.url)) == [413, 200] * 6


def test_server_json_integers_may_be_written_with_a_point(client: TestClient) -> None:
    """JSON Schema's integer includes 3.0 (Schemathesis sends it); the API takes it as 3."""
    r = client.post("/v1/check", json={"doc": ARTICLE, "summary": BULLETS, "options": {"top_k": 2.0, "threshold": 1}})
    assert r.status_code == 200, r.text
    assert r.json()["threshold"] == 1.0


def test_server_a_bug_in_one_fix_costs_only_that_request(fake_judge: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fix that hits a bug answers 500 for its own request; the others of its batch, 200."""
    real = Checker.fix

    def buggy(self: Checker, source: Any, summary: Any, **kw: Any) -> Any:
        if kw.get("id") == "3":
            raise ZeroDivisionError("a bug")
        return real(self, source, summary, **kw)

    monkeypatch.setattr(Checker, "fix", buggy)
    app = create_app(ServerSettings(max_batch=16, batch_wait_ms=50), judge=fake_judge)
    bodies = [{"doc": ARTICLE, "summary": [BULLETS[i % 2]], "id": str(i)} for i in range(6)]

    async def scenario() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            async with await _lifespan_client(app) as http:
                return list(await asyncio.gather(*(http.post("/v1/fix", json=b) for b in bodies)))

    responses = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert [r.status_code for r in responses] == [200, 200, 200, 500, 200, 200]
    assert responses[3].json()["code"] == "internal_error"
    assert [r.json()["id"] for r in responses if r.status_code == 200] == ["0", "1", "2", "4", "5"]
