"""The shared OpenAI-compatible chat client, against httpx.MockTransport (no network)."""

from __future__ import annotations

import json
from typing import Any, Callable

import httpx
import pytest

from verisum.errors import BackendResponseError, BackendTimeout, BackendUnavailable, InputError
from verisum.llm_client import ChatClient, extract_json_object, is_refusal, resolve_api_key

URL = "http://llm.test/v1"
MESSAGES = [{"role": "user", "content": "Reply in JSON."}]


def completion(content: str | None, finish_reason: str = "stop", **message: Any) -> dict[str, Any]:
    return {
        "id": "x",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, **message}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5},
    }


class Server:
    """Replays responses in order and records the requests."""

    def __init__(self, *responses: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        if callable(item) and not isinstance(item, httpx.Response):
            return item(request)
        return item

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def ok(content: str, finish_reason: str = "stop", **message: Any) -> httpx.Response:
    return httpx.Response(200, json=completion(content, finish_reason, **message))


def client(server: Server, **kwargs: Any) -> ChatClient:
    kwargs.setdefault("backoff", 0.0)
    return ChatClient(URL, "m", transport=httpx.MockTransport(server), **kwargs)


# -- parsing helpers ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"label": "supported"}', {"label": "supported"}),
        ('  \n{"a": 1}\n', {"a": 1}),
        ('```json\n{"a": {"b": [1, 2]}}\n```', {"a": {"b": [1, 2]}}),
        ('Sure! Here it is: {"a": "x}y"} and {"b": 2}', {"a": "x}y"}),
        ('[1, 2] then {"a": 1}', {"a": 1}),
        ("{not json} {\"a\": 1}", {"a": 1}),
    ],
)
def test_llm_client_extract_json_object_finds_the_first_object(text, expected):
    assert extract_json_object(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", "[1, 2, 3]", '{"a": 1', "{'a': 1}"])
def test_llm_client_extract_json_object_none_when_absent(text):
    assert extract_json_object(text) is None


@pytest.mark.parametrize(
    "text, refused",
    [
        ("I can't help with that.", True),
        ("I’m sorry, but I cannot assist with this request.", True),
        ("As an AI language model, I do not have opinions.", True),
        ("I am unable to verify claims.", True),
        ("The claim is supported by the evidence.", False),
        ("Cannot parse", False),
    ],
)
def test_llm_client_is_refusal(text, refused):
    assert is_refusal(text) is refused


def test_llm_client_api_key_order(monkeypatch):
    monkeypatch.delenv("VERISUM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert resolve_api_key(None) is None
    monkeypatch.setenv("OPENAI_API_KEY", "openai-key")
    assert resolve_api_key(None) == "openai-key"
    monkeypatch.setenv("VERISUM_API_KEY", "verisum-key")
    assert resolve_api_key(None) == "verisum-key"
    assert resolve_api_key("flag-key") == "flag-key"


# -- requests ------------------------------------------------------------------------------
def test_llm_client_sends_model_messages_json_mode_and_key(monkeypatch):
    monkeypatch.delenv("VERISUM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = Server(ok('{"a": 1}'))
    obj = client(server, api_key="sk-test").complete_json(MESSAGES, max_tokens=50, temperature=0.0)
    assert obj == {"a": 1}
    (req,) = server.requests
    assert str(req.url) == URL + "/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test"
    body = server.bodies()[0]
    assert body["model"] == "m" and body["messages"] == MESSAGES
    assert body["response_format"] == {"type": "json_object"}
    assert body["max_tokens"] == 50 and body["temperature"] == 0.0


def test_llm_client_no_key_sends_no_authorization(monkeypatch):
    monkeypatch.delenv("VERISUM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = Server(ok('{"a": 1}'))
    client(server).complete_json(MESSAGES)
    assert "authorization" not in server.requests[0].headers


def test_llm_client_key_from_environment(monkeypatch):
    monkeypatch.setenv("VERISUM_API_KEY", "env-key")
    server = Server(ok('{"a": 1}'))
    client(server).complete_json(MESSAGES)
    assert server.requests[0].headers["authorization"] == "Bearer env-key"


def test_llm_client_params_never_hold_the_key():
    c = ChatClient(URL, "m", api_key="sk-secret")
    assert "sk-secret" not in json.dumps(c.params())


@pytest.mark.parametrize("base", [URL, URL + "/", URL + "/chat/completions"])
def test_llm_client_url_forms(base):
    assert ChatClient(base, "m").url == URL + "/chat/completions"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"base_url": "llm.test/v1", "model": "m"}, "http://"),
        ({"base_url": URL, "model": ""}, "model"),
        ({"base_url": URL, "model": "m", "timeout": 0}, "timeouts"),
        ({"base_url": URL, "model": "m", "max_retries": -1}, "max_retries"),
        ({"base_url": URL, "model": "m", "json_mode": "maybe"}, "json_mode"),
    ],
)
def test_llm_client_rejects_bad_settings(kwargs, message):
    with pytest.raises(InputError, match=message):
        ChatClient(**kwargs)


def test_llm_client_drops_response_format_when_the_endpoint_rejects_it():
    server = Server(
        httpx.Response(400, json={"error": {"message": "response_format is not supported"}}),
        ok('{"a": 1}'),
    )
    c = client(server, max_retries=0)
    assert c.complete_json(MESSAGES) == {"a": 1}
    first, second = server.bodies()
    assert "response_format" in first and "response_format" not in second
    assert c.response_format_ok_ is False
    c.complete_json(MESSAGES)  # remembered: no second rejected request
    assert "response_format" not in server.bodies()[2]


def test_llm_client_json_mode_off_never_sends_response_format():
    server = Server(ok('{"a": 1}'))
    client(server, json_mode="off").complete_json(MESSAGES)
    assert "response_format" not in server.bodies()[0]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_llm_client_retries_transient_status_then_succeeds(status):
    server = Server(httpx.Response(status, text="busy"), httpx.Response(status, text="busy"), ok('{"a": 1}'))
    assert client(server, max_retries=2).complete_json(MESSAGES) == {"a": 1}
    assert len(server.requests) == 3


@pytest.mark.parametrize("status, message", [(429, "rate-limited"), (503, "HTTP 503")])
def test_llm_client_transient_status_is_bounded(status, message):
    server = Server(httpx.Response(status, text="busy"))
    with pytest.raises(BackendUnavailable, match=message):
        client(server, max_retries=2).complete_json(MESSAGES)
    assert len(server.requests) == 3


def test_llm_client_honours_retry_after(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("verisum.llm_client.time.sleep", slept.append)
    server = Server(httpx.Response(429, headers={"Retry-After": "3"}), ok('{"a": 1}'))
    client(server, max_retries=1).complete_json(MESSAGES)
    assert slept == [3.0]


def test_llm_client_backoff_grows_and_is_capped(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("verisum.llm_client.time.sleep", slept.append)
    server = Server(httpx.Response(500))
    with pytest.raises(BackendUnavailable):
        client(server, max_retries=6, backoff=0.5).complete_json(MESSAGES)
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]


def test_llm_client_read_timeout_is_backend_timeout():
    server = Server(httpx.ReadTimeout("slow"))
    with pytest.raises(BackendTimeout, match="within 7 s after 2 tries"):
        client(server, max_retries=1, timeout=7).complete_json(MESSAGES)
    assert len(server.requests) == 2


def test_llm_client_timeout_then_success():
    server = Server(httpx.ReadTimeout("slow"), ok('{"a": 1}'))
    assert client(server, max_retries=1).complete_json(MESSAGES) == {"a": 1}


def test_llm_client_connect_error_is_unavailable():
    server = Server(httpx.ConnectError("refused"))
    with pytest.raises(BackendUnavailable, match="is the server running"):
        client(server, max_retries=2).complete_json(MESSAGES)
    assert len(server.requests) == 3


def test_llm_client_real_closed_port_is_unavailable():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = ChatClient(f"http://127.0.0.1:{port}/v1", "m", max_retries=0, connect_timeout=2)
    with pytest.raises(BackendUnavailable, match=str(port)):
        c.complete_json(MESSAGES)


def test_llm_client_uses_separate_connect_and_read_timeouts():
    seen: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.extensions["timeout"])
        return ok('{"a": 1}')

    client(Server(handler), timeout=12.5, connect_timeout=2.5).complete_json(MESSAGES)
    assert seen["connect"] == 2.5 and seen["read"] == 12.5


@pytest.mark.parametrize(
    "status, error, message",
    [
        (401, BackendUnavailable, "API key"),
        (403, BackendUnavailable, "API key"),
        (404, BackendUnavailable, "--base-url"),
        (422, BackendResponseError, "HTTP 422"),
    ],
)
def test_llm_client_client_errors_are_not_retried(status, error, message):
    server = Server(httpx.Response(status, text="nope"))
    with pytest.raises(error, match=message):
        client(server, max_retries=3).complete_json(MESSAGES)
    assert len(server.requests) == 1


def test_llm_client_truncated_reply_is_an_error_at_once():
    server = Server(ok('{"label": "supp', finish_reason="length"))
    with pytest.raises(BackendResponseError, match="cut off"):
        client(server, max_retries=3).complete_json(MESSAGES)
    assert len(server.requests) == 1


def test_llm_client_truncated_reply_even_if_it_parses():
    server = Server(ok('{"a": 1}', finish_reason="length"))
    with pytest.raises(BackendResponseError, match="cut off"):
        client(server).complete_json(MESSAGES)


def test_llm_client_refusal_field_is_an_error():
    server = Server(ok(None, refusal="I can't help with that."))
    with pytest.raises(BackendResponseError, match="refused"):
        client(server).complete_json(MESSAGES)


def test_llm_client_refused_text_after_retries():
    server = Server(ok("I'm sorry, but I can't help with that."))
    with pytest.raises(BackendResponseError, match="refused.*after 3 tries"):
        client(server, max_retries=2).complete_json(MESSAGES)
    assert len(server.requests) == 3


def test_llm_client_malformed_then_good_reply():
    server = Server(ok("the claim looks fine"), ok('{"a": 1}'))
    assert client(server, max_retries=1).complete_json(MESSAGES) == {"a": 1}


def test_llm_client_malformed_reply_after_retries():
    server = Server(ok("the claim looks fine"))
    with pytest.raises(BackendResponseError, match="no JSON object.*after 2 tries"):
        client(server, max_retries=1).complete_json(MESSAGES)
    assert len(server.requests) == 2


def test_llm_client_validate_rejection_is_retried_then_raised():
    def validate(obj: dict[str, Any]) -> int:
        if "n" not in obj:
            raise ValueError("'n' is missing")
        return obj["n"]

    assert client(Server(ok('{"x": 1}'), ok('{"n": 4}')), max_retries=1).complete_json(MESSAGES, validate=validate) == 4
    with pytest.raises(BackendResponseError, match="'n' is missing"):
        client(Server(ok('{"x": 1}')), max_retries=1).complete_json(MESSAGES, validate=validate)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>gateway</html>"),
        httpx.Response(200, json={"choices": []}),
        httpx.Response(200, json={"object": "error"}),
        httpx.Response(200, json=completion("")),
        httpx.Response(200, json=completion(None, finish_reason="content_filter")),
    ],
)
def test_llm_client_non_completion_bodies_are_errors(response):
    with pytest.raises(BackendResponseError):
        client(Server(response), max_retries=0).complete_json(MESSAGES)


def test_llm_client_complete_returns_text_and_reason():
    reply = client(Server(ok("hello"))).complete(MESSAGES)
    assert reply.content == "hello" and reply.finish_reason == "stop" and reply.usage["completion_tokens"] == 5
