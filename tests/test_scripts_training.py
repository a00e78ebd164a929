"""The training scripts' cheap paths: the ten-set list they share, and a stage evaluation that
has no run to evaluate (the heavy paths are the commands the README and the model card run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")


def _sets(bench: str) -> list[str]:
    out = subprocess.run([BASH, "-c", 'source scripts/lodo_sets.sh; printf "%s\\n" "${SETS[@]}"'],
                         cwd=ROOT, env={**os.environ, "B": bench}, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def test_the_protocol_has_ten_sets_with_both_llm_files():
    sets = _sets("BENCH")
    assert len(sets) == len(set(sets)) == 10
    assert all(s.startswith("BENCH/") and s.endswith(".jsonl") for s in sets)
    assert {"BENCH/llm_ramprasad24.jsonl", "BENCH/llm_severity.jsonl", "BENCH/frank.jsonl"} <= set(sets)
    bench = ROOT.parent / "shared" / "data" / "bench-dev"
    if bench.is_dir():  # where the data is mounted, every listed file is there
        assert all(Path(s).is_file() for s in _sets(str(bench)))


def test_both_scripts_read_the_one_list():
    for script in ("train_embedded.sh", "evaluate_stage.sh"):
        text = (ROOT / "scripts" / script).read_text(encoding="utf-8")
        assert "source scripts/lodo_sets.sh" in text and "cogensumm_sentpairs.jsonl" not in text


def test_evaluating_a_stage_that_is_not_there_exits_2(tmp_path):
    out = subprocess.run([BASH, str(ROOT / "scripts" / "evaluate_stage.sh"), "no-such-run"],
                         env={**os.environ, "T": str(tmp_path)}, capture_output=True, text=True)
    assert out.returncode == 2 and f"{tmp_path}/no-such-run/warm.pt" in out.stderr
    assert not list(tmp_path.iterdir())  # nothing written, no log begun
    usage = subprocess.run([BASH, str(ROOT / "scripts" / "evaluate_stage.sh")], capture_output=True, text=True)
    assert usage.returncode != 0 and "usage" in usage.stderr
