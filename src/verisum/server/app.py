"""The HTTP API and the web page: ``create_app(settings)`` builds a FastAPI app.

Routes::

    GET  /                 the web page (static/index.html; no CDN, everything served here)
    POST /v1/check         {doc, summary?, options?}  -> CheckResultModel (the CLI's JSON)
    POST /v1/fix           {doc, summary?, options?}  -> FixResultModel (`verisum fix --format json`)
    POST /v1/highlights    {doc, n, options?}          -> HighlightsResultModel
    GET  /health           liveness, the judge in use, batching counters
    GET  /openapi.json     the OpenAPI document (kept in src/verisum/schema/openapi.json)
    GET  /docs             a small offline page that lists the API from /openapi.json

The app is thin: it validates the request, hands it to the library through the batching
worker (so the event loop never waits on the model) and serialises the library's result
with the same pydantic models the CLI prints. Every failure leaves through
:mod:`verisum.server.errors` as one error envelope. State lives on ``app.state``; nothing
is global, so tests build as many apps as they like.
"""

from __future__ import annotations

import importlib
import json
import secrets
from collections import OrderedDict
from contextlib import asynccontextmanager
from typing import Annotated, Any, AsyncIterator, Hashable, Sequence, cast

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..version import __version__
from ..checker import Checker
from ..records import Record, RecordError
from ..errors import EmptyInput, InputError, InputTooLarge, InternalError, VerisumError
from ..judges import Judge
from ..schema import CheckResultModel, ErrorModel, FixResultModel, HighlightsResultModel
from .batching import Batcher
from .errors import HTTP_CODES, error_body, install_error_handlers
from .settings import ServerSettings

__all__ = ["create_app", "build_checker", "create_app_from_env", "openapi_text", "openapi_document", "CheckRequest", "HighlightsRequest", "Options", "STATIC_DIR"]

from ..resources import STATIC_DIR

#: Content-Security-Policy for every response: the page may load only what verisum serves,
#: and runs no inline script, so even text that slipped into the DOM as HTML could not run.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


# -- request models ----------------------------------------------------------------------
def _json_integer(value: Any) -> Any:
    """What JSON Schema calls an integer: 3 or 3.0, never true, "3" or 3.5."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be an integer")
        return int(value)
    return value


def _json_number(value: Any) -> Any:
    """A JSON number, never true / false (which Python counts as 1 / 0) or a string."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a number")
    return value


JsonInteger = Annotated[int, BeforeValidator(_json_integer)]
JsonNumber = Annotated[float, BeforeValidator(_json_number)]
#: A micro-batch's key: (kind, top_k, threshold, n); n is set for highlights only.
_JobKey = tuple[str, int | None, float | None, int | None]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Options(_Request):
    """Per-request checker options; anything left out uses the server's settings."""

    threshold: JsonNumber | None = Field(
        None, ge=0.0, le=1.0, allow_inf_nan=False, description="P(supported) at or above which a claim is supported."
    )
    top_k: JsonInteger | None = Field(None, ge=1, le=20, description="Evidence sentences retrieved per claim.")


class CheckRequest(_Request):
    """A summary to check against its source article."""

    id: str | None = Field(None, max_length=200, description="Carried into the result, for the caller's bookkeeping.")
    doc: str = Field(
        validation_alias=AliasChoices("doc", "article", "source"),
        pattern=r"\S",
        description=(
            "The source article (aliases: article, source). When `summary` is left out, `doc` is read in "
            "the seed's form: the trailing lines that start with '- ', '* ' or '• ' are the summary."
        ),
    )
    summary: str | list[str] | None = Field(
        None,
        description="The summary: a string (one sentence per line or per full stop) or a list of bullets.",
    )
    options: Options = Field(default_factory=Options)


class HighlightsRequest(_Request):
    """An article to write verified highlights for."""

    id: str | None = Field(None, max_length=200)
    doc: str = Field(
        validation_alias=AliasChoices("doc", "article", "source"),
        pattern=r"\S",
        description="The article (aliases: article, source); it must hold more than white space.",
    )
    n: JsonInteger = Field(3, ge=1, description="How many bullets to write (at most the server's max_highlights).")
    options: Options = Field(default_factory=Options)


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorModel, "description": text}
    for status, text in {
        400: "The body cannot be parsed at all (not UTF-8, or JSON nested too deeply).",
        401: "The API token is missing or wrong (only when VERISUM_API_TOKEN is set).",
        413: "The body, the article or the summary is over a limit.",
        422: "The request is malformed; `error` says what is wrong.",
        500: "The model failed, or an internal error (the connection is then closed).",
        503: "The server is busy (its queue is full) or shutting down; retry later.",
        502: "The judge backend failed.",
    }.items()
}


# -- plumbing ----------------------------------------------------------------------------
async def _send_error(send: Send, status: int, code: str, message: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Answer from a middleware with the same envelope the exception handlers write."""
    body = json.dumps(error_body(status, code, message)).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    *headers],
    })
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """Before any route runs: the API token on /v1 routes, then the body size limit.

    The token is checked before a byte of the body is read, so a client without it can neither
    probe the validation nor make the server read a large body. A body over ``max_bytes`` gets
    413, whether it declares its length or streams in chunks.
    """

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.max_bytes = settings.max_body_bytes
        token = settings.api_token
        self.token = None if token is None else token.get_secret_value().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        if self.token is not None and scope["path"].startswith("/v1/") and not self._authorised(headers):
            await _send_error(
                send, 401, HTTP_CODES[401],
                "this server needs an API token: send 'Authorization: Bearer <token>' "
                "(the VERISUM_API_TOKEN it was started with)",
                [(b"www-authenticate", b"Bearer")],
            )
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            if int(declared) <= DRAIN_BYTES:
                # Read the body into nothing first: a server that answers and closes while the
                # client is still sending resets the connection, and the client never sees the 413.
                await _drain(receive)
            await _send_error(send, 413, InputTooLarge.code, _too_large(self.max_bytes), [(b"connection", b"close")])
            return
        seen = 0
        limit = self.max_bytes

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # FastAPI passes an HTTPException raised while reading the body straight on.
                    raise HTTPException(413, detail=_too_large(limit))
            return message

        await self.app(scope, counted, send)

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        scheme, _, value = headers.get(b"authorization", b"").partition(b" ")
        return scheme.lower() == b"bearer" and secrets.compare_digest(value.strip(), self.token or b"")


#: A body declared over the limit but at most this long is read and discarded before the 413
#: goes out (so the client, still sending, gets the answer); a longer one is cut off at once.
DRAIN_BYTES = 64 * 1024 * 1024


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _too_large(limit: int) -> str:
    return f"the request body is over the server's limit of {limit:,} bytes (setting VERISUM_MAX_BODY_BYTES)"


class SecurityHeaders:
    """CSP, nosniff and no-referrer on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Engine:
    """The loaded Checker and the per-options Checkers derived from it (used by the worker only)."""

    _MAX_DERIVED = 32

    def __init__(self, checker: Checker, settings: ServerSettings) -> None:
        self.checker = checker
        self.settings = settings
        self._derived: OrderedDict[tuple[int | None, float | None], Checker] = OrderedDict()

    def checker_for(self, top_k: int | None, threshold: float | None) -> Checker:
        if top_k is None and threshold is None:
            return self.checker
        key = (top_k, threshold)
        found = self._derived.get(key)
        if found is None:
            found = self.checker.with_options(top_k=top_k, threshold=threshold)
            self._derived[key] = found
            if len(self._derived) > self._MAX_DERIVED:
                self._derived.popitem(last=False)
        return found

    def run(self, key: Hashable, items: Sequence[Any]) -> list[Any]:
        # The batcher holds keys as Hashable; every key is a _JobKey (_summary_job, highlights).
        kind, top_k, threshold, n = cast(_JobKey, key)
        checker = self.checker_for(top_k, threshold)
        if kind == "check":
            out: list[Any] = []
            for item in checker.check_many(items, batch_size=max(len(items), 1)):
                if isinstance(item, RecordError):
                    out.append(item.error)
                else:
                    out.append(CheckResultModel.from_result(item).model_dump_json().encode())
            return out
        if kind == "fix":
            return _each(items, lambda r: FixResultModel.from_result(checker.fix(r.source, r.summary, id=r.id)))
        if kind == "highlights":
            from ..highlights import write_highlights_many

            assert n is not None  # a highlights key carries the request's n
            return [item.error if isinstance(item, RecordError)
                    else HighlightsResultModel.from_result(item).model_dump_json().encode()
                    for item in write_highlights_many(items, n, checker=checker)]
        raise ValueError(f"unknown job kind {kind!r}")


def _each(items: Sequence[Any], answer: Any) -> list[Any]:
    """``answer(item)`` (a result model) as JSON bytes for each request of a micro-batch, or its
    error: a failure, a bug included, costs only the request that caused it."""
    out: list[Any] = []
    for item in items:
        try:
            out.append(answer(item).model_dump_json().encode())
        except VerisumError as exc:
            out.append(exc)
        except Exception as exc:  # noqa: BLE001 - a bug costs only its own request
            out.append(InternalError.wrap(exc))
    return out


def _has_highlights() -> bool:
    """Whether ``verisum.highlights.write_highlights`` can be imported (imported once, then cached)."""
    try:
        module = importlib.import_module("verisum.highlights")
    except ImportError:
        return False
    return callable(getattr(module, "write_highlights", None))


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


def _split_seed_form(doc: str) -> tuple[str, str]:
    from ..io import split_seed

    seed = split_seed(doc, require_summary=False, max_bullets=10**9)
    if not seed.summary.strip():
        raise EmptyInput(
            "no summary given: send `summary`, or end `doc` with summary lines that start with '- '"
        )
    return seed.source, seed.summary


# -- routes ------------------------------------------------------------------------------
api = APIRouter(prefix="/v1", responses=_ERRORS)


@api.post(
    "/check",
    response_model=CheckResultModel,
    summary="Check a summary against its source",
    description="Each summary sentence and its claims: supported / contradicted / unsupported, the words "
    "at fault, the evidence with code-point offsets into `source`, and calibrated scores. The body is "
    "the same JSON `verisum check --format json` prints.",
)
async def check(body: CheckRequest, request: Request) -> Response:
    return _json(await request.app.state.batcher.submit(*_summary_job("check", body, request)))


def _summary_job(kind: str, body: CheckRequest, request: Request) -> tuple[_JobKey, Record]:
    """The batching key and record of a check or fix request (limits and the seed form applied)."""
    state = request.app.state
    if len(body.doc) > state.settings.max_source_chars:
        raise InputTooLarge(
            f"the article has {len(body.doc):,} characters; the limit is {state.settings.max_source_chars:,} "
            "(setting VERISUM_MAX_SOURCE_CHARS)"
        )
    doc, summary = body.doc, body.summary
    if summary is None:
        doc, summary = _split_seed_form(doc)
    return (kind, body.options.top_k, body.options.threshold, None), Record(id=body.id, source=doc, summary=summary)


@api.post(
    "/fix",
    response_model=FixResultModel,
    summary="Propose the smallest supported edits of a summary",
    description="Checks the summary, then for every sentence that is not supported proposes the smallest "
    "edit the checker then supports (an unsupported clause dropped, the words at fault replaced by the "
    "evidence's), or its deletion; `fixed` is the corrected summary and `recheck` its check. Same JSON as "
    "`verisum fix --format json`.",
)
async def fix(body: CheckRequest, request: Request) -> Response:
    return _json(await request.app.state.batcher.submit(*_summary_job("fix", body, request)))


@api.post(
    "/highlights",
    response_model=HighlightsResultModel,
    summary="Write highlights that pass the checker",
    description="Bullet highlights for the article; every bullet returned passed the checker, and "
    "`dropped` lists the candidates that did not, with the reason. Same JSON as "
    "`verisum highlights --format json`.",
    responses={501: {"model": ErrorModel, "description": "The highlights writer is not installed."}},
)
async def highlights(body: HighlightsRequest, request: Request) -> Response:
    state = request.app.state
    if body.n > state.settings.max_highlights:
        raise InputError(f"n is {body.n}; this server writes at most {state.settings.max_highlights} highlights "
                         "(setting VERISUM_MAX_HIGHLIGHTS)")
    if len(body.doc) > state.settings.max_source_chars:
        raise InputTooLarge(
            f"the article has {len(body.doc):,} characters; the limit is {state.settings.max_source_chars:,} "
            "(setting VERISUM_MAX_SOURCE_CHARS)"
        )
    if not body.doc.strip():
        raise EmptyInput("the article is empty")
    if not _has_highlights():
        raise HTTPException(501, detail="the highlights writer (verisum.highlights) is not installed")
    # Requests for the same n share a micro-batch (one write_highlights_many call).
    key: _JobKey = ("highlights", body.options.top_k, body.options.threshold, body.n)
    return _json(await state.batcher.submit(key, Record(body.id, body.doc, ())))


def _health(request: Request) -> dict[str, Any]:
    state = request.app.state
    batcher: Batcher = state.batcher
    checker: Checker = state.engine.checker
    judge = checker.judge_
    return {
        "ok": True,
        "version": __version__,
        "ready": batcher.running,
        "judge": getattr(judge, "name", str(checker.judge)),
        "highlights": _has_highlights(),
        "token_required": state.settings.api_token is not None,
        "limits": {
            "max_body_bytes": state.settings.max_body_bytes,
            "max_source_chars": state.settings.max_source_chars,
            "max_summary_sentences": state.settings.max_summary_sentences,
            "max_highlights": state.settings.max_highlights,
        },
        "batching": {"batches": batcher.batches, "requests": batcher.jobs, "largest": batcher.largest_batch},
    }


# -- the factory -------------------------------------------------------------------------
def build_checker(settings: ServerSettings, *, judge: Judge | None = None) -> Checker:
    """The Checker the server runs, from its settings (nothing loads until ``load()``)."""
    return Checker(
        judge if judge is not None else settings.judge,
        judge_params=None if judge is not None else settings.judge_params,
        top_k=settings.top_k,
        threshold=settings.threshold,
        calibration=settings.calibration,
        premises=settings.premises,
        max_source_chars=settings.max_source_chars,
        max_summary_sentences=settings.max_summary_sentences,
    )


def create_app(
    settings: ServerSettings | None = None,
    *,
    judge: Judge | None = None,
    checker: Checker | None = None,
) -> FastAPI:
    """Build the app. The Checker is built and loaded once, in the lifespan.

    settings: limits, token, judge; default ``ServerSettings()`` (read from the environment).
    judge: a Judge instance to use instead of ``settings.judge`` (tests inject a fake one).
    checker: a ready Checker to use as is (its own limits apply as well as the server's).
    """
    settings = settings if settings is not None else ServerSettings()
    if judge is not None and checker is not None:
        raise ValueError("give judge or checker, not both")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        chk = checker if checker is not None else build_checker(settings, judge=judge)
        chk.load()  # once per worker process, before the first request (a no-op if already loaded)
        engine = _Engine(chk, settings)
        batcher = Batcher(
            engine.run, max_batch=settings.max_batch, max_wait_s=settings.batch_wait_ms / 1000,
            max_queue=settings.max_queue,
        ).start()
        app.state.engine = engine
        app.state.batcher = batcher
        try:
            yield
        finally:
            batcher.close()

    app = FastAPI(
        title="verisum",
        version=__version__,
        summary="Check machine-written summaries against their source; write highlights that hold up.",
        description="Offsets in every result are Python string indices (Unicode code points) into the "
        "`source` and `summary` texts the result carries. When the server was started with "
        "VERISUM_API_TOKEN, /v1 routes need `Authorization: Bearer <token>`.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's Swagger UI loads from a CDN; /docs below is served from the package
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(api)

    @app.get("/health", summary="Liveness and settings", tags=["meta"])
    async def health(request: Request) -> dict[str, Any]:
        return _health(request)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(STATIC_DIR / "docs.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(RequestGuard, settings=settings)
    app.add_middleware(SecurityHeaders)  # added last = outermost: error answers get the headers too
    return app


def create_app_from_env() -> FastAPI:
    """``create_app`` with settings read from VERISUM_* variables (for ``uvicorn --factory``)."""
    return create_app(ServerSettings())


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the app (it does not depend on settings)."""
    return create_app(ServerSettings()).openapi()


def openapi_text() -> str:
    """The OpenAPI document exactly as kept in ``src/verisum/schema/openapi.json``."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
