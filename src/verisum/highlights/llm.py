"""The llm writer: any OpenAI-compatible chat endpoint writes the bullets.

It asks for strict JSON ``{"highlights": ["...", ...]}``; ``write_highlights`` checks every
bullet, and a rejected one comes back here with the checker's finding (the label, the words
at fault, the closest article sentences) to be rewritten as ``{"highlight": "..."}`` or given
up as ``{"highlight": null}``. After ``max_rounds`` rewrites it is dropped. Timeouts, retries
and malformed, refused or truncated replies are handled by :mod:`verisum.llm_client`, which
raises a :class:`~verisum.errors.BackendError` rather than guess: nothing unchecked is printed.
"""

from __future__ import annotations

from typing import Any

from ..document import Document
from ..errors import InputError
from .writer import Candidate, Finding, Proposal

__all__ = ["LLMWriter", "SYSTEM_PROMPT"]

SYSTEM_PROMPT = (
    "You write news highlights: short bullet points, each one complete sentence that stands on its "
    "own (name people and things; never start with he, she, they, it, however or but). Use ONLY facts "
    "stated in the article; add no opinion, cause, consequence or context the article does not give. "
    "Reply with JSON only."
)


def _bullets(obj: dict[str, Any]) -> list[str]:
    value = obj.get("highlights")
    if not isinstance(value, list) or not value:
        raise ValueError('expected {"highlights": ["...", ...]} with at least one bullet')
    out = []
    for v in value:
        if not isinstance(v, str):
            raise ValueError("every highlight must be a string")
        if v.strip():
            out.append(" ".join(v.split()))
    if not out:
        raise ValueError("every highlight is empty")
    return out


def _rewrite(obj: dict[str, Any]) -> str | None:
    if "highlight" not in obj:
        raise ValueError('expected {"highlight": "..."} or {"highlight": null}')
    value = obj["highlight"]
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("highlight must be a string or null")
    return " ".join(value.split()) or None


class LLMWriter:
    """Bullets from an OpenAI-compatible chat endpoint, rewritten on the checker's feedback.

    base_url, model, api_key, timeout, connect_timeout, max_retries, json_mode, transport:
        passed to :class:`verisum.llm_client.ChatClient` (see there).
    temperature: sampling temperature (0 for repeatable output).
    max_tokens: reply budget per call.
    max_article_chars: longer articles are cut to this for the prompt (recorded in meta as
        ``article_truncated``); bullets are still checked against the whole article.
    extra: bullets asked for beyond ``n``, so a dropped one can be replaced.
    """

    name = "llm"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        json_mode: str = "auto",
        temperature: float = 0.0,
        max_tokens: int = 512,
        max_article_chars: int = 6000,
        extra: int = 1,
        transport: Any = None,
    ) -> None:
        if max_article_chars < 200:
            raise InputError("max_article_chars must be at least 200")
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.json_mode = json_mode
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_article_chars = max_article_chars
        self.extra = extra
        self.transport = transport
        self._client: Any = None

    def _chat(self) -> Any:
        if self._client is None:
            from ..llm_client import ChatClient

            self._client = ChatClient(
                self.base_url, self.model, api_key=self.api_key, timeout=self.timeout,
                connect_timeout=self.connect_timeout, max_retries=self.max_retries,
                json_mode=self.json_mode, transport=self.transport,  # type: ignore[arg-type]
            )
        return self._client

    def params(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url, "model": self.model, "timeout": self.timeout,
            "max_retries": self.max_retries, "temperature": self.temperature, "max_tokens": self.max_tokens,
            "max_article_chars": self.max_article_chars,
        }

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _article(self, article: Document) -> tuple[str, bool]:
        text = article.text
        if len(text) <= self.max_article_chars:
            return text, False
        cut = text.rfind(" ", 0, self.max_article_chars)
        return text[: cut if cut > 0 else self.max_article_chars], True

    def propose(self, article: Document, n: int) -> Proposal:
        text, truncated = self._article(article)
        want = n + max(self.extra, 0)
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": (
                f"Article:\n{text}\n\n"
                f"Write {want} highlights of this article, most important first, each at most 25 words. "
                'Reply with exactly this JSON: {"highlights": ["first highlight", "second highlight"]}'
            )},
        ]
        bullets = self._chat().complete_json(messages, validate=_bullets, temperature=self.temperature,
                                             max_tokens=self.max_tokens)
        candidates = tuple(Candidate(b, score=float(-i)) for i, b in enumerate(bullets))
        return Proposal(candidates, (), {"article_truncated": truncated, "asked": want, "returned": len(bullets)})

    def revise(self, article: Document, finding: Finding, round: int) -> str | None:
        text, _ = self._article(article)
        problem = "contradicts the article" if finding.label.value == "contradicted" else "is not supported by the article"
        detail = ""
        if finding.faults:
            detail += " The words at fault: " + "; ".join(f'"{f}"' for f in finding.faults) + "."
        if finding.evidence:
            detail += " The closest article sentences: " + " ".join(f'"{e}"' for e in finding.evidence)
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": (
                f"Article:\n{text}\n\n"
                f'A fact checker rejected this highlight: "{finding.text}". It {problem}.{detail}\n'
                "Rewrite it so that every fact in it is stated in the article, or give up if it cannot be fixed. "
                'Reply with exactly this JSON: {"highlight": "the rewritten highlight"} or {"highlight": null}'
            )},
        ]
        return self._chat().complete_json(messages, validate=_rewrite, temperature=self.temperature,
                                          max_tokens=self.max_tokens)

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass
