"""Judge registry: built-in and third-party judges register through the same
``verisum.judges`` entry-point group and are imported only when asked for.

    get_judge("embedded")
    get_judge("hf", model="path/or/hub-id")
    get_judge("llm", base_url="http://127.0.0.1:8080/v1", model="NAME")
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from ..errors import BackendUnavailable, InputError
from .base import LABELS, Judge, Judgement, Pair

__all__ = ["get_judge", "available_judges", "Judge", "Judgement", "Pair", "LABELS"]

# The built-ins, so the registry works from a source checkout that was never pip-installed.
_BUILTIN = {
    "embedded": "verisum.judges.embedded:EmbeddedJudge",
    "hf": "verisum.judges.hf:HFJudge",
    "llm": "verisum.judges.llm:LLMJudge",
}


def _entry_points() -> dict[str, str]:
    found = dict(_BUILTIN)
    try:
        from importlib.metadata import entry_points

        for ep in entry_points(group="verisum.judges"):
            found[ep.name] = ep.value
    except Exception:  # broken metadata must not hide the built-ins
        pass
    return found


def available_judges() -> list[str]:
    return sorted(_entry_points())


def _load(target: str) -> type:
    module, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise BackendUnavailable(f"cannot import judge {target}: {exc}") from exc


def get_judge(name: str | Judge, **params: Any) -> Judge:
    """A judge by registry name, built with ``params`` checked against its constructor."""
    if not isinstance(name, str):
        if params:
            raise InputError("params cannot be given with a judge instance")
        return name
    registry = _entry_points()
    if name not in registry:
        raise InputError(f"unknown judge {name!r}; available: {', '.join(sorted(registry))}")
    cls = _load(registry[name])
    sig = inspect.signature(cls)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    unknown = [k for k in params if k not in sig.parameters]
    if unknown and not accepts_any:
        allowed = [k for k in sig.parameters if k != "self"]
        raise InputError(
            f"judge {name!r} does not take {', '.join(sorted(unknown))}; it takes: {', '.join(allowed) or 'nothing'}"
        )
    return cls(**params)
