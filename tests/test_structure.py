"""The structure holds: no import cycle among verisum's modules (imports at module level; the
lazy imports inside functions are deliberate), and no module imports another's private name."""

from __future__ import annotations

import ast
from pathlib import Path

import verisum

ROOT = Path(verisum.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for f in ROOT.rglob("*.py"):
        parts = f.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = f
    return out


def _imports(name: str, path: Path, mods: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """(imported module, names) for each module-level import of another verisum module."""
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in mods]
            if target in mods:
                out.append((target, [n for n in names if f"{target}.{n}" not in mods]))
            out.extend((s, []) for s in subs)
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names if a.name in mods)
    return out


def test_structure_no_import_cycle() -> None:
    mods = _modules()
    edges = {m: {t for t, _ in _imports(m, f, mods) if t != m} for m, f in mods.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(u: str, path: list[str]) -> None:
        state[u] = 1
        for v in sorted(edges[u]):
            if state.get(v) == 1:
                cycles.append(path[path.index(v):] + [v])
            elif v not in state:
                visit(v, path + [v])
        state[u] = 2

    for m in sorted(mods):
        if m not in state:
            visit(m, [m])
    assert len(mods) > 50 and not cycles, cycles


def test_structure_no_private_name_crosses_a_module() -> None:
    mods = _modules()
    crossing = [(m, t, n) for m, f in mods.items() for t, names in _imports(m, f, mods)
                for n in names if n.startswith("_") and not n.startswith("__")]
    assert not crossing, crossing
