"""check_judge on every registered judge, and check_judge itself catching broken judges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import httpx
import pytest

from verisum.errors import BackendError, BackendUnavailable, VerisumError
from verisum.judges import Judgement, Pair, available_judges, get_judge
from verisum.judges.testing import DEFAULT_PAIRS, check_judge


def _llm_reply(request: httpx.Request) -> httpx.Response:
    """A fake chat model that answers from the claim's words, deterministically."""
    user = json.loads(request.content)["messages"][-1]["content"]
    claim = user.split("<claim>", 1)[1]
    label = "contradicted" if "closed" in claim else "unsupported" if "million" in claim else "supported"
    body = {"label": label, "confidence": 0.75, "quotes": [], "rationale": "test"}
    return httpx.Response(200, json={"choices": [{"message": {"content": json.dumps(body)}, "finish_reason": "stop"}]})


@pytest.fixture(scope="module")
def tiny_hf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.hf_models import build_tiny_classifier

    return build_tiny_classifier(
        tmp_path_factory.mktemp("protocol") / "tiny-nli", {0: "entailment", 1: "neutral", 2: "contradiction"}
    )


def _build(name: str, request: pytest.FixtureRequest):
    if name == "embedded":  # the packaged model: it must load, never skip
        return get_judge("embedded").load()
    if name == "hf":
        return get_judge("hf", model=str(request.getfixturevalue("tiny_hf_dir")), max_length=64)
    if name == "llm":
        # Deterministic here because the mock is; a real endpoint need not be.
        judge = get_judge("llm", base_url="http://llm.test/v1", model="mock", transport=httpx.MockTransport(_llm_reply))
        judge.deterministic = True
        return judge
    pytest.skip(f"no test set-up for the third-party judge {name!r}; run check_judge on it in its own tests")


@pytest.mark.filterwarnings("ignore:some evidence was cut")
@pytest.mark.parametrize("name", available_judges())
def test_protocol_every_registered_judge_conforms(name, request):
    judge = _build(name, request)
    judgements = check_judge(judge)
    assert len(judgements) == len(DEFAULT_PAIRS)


def test_protocol_builtins_are_registered():
    assert {"embedded", "hf", "llm"} <= set(available_judges())


# -- check_judge catches what is wrong ------------------------------------------------------
class GoodJudge:
    name = "good"

    def params(self) -> dict[str, Any]:
        return {"k": 1}

    def judge(self, pairs: Sequence[Pair]) -> list[Judgement]:
        out = []
        for p in pairs:
            s = (len(p.hypothesis) % 7) / 10
            out.append(Judgement(supported=s, contradicted=0.1, unsupported=0.9 - s))
        return out


def test_protocol_check_judge_accepts_a_good_judge():
    assert len(check_judge(GoodJudge())) == len(DEFAULT_PAIRS)


class NoName(GoodJudge):
    name = ""


class BadParams(GoodJudge):
    def params(self):
        return {"path": Path("/x")}


class EmptyNotEmpty(GoodJudge):
    def judge(self, pairs):
        return super().judge(pairs) or [Judgement(1.0, 0.0, 0.0)]


class DropsOne(GoodJudge):
    def judge(self, pairs):
        return super().judge(pairs)[:-1]


class Reversed(GoodJudge):
    def judge(self, pairs):
        return super().judge(pairs)[::-1]


class Random(GoodJudge):
    def __init__(self):
        self.n = 0

    def judge(self, pairs):
        self.n += 1
        return [Judgement(supported=(self.n % 3) / 10, contradicted=0.0, unsupported=1 - (self.n % 3) / 10) for _ in pairs]


class Leaky(GoodJudge):
    def judge(self, pairs):
        if pairs:
            raise KeyError("choices")
        return []


class BadQuotes(GoodJudge):
    def judge(self, pairs):
        return [Judgement(0.5, 0.25, 0.25, quotes=["a list"]) for _ in pairs]


class NotAJudgement(GoodJudge):
    def judge(self, pairs):
        return [{"supported": 1.0} for _ in pairs]


@pytest.mark.parametrize(
    "judge, message",
    [
        (NoName(), "non-empty str"),
        (BadParams(), "JSON"),
        (EmptyNotEmpty(), r"judge\(\[\]\) must return \[\]"),
        (DropsOne(), "judgements for"),
        (Reversed(), "input order|reversing"),
        (Random(), "not deterministic"),
        (Leaky(), "KeyError.*BackendError"),
        (BadQuotes(), "quotes"),
        (NotAJudgement(), "expected a Judgement"),
    ],
)
def test_protocol_check_judge_rejects_broken_judges(judge, message):
    with pytest.raises(AssertionError, match=message):
        check_judge(judge)


def test_protocol_check_judge_lets_backend_errors_through():
    class Down(GoodJudge):
        def judge(self, pairs):
            if pairs:
                raise BackendUnavailable("server down")
            return []

    with pytest.raises(BackendError, match="server down"):
        check_judge(Down())
    assert issubclass(BackendError, VerisumError)


def test_protocol_check_judge_skips_determinism_for_nondeterministic_judges():
    judge = Random()
    judge.deterministic = False
    assert len(check_judge(judge)) == len(DEFAULT_PAIRS)
