"""Docs stay true: every command has --help and is in the README; the JSON Schema files match."""

from __future__ import annotations

from pathlib import Path

import pytest

from verisum.cli import COMMANDS
from verisum.schema import SCHEMA_DIR, json_schemas

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_docs_every_command_has_help(cli, name: str) -> None:
    res = cli(name, "--help")
    assert res.exit_code == 0, res
    assert f"Usage: main {name}" in res.stdout or f"Usage: verisum {name}" in res.stdout
    assert "Unavailable here" not in res.stdout, res.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_docs_every_command_is_in_the_readme(name: str) -> None:
    assert f"verisum {name}" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_docs_json_schema_files_match_schema_py(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.is_file(), f"{path} is missing; run: python -m verisum.schema"
    assert path.read_text(encoding="utf-8") == json_schemas()[name], f"{path} is stale; run: python -m verisum.schema"


def test_docs_readme_names_the_exit_codes_and_the_schema() -> None:
    text = README.read_text(encoding="utf-8")
    for needle in ("Exit codes", "schema_version", "check-result.schema.json", "pip install", "pytest"):
        assert needle in text, needle
