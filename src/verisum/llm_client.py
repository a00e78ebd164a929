"""A small client for OpenAI-compatible chat endpoints (OpenAI, vLLM, Ollama, llama.cpp).

Shared by the ``llm`` judge and the ``llm`` highlights writer. It does one thing: send chat
messages, get back one JSON object, and fail loudly when it cannot. Foreign errors are
translated at this boundary (``raise ... from exc``)::

    httpx.TimeoutException (after retries)      -> BackendTimeout
    connect errors, 429 / 5xx (after retries)   -> BackendUnavailable
    401 / 403 / 404                             -> BackendUnavailable (what to fix)
    finish_reason "length"                      -> BackendResponseError (truncated)
    a refusal ("I can't help with that")        -> BackendResponseError (refused)
    no JSON object, or one that fails checks    -> BackendResponseError (malformed)

Nothing here ever turns a failure into an answer: a caller that gets no exception got a
parsed, validated reply.

    client = ChatClient("http://127.0.0.1:8080/v1", "NAME")
    obj = client.complete_json([{"role": "user", "content": "Reply in JSON ..."}])
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Sequence, TypeVar, overload

import httpx

from .errors import BackendResponseError, BackendTimeout, BackendUnavailable, InputError

__all__ = [
    "ChatClient",
    "ChatReply",
    "JsonMode",
    "extract_json_object",
    "finite_number",
    "is_refusal",
    "resolve_api_key",
    "API_KEY_ENV",
]

T = TypeVar("T")
JsonMode = Literal["auto", "on", "off"]

#: Environment variables read, in order, when no API key is given.
API_KEY_ENV = ("VERISUM_API_KEY", "OPENAI_API_KEY")

_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_MAX_BACKOFF = 10.0
_REFUSAL_RE = re.compile(
    r"\b(?:I\s+(?:can(?:not|'t|’t)|won(?:'t|’t)|am\s+(?:not\s+able|unable)|must\s+decline)"
    r"|I(?:'m|’m)\s+(?:sorry|not\s+able|unable|afraid)"
    r"|as\s+an\s+AI\b"
    r"|(?:cannot|can't|can’t)\s+(?:help|assist|comply))",
    re.IGNORECASE,
)


def resolve_api_key(api_key: str | None = None) -> str | None:
    """The key given, else $VERISUM_API_KEY, else $OPENAI_API_KEY, else None (local servers)."""
    if api_key:
        return api_key
    for name in API_KEY_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None


def is_refusal(text: str) -> bool:
    """Whether a reply reads as a refusal ("I can't help with that", "I'm sorry, ...")."""
    return bool(_REFUSAL_RE.search(text))


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (bare, in a ```json fence, or after prose), or None."""
    decoder = json.JSONDecoder()
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            obj, _ = decoder.raw_decode(stripped)
            if isinstance(obj, dict):
                return obj
        except json.JSONDecodeError:
            pass
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


@dataclass(frozen=True, slots=True)
class ChatReply:
    """One chat completion: the text and why the model stopped."""

    content: str
    finish_reason: str | None
    model: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)


def _snippet(text: str, n: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class ChatClient:
    """An OpenAI-compatible ``/chat/completions`` client with timeouts, retries and strict JSON.

    base_url: the API root, e.g. ``https://api.openai.com/v1``, ``http://127.0.0.1:8000/v1``
        (vLLM), ``http://127.0.0.1:11434/v1`` (Ollama), ``http://127.0.0.1:8080/v1`` (llama.cpp
        server); ``/chat/completions`` is appended.
    model: the model name the endpoint serves.
    api_key: sent as ``Authorization: Bearer``; default $VERISUM_API_KEY, then $OPENAI_API_KEY;
        none is sent when neither is set (local servers need none).
    timeout: seconds to wait for a reply (read/write); connect_timeout: seconds to connect.
    max_retries: extra attempts after a timeout, connect error, HTTP 429/5xx, or a malformed or
        refused reply; waits grow as backoff * 2**attempt seconds (Retry-After is honoured),
        capped at 10 s.
    json_mode: "auto" asks for ``response_format={"type": "json_object"}`` and drops it if the
        endpoint rejects it; "on" always sends it; "off" never does. Replies are parsed strictly
        either way.
    transport: an httpx transport (tests pass ``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        json_mode: JsonMode = "auto",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise InputError(f"base URL {base_url!r} must start with http:// or https:// (e.g. http://127.0.0.1:8080/v1)")
        if not model:
            raise InputError("no model name given: pass the name the endpoint serves (--model)")
        if timeout <= 0 or connect_timeout <= 0:
            raise InputError("timeouts must be positive numbers of seconds")
        if max_retries < 0:
            raise InputError("max_retries must be 0 or more")
        if json_mode not in ("auto", "on", "off"):
            raise InputError(f"json_mode must be 'auto', 'on' or 'off', not {json_mode!r}")
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.json_mode = json_mode
        self.transport = transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        # Learned from the endpoint: False once it rejected response_format.
        self.response_format_ok_: bool = json_mode != "off"

    # -- set-up --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        root = self.base_url.rstrip("/")
        return root if root.endswith("/chat/completions") else root + "/chat/completions"

    def params(self) -> dict[str, Any]:
        """Settings that reproduce this client; never the key."""
        return {
            "base_url": self.base_url,
            "model": self.model,
            "timeout": self.timeout,
            "connect_timeout": self.connect_timeout,
            "max_retries": self.max_retries,
            "json_mode": self.json_mode,
        }

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                headers = {"Content-Type": "application/json", "Accept": "application/json"}
                key = resolve_api_key(self.api_key)
                if key:
                    headers["Authorization"] = f"Bearer {key}"
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                    headers=headers,
                    transport=self.transport,
                    follow_redirects=False,
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def __enter__(self) -> "ChatClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ------------------------------------------------------------------------
    def _sleep(self, attempt: int, retry_after: str | None = None) -> None:
        wait = self.backoff * (2**attempt)
        if retry_after:
            try:
                wait = max(wait, float(retry_after))
            except ValueError:
                pass
        if wait > 0:
            time.sleep(min(wait, _MAX_BACKOFF))

    def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        json: bool = False,
    ) -> ChatReply:
        """One chat completion, retried on timeouts, connect errors and HTTP 429/5xx.

        Raises BackendResponseError when the reply was cut off (finish_reason "length"),
        filtered, explicitly refused, or is not a chat completion at all.
        """
        body: dict[str, Any] = {"model": self.model, "messages": [dict(m) for m in messages], "temperature": temperature}
        if max_tokens is not None:
            body["max_tokens"] = int(max_tokens)
        attempt = 0
        while True:
            use_format = json and self.json_mode != "off" and (self.response_format_ok_ or self.json_mode == "on")
            if use_format:
                body["response_format"] = {"type": "json_object"}
            else:
                body.pop("response_format", None)
            try:
                resp = self._http().post(self.url, json=body)
            except httpx.TimeoutException as exc:
                if attempt < self.max_retries:
                    self._sleep(attempt)
                    attempt += 1
                    continue
                kind = "connect to" if isinstance(exc, httpx.ConnectTimeout) else "get a reply from"
                limit = self.connect_timeout if isinstance(exc, httpx.ConnectTimeout) else self.timeout
                raise BackendTimeout(
                    f"could not {kind} {self.url} within {limit:g} s after {attempt + 1} tries; "
                    "check the server or raise the timeout"
                ) from exc
            except (httpx.RequestError, OSError) as exc:
                if attempt < self.max_retries:
                    self._sleep(attempt)
                    attempt += 1
                    continue
                raise BackendUnavailable(
                    f"cannot reach {self.url} after {attempt + 1} tries ({type(exc).__name__}: {exc}); "
                    "is the server running and is --base-url right?"
                ) from exc

            status = resp.status_code
            if status == 400 and use_format and self.json_mode == "auto" and "response_format" in resp.text.lower():
                # The endpoint does not do JSON mode; ask again without it (not a retry).
                self.response_format_ok_ = False
                continue
            if status in _RETRY_STATUS:
                if attempt < self.max_retries:
                    self._sleep(attempt, resp.headers.get("retry-after"))
                    attempt += 1
                    continue
                what = "rate-limited the request" if status == 429 else "failed"
                raise BackendUnavailable(
                    f"{self.url} {what} (HTTP {status}) after {attempt + 1} tries: {_snippet(resp.text)}"
                )
            if status in (401, 403):
                raise BackendUnavailable(
                    f"{self.url} refused the API key (HTTP {status}); pass --api-key or set "
                    f"{' or '.join(API_KEY_ENV)}"
                )
            if status == 404:
                raise BackendUnavailable(
                    f"{self.url} answered HTTP 404 for model {self.model!r}: check --base-url (it usually "
                    f"ends in /v1) and --model: {_snippet(resp.text)}"
                )
            if status >= 400:
                raise BackendResponseError(f"{self.url} rejected the request (HTTP {status}): {_snippet(resp.text)}")
            return self._parse_completion(resp)

    def _parse_completion(self, resp: httpx.Response) -> ChatReply:
        try:
            data = resp.json()
            choice = data["choices"][0]
            message = choice.get("message") or {}
            content = message.get("content")
            finish = choice.get("finish_reason")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise BackendResponseError(
                f"{self.url} did not return a chat completion: {_snippet(resp.text)}"
            ) from exc
        refusal = message.get("refusal")
        if refusal:
            raise BackendResponseError(f"the model refused: {_snippet(str(refusal))}")
        if finish == "length":
            raise BackendResponseError(
                "the model's reply was cut off (finish_reason 'length'); raise max_tokens: "
                f"{_snippet(str(content or ''))}"
            )
        if finish == "content_filter":
            raise BackendResponseError("the endpoint's content filter withheld the reply")
        if not isinstance(content, str) or not content.strip():
            raise BackendResponseError("the model returned an empty reply")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return ChatReply(content=content, finish_reason=finish, model=data.get("model"), usage=usage)

    @overload
    def complete_json(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        validate: None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> dict[str, Any]: ...

    @overload
    def complete_json(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        validate: Callable[[dict[str, Any]], T],
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> T: ...

    def complete_json(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        validate: Callable[[dict[str, Any]], T] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> T | dict[str, Any]:
        """The reply's first JSON object, passed through ``validate`` (which raises ValueError
        to reject it). A malformed or refused reply is asked again up to ``max_retries``
        times, then raises BackendResponseError; a truncated one raises at once.
        """
        last: str = ""
        for attempt in range(self.max_retries + 1):
            reply = self.complete(messages, temperature=temperature, max_tokens=max_tokens, json=True)
            obj = extract_json_object(reply.content)
            if obj is None:
                if is_refusal(reply.content):
                    last = f"the model refused: {_snippet(reply.content)}"
                else:
                    last = f"the reply holds no JSON object: {_snippet(reply.content)}"
            else:
                if validate is None:
                    return obj
                try:
                    return validate(obj)
                except (ValueError, TypeError, KeyError) as exc:
                    last = f"the reply's JSON is not what was asked for ({exc}): {_snippet(reply.content)}"
            if attempt < self.max_retries:
                self._sleep(attempt)
        raise BackendResponseError(f"{last} (after {self.max_retries + 1} tries)")


def finite_number(value: Any, what: str) -> float:
    """``value`` as a finite float; bools and non-numbers raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{what} must be a number, not {value!r}")
    try:
        out = float(value)
    except ValueError:
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{what} must be finite, not {value!r}")
    return out
