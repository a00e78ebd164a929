"""Score highlights against reference highlights: ROUGE, the share that passes the checker, speed.

    report = evaluate_highlights(records, checker=Checker(), systems=load_systems(path, ids))
    print(format_table(report))

Records are ``{"id", "article", "highlights": [...]}``; when a record also has
``article_tokenized`` / ``highlights_tokenized`` (CNN/DM as published), ROUGE is computed on
those and Lead-3 takes its sentences from the tokenized article. ROUGE is the ``rouge-score``
package with stemming: ROUGE-1 and ROUGE-2 F1, and ROUGE-L F1 as summary-level ROUGE-Lsum
(the bullets as separate lines), the usual figure for multi-sentence highlights.

Rows: verisum's writer (timed, checking included), Lead-3 (the first three sentences), and
every system of a ``--systems`` file (``{"id", "system", "summary"}``; ``summary`` a string or
a list of sentences, or ``summary_sentences`` beside it). Every row's bullets are checked by
the same checker, so "pass" compares like with like.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from ..document import split_sentences
from ..errors import BadRecord, InputError, VerisumError
from ..records import SOURCE_KEYS, iter_jsonl

if TYPE_CHECKING:
    from ..checker import Checker

__all__ = [
    "Reference",
    "SystemScore",
    "EvalReport",
    "read_references",
    "read_json_objects",
    "read_systems",
    "lead_sentences",
    "rouge_scores",
    "evaluate_highlights",
    "format_table",
]

VERISUM = "verisum"
LEAD3 = "lead-3"


@dataclass(frozen=True, slots=True)
class Reference:
    """One story: the article the writer reads and the highlights ROUGE compares with."""

    id: str
    article: str
    highlights: tuple[str, ...]
    article_tokenized: str | None = None
    highlights_tokenized: tuple[str, ...] | None = None

    @property
    def rouge_reference(self) -> tuple[str, ...]:
        return self.highlights_tokenized or self.highlights


@dataclass(frozen=True, slots=True)
class SystemScore:
    """Mean scores of one system over the stories it has (percentages, 0-100)."""

    system: str
    n: int
    rouge1: float
    rouge2: float
    rougeL: float
    bullets: int
    passed: int | None  # bullets the checker supports; None when not checked
    seconds_per_article: float | None  # wall clock
    cpu_seconds_per_article: float | None = None  # this process's CPU time (all threads)

    @property
    def pass_share(self) -> float | None:
        return None if self.passed is None or not self.bullets else 100.0 * self.passed / self.bullets

    def to_dict(self) -> dict[str, Any]:
        return {
            "system": self.system, "n": self.n, "rouge1": round(self.rouge1, 2), "rouge2": round(self.rouge2, 2),
            "rougeL": round(self.rougeL, 2), "bullets": self.bullets, "passed": self.passed,
            "pass_share": None if self.pass_share is None else round(self.pass_share, 1),
            "seconds_per_article": None if self.seconds_per_article is None else round(self.seconds_per_article, 4),
            "cpu_seconds_per_article": None if self.cpu_seconds_per_article is None
            else round(self.cpu_seconds_per_article, 4),
        }


@dataclass(frozen=True, slots=True)
class EvalReport:
    rows: tuple[SystemScore, ...]
    predictions: tuple[tuple[str, tuple[str, ...]], ...]  # (id, verisum's highlights)
    errors: tuple[tuple[str, str], ...] = ()  # (id, message) of stories the writer failed on
    meta: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [r.to_dict() for r in self.rows], "errors": [{"id": i, "error": e} for i, e in self.errors],
                "meta": dict(self.meta)}


def _str_list(value: Any, what: str, line: int) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(t for t in (value[s:e] for s, e in split_sentences(value)) if t.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise BadRecord(f"line {line}: {what} must be a string or a list of strings")


def read_json_objects(path: str | Path) -> Iterable[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each record of a JSONL file of objects; a line that is
    not JSON, or not an object, stops the read with a BadRecord naming the line."""
    for no, obj in iter_jsonl(path):
        if isinstance(obj, json.JSONDecodeError):
            raise BadRecord(f"{path} line {no}: not valid JSON ({obj.msg})") from obj
        if not isinstance(obj, dict):
            raise BadRecord(f"{path} line {no}: expected a JSON object")
        yield no, obj


def read_references(path: str | Path) -> list[Reference]:
    """Stories from a JSONL file of ``{"id", "article", "highlights": [...]}`` records."""
    out = []
    for no, obj in read_json_objects(path):
        article = next((obj[k] for k in SOURCE_KEYS if k in obj), None)
        if not isinstance(article, str) or not article.strip():
            raise BadRecord(f"{path} line {no}: missing the \"article\" text")
        if "highlights" not in obj:
            raise BadRecord(f"{path} line {no}: missing the reference \"highlights\"")
        hl = _str_list(obj["highlights"], "highlights", no)
        tok = obj.get("highlights_tokenized")
        out.append(Reference(
            id=str(obj.get("id", no)),
            article=article,
            highlights=hl,
            article_tokenized=obj.get("article_tokenized") if isinstance(obj.get("article_tokenized"), str) else None,
            highlights_tokenized=_str_list(tok, "highlights_tokenized", no) if tok else None,
        ))
    if not out:
        raise InputError(f"{path} holds no records")
    return out


def read_systems(path: str | Path, ids: Iterable[str]) -> dict[str, dict[str, tuple[str, ...]]]:
    """system -> id -> summary sentences, for the stories in ``ids`` only."""
    wanted = set(ids)
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for no, obj in read_json_objects(path):
        rid = str(obj.get("id"))
        if rid not in wanted:
            continue
        system = obj.get("system")
        if not isinstance(system, str) or not system:
            raise BadRecord(f"{path} line {no}: missing \"system\"")
        sents = obj.get("summary_sentences")
        if isinstance(sents, list) and sents and all(isinstance(s, str) for s in sents):
            summary = tuple(sents)
        elif "summary" in obj:
            summary = _str_list(obj["summary"], "summary", no)
        else:
            raise BadRecord(f"{path} line {no}: missing \"summary\"")
        out.setdefault(system, {})[rid] = summary
    return out


def lead_sentences(text: str, k: int = 3) -> tuple[str, ...]:
    return tuple(text[s:e] for s, e in split_sentences(text)[:k])


_SCORER: Any = None


def rouge_scores(prediction: Sequence[str], reference: Sequence[str]) -> tuple[float, float, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 (0-1), stemming on; sentences as separate lines."""
    global _SCORER
    if _SCORER is None:
        from rouge_score import rouge_scorer

        _SCORER = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    s = _SCORER.score("\n".join(reference), "\n".join(" ".join(p.split()) for p in prediction))
    return s["rouge1"].fmeasure, s["rouge2"].fmeasure, s["rougeLsum"].fmeasure


def _score(system: str, preds: Mapping[str, Sequence[str]], refs: Mapping[str, Reference],
           passed: int | None, seconds: float | None, cpu: float | None = None) -> SystemScore:
    r1 = r2 = rl = 0.0
    for rid, pred in preds.items():
        a, b, c = rouge_scores(pred, refs[rid].rouge_reference)
        r1, r2, rl = r1 + a, r2 + b, rl + c
    n = max(len(preds), 1)
    return SystemScore(system, len(preds), 100 * r1 / n, 100 * r2 / n, 100 * rl / n,
                       sum(len(p) for p in preds.values()), passed, seconds, cpu)


def evaluate_highlights(
    references: Sequence[Reference],
    *,
    checker: "Checker",
    n: int = 3,
    writer: str = "extractive",
    writer_params: Mapping[str, Any] | None = None,
    systems: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    check_systems: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
) -> EvalReport:
    """verisum's writer, Lead-3 and ``systems`` on the same stories, one row each."""
    from .writer import bullets_passing, write_highlights

    checker.load()
    refs = {r.id: r for r in references}
    systems = dict(systems or {})
    total = len(references) * (2 if check_systems else 1)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    preds: dict[str, tuple[str, ...]] = {}
    errors: list[tuple[str, str]] = []
    passed = 0
    seconds = cpu = 0.0
    for ref in references:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            res = write_highlights(ref.article, n, writer, checker, writer_params=writer_params, id=ref.id)
        except VerisumError as exc:
            errors.append((ref.id, str(exc)))
            preds[ref.id] = ()
            tick()
            continue
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        preds[ref.id] = res.highlights
        if res.check is not None:
            passed += sum(bullets_passing(res.check, len(res.highlights)))
        tick()
    k = max(len(references), 1)
    rows = [_score(VERISUM, preds, refs, passed, seconds / k, cpu / k)]

    lead: dict[str, tuple[str, ...]] = {}
    lead_seconds = 0.0
    for ref in references:
        started = time.perf_counter()
        lead[ref.id] = lead_sentences(ref.article_tokenized or ref.article)
        lead_seconds += time.perf_counter() - started
    others: list[tuple[str, dict[str, tuple[str, ...]], float | None]] = [
        (LEAD3, lead, lead_seconds / max(len(references), 1))
    ]
    for name in sorted(systems):
        others.append((name, {rid: tuple(s) for rid, s in systems[name].items() if rid in refs}, None))
    counts: dict[str, int] = {name: 0 for name, _, _ in others}
    if check_systems:
        from ..records import Record, RecordError

        # Article by article, each system's summary checked on its own (as `verisum check`
        # would), in one batch per article so the article is read (and embedded) once.
        for ref in references:
            records = []
            for name, outs, _ in others:
                bullets = [" ".join(b.split()) for b in outs.get(ref.id, ()) if b.strip()]
                if bullets:
                    records.append(Record(id=name, source=ref.article, summary=bullets))
            for rec, item in zip(records, checker.check_many(records, batch_size=len(records) or 1)):
                if not isinstance(item, RecordError):
                    assert rec.id is not None  # each record's id is its system's name
                    counts[rec.id] += sum(bullets_passing(item, len(rec.summary)))
            tick()
    for name, outs, secs in others:
        rows.append(_score(name, outs, refs, counts[name] if check_systems else None, secs))
    meta = {"stories": len(references), "n": n, "writer": writer, "writer_params": dict(writer_params or {}),
            "rouge": "rouge-score, use_stemmer=True; ROUGE-L is summary-level ROUGE-Lsum",
            "checker": checker.params()}
    return EvalReport(tuple(rows), tuple(preds.items()), tuple(errors), meta)


def format_table(report: EvalReport) -> str:
    """A Markdown table, one row per system (as the README shows it)."""
    head = ("| system | stories | ROUGE-1 F1 | ROUGE-2 F1 | ROUGE-L F1 | bullets | pass checker "
            "| s / article | CPU s / article |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report.rows:
        share = "—" if r.pass_share is None else f"{r.pass_share:.1f}%"
        secs = "—" if r.seconds_per_article is None else f"{r.seconds_per_article:.3f}"
        cpu = "—" if r.cpu_seconds_per_article is None else f"{r.cpu_seconds_per_article:.3f}"
        lines.append(f"| {r.system} | {r.n} | {r.rouge1:.2f} | {r.rouge2:.2f} | {r.rougeL:.2f} | {r.bullets} "
                     f"| {share} | {secs} | {cpu} |")
    return "\n".join(lines)
