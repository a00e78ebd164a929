"""verisum's HTTP API and web page (``verisum serve``; needs the ``[serve]`` extra).

    from verisum.server import create_app, ServerSettings
    app = create_app(ServerSettings(max_body_bytes=1_000_000))

Importing this package loads nothing heavy; ``create_app`` and ``ServerSettings`` import
FastAPI and pydantic-settings when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app", "ServerSettings"]

if TYPE_CHECKING:  # pragma: no cover
    from .app import create_app
    from .settings import ServerSettings


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "ServerSettings":
        from .settings import ServerSettings

        return ServerSettings
    raise AttributeError(f"module 'verisum.server' has no attribute {name!r}")
