from click.testing import CliRunner

from verisum.cli import main
from verisum.cli.train import STEPS


def test_cli_train_help_lists_every_step():
    result = CliRunner().invoke(main, ["train", "--help"])
    assert result.exit_code == 0
    for step in STEPS:
        assert step in result.output


def test_cli_train_unknown_step_exits_2_with_the_steps_named():
    result = CliRunner().invoke(main, ["train", "bogus"])
    assert result.exit_code == 2
    from verisum.cli.train import STEPS

    assert "unknown training step 'bogus'; steps: " + ", ".join(STEPS) in result.output
    assert {"nli", "export", "combiner"} <= set(STEPS)


def test_cli_train_step_help_is_the_step_own():
    result = CliRunner().invoke(main, ["train", "bench-pairs", "--help"])
    assert result.exit_code == 0
    assert "--part" in result.output


def test_cli_train_ranker_bad_references_exit_2_without_a_traceback(tmp_path):
    missing = CliRunner().invoke(main, ["train", "ranker", "--references", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
    assert "Traceback" not in missing.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "highlights": ["x"]}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["train", "ranker", "--references", str(bad)])
    assert result.exit_code == 2 and 'missing the "article" text' in result.output
