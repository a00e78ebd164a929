"""The Checker: THE entry point for checking summaries against their source.

    checker = Checker()                       # the embedded model, offline
    result = checker.check(article, summary)  # -> CheckResult
    for item in checker.check_many(records):  # -> CheckResult | RecordError, in input order
        ...

Pipeline, per summary: split the summary into sentences and claims; retrieve the best
evidence for every claim from the whole source; judge each (evidence, claim) pair through
the backend in batches; calibrate the judge's output into P(supported); mark the words at
fault; aggregate claim -> sentence -> summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence

from . import __version__
from .calibration import Calibrator
from .claims import Claim, summary_claims
from .document import PHOTO_POINTER_RE, Document, Span
from .errors import EmptyInput, InputError, InputTooLarge, VerisumError
from .evidence import Evidence, LexicalRetriever, Retriever
from .faults import locate_faults
from .features import EVIDENCE_FEATURES, SourceIndex, add_summary_context, claim_features, judge_features
from .judges import Judge, Pair, get_judge
from .judges.base import Judgement
from .verdicts import CheckResult, ClaimVerdict, aggregate_sentence, aggregate_summary, decide

__all__ = ["Checker", "Analysis", "Record", "RecordError", "check", "claim_features", "MAX_SOURCE_CHARS", "MAX_SUMMARY_SENTENCES"]

#: Default limits; both are constructor parameters (and server settings).
MAX_SOURCE_CHARS = 5_000_000
MAX_SUMMARY_SENTENCES = 200

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True, slots=True)
class Record:
    """One input of a batch. ``line`` is its 1-based line in the input file, if any."""

    id: str | None
    doc: str
    summary: str | Sequence[str]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RecordError:
    """A batch input that could not be checked; the batch goes on."""

    id: str | None
    line: int | None
    error: VerisumError

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "line": self.line, "error": str(self.error), "code": self.error.code}


def _as_document(value: str | Sequence[str] | Document, what: str) -> Document:
    if isinstance(value, Document):
        doc = value
    elif isinstance(value, str):
        doc = Document(value)
    elif isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        # Bullets become lines of one text; offsets refer to this joined text.
        doc = Document("\n".join(f"- {v.strip()}" if not v.lstrip().startswith(("- ", "* ", "• ")) else v for v in value))
    else:
        raise InputError(f"{what} must be a string or a list of strings, not {type(value).__name__}")
    if not doc.text.strip():
        raise EmptyInput(f"the {what} is empty")
    return doc


class Checker:
    """Checks summaries against their source with one judge.

    Parameters are stored as given; the judge loads on first use or on ``load()``.

    judge: a registry name ("embedded", "hf", "llm") or a Judge instance.
    judge_params: keyword arguments for the judge's constructor.
    top_k: evidence sentences retrieved per claim (joined, in source order, as the premise).
    batch_size: pairs per judge call.
    threshold: P(supported) at or above which a claim is supported; default from calibration.
    calibration: a Calibrator, or a path to one saved by ``verisum calibrate``.
    retriever: how evidence is found; default lexical, or the judge's own (``judge.retriever()``).
    verbatim_shortcut: a summary sentence that repeats a whole source sentence word for word
        (ignoring case, spacing, the final stop and the source's photo pointers such as
        "(pictured)") is supported with score 1.0 without asking
        the judge: a copy cannot misstate its source, and extractive highlights are mostly copies.
    """

    def __init__(
        self,
        judge: str | Judge = "embedded",
        *,
        judge_params: Mapping[str, Any] | None = None,
        top_k: int = 3,
        batch_size: int = 32,
        threshold: float | None = None,
        calibration: Calibrator | str | Path | None = None,
        retriever: Retriever | None = None,
        max_source_chars: int = MAX_SOURCE_CHARS,
        max_summary_sentences: int = MAX_SUMMARY_SENTENCES,
        verbatim_shortcut: bool = True,
    ) -> None:
        if top_k < 1:
            raise InputError("top_k must be at least 1")
        if batch_size < 1:
            raise InputError("batch_size must be at least 1")
        self.judge = judge
        self.judge_params = dict(judge_params or {})
        self.top_k = top_k
        self.batch_size = batch_size
        self.threshold = threshold
        self.calibration = calibration
        self.retriever = retriever
        self.max_source_chars = max_source_chars
        self.max_summary_sentences = max_summary_sentences
        self.verbatim_shortcut = verbatim_shortcut
        self._judge: Judge | None = None
        self._calibrator: Calibrator | None = None
        self._retriever: Retriever | None = None

    # -- set-up --------------------------------------------------------------------------
    def load(self) -> "Checker":
        """Build the judge, retriever and calibrator now (the server calls this at start-up)."""
        if self._judge is None:
            judge = get_judge(self.judge, **self.judge_params)
            if hasattr(judge, "load"):
                judge.load()
            self._judge = judge
        if self._retriever is None:
            own = getattr(self._judge, "retriever", None)
            self._retriever = self.retriever or (own() if callable(own) else None) or LexicalRetriever()
        if self._calibrator is None:
            if isinstance(self.calibration, Calibrator):
                self._calibrator = self.calibration
            elif self.calibration is not None:
                try:
                    self._calibrator = Calibrator.load(self.calibration)
                except (OSError, ValueError, KeyError) as exc:
                    raise InputError(f"cannot read calibration file {self.calibration}: {exc}") from exc
            else:
                own = getattr(self._judge, "calibrator", None)
                self._calibrator = (own() if callable(own) else None) or Calibrator()
        return self

    @property
    def judge_(self) -> Judge:
        """The loaded judge (loads it if needed)."""
        self.load()
        assert self._judge is not None
        return self._judge

    def with_options(self, *, top_k: int | None = None, threshold: float | None = None) -> "Checker":
        """A Checker that differs only in ``top_k`` / ``threshold`` and shares this one's loaded
        judge, retriever and calibrator (no second model in memory)."""
        self.load()
        derived = Checker(
            self._judge,
            top_k=self.top_k if top_k is None else top_k,
            batch_size=self.batch_size,
            threshold=self.threshold if threshold is None else threshold,
            calibration=self._calibrator,
            retriever=self._retriever,
            max_source_chars=self.max_source_chars,
            max_summary_sentences=self.max_summary_sentences,
            verbatim_shortcut=self.verbatim_shortcut,
        )
        return derived.load()

    @property
    def threshold_(self) -> float:
        self.load()
        return self.threshold if self.threshold is not None else self._calibrator.threshold

    def params(self) -> dict[str, Any]:
        self.load()
        return {
            "judge": self._judge.name,
            "judge_params": self._judge.params(),
            "top_k": self.top_k,
            "threshold": self.threshold_,
            "retriever": getattr(self._retriever, "name", type(self._retriever).__name__),
            "calibrated": self._calibrator.fitted,
            "verbatim_shortcut": self.verbatim_shortcut,
        }

    # -- checking ------------------------------------------------------------------------
    def check(
        self,
        source: str | Document,
        summary: str | Sequence[str] | Document,
        *,
        id: str | None = None,
    ) -> CheckResult:
        """Check one summary against its source."""
        return self._check_batch([(id, source, summary)])[0]

    def check_many(
        self,
        records: Iterable[Record | RecordError | Mapping[str, Any]],
        *,
        batch_size: int = 8,
        progress: Progress | None = None,
    ) -> Iterator[CheckResult | RecordError]:
        """Check many records; yields exactly one item per input, in input order.

        A record that cannot be checked yields a ``RecordError`` and the batch goes on.
        ``progress(done, total)`` is called after each record (total is None when unknown).
        """
        total = len(records) if isinstance(records, Sequence) else None
        done = 0
        pending: list[tuple[int | None, str | None, Any, Any]] = []

        def flush() -> Iterator[CheckResult | RecordError]:
            nonlocal done
            try:
                results: list[CheckResult | RecordError] = list(
                    self._check_batch([(rid, d, s) for _, rid, d, s in pending])
                )
            except VerisumError:
                # Something in the batch failed: redo one at a time so only the culprit errs.
                results = []
                for line, rid, d, s in pending:
                    try:
                        results.append(self._check_batch([(rid, d, s)])[0])
                    except VerisumError as exc:
                        results.append(RecordError(rid, line, exc))
            for item in results:
                done += 1
                if progress:
                    progress(done, total)
                yield item
            pending.clear()

        for rec in records:
            if isinstance(rec, RecordError):
                # A record the reader already rejected keeps its place in the output.
                yield from flush()
                done += 1
                if progress:
                    progress(done, total)
                yield rec
                continue
            if isinstance(rec, Record):
                line, rid, doc, summ = rec.line, rec.id, rec.doc, rec.summary
            else:
                line, rid = rec.get("line"), rec.get("id")
                doc, summ = rec.get("doc"), rec.get("summary")
            pending.append((line, None if rid is None else str(rid), doc, summ))
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()

    # -- the pipeline --------------------------------------------------------------------
    def analyse(
        self, items: Sequence[tuple[str | None, Any, Any]], *, judge: Literal["all", "needed"] = "all"
    ) -> list["Analysis"]:
        """Everything up to the combiner, for ``(id, source, summary)`` items: the claims, their
        evidence and judgements, and each claim's feature vector (what the calibrator scores).

        ``judge="all"`` asks the judge about every claim that does not copy a source sentence
        (``verisum calibrate`` and the combiner fit need every judgement). ``judge="needed"``
        asks it only where its answer can change the result: every claim when the calibrator
        scores the judge's output; otherwise only the claims the calibrator does not find
        supported (the judge then tells contradicted from unsupported and points at the words).
        A claim the judge was not asked about has ``None`` as its judgement.
        """
        self.load()
        assert self._judge is not None and self._calibrator is not None
        out = [self._prepare(rid, source, summary) for rid, source, summary in items]
        lazy = judge == "needed" and not _scores_judge(self._calibrator.features)
        if not lazy:
            self._judge_claims(out, [(i, j) for i, a in enumerate(out) for j, jd in enumerate(a.judgements)
                                     if jd is None])
        for a in out:
            a.features.extend(claim_features(c, ev, jd, a.source, a.index, st)
                              for c, ev, jd, st in zip(a.claims, a.evidence, a.judgements, a.stats))
            add_summary_context(a.features)
        if lazy:
            threshold = self.threshold_
            todo = [
                (i, j)
                for i, a in enumerate(out)
                for j, score in enumerate(self._calibrator.score_many(a.features))
                if a.judgements[j] is None and score < threshold
            ]
            self._judge_claims(out, todo)
            for i, j in todo:
                # The calibrator does not read these, so the claim's score stays as it was.
                out[i].features[j].update(judge_features(out[i].judgements[j]))
        return out

    def _prepare(self, rid: str | None, source: Any, summary: Any) -> "Analysis":
        """One item split, checked against the limits and with its evidence retrieved; its
        judgements are those of verbatim copies only, its features still empty."""
        assert self._retriever is not None
        src = _as_document(source, "source")
        summ = _as_document(summary, "summary")
        if len(src.text) > self.max_source_chars:
            raise InputTooLarge(
                f"the source has {len(src.text):,} characters; the limit is {self.max_source_chars:,} "
                "(raise max_source_chars to check it)"
            )
        sentences = summary_claims(summ)
        if not sentences:
            raise EmptyInput("the summary has no sentences")
        if len(sentences) > self.max_summary_sentences:
            raise InputTooLarge(
                f"the summary has {len(sentences):,} sentences; the limit is {self.max_summary_sentences:,}"
            )
        claims = [c for _, cs in sentences for c in cs]
        queries = [c.hypothesis for c in claims]
        search = getattr(self._retriever, "search", None)
        if callable(search):
            found = search(src, queries, self.top_k)
            evidence = [r.evidence for r in found]
            stats = [r.stats for r in found]
        else:
            evidence = self._retriever.retrieve(src, queries, self.top_k)
            stats = [{} for _ in claims]
        align = getattr(self._retriever, "align", None)
        if callable(align):  # word-by-word coverage of each claim's own words, when offered
            stats = [{**st, **al} for st, al in zip(stats, align(src, [c.span.text for c in claims]))]
        if self.verbatim_shortcut:
            copies = {key for s in src.sentences for key in _copy_keys(s.text)}
            verbatim = [_copy_key(c.sentence.text) in copies for c in claims]
        else:
            verbatim = [False] * len(claims)
        judgements: list[Judgement | None] = [_COPY_JUDGEMENT if copied else None for copied in verbatim]
        return Analysis(rid, src, summ, sentences, claims, evidence, judgements, [], SourceIndex.build(src),
                        verbatim, stats)

    def _judge_claims(self, items: Sequence["Analysis"], which: Sequence[tuple[int, int]]) -> None:
        """Ask the judge about claims ``(item, claim)``, ``batch_size`` pairs per call; fills the
        items' ``judgements`` in place."""
        assert self._judge is not None
        pairs = [Pair(premise=_premise(items[i].evidence[j]), hypothesis=items[i].claims[j].hypothesis)
                 for i, j in which]
        judged: list[Judgement] = []
        for k in range(0, len(pairs), self.batch_size):
            judged.extend(self._judge.judge(pairs[k : k + self.batch_size]))
        if len(judged) != len(pairs):
            raise VerisumError(f"judge {self._judge.name} returned {len(judged)} judgements for {len(pairs)} pairs")
        for (i, j), jd in zip(which, judged):
            items[i].judgements[j] = jd

    def _check_batch(self, items: Sequence[tuple[str | None, Any, Any]]) -> list[CheckResult]:
        started = time.perf_counter()
        analysed = self.analyse(items, judge="needed")
        assert self._calibrator is not None
        threshold = self.threshold_
        meta_base = {"verisum": __version__, "judge": self.params()}
        results = []
        for a in analysed:
            scores = self._calibrator.score_many(a.features)
            verdicts: dict[int, ClaimVerdict] = {}
            for j, (c, ev, jd) in enumerate(zip(a.claims, a.evidence, a.judgements)):
                score = 1.0 if a.verbatim[j] else float(scores[j])
                probs = {} if jd is None else jd.probs
                label = decide(score, _decision_probs(probs), threshold)
                quotes = jd.quotes if jd is not None else ()
                faults = () if label == "supported" else locate_faults(c, a.source, quotes, a.index, ev)
                verdicts[id(c)] = ClaimVerdict(
                    claim=c,
                    label=label,
                    score=score,
                    probs=probs,
                    evidence=tuple(ev),
                    faults=faults,
                    truncated=jd is not None and jd.truncated,
                    rationale=_NOT_ASKED if jd is None else jd.rationale,
                )
            sent_verdicts = tuple(aggregate_sentence(s, [verdicts[id(c)] for c in cs]) for s, cs in a.sentences)
            label, score = aggregate_summary(sent_verdicts)
            meta = dict(meta_base)
            meta["seconds"] = round(time.perf_counter() - started, 4)
            meta["truncated"] = any(v.truncated for v in verdicts.values())
            results.append(
                CheckResult(
                    source=a.source, summary=a.summary, sentences=sent_verdicts, label=label, score=score,
                    threshold=threshold, meta=meta, id=a.id,
                )
            )
        return results


@dataclass(frozen=True, slots=True)
class Analysis:
    """One summary taken through retrieval, judging and features (see ``Checker.analyse``)."""

    id: str | None
    source: Document
    summary: Document
    sentences: tuple[tuple[Span, tuple[Claim, ...]], ...]
    claims: list[Claim]
    evidence: list[list[Evidence]]
    judgements: list[Judgement | None]  # None: the judge was not asked (``judge="needed"``)
    features: list[dict[str, float]]
    index: SourceIndex
    verbatim: list[bool]  # the claim's sentence copies a source sentence (not sent to the judge)
    stats: list[dict[str, float]] = field(default_factory=list)  # the retriever's, per claim


def _decision_probs(probs: Mapping[str, float]) -> dict[str, float]:
    """What ``decide`` weighs when a claim is not supported: "contradicted" only when the judge
    finds contradiction its most likely outcome. When the judge leans "supported" but the
    combiner does not (e.g. invented words), the claim is unsupported, not contradicted."""
    out = dict(probs)
    if out.get("contradicted", 0.0) < max(out.get("supported", 0.0), out.get("unsupported", 0.0)):
        out["contradicted"] = 0.0
    return out


def _scores_judge(features: Sequence[str]) -> bool:
    """Whether a calibrator over ``features`` reads the judge's output (anything but the
    retrieval and lexical features, including a judge's own extras)."""
    return any(f not in EVIDENCE_FEATURES for f in features)


#: Rationale of a claim the combiner supports on the evidence features alone.
_NOT_ASKED = "supported on the evidence features; the judge was not asked"

#: What a verbatim copy gets instead of a judge call.
_COPY_JUDGEMENT = Judgement(supported=1.0, contradicted=0.0, unsupported=0.0, rationale="copies a source sentence")


def _copy_key(text: str) -> str:
    """A sentence's words for the verbatim test: case, spacing and the final stop ignored."""
    return " ".join(text.split()).rstrip(".!?;: ").casefold()


def _copy_keys(source_sentence: str) -> set[str]:
    """What a copy of a source sentence may read: the sentence, and the sentence without its
    photo pointers ("(pictured)"), which state nothing. Only the source side is stripped, so a
    summary's own parenthesis is never ignored."""
    return {_copy_key(source_sentence), _copy_key(PHOTO_POINTER_RE.sub("", source_sentence))}


def _premise(evidence: Sequence[Evidence]) -> str:
    """Evidence sentences joined in source order, as they read in the article."""
    return " ".join(e.span.text for e in sorted(evidence, key=lambda e: e.span.start))



def check(
    source: str | Document,
    summary: str | Sequence[str] | Document,
    *,
    judge: str | Judge = "embedded",
    **checker_params: Any,
) -> CheckResult:
    """Check one summary with a fresh Checker (convenient; reuse a Checker for many)."""
    return Checker(judge, **checker_params).check(source, summary)
