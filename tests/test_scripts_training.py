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
    for script in ("train_embedded.sh", "evaluate_stage.sh", "crossfit.sh"):
        text = (ROOT / "scripts" / script).read_text(encoding="utf-8")
        assert "source scripts/lodo_sets.sh" in text and "cogensumm_sentpairs.jsonl" not in text


def test_evaluating_a_stage_that_is_not_there_exits_2(tmp_path):
    out = subprocess.run([BASH, str(ROOT / "scripts" / "evaluate_stage.sh"), "no-such-run"],
                         env={**os.environ, "T": str(tmp_path)}, capture_output=True, text=True)
    assert out.returncode == 2 and f"{tmp_path}/no-such-run/warm.pt" in out.stderr
    assert not list(tmp_path.iterdir())  # nothing written, no log begun
    usage = subprocess.run([BASH, str(ROOT / "scripts" / "evaluate_stage.sh")], capture_output=True, text=True)
    assert usage.returncode != 0 and "usage" in usage.stderr


def test_crossfit_holds_each_set_out_of_exactly_one_fold_and_checks_its_inputs(tmp_path):
    """The two folds' held-out halves partition the ten sets (each set is scored by the one fold
    that never trained on it); a missing set or warm start stops it with exit 2, nothing written."""
    script = (ROOT / "scripts" / "crossfit.sh").read_text(encoding="utf-8")
    helper = script[script.index("held() {"):script.index("\n}\n", script.index("held() {")) + 3]
    first = script[script.index("FIRST=("):].split("\n", 1)[0]
    halves = {}
    for fold in "ab":
        out = subprocess.run([BASH, "-c", f"source scripts/lodo_sets.sh; {first}\n{helper}\nheld {fold}"],
                             cwd=ROOT, env={**os.environ, "B": "BENCH"}, capture_output=True, text=True, check=True)
        halves[fold] = set(out.stdout.split())
    assert halves["a"] and halves["b"] and not halves["a"] & halves["b"]
    assert halves["a"] | halves["b"] == set(_sets("BENCH"))
    assert "BENCH/llm_severity.jsonl" in halves["a"] and "BENCH/llm_ramprasad24.jsonl" in halves["b"]
    env = {**os.environ, "OUT": str(tmp_path / "run")}
    missing = subprocess.run([BASH, str(ROOT / "scripts" / "crossfit.sh")], env={**env, "B": str(tmp_path)},
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "missing" in missing.stderr
    bench = tmp_path / "bench"
    bench.mkdir()
    for name in _sets(str(bench)):
        Path(name).touch()
    no_init = subprocess.run([BASH, str(ROOT / "scripts" / "crossfit.sh")], env={**env, "B": str(bench),
                             "INIT": str(tmp_path / "none.pt")}, capture_output=True, text=True)
    assert no_init.returncode == 2 and "none.pt" in no_init.stderr
    assert not (tmp_path / "run").exists()


_FAKE_VERISUM = r'''#!/usr/bin/env bash
# Stands in for verisum: logs each call, writes what the call's --out / --rows names.
echo "$*" >> "$LOG"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --out) out=${args[i+1]} ;;
    --rows) rows=${args[i+1]} ;;
  esac
done
case "$1 $2" in
  "train spans") echo '{}' > "$out" ;;
  "train nli") mkdir -p "$out"; touch "$out/warm.pt"; echo done ;;
  "train export") mkdir -p "$out" ;;
  eval*) [[ -e $rows ]] || echo '{}' > "$rows" ;;
esac
'''


@pytest.mark.parametrize("by", ["dataset", "document"])
def test_crossfit_trains_each_fold_on_what_the_other_is_scored_on(tmp_path, by):
    """The commands a cross-fit runs (verisum stubbed): by dataset, fold a's rows leave out its
    five held-out sets and it is scored on them only; by document, every set, fold a trained on
    the "train" side of the document split and scored on the "val" side, fold b the reverse;
    then one table over both folds' rows. A second run finds every step done."""
    bench = tmp_path / "bench"
    bench.mkdir()
    sets = _sets(str(bench))
    for name in sets:
        Path(name).touch()
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "verisum"
    fake.write_text(_FAKE_VERISUM)
    fake.chmod(0o755)
    log = tmp_path / "calls.log"
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "LOG": str(log), "BY": by,
           "B": str(bench), "NLI": str(tmp_path), "OUT": str(tmp_path / "run")}
    subprocess.run([BASH, str(ROOT / "scripts" / "crossfit.sh")], env=env, capture_output=True, text=True, check=True)
    calls = log.read_text().splitlines()
    spans = [c for c in calls if c.startswith("train spans")]
    collect = [c for c in calls if c.startswith("eval") and "--model" in c]
    assert len(spans) == 2 and len(collect) == 2 and len([c for c in calls if c.startswith("train nli")]) == 2
    first = {f"{bench}/{s}.jsonl" for s in ("frank", "cliff", "goyal21", "llm_severity", "cogensumm_sentpairs")}
    for fold, made, scored in zip("ab", spans, collect):
        assert all(f"--bench {s}" in made for s in sets)  # every file is read; what is kept differs
        scored_files = {w for w in scored.split() if w.endswith(".jsonl") and w.startswith(str(bench))}
        if by == "dataset":
            held = first if fold == "a" else set(sets) - first
            assert scored_files == held and "--split" not in made + scored
            assert {Path(h).stem for h in held} == {w for p, w in zip(made.split(), made.split()[1:])
                                                    if p == "--leave-out"}
        else:
            seen, other = ("train", "val") if fold == "a" else ("val", "train")
            assert scored_files == set(sets) and "--leave-out" not in made
            assert f"--split {seen}" in made and f"--split {other}" in scored
    assert calls[-1].startswith("eval") and f"--rows {tmp_path}/run/rows.jsonl" in calls[-1]
    log.unlink()
    subprocess.run([BASH, str(ROOT / "scripts" / "crossfit.sh")], env=env, capture_output=True, text=True, check=True)
    assert [c.split()[0] for c in log.read_text().splitlines()] == ["eval"]  # only the table again


def test_crossfit_refuses_an_unknown_way_to_fold(tmp_path):
    out = subprocess.run([BASH, str(ROOT / "scripts" / "crossfit.sh")],
                         env={**os.environ, "BY": "sentence", "OUT": str(tmp_path / "run")},
                         capture_output=True, text=True)
    assert out.returncode == 2 and "BY is dataset or document" in out.stderr
    assert not (tmp_path / "run").exists()
