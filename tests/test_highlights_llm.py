"""The llm writer against a scripted OpenAI-compatible endpoint (httpx.MockTransport)."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

import httpx
import pytest

from verisum.checker import Checker
from verisum.errors import BackendResponseError, BackendUnavailable
from verisum.highlights import write_highlights
from verisum.highlights.llm import LLMWriter
from verisum.verdicts import Label

from support.judges import RejectWords

ARTICLE = (
    "Russian President Vladimir Putin will meet Turkish President Recep Tayyip Erdogan in Kazakhstan on "
    "Wednesday, the Kremlin said. Putin is also set to meet Chinese leader Xi Jinping at the summit of the "
    "Shanghai Cooperation Organization in Astana on Thursday. Indian Prime Minister Narendra Modi is not "
    "expected at the summit.\n"
)
GOOD = "Vladimir Putin will meet Recep Tayyip Erdogan in Kazakhstan on Wednesday."
INVENTED = "Putin will meet Xi Jinping in Astana, highlighting the importance of insulation."
FIXED = "Putin is set to meet Xi Jinping at the summit in Astana on Thursday."
THIRD = "Narendra Modi is not expected at the summit."


def _reply(content: str, finish: str = "stop") -> httpx.Response:
    return httpx.Response(200, json={
        "id": "x", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
    })


def _endpoint(propose: Callable[[], httpx.Response], revise: Callable[[str], httpx.Response]):
    calls: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls.append(body)
        user = body["messages"][-1]["content"]
        if "A fact checker rejected" in user:
            rejected = re.search(r'rejected this highlight: "(.*?)"\. It ', user).group(1)
            return revise(rejected)
        return propose()

    return httpx.MockTransport(handler), calls


def _writer(transport: httpx.MockTransport, **kw: Any) -> LLMWriter:
    kw.setdefault("max_retries", 0)
    return LLMWriter("http://llm.test/v1", "m", transport=transport, **kw)


def _checker() -> Checker:
    return Checker(RejectWords(["insulation"]), top_k=2)


def test_highlights_llm_rejected_bullet_is_rewritten_with_feedback() -> None:
    transport, calls = _endpoint(
        lambda: _reply(json.dumps({"highlights": [GOOD, INVENTED, THIRD]})),
        lambda rejected: _reply(json.dumps({"highlight": FIXED})),
    )
    result = write_highlights(ARTICLE, 3, _writer(transport), _checker())
    assert result.highlights == (GOOD, FIXED, THIRD)
    assert result.check is not None and result.check.ok
    (dropped,) = result.dropped
    assert dropped.text == INVENTED and dropped.label is Label.UNSUPPORTED
    assert "rewritten (round 1)" in dropped.reason and "checker:" in dropped.reason
    # The rewrite request carried the checker's finding: the bullet and the closest evidence.
    revise_prompt = calls[1]["messages"][-1]["content"]
    assert INVENTED in revise_prompt and "not supported by the article" in revise_prompt
    assert "Xi Jinping at the summit" in revise_prompt
    assert calls[0].get("response_format") == {"type": "json_object"}


def test_highlights_llm_gives_up_after_max_rounds_and_reports_every_try() -> None:
    transport, calls = _endpoint(
        lambda: _reply(json.dumps({"highlights": [GOOD, INVENTED]})),
        lambda rejected: _reply(json.dumps({"highlight": rejected.replace("Astana", "Astana city")})),
    )
    result = write_highlights(ARTICLE, 2, _writer(transport, extra=0), _checker(), max_rounds=2)
    assert result.highlights == (GOOD,)
    assert all("insulation" not in h for h in result.highlights)
    assert [d.label for d in result.dropped] == [Label.UNSUPPORTED] * 3
    assert "round 1" in result.dropped[0].reason and "round 2" in result.dropped[1].reason
    assert "round" not in result.dropped[2].reason and result.dropped[2].reason.startswith("checker:")
    assert len(calls) == 3  # one proposal, two rewrites


def test_highlights_llm_null_rewrite_drops_and_replaces() -> None:
    transport, _ = _endpoint(
        lambda: _reply(json.dumps({"highlights": [INVENTED, GOOD, THIRD]})),
        lambda rejected: _reply(json.dumps({"highlight": None})),
    )
    result = write_highlights(ARTICLE, 2, _writer(transport), _checker())
    assert result.highlights == (GOOD, THIRD)
    assert result.dropped[0].text == INVENTED and result.dropped[0].reason.startswith("checker:")


def test_highlights_llm_dangling_bullet_never_printed() -> None:
    transport, _ = _endpoint(
        lambda: _reply(json.dumps({"highlights": ["He will meet Erdogan in Kazakhstan.", GOOD]})),
        lambda rejected: _reply(json.dumps({"highlight": None})),
    )
    result = write_highlights(ARTICLE, 2, _writer(transport), _checker())
    assert result.highlights == (GOOD,)
    assert result.dropped[0].reason == "does not stand alone"


@pytest.mark.parametrize(
    ("content", "finish", "message"),
    [
        ("Here are some highlights: Putin meets Erdogan.", "stop", "holds no JSON object"),
        ("I'm sorry, but I can't help with that.", "stop", "refused"),
        ('{"highlights": ["Putin meets', "length", "cut off"),
        ('{"bullets": ["Putin meets Erdogan."]}', "stop", "not what was asked for"),
    ],
)
def test_highlights_llm_bad_reply_is_a_clear_error(content: str, finish: str, message: str) -> None:
    transport, _ = _endpoint(lambda: _reply(content, finish), lambda r: _reply("{}"))
    with pytest.raises(BackendResponseError, match=message):
        write_highlights(ARTICLE, 3, _writer(transport), _checker())


def test_highlights_llm_unreachable_is_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    writer = LLMWriter("http://llm.test/v1", "m", transport=httpx.MockTransport(handler), max_retries=0)
    with pytest.raises(BackendUnavailable, match="cannot reach"):
        write_highlights(ARTICLE, 3, writer, _checker())


def test_highlights_llm_long_article_is_cut_for_the_prompt_only() -> None:
    long_article = ARTICLE + ("Filler sentence about the weather in the capital today. " * 200) + "\n"
    transport, calls = _endpoint(lambda: _reply(json.dumps({"highlights": [GOOD]})), lambda r: _reply("{}"))
    result = write_highlights(long_article, 1, _writer(transport, max_article_chars=1000), _checker())
    assert result.highlights == (GOOD,)
    assert result.meta["proposal"]["article_truncated"] is True
    assert len(calls[0]["messages"][-1]["content"]) < 1500
    assert result.check.source.text == long_article  # checked against the whole article
