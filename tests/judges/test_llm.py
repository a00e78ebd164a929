"""The ``llm`` judge against httpx.MockTransport: prompts, parsing, and never failing open."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import httpx
import pytest

from verisum.errors import BackendResponseError, BackendTimeout, BackendUnavailable, InputError
from verisum.judges import Pair, get_judge
from verisum.judges.llm import LLMJudge, parse_verdict

URL = "http://llm.test/v1"


def completion(content: str, finish_reason: str = "stop") -> httpx.Response:
    return httpx.Response(
        200,
        json={"choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}]},
    )


def claim_of(request: httpx.Request) -> str:
    user = json.loads(request.content)["messages"][-1]["content"]
    return re.search(r"<claim>\n(.*)\n</claim>", user, re.S).group(1)


def judge_with(handler, **kwargs: Any) -> LLMJudge:
    kwargs.setdefault("max_retries", 0)
    return LLMJudge(URL, "test-model", transport=httpx.MockTransport(handler), **kwargs)


def keyword_handler(request: httpx.Request) -> httpx.Response:
    """A fake model: 'closed' -> contradicted, 'million' -> unsupported, else supported."""
    claim = claim_of(request)
    if "closed" in claim:
        reply = {"label": "contradicted", "confidence": 0.9, "quotes": ["closed"], "rationale": "It opened."}
    elif "million" in claim:
        reply = {"label": "unsupported", "confidence": 0.8, "quotes": ["40 million euros"], "rationale": "No cost given."}
    else:
        reply = {"label": "supported", "confidence": 0.95, "quotes": [], "rationale": "Stated."}
    return completion(json.dumps(reply))


PAIRS = [
    Pair("The mayor opened the bridge on Monday.", "The mayor opened the bridge."),
    Pair("The mayor opened the bridge on Monday.", "The mayor closed the bridge."),
    Pair("The mayor opened the bridge on Monday.", "The bridge cost 40 million euros."),
]


# -- parse_verdict ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "obj, label, p",
    [
        ({"label": "supported", "confidence": 0.9}, "supported", 0.9),
        ({"label": "Contradicted", "confidence": 0.7}, "contradicted", 0.7),
        ({"label": "not supported", "confidence": "0.6"}, "unsupported", 0.6),
        ({"label": "ENTAILMENT", "confidence": 85}, "supported", 0.85),
        ({"label": "unsupported"}, "unsupported", 1.0),
        ({"label": "supported", "confidence": 0.1}, "supported", 0.34),
    ],
)
def test_llm_parse_verdict_label_and_confidence(obj, label, p):
    j = parse_verdict(obj)
    assert getattr(j, label) == pytest.approx(p)
    assert max(j.probs, key=j.probs.get) == label
    assert sum(j.probs.values()) == pytest.approx(1.0)


def test_llm_parse_verdict_quotes_and_rationale():
    j = parse_verdict({"label": "unsupported", "confidence": 0.8, "quotes": ["G7", " G7 ", "", 3, "insulation"], "rationale": " Not said. "})
    assert j.quotes == ("G7", "insulation")
    assert j.rationale == "Not said."
    assert parse_verdict({"label": "unsupported", "quotes": "G7"}).quotes == ("G7",)


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"label": "maybe"},
        {"label": 1},
        {"label": "supported", "confidence": "high"},
        {"label": "supported", "confidence": -0.2},
        {"label": "supported", "confidence": 250},
        {"label": "supported", "confidence": True},
        {"label": "supported", "confidence": float("nan")},
        {"label": "supported", "quotes": {"a": 1}},
    ],
)
def test_llm_parse_verdict_rejects_malformed(obj):
    with pytest.raises(ValueError):
        parse_verdict(obj)


# -- the judge -------------------------------------------------------------------------------
def test_llm_judge_maps_replies_in_order():
    got = judge_with(keyword_handler, concurrency=3).judge(PAIRS)
    assert [max(j.probs, key=j.probs.get) for j in got] == ["supported", "contradicted", "unsupported"]
    assert got[1].quotes == ("closed",) and got[1].contradicted == pytest.approx(0.9)
    assert got[2].quotes == ("40 million euros",) and got[2].rationale == "No cost given."
    assert got[0].supported == pytest.approx(0.95)


def test_llm_judge_prompt_carries_evidence_claim_and_asks_for_json():
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return keyword_handler(request)

    judge_with(handler, temperature=0.0, max_tokens=200).judge(PAIRS[:1])
    body = seen[0]
    assert body["model"] == "test-model" and body["temperature"] == 0.0 and body["max_tokens"] == 200
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system" and "JSON" in system["content"] and '"quotes"' in system["content"]
    assert "<evidence>\nThe mayor opened the bridge on Monday.\n</evidence>" in user["content"]
    assert "<claim>\nThe mayor opened the bridge.\n</claim>" in user["content"]


def test_llm_judge_concurrency_keeps_input_order():
    barrier = threading.Barrier(3, timeout=5)

    def handler(request: httpx.Request) -> httpx.Response:
        barrier.wait()  # all three are in flight at once, or this times out
        return keyword_handler(request)

    got = judge_with(handler, concurrency=3).judge(PAIRS)
    assert [max(j.probs, key=j.probs.get) for j in got] == ["supported", "contradicted", "unsupported"]


@pytest.mark.parametrize(
    "content, finish, error, message",
    [
        ("Looks fine to me.", "stop", BackendResponseError, "no JSON object"),
        ("I'm sorry, I can't help with that.", "stop", BackendResponseError, "refused"),
        ('{"label": "supported", "confid', "length", BackendResponseError, "cut off"),
        ('{"label": "probably"}', "stop", BackendResponseError, "label"),
        ('{"verdict": "supported"}', "stop", BackendResponseError, "label"),
    ],
)
def test_llm_judge_never_fails_open(content, finish, error, message):
    with pytest.raises(error, match=message):
        judge_with(lambda r: completion(content, finish), max_retries=1).judge(PAIRS[:1])


def test_llm_judge_one_bad_reply_fails_the_batch():
    def handler(request: httpx.Request) -> httpx.Response:
        if "closed" in claim_of(request):
            return completion("no idea")
        return keyword_handler(request)

    with pytest.raises(BackendResponseError):
        judge_with(handler).judge(PAIRS)


def test_llm_judge_retries_a_malformed_reply():
    replies = iter([completion("hmm"), completion('{"label": "supported", "confidence": 0.8}')])
    got = judge_with(lambda r: next(replies), max_retries=1).judge(PAIRS[:1])
    assert got[0].supported == pytest.approx(0.8)


def test_llm_judge_timeout_and_connect_errors():
    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    def down(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(BackendTimeout):
        judge_with(slow).judge(PAIRS[:1])
    with pytest.raises(BackendUnavailable):
        judge_with(down).judge(PAIRS[:1])


def test_llm_judge_empty_batch_sends_nothing():
    calls = []
    assert judge_with(lambda r: calls.append(r) or keyword_handler(r)).judge([]) == []
    assert calls == []


def test_llm_judge_params_are_json_and_hold_no_key():
    judge = LLMJudge(URL, "m", api_key="sk-secret")
    dumped = json.dumps(judge.params())
    assert "sk-secret" not in dumped
    assert judge.params()["base_url"] == URL and judge.params()["model"] == "m"


def test_llm_judge_base_url_and_model_from_environment(monkeypatch):
    monkeypatch.setenv("VERISUM_BASE_URL", "http://env.test/v1")
    monkeypatch.setenv("VERISUM_MODEL", "env-model")
    judge = get_judge("llm")
    assert judge.params()["base_url"] == "http://env.test/v1" and judge.params()["model"] == "env-model"


@pytest.mark.parametrize(
    "kwargs, message",
    [({}, "--base-url"), ({"base_url": URL}, "--model"), ({"base_url": URL, "model": "m", "concurrency": 0}, "concurrency")],
)
def test_llm_judge_missing_settings_say_what_to_pass(monkeypatch, kwargs, message):
    for name in ("VERISUM_BASE_URL", "OPENAI_BASE_URL", "VERISUM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(InputError, match=message):
        LLMJudge(**kwargs)


def test_llm_judge_through_checker_quotes_become_faults():
    from verisum.checker import Checker

    checker = Checker(judge_with(keyword_handler), top_k=1)
    result = checker.check(
        "The mayor opened the bridge on Monday. Crowds cheered.",
        "- The mayor closed the bridge on Monday.",
    )
    (sentence,) = result.sentences
    assert sentence.label == "contradicted"
    (claim,) = sentence.claims
    assert [f.text for f in claim.faults][:1] == ["closed"]
    assert claim.rationale == "It opened."
