"""One error body for every failure the server reports.

Whatever goes wrong — a :class:`~verisum.errors.VerisumError` from the library, a request
that fails validation, a body over the size limit, a missing token, an unknown route — the
client gets the same envelope (the ``ErrorModel`` of :mod:`verisum.schema`)::

    {"ok": false, "error": "<what is wrong and what to do>", "errors": [...],
     "status": 422, "code": "invalid_request"}

``errors`` lists the individual problems of a validation failure (``loc``, ``message``,
``type``) and is empty otherwise. Request text is never echoed back.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import VerisumError
from .batching import BatcherClosed, BatcherFull

__all__ = ["error_body", "error_response", "install_error_handlers", "HTTP_CODES"]

log = logging.getLogger("verisum.server")

#: Stable codes for failures that are not VerisumErrors.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "input_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}

_MAX_LISTED = 10


def error_body(status: int, code: str, message: str, errors: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"ok": False, "error": message, "errors": list(errors), "status": status, "code": code}


def error_response(
    status: int,
    code: str,
    message: str,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, errors), status_code=status, headers=headers)


def _loc(loc: Sequence[Any]) -> list[str | int]:
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    return [p if isinstance(p, int) else str(p) for p in parts]


def _describe(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    loc = _loc(err.get("loc", ()))
    if kind == "json_invalid":
        detail = (err.get("ctx") or {}).get("error", "")
        at = f" at character {loc[0]}" if loc and isinstance(loc[0], int) else ""
        return f"the body is not valid JSON{at}" + (f": {detail}" if detail else "")
    where = ".".join(str(p) for p in loc) or "body"
    if not loc and kind in ("model_attributes_type", "model_type", "dict_type"):
        return "the body must be a JSON object, sent with Content-Type: application/json"
    if kind == "missing":
        return f"{where}: required field missing"
    if kind == "extra_forbidden":
        return f"{where}: unknown field"
    if kind == "string_pattern_mismatch":
        return f"{where}: must hold more than white space"
    return f"{where}: {err.get('msg', 'invalid value')}"


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": _loc(e.get("loc", ())), "message": _describe(e), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]


async def _on_verisum_error(request: Request, exc: VerisumError) -> JSONResponse:
    return error_response(exc.http_status, exc.code, str(exc))


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = validation_errors(exc)
    shown = "; ".join(e["message"] for e in errors[:_MAX_LISTED])
    more = f" (and {len(errors) - _MAX_LISTED} more)" if len(errors) > _MAX_LISTED else ""
    return error_response(422, HTTP_CODES[422], f"invalid request: {shown}{more}", errors)


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    code = HTTP_CODES.get(status, "http_error")
    if status == 404:
        message = f"no such route: {request.method} {request.url.path}; see /docs for the API"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}; see /docs for the API"
    else:
        message = str(exc.detail)
    return error_response(status, code, message, headers=getattr(exc, "headers", None))


async def _on_busy(request: Request, exc: Exception) -> JSONResponse:
    return error_response(503, HTTP_CODES[503], str(exc), headers={"Retry-After": "1"})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    # Starlette re-raises after this answer and the server then drops the connection: say so,
    # so a pooled client (httpx) opens a new one instead of failing its next request.
    return error_response(500, HTTP_CODES[500], f"internal error ({type(exc).__name__}); see the server log",
                          headers={"Connection": "close"})


def install_error_handlers(app: FastAPI) -> None:
    # Starlette types a handler as taking any Exception; each of these takes the class it is
    # registered for, which is what Starlette passes it.
    app.add_exception_handler(VerisumError, _on_verisum_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(BatcherFull, _on_busy)
    app.add_exception_handler(BatcherClosed, _on_busy)
    app.add_exception_handler(Exception, _on_unexpected)
