"""The Checker: THE entry point for checking summaries against their source.

    checker = Checker()                       # the embedded model, offline
    result = checker.check(article, summary)  # -> CheckResult
    for item in checker.check_many(records):  # -> CheckResult | RecordError, in input order
        ...

The stages, per summary, in order (each a method of :class:`Checker`):

1. **split** (``_prepare``, :mod:`verisum.claims`): summary sentences, and the claims inside each;
2. **retrieve** (``_prepare``, :mod:`verisum.evidence`): the best ``top_k`` source sentences for
   every claim, from the whole source;
3. **judge** (``_judge_claims``, :mod:`verisum.judges`): every claim against each evidence
   sentence alone and against all of them joined (SummaC-style premises); the best premise's
   judgement is kept, and the most contradicting premise's for the *contradicted* verdict;
4. **combine** (``analyse`` + ``_check_batch``, :mod:`verisum.features`,
   :mod:`verisum.calibration`): features of each claim, and the combiner's calibrated
   P(supported); the label from it (:func:`decide_claim`);
5. **locate faults** (``locate_faults``, :mod:`verisum.faults`): the words of each rejected
   claim the judge blames, by occlusion, and the words the source never uses;
6. **aggregate** (:mod:`verisum.verdicts`): a sentence is its weakest claim; a summary's label
   is its worst sentence's, its score the mean of its sentences' scores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Final, Iterable, Iterator, Literal, Mapping, Sequence

from .version import __version__
from .calibration import DEFAULT_VETOES, Calibrator, Vetoes
from .claims import Claim, summary_claims
from .document import PHOTO_POINTER_RE, Document, Span, join_bullets
from .errors import EmptyInput, InputError, InputTooLarge, InternalError, VerisumError
from .evidence import Evidence, LexicalRetriever, Retriever
from .text import content_words
from .io import MAX_BULLETS
from .records import SOURCE_KEYS, Record, RecordError
from .faults import FAULT_RULES, FaultQuery, locate
from .features import EVIDENCE_FEATURES, SourceIndex, add_summary_context, claim_features, judge_features
from .judges import Judge, Pair, get_judge
from .judges.base import PREMISE_RULES, Judgement, PremiseRule
from .verdicts import CheckResult, ClaimVerdict, Label, aggregate_sentence, aggregate_summary

if TYPE_CHECKING:
    from .edits import FixResult

__all__ = ["Checker", "Analysis", "ClaimAnalysis", "Record", "RecordError", "check", "fix", "claim_features", "MAX_SOURCE_CHARS", "MAX_SUMMARY_SENTENCES"]

#: Default limits; both are constructor parameters (and server settings).
MAX_SOURCE_CHARS = 5_000_000
MAX_SUMMARY_SENTENCES = MAX_BULLETS

Progress = Callable[[int, int | None], None]


def _as_document(value: str | Sequence[str] | Document, what: str) -> Document:
    if isinstance(value, Document):
        doc = value
    elif isinstance(value, str):
        doc = Document(value)
    elif isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        doc = Document(join_bullets(value))
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
    top_k: evidence sentences retrieved per claim (a dependent clause also gets the best
        sentence for its own words, when the search for the whole statement missed it).
    batch_size: pairs per judge call.
    threshold: P(supported) at or above which a claim is supported; default from calibration.
    calibration: a Calibrator, or a path to one saved by ``verisum calibrate``.
    retriever: how evidence is found; default lexical, or the judge's own (``judge.retriever()``).
    verbatim_shortcut: a summary sentence that repeats a whole source sentence word for word
        (ignoring case, spacing, the final stop and the source's photo pointers such as
        "(pictured)") is supported with score 1.0 without asking
        the judge: a copy cannot misstate its source, and extractive highlights are mostly copies.
    premises: "join_first": each claim is judged against its retrieved sentences joined in
        source order first, and against each sentence alone only when the join does not settle
        it (its P(supported) - P(contradicted) below JOIN_SETTLES): one judge call for most
        supported claims, the full set for the rest. "sentences" (as SummaC): each claim is judged against every retrieved sentence
        alone and against all of them joined in source order, and keeps its best premise;
        "joined": only the join (one judge call per claim). Default: the judge's own
        ``premises`` attribute if it has one (the ``llm`` judge says "joined": each call costs
        seconds; an embedded model's ``config.json`` may name one), else "join_first".
    occlusion: locate the words at fault by asking the judge how much each content word of a
        rejected claim costs it (one extra pair per word); False keeps the word lists alone.
        Default: the judge's own ``occlusion`` attribute if it has one, else True.
    fault_rule: what the words at fault are where the judge has a fault head
        (:data:`verisum.faults.FAULT_RULES`): "novel first" (default: the head's words are
        recorded, not shown), "head" or "union".
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
        premises: PremiseRule | None = None,
        occlusion: bool | None = None,
        fault_rule: str = "novel first",
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
        if premises is not None and premises not in PREMISE_RULES:
            raise InputError(f"premises must be one of {', '.join(PREMISE_RULES)}, not {premises!r}")
        self.premises = premises
        self.occlusion = occlusion
        if fault_rule not in FAULT_RULES:
            raise InputError(f"fault_rule must be one of {', '.join(FAULT_RULES)}, not {fault_rule!r}")
        self.fault_rule = fault_rule
        self._judge: Judge | None = None
        self._calibrator: Calibrator | None = None
        self._retriever: Retriever | None = None

    # A Checker pickles as its configuration: what it loaded (models, sessions, locks) stays
    # behind, and the receiver (a batch worker, a Ray actor) loads its own on first use.
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_judge": None, "_calibrator": None, "_retriever": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # -- set-up --------------------------------------------------------------------------
    def load(self) -> "Checker":
        """Build the judge, retriever and calibrator now (the server calls this at start-up)."""
        if self._judge is None:
            judge = get_judge(self.judge, **self.judge_params)
            if hasattr(judge, "load"):
                judge.load()
            self._judge = judge
            # A judge may say what its calls cost (see ``CostlyJudge`` in verisum.judges.base).
            if self.premises is None:
                self.premises = getattr(judge, "premises", None) or DEFAULT_PREMISES
            if self.occlusion is None:
                self.occlusion = bool(getattr(judge, "occlusion", True))
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
            else:  # the judge's own combiner: fitted for one premise rule, which it records
                own = getattr(self._judge, "calibrator", None)
                self._calibrator = (own() if callable(own) else None) or Calibrator()
                fitted_for = self._calibrator.premises
                if fitted_for is not None and fitted_for != self.premises:
                    import warnings

                    warnings.warn(
                        f"the judge's combiner was fitted on claims read with premises={fitted_for!r}; this "
                        f"Checker reads them with premises={self.premises!r}, so its scores and threshold may be "
                        "miscalibrated (refit it with `verisum train combiner --premises`)",
                        stacklevel=2,
                    )
        return self

    @property
    def judge_(self) -> Judge:
        """The loaded judge (loads it if needed)."""
        self.load()
        assert self._judge is not None
        return self._judge

    def with_options(self, *, top_k: int | None = None, threshold: float | None = None,
                     premises: PremiseRule | None = None) -> "Checker":
        """A Checker that differs only in ``top_k`` / ``threshold`` / ``premises`` and shares this
        one's loaded judge, retriever and calibrator (no second model in memory)."""
        self.load()
        assert self._judge is not None
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
            premises=self.premises if premises is None else premises,
            occlusion=self.occlusion,
            fault_rule=self.fault_rule,
        )
        return derived.load()

    @property
    def retriever_(self) -> Retriever:
        """The loaded retriever (the one given, else the judge's own, else lexical); loads if needed."""
        self.load()
        assert self._retriever is not None
        return self._retriever

    @property
    def calibrator_(self) -> Calibrator:
        """The loaded combiner (the calibrated model over the claim features); loads if needed."""
        self.load()
        assert self._calibrator is not None
        return self._calibrator

    @property
    def threshold_(self) -> float:
        self.load()
        assert self._calibrator is not None
        return self.threshold if self.threshold is not None else self._calibrator.threshold

    def params(self) -> dict[str, Any]:
        self.load()
        assert self._judge is not None and self._calibrator is not None
        return {
            "judge": self._judge.name,
            "judge_params": self._judge.params(),
            "top_k": self.top_k,
            "threshold": self.threshold_,
            "retriever": getattr(self._retriever, "name", type(self._retriever).__name__),
            "calibrated": self._calibrator.fitted,
            "verbatim_shortcut": self.verbatim_shortcut,
            "premises": self.premises,
            "occlusion": self.occlusion,
            "fault_rule": self.fault_rule,
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
            except Exception:  # noqa: BLE001 - a batch never fails as a whole
                # Something in the batch failed: redo one at a time so only the culprit errs.
                results = []
                for line, rid, d, s in pending:
                    try:
                        results.append(self._check_batch([(rid, d, s)])[0])
                    except VerisumError as exc:
                        results.append(RecordError(rid, line, exc))
                    except Exception as exc:  # noqa: BLE001 - a bug costs only its own record
                        results.append(RecordError(rid, line, InternalError.wrap(exc)))
            for item in results:
                done += 1
                if progress:
                    progress(done, total)
                yield item
            pending.clear()

        doc: Any  # a Record's text, or whatever a mapping holds (checked by _check_batch)
        summ: Any
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
                line, rid, doc, summ = rec.line, rec.id, rec.source, rec.summary
            else:
                line, rid = rec.get("line"), rec.get("id")
                doc = next((rec[k] for k in SOURCE_KEYS if k in rec), None)
                summ = rec.get("summary")
            pending.append((line, None if rid is None else str(rid), doc, summ))
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()

    def fix(
        self,
        source: str | Document,
        summary: str | Sequence[str] | Document,
        *,
        id: str | None = None,
        rewriter: Any = None,
        max_rounds: int = 3,
        min_kept: float = 0.8,
    ) -> "FixResult":
        """Check one summary, then propose for every sentence that is not supported the
        smallest edit this Checker supports (see :mod:`verisum.edits`): drop the unsupported
        clause, put the evidence's words back, or (with ``rewriter``, e.g. the ``llm``
        highlights writer) rewrite it; failing that, propose deleting the sentence. The
        result holds the edits, the corrected summary and its re-check."""
        from .edits import fix_result

        if not 0.0 <= min_kept <= 1.0:
            raise InputError("min_kept must be between 0 and 1")
        if max_rounds < 1:
            raise InputError("max_rounds must be at least 1")
        src = _as_document(source, "source")
        return fix_result(self, self.check(src, summary, id=id), rewriter=rewriter, max_rounds=max_rounds,
                          min_kept=min_kept)

    # -- the pipeline --------------------------------------------------------------------
    # Stages, in order: split (``_prepare``: sentences and claims) -> retrieve (``_prepare``:
    # evidence for every claim) -> judge (``_judge_claims``: every premise of every claim) ->
    # combine (``analyse``: features, then the combiner in ``_check_batch``) -> locate faults
    # (``locate_faults``) -> aggregate (``verdicts.aggregate_sentence`` / ``aggregate_summary``).
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
            self._judge_claims([c for a in out for c in a.claims if c.judgement is None])
        for a in out:
            for c in a.claims:
                c.features = claim_features(c.claim, c.evidence, c.judgement, a.source, a.index, c.stats)
            add_summary_context([c.features for c in a.claims])
        if lazy:
            threshold = self.threshold_
            todo = [
                c
                for a in out
                for c, score in zip(a.claims, self._calibrator.score_many([c.features for c in a.claims]))
                if c.judgement is None and score < threshold
            ]
            self._judge_claims(todo)
            for c in todo:
                # The calibrator does not read these, so the claim's score stays as it was.
                c.features.update(judge_features(c.judgement))
        return out

    def _prepare(self, rid: str | None, source: Any, summary: Any) -> "Analysis":
        """Split and retrieve: one item checked against the limits, split into claims, with the
        evidence of every claim; only verbatim copies are judged yet, no features."""
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
            raise EmptyInput("the summary has no words")
        if not any(content_words(s.text) for s, _ in sentences):
            raise EmptyInput("the summary states nothing to check (it has no content words)")
        if len(sentences) > self.max_summary_sentences:
            raise InputTooLarge(
                f"the summary has {len(sentences):,} sentences; the limit is {self.max_summary_sentences:,}"
            )
        claims = [c for _, cs in sentences for c in cs]
        queries = [c.hypothesis for c in claims]
        found = self._search(src, queries, self.top_k)
        evidence = [ev for ev, _ in found]
        stats = [st for _, st in found]
        # A dependent clause is judged with its main claim, so its search is led by the main
        # claim's words; it also gets the best sentence for its own words that this search left
        # out ("..., which is being chaired by X" -> the sentence about the chairmanship).
        clauses = [i for i, c in enumerate(claims) if c.context is not None]
        if clauses:
            own = self._search(src, [claims[i].span.text for i in clauses], self.top_k)
            for i, (ev_own, _) in zip(clauses, own):
                have = {(e.span.start, e.span.end) for e in evidence[i]}
                extra = next((e for e in ev_own if (e.span.start, e.span.end) not in have), None)
                if extra is not None:
                    evidence[i] = evidence[i] + [extra]
        align = getattr(self._retriever, "align", None)
        if callable(align):  # word-by-word coverage of each claim's own words, when offered
            stats = [{**st, **al} for st, al in zip(stats, align(src, [c.span.text for c in claims]))]
        copies = {key for s in src.sentences for key in _copy_keys(s.text)} if self.verbatim_shortcut else set()
        analysed = [
            ClaimAnalysis(
                claim=c, evidence=ev, stats=st, verbatim=_copy_key(c.sentence.text) in copies,
            )
            for c, ev, st in zip(claims, evidence, stats)
        ]
        for c in analysed:
            if c.verbatim:
                c.judgement = _COPY_JUDGEMENT
        return Analysis(rid, src, summ, sentences, analysed, SourceIndex.build(src))

    def _search(self, source: Document, queries: Sequence[str], k: int) -> list[tuple[list[Evidence], dict[str, float]]]:
        """Retrieve: the best ``k`` source sentences for each query, with the retriever's floor
        statistics when it offers them (``search``), else its plain ``retrieve``."""
        assert self._retriever is not None
        search = getattr(self._retriever, "search", None)
        if callable(search):
            return [(list(r.evidence), dict(r.stats)) for r in search(source, queries, k)]
        return [(list(ev), {}) for ev in self._retriever.retrieve(source, queries, k)]

    def _premises(self, evidence: Sequence[Evidence]) -> list[tuple[int, ...]]:
        """The premises a claim is judged against, as indices into its evidence: SummaC-style,
        every evidence sentence alone and (with two or more) all of them joined in source order;
        with ``premises="joined"`` only the join."""
        if not evidence:
            return []
        joined = tuple(sorted(range(len(evidence)), key=lambda k: evidence[k].span.start))
        if self.premises == "joined" or len(evidence) == 1:
            return [joined]
        return [(k,) for k in range(len(evidence))] + [joined]

    def _judge_claims(self, claims: Sequence["ClaimAnalysis"]) -> None:
        """Judge: every premise of every claim, ``batch_size`` pairs per call (each distinct pair
        once); with ``premises="join_first"``, the join first and the single sentences only for
        the claims it does not settle. A claim keeps the judgement of its best premise (highest
        P(supported) - P(contradicted)) and, for the *contradicted* verdict, the premise that
        contradicts it most; every premise judged stays in ``premise_judgements``."""
        assert self._judge is not None
        plans = [(c, self._premises(c.evidence)) for c in claims]
        if self.premises == "join_first":
            judged = self._judge_pairs([(premise_text(c.evidence, ps[-1]), c.claim.hypothesis) for c, ps in plans if ps])
            settled = [len(ps) > 1 and join_settles(judged[(premise_text(c.evidence, ps[-1]), c.claim.hypothesis)])
                       for c, ps in plans]
            judged.update(self._judge_pairs([(premise_text(c.evidence, p), c.claim.hypothesis)
                                             for (c, ps), done in zip(plans, settled) if not done for p in ps[:-1]]))
            # A settled claim reads its join alone, whatever else the batch asked about.
            plans = [(c, ps[-1:] if done else ps) for (c, ps), done in zip(plans, settled)]
        else:
            judged = self._judge_pairs([(premise_text(c.evidence, p), c.claim.hypothesis) for c, ps in plans for p in ps])
        for c, premises in plans:
            if not premises:  # nothing retrieved (an empty source cannot get here; be safe)
                c.judgement = _NO_EVIDENCE
                continue
            found = [(p, judged[(premise_text(c.evidence, p), c.claim.hypothesis)]) for p in premises]
            best_p, best = max(found, key=lambda pj: pj[1].supported - pj[1].contradicted)
            worst_p, worst = max(found, key=lambda pj: pj[1].contradicted)
            c.judgement = replace(best, extra={**best.extra, "max_contradicted": worst.contradicted})
            c.premise = best_p
            c.contradiction = worst
            c.contradiction_premise = worst_p
            c.premise_judgements = found

    def _judge_pairs(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Judgement]:
        """The judge's reading of each distinct (premise, hypothesis), ``batch_size`` per call."""
        assert self._judge is not None
        unique = list(dict.fromkeys(pairs))
        judged: list[Judgement] = []
        for k in range(0, len(unique), self.batch_size):
            judged.extend(self._judge.judge([Pair(p, h) for p, h in unique[k : k + self.batch_size]]))
        if len(judged) != len(unique):
            raise VerisumError(f"judge {self._judge.name} returned {len(judged)} judgements for {len(unique)} pairs")
        return dict(zip(unique, judged))

    def _check_batch(self, items: Sequence[tuple[str | None, Any, Any]]) -> list[CheckResult]:
        started = time.perf_counter()
        analysed = self.analyse(items, judge="needed")
        assert self._calibrator is not None
        threshold = self.threshold_
        # Combine: the calibrated score of every claim, then its label from that score and the
        # judge's contradiction.
        for a in analysed:
            scores = self._calibrator.score_many([c.features for c in a.claims])
            for c, s in zip(a.claims, scores):
                c.score = 1.0 if c.verbatim else veto_score(float(s), c.features, threshold, self._calibrator.vetoes)
                c.label = decide_claim(c, threshold)
        self.locate_faults([(a, c) for a in analysed for c in a.claims if c.label != Label.SUPPORTED])
        meta_base: dict[str, Any] = {"verisum": __version__, "judge": self.params()}
        results = []
        for a in analysed:
            verdict_of = {}
            for c in a.claims:
                verdict_of[(c.claim.span.start, c.claim.span.end)] = c.verdict()
            sent_verdicts = tuple(
                aggregate_sentence(s, [verdict_of[(c.span.start, c.span.end)] for c in cs]) for s, cs in a.sentences
            )
            label, score = aggregate_summary(sent_verdicts)
            meta = dict(meta_base)
            meta["seconds"] = round(time.perf_counter() - started, 4)
            meta["truncated"] = any(c.judgement is not None and c.judgement.truncated for c in a.claims)
            cut = {"source": a.source.long_sentences, "summary": a.summary.long_sentences}
            if any(cut.values()):
                # Said, never silent: these sentences were cut into pieces to bound memory.
                meta["long_sentences_cut"] = cut
            if a.source.is_transcript:
                # Said, never silent: on transcripts and chats the judge flags most faithful summaries.
                meta["source_kind"] = "transcript"
            results.append(
                CheckResult(
                    source=a.source, summary=a.summary, sentences=sent_verdicts, label=label, score=score,
                    threshold=threshold, meta=meta, id=a.id,
                )
            )
        return results

    def locate_faults(self, items: Sequence[tuple["Analysis", "ClaimAnalysis"]], *, occlude: str = "no_novel") -> None:
        """Locate faults: one call to :func:`verisum.faults.locate` with every rejected claim of
        the batch (the judge passed along for its occlusion probes); the words at fault, and their
        two parts (``novel`` / ``blamed``), are written back to each claim."""
        assert self._judge is not None
        queries = []
        for a, c in items:
            contradicted = c.label == Label.CONTRADICTED
            queries.append(FaultQuery(
                claim=c.claim, source=a.source, index=a.index, evidence=c.evidence, contradicted=contradicted,
                judgement=c.judgement, premise=premise_text(c.evidence, c.premise) if c.premise else "",
                contradiction=c.contradiction,
                contradiction_premise=premise_text(c.evidence, c.contradiction_premise) if contradicted else "",
                quotes=c.judgement.quotes if c.judgement is not None else (), verbatim=c.verbatim,
            ))
        located = locate(queries, self._judge_pairs if self.occlusion else None, occlude=occlude,
                         rule=getattr(self, "fault_rule", "novel first"))
        for (_, c), found in zip(items, located):
            c.faults, c.novel, c.blamed, c.head = found.faults, found.novel, found.blamed, found.head


@dataclass(slots=True)
class ClaimAnalysis:
    """One claim as it goes through the stages: what was retrieved for it, how the judge read
    it, its features, and (after combining) its score, label and words at fault."""

    claim: Claim
    evidence: list[Evidence]  # retrieved, best first
    stats: dict[str, float]  # the retriever's floor statistics
    verbatim: bool  # its sentence copies a source sentence (not sent to the judge)
    judgement: Judgement | None = None  # of the best premise; None: the judge was not asked
    premise: tuple[int, ...] = ()  # the best premise, as indices into ``evidence``
    contradiction: Judgement | None = None  # of the premise that contradicts the claim most
    contradiction_premise: tuple[int, ...] = ()
    premise_judgements: list[tuple[tuple[int, ...], Judgement]] = field(default_factory=list)  # every premise judged
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    label: Label = Label.UNSUPPORTED
    faults: tuple[Span, ...] = ()
    novel: tuple[Span, ...] = ()  # words the source never uses (the first place to look)
    blamed: tuple[Span, ...] = ()  # words the judge blames, by occlusion (when it was asked)
    head: tuple[Span, ...] = ()  # words the judge's fault head marks (when it has one)

    def verdict(self) -> ClaimVerdict:
        jd = self.judgement
        lead = self.contradiction_premise if self.label == Label.CONTRADICTED else self.premise
        # The premise behind the verdict first, then the rest of the evidence, best first; a
        # joined premise leads with its best-retrieved sentence (indices are retrieval ranks).
        order = sorted(lead) + [k for k in range(len(self.evidence)) if k not in lead]
        return ClaimVerdict(
            claim=self.claim,
            label=self.label,
            score=self.score,
            probs={} if jd is None else claim_probs(self, self.label),
            evidence=tuple(self.evidence[k] for k in order),
            faults=self.faults if self.label != Label.SUPPORTED else (),
            truncated=jd is not None and jd.truncated,
            rationale=_NOT_ASKED if jd is None else jd.rationale,
        )


@dataclass(frozen=True, slots=True)
class Analysis:
    """One summary taken through retrieval, judging and features (see ``Checker.analyse``)."""

    id: str | None
    source: Document
    summary: Document
    sentences: tuple[tuple[Span, tuple[Claim, ...]], ...]
    claims: list[ClaimAnalysis]  # in summary order
    index: SourceIndex


def contradicts(c: "ClaimAnalysis") -> bool:
    """Contradiction is the judge's most likely outcome on some premise of the claim."""
    j = c.contradiction
    return j is not None and j.contradicted > max(j.supported, j.unsupported)


# The judge's vetoes (a premise read as a contradiction, or the best one as unsupported, with
# enough confidence keeps the claim below the threshold: veto_score) belong to the combiner
# fitted for the judge, verisum.calibration.Calibrator.vetoes: set for one judge's probabilities,
# they cost another (the fast model's 0.5 / 0.8 fire on 5% and 8% of its claims and are worth
# +0.1 each to it; on 15% and 22% of the accurate model's, costing it 2.4 points, 2026-12-07).

#: The score of a claim that swaps a number, weekday or month its evidence gives
#: (:func:`verisum.features.value_conflicts`): at most the share of faithful summaries among
#: those with such a claim on the eight bench-dev sets, 3 of 79 (``verisum eval`` rows,
#: 2026-12-02). The leave-one-dataset-out figures did not move (the novelty signals already
#: rejected those summaries); what it changes is the verdict: *contradicted*, with the value at
#: fault and the sentence that gives the other value as evidence.
VALUE_CONFLICT_SCORE = 0.04


#: Premises by default: the join first, single sentences only where the join does not settle it.
DEFAULT_PREMISES: Final = "join_first"


def embedded_premises(model_dir: str | Path | None = None) -> str:
    """The premise rule a Checker reads the embedded model ``model_dir`` with, without loading
    it: the rule its ``config.json`` names, else :data:`DEFAULT_PREMISES`."""
    from .judges.embedded import EmbeddedJudge

    return EmbeddedJudge(model_dir).declared_premises() or DEFAULT_PREMISES


#: The join settles a claim when its P(supported) - P(contradicted) reaches this, and none of
#: the single sentences is asked. Measured leave-one-dataset-out on the same rows (margins 0.8,
#: 0.6, 0.4): mean balanced accuracy 58.6, 58.6, 59.4 and AUC 0.696, 0.694, 0.697 with 3.29,
#: 2.65, 2.29 judge pairs per claim; 0.4 reads as well with a third fewer model calls.
JOIN_SETTLES = 0.4


def join_settles(j: Judgement) -> bool:
    """Whether the joined premise's reading makes the single sentences unnecessary."""
    return j.supported - j.contradicted >= JOIN_SETTLES


def veto_score(score: float, features: Mapping[str, float], threshold: float, vetoes: Vetoes = DEFAULT_VETOES) -> float:
    """The score after the judge's ``vetoes``, read from a claim's features
    (``max_contradicted``: the most contradicting premise; ``unsupported``: the best premise):
    below the threshold (and at most 1 - P(contradicted) or 1 - P(unsupported)) when the judge
    is that confident, else unchanged; below the threshold, too, when the claim swaps a number,
    weekday or month that its evidence gives (``value_conflict``). The Checker, the combiner fit
    (:func:`verisum.evaluation.fit_vetoes`) and the evaluation (:mod:`verisum.lodo`) all call this."""
    max_contradicted = features.get("max_contradicted", 0.0)
    unsupported = features.get("unsupported", 0.0)
    if features.get("value_conflict", 0.0) > 0:  # a swapped number, weekday or month
        score = min(score, VALUE_CONFLICT_SCORE, threshold - 1e-4)
    if vetoes.contradicted is not None and max_contradicted > vetoes.contradicted:
        score = min(score, 1.0 - max_contradicted, threshold - 1e-4)
    if vetoes.unsupported is not None and unsupported > vetoes.unsupported:
        score = min(score, 1.0 - unsupported, threshold - 1e-4)
    return score


def decide_claim(c: ClaimAnalysis, threshold: float) -> Label:
    """Supported when the calibrated score reaches the threshold; otherwise contradicted when
    a premise contradicts the claim (see :func:`contradicts`) or the claim swaps a value its
    evidence gives (:func:`verisum.features.value_conflicts`), else unsupported."""
    if c.score >= threshold:
        return Label.SUPPORTED
    conflict = c.features.get("value_conflict", 0.0) > 0 and c.contradiction is not None
    return Label.CONTRADICTED if contradicts(c) or conflict else Label.UNSUPPORTED


def claim_probs(c: ClaimAnalysis, label: Label) -> dict[str, float]:
    """The claim's three probabilities, consistent with its label: ``supported`` is the
    calibrated score, and the rest is split between contradicted and unsupported as the judge
    split it on the premise behind the verdict (contradicted gets the larger share exactly when
    the label is contradicted)."""
    rest = 1.0 - c.score
    j = c.contradiction if label == Label.CONTRADICTED else c.judgement
    assert j is not None
    q = j.contradicted / max(j.contradicted + j.unsupported, 1e-9)
    q = max(q, 0.5 + 1e-6) if label == Label.CONTRADICTED else min(q, 0.5)
    return {"supported": c.score, "contradicted": rest * q, "unsupported": rest * (1.0 - q)}


def _scores_judge(features: Sequence[str]) -> bool:
    """Whether a calibrator over ``features`` reads the judge's output (anything but the
    retrieval and lexical features, including a judge's own extras)."""
    return any(f not in EVIDENCE_FEATURES for f in features)


#: Rationale of a claim the combiner supports on the evidence features alone.
_NOT_ASKED = "supported on the evidence features; the judge was not asked"

#: What a verbatim copy gets instead of a judge call.
_COPY_JUDGEMENT = Judgement(supported=1.0, contradicted=0.0, unsupported=0.0, rationale="copies a source sentence")

#: What a claim with no evidence at all gets (the source has no sentence to compare with).
_NO_EVIDENCE = Judgement(supported=0.0, contradicted=0.0, unsupported=1.0, rationale="no evidence in the source")


def _copy_key(text: str) -> str:
    """A sentence's words for the verbatim test: case, spacing and the final stop ignored."""
    return " ".join(text.split()).rstrip(".!?;: ").casefold()


def _copy_keys(source_sentence: str) -> set[str]:
    """What a copy of a source sentence may read: the sentence, and the sentence without its
    photo pointers ("(pictured)"), which state nothing. Only the source side is stripped, so a
    summary's own parenthesis is never ignored."""
    return {_copy_key(source_sentence), _copy_key(PHOTO_POINTER_RE.sub("", source_sentence))}


def premise_text(evidence: Sequence[Evidence], which: Sequence[int] | None = None) -> str:
    """Evidence sentences (all, or those at ``which``) joined in source order, as they read in
    the article."""
    chosen = evidence if which is None else [evidence[k] for k in which]
    return " ".join(e.span.text for e in sorted(chosen, key=lambda e: e.span.start))



def fix(
    source: str | Document,
    summary: str | Sequence[str] | Document,
    *,
    judge: str | Judge = "embedded",
    **checker_params: Any,
) -> "FixResult":
    """Check one summary and propose the smallest supported edits, with a fresh Checker."""
    return Checker(judge, **checker_params).fix(source, summary)


def check(
    source: str | Document,
    summary: str | Sequence[str] | Document,
    *,
    judge: str | Judge = "embedded",
    **checker_params: Any,
) -> CheckResult:
    """Check one summary with a fresh Checker (convenient; reuse a Checker for many)."""
    return Checker(judge, **checker_params).check(source, summary)
