"""``verisum serve``: the HTTP API and the web page (needs the ``[serve]`` extra)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from .common import CheckerOptions, fail, handle_errors, judge_options

__all__ = ["serve"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@click.command("serve")
@click.option("--host", default=None, metavar="ADDR",
              help="Address to bind [default: 127.0.0.1, env VERISUM_HOST]. Anything but loopback exposes "
                   "the server to the network: set VERISUM_API_TOKEN first.")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port [default: 8000, env VERISUM_PORT].")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes; each loads its own copy of the model.")
@click.option("--max-body-bytes", type=click.IntRange(1), default=None,
              help="Largest request body; more gets 413 [default: 2,000,000, env VERISUM_MAX_BODY_BYTES].")
@click.option("--max-summary-sentences", type=click.IntRange(1), default=None,
              help="Most summary sentences per request; more gets 413 [default: 50].")
@click.option("--max-highlights", type=click.IntRange(1), default=None,
              help="Largest n for /v1/highlights [default: 10].")
@judge_options
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              default="info", show_default=True)
@click.option("--openapi", "print_openapi", is_flag=True,
              help="Print the OpenAPI document and exit (the repo keeps it in src/verisum/schema/openapi.json).")
@handle_errors
def serve(
    host: str | None,
    port: int | None,
    workers: int,
    max_body_bytes: int | None,
    max_summary_sentences: int | None,
    max_highlights: int | None,
    options: CheckerOptions,
    log_level: str,
    print_openapi: bool,
) -> None:
    """Serve the HTTP API (/v1/check, /v1/highlights), the web page (/) and the API docs (/docs).

    Settings come from VERISUM_* environment variables; flags given here override them. The API
    is open unless VERISUM_API_TOKEN is set, then /v1 needs 'Authorization: Bearer <token>'.
    """
    try:
        import uvicorn
        from pydantic import ValidationError

        from ..server.app import build_checker, create_app, openapi_text
        from ..server.settings import ServerSettings
    except ImportError as exc:
        fail(f"verisum serve needs the serve extra: pip install 'verisum[serve]' ({exc})")

    if print_openapi:
        sys.stdout.write(openapi_text())
        return

    overrides: dict[str, Any] = {}
    for name, value in (("host", host), ("port", port), ("max_body_bytes", max_body_bytes),
                        ("max_summary_sentences", max_summary_sentences), ("max_highlights", max_highlights),
                        ("threshold", options.threshold), ("calibration", options.calibration)):
        if value is not None:
            overrides[name] = value
    # Only a flag given on the command line overrides its VERISUM_* setting.
    if "backend" in options.given:
        overrides["judge"] = options.backend
    if "top_k" in options.given:
        overrides["top_k"] = options.top_k
    if options.premises is not None:
        overrides["premises"] = options.premises
    params = options.judge_params()
    if params:
        overrides["judge_params"] = params
    try:
        settings = ServerSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        fail(f"bad server setting (flag or VERISUM_* variable): {problems}")

    if settings.host not in _LOOPBACK and settings.api_token is None:
        click.echo(f"verisum: warning: serving on {settings.host} with no API token; anyone who can reach "
                   "this port can use it (set VERISUM_API_TOKEN)", err=True)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    where = f"verisum: serving on http://{shown}:{settings.port}/  (API docs at /docs)"

    if workers == 1:
        # Load the model here, so a missing or broken model is one clear error, not a traceback.
        checker = build_checker(settings).load()
        click.echo(where, err=True)
        uvicorn.run(create_app(settings, checker=checker), host=settings.host, port=settings.port,
                    log_level=log_level)
        return
    click.echo(where, err=True)
    # Each worker process builds its own app from the environment, so pass the settings there.
    for name, value in overrides.items():
        os.environ[f"VERISUM_{name.upper()}"] = json.dumps(value) if isinstance(value, dict) else str(value)
    uvicorn.run("verisum.server.app:create_app_from_env", factory=True, host=settings.host, port=settings.port,
                workers=workers, log_level=log_level)
