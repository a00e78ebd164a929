"""Edits (behind `verisum fix`): the smallest edit that makes a failing summary sentence supported, kept only when the
checker then supports it.

For every summary sentence that is not supported, :func:`fix_result` proposes edits, checks
each edited sentence against the same source with the same Checker, and keeps the smallest
one that comes back supported:

1. **drop a claim**: an unsupported dependent clause (", highlighting the importance of ...")
   or leading link ("Despite X, ...") is removed when the rest of the sentence stands on its
   own;
2. **substitute**: the words at fault are replaced by the evidence's own words, found by
   aligning the claim with each of its evidence sentences word by word (``12`` -> ``6.5``,
   ``local fishermen`` -> ``a regional climate fund``, ``rejected`` -> ``approved``); an extra
   word the evidence lacks ("not", "on Tuesday") may be dropped;
3. **rewrite** (optional): a writer with a ``revise`` method (the ``llm`` highlights writer)
   rewrites the sentence from its evidence; the rewrite is checked like any other edit;
4. otherwise the sentence is **proposed for deletion**, and the result says so.

Edits that change words (substitutions, rewrites) must keep at least ``min_kept`` of the
sentence's words and bring in at most ``1 - min_kept`` new ones (ROUGE-1 recall and precision
against the original sentence); a dropped claim removes only words the checker rejected. An edit
that improves the sentence without making it supported is built on for up to ``max_rounds``
rounds (a sentence with two wrong facts needs two substitutions).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Sequence

from .document import Document, Span
from .evidence import Evidence
from .verdicts import CheckResult, ClaimVerdict, Label, SentenceVerdict

if TYPE_CHECKING:
    from .checker import Checker

__all__ = ["Edit", "EditKind", "FixResult", "FixEvaluation", "fix_result", "apply_edits", "evaluate_fix", "word_overlap",
           "MIN_KEPT", "MAX_ROUNDS"]

EditKind = Literal["drop_claim", "substitute", "rewrite", "delete_sentence"]

#: Share of the original sentence's words an edit that changes words must keep (and at most
#: 1 - MIN_KEPT of the edited sentence's words may be new).
MIN_KEPT = 0.8
#: Edits built on each other for one sentence (a second wrong fact needs a second edit).
MAX_ROUNDS = 3
#: Candidate edits checked per sentence and round.
MAX_CANDIDATES = 24

#: Words an edit may drop outright: a negation, or a time or place phrase ("on Tuesday").
_DROPPABLE_RE = re.compile(
    r"(?:(?:not|never|no longer|n't|no)\b|(?:on|in|at|during|since|from|near|last|this|next)\s+\S)", re.I)
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|\w+(?:['’]\w+)*|[^\w\s]")


@dataclass(frozen=True, slots=True)
class Edit:
    """One proposed edit of a summary sentence: ``before`` -> ``after`` ("" when the sentence
    is proposed for deletion), with why, and the source sentences that back it."""

    sentence: Span  # the sentence in the summary as given
    kind: EditKind
    before: str
    after: str
    reason: str
    evidence: tuple[Evidence, ...]
    score_before: float
    score_after: float | None  # None for a deletion
    kept: float  # share of the original sentence's words the edit keeps (ROUGE-1 recall)
    new: float  # share of the edited sentence's words the original lacks (1 - ROUGE-1 precision)

    @property
    def deleted(self) -> bool:
        return self.kind == "delete_sentence"


@dataclass(frozen=True, slots=True)
class FixResult:
    """The summary as given (``check``), the edits, the corrected summary ``text`` and its own
    check (``recheck``; None when every sentence was proposed for deletion)."""

    check: CheckResult
    edits: tuple[Edit, ...]
    text: str
    recheck: CheckResult | None
    id: str | None = None

    @property
    def ok(self) -> bool:
        """True when the corrected summary is supported (or nothing needed fixing)."""
        if not self.edits:
            return self.check.ok
        return self.recheck is not None and self.recheck.ok


@dataclass(frozen=True, slots=True)
class _Candidate:
    text: str
    kind: EditKind
    reason: str
    evidence: tuple[Evidence, ...] = ()


def word_overlap(before: str, after: str) -> tuple[float, float]:
    """(kept, new): ROUGE-1 recall of ``after`` against ``before`` (share of the original's words
    kept) and 1 - ROUGE-1 precision (share of the edited sentence's words that are new)."""
    from rouge_score import rouge_scorer

    if not after.strip():
        return 0.0, 0.0
    s = _ROUGE.get("scorer")
    if s is None:
        s = _ROUGE["scorer"] = rouge_scorer.RougeScorer(["rouge1"], tokenizer=_Words())
    r = s.score(before, after)["rouge1"]
    return float(r.recall), float(1.0 - r.precision)


_ROUGE: dict[str, Any] = {}


class _Words:
    """ROUGE's words, except that a number stays one word ("6.5", "4,200"): putting the
    evidence's number back is a one-word edit, not two."""

    def tokenize(self, text: str) -> list[str]:
        return [t for t, _, _ in _tokens(text) if t[:1].isalnum()]


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0).lower(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def _has_content(tokens: Sequence[tuple[str, int, int]]) -> bool:
    from .text import is_content

    return any(t[0][:1].isalnum() and is_content(t[0]) for t in tokens)


def _join(text: str, a: int, b: int, rep: str) -> str:
    """``text`` with ``[a, b)`` replaced by ``rep``, spaces tidied at the seam."""
    left, right = text[:a], text[b:]
    if not rep:
        left = left.rstrip(" ")
        if right[:1] not in (",", ".", ";", ":", "!", "?", "'", "’") and left and right[:1] != " ":
            right = " " + right
        elif right[:1] == " " and not left:
            right = right.lstrip(" ")
    return left + rep + right


def _drop_claims(sentence: str, base: int, claims: Sequence[ClaimVerdict]) -> str:
    """The sentence without the given dependent claims (offsets are summary offsets; the
    sentence starts at ``base``)."""
    text = sentence
    end_punct = re.search(r"[.!?][\"'”’]*\s*$", sentence)
    for cv in sorted(claims, key=lambda c: c.claim.span.start, reverse=True):
        a, b = cv.claim.span.start - base, cv.claim.span.end - base
        leading = cv.claim.context is not None and cv.claim.span.start < cv.claim.context.start
        if leading:  # "Despite X, Y" -> "Y"
            while b < len(text) and text[b] in " ,;":
                b += 1
            text = text[:a] + text[b:]
            text = text[:a] + text[a:a + 1].upper() + text[a + 1:]
        else:  # "Y, highlighting Z." -> "Y."
            while a > 0 and text[a - 1] in " ,;":
                a -= 1
            text = text[:a] + text[b:]
    text = text.rstrip()
    if end_punct and not re.search(r"[.!?][\"'”’]*$", text):
        text += end_punct.group(0).strip()
    return text


def _substitutions(sentence: str, base: int, cv: ClaimVerdict) -> list[_Candidate]:
    """Edits that put the evidence's words in place of the claim's words at fault: the claim is
    aligned word by word with each evidence sentence; every replaced or extra stretch of at most
    four words that touches a fault is a candidate, and so is all of them at once."""
    claim_text = cv.claim.span.text
    off = cv.claim.span.start - base
    ctoks = _tokens(claim_text)
    faults = [(f.start - cv.claim.span.start, f.end - cv.claim.span.start) for f in cv.faults]

    def touches(a: int, b: int) -> bool:
        return not faults or any(a < fe and fs < b for fs, fe in faults)

    out: list[_Candidate] = []
    for ev in cv.evidence[:3]:
        etoks = _tokens(ev.span.text)
        ops = difflib.SequenceMatcher(None, [t[0] for t in ctoks], [t[0] for t in etoks], autojunk=False).get_opcodes()
        if sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag == "equal") < 2:
            continue  # nothing in common to anchor an edit on
        edits: list[tuple[int, int, str, str]] = []
        for tag, i1, i2, j1, j2 in ops:
            # Only a stretch anchored on both sides by words the two share is a substitution
            # ("cost [12] million"); an unanchored one re-writes the sentence's frame.
            if tag not in ("replace", "delete") or i2 - i1 > 4 or i1 == 0 or i2 == len(ctoks):
                continue
            a, b = ctoks[i1][1], ctoks[i2 - 1][2]
            if not touches(a, b):
                continue
            if tag == "replace":
                # The evidence's words only, never its punctuation at either edge (", and ...").
                while j1 < j2 and not etoks[j1][0][:1].isalnum():
                    j1 += 1
                while j2 > j1 and not etoks[j2 - 1][0][-1:].isalnum():
                    j2 -= 1
                if j2 - j1 > 6 or j1 >= j2 or not _has_content(etoks[j1:j2]) \
                        or not (claim_text[a:a + 1].isalnum() and claim_text[b - 1:b].isalnum()):
                    continue
                rep = ev.span.text[etoks[j1][1]:etoks[j2 - 1][2]]
                edits.append((a, b, rep, f"“{claim_text[a:b]}” → “{rep}”, as the evidence says"))
            elif _DROPPABLE_RE.match(claim_text[a:b]):
                edits.append((a, b, "", f"“{claim_text[a:b]}” dropped: the evidence does not say it"))
        for a, b, rep, why in edits:
            out.append(_Candidate(_join(sentence, off + a, off + b, rep), "substitute", why, (ev,)))
        if len(edits) > 1:
            text = sentence
            for a, b, rep, _ in sorted(edits, reverse=True):
                text = _join(text, off + a, off + b, rep)
            out.append(_Candidate(text, "substitute", "; ".join(w for *_, w in edits), (ev,)))
    return out


def _candidates(sv: SentenceVerdict, rewriter: Any, source: Document, round_: int) -> list[_Candidate]:
    sentence, base = sv.sentence.text, sv.sentence.start
    failing = [cv for cv in sv.claims if cv.label is not Label.SUPPORTED]
    out: list[_Candidate] = []
    droppable = [cv for cv in failing if cv.claim.context is not None]
    if droppable and len(droppable) < len(sv.claims):
        for cv in droppable:
            out.append(_Candidate(_drop_claims(sentence, base, [cv]), "drop_claim",
                                  f"“{cv.claim.span.text.rstrip(' .')}” dropped: the source does not support it",
                                  tuple(cv.evidence[:1])))
        if len(droppable) > 1:
            out.append(_Candidate(_drop_claims(sentence, base, droppable), "drop_claim",
                                  "unsupported clauses dropped: " + "; ".join(
                                      f"“{cv.claim.span.text.rstrip(' .')}”" for cv in droppable),
                                  tuple(cv.evidence[0] for cv in droppable if cv.evidence)))
    for cv in failing:
        out.extend(_substitutions(sentence, base, cv))
    if rewriter is not None:
        from .highlights.writer import Finding

        worst = min(failing, key=lambda cv: cv.score)
        finding = Finding(text=sentence, label=worst.label, score=worst.score,
                          faults=tuple(f.text for f in sv.faults),
                          evidence=tuple(e.span.text for e in sv.evidence[:3]))
        rewritten = rewriter.revise(source, finding, round_)
        if rewritten:
            out.append(_Candidate(rewritten, "rewrite", f"rewritten from the evidence by {getattr(rewriter, 'name', 'a writer')}",
                                  tuple(worst.evidence[:2])))
    seen = {sentence}
    unique = []
    for c in out:
        if c.text.strip() and c.text not in seen and re.search(r"\w", c.text):
            seen.add(c.text)
            unique.append(c)
    return unique[:MAX_CANDIDATES]


def _allowed(c: _Candidate, original: str, min_kept: float) -> bool:
    if c.kind == "drop_claim":
        return True
    kept, new = word_overlap(original, c.text)
    return kept >= min_kept and new <= 1.0 - min_kept


def _check_all(checker: "Checker", source: Document, texts: Sequence[str]) -> list[CheckResult | None]:
    """Each text checked as a summary of ``source``; None where it cannot be (no words left)."""
    from .records import RecordError

    out = checker.check_many([{"doc": source, "summary": t} for t in texts], batch_size=16)
    return [None if isinstance(r, RecordError) else r for r in out]


def _fix_sentence(checker: "Checker", source: Document, sv: SentenceVerdict, *, rewriter: Any,
                  max_rounds: int, min_kept: float) -> Edit:
    original = sv.sentence.text
    current_sv = sv
    steps: list[_Candidate] = []
    for round_ in range(max_rounds):
        cands = [c for c in _candidates(current_sv, rewriter, source, round_) if _allowed(c, original, min_kept)]
        if not cands:
            break
        results = _check_all(checker, source, [c.text for c in cands])
        scored = [(c, r.sentences[0] if r is not None and len(r.sentences) == 1 else None, r)
                  for c, r in zip(cands, results)]
        good = [(c, r) for c, s, r in scored if r is not None and r.ok]
        if good:
            def size(cr: tuple[_Candidate, CheckResult]) -> tuple[float, float]:
                kept, new = word_overlap(original, cr[0].text)
                return (1.0 - kept) + new, -cr[1].score

            c, r = min(good, key=size)
            steps.append(c)
            return _edit(sv, c.text, steps, r, original)
        better = [(c, s) for c, s, r in scored if s is not None and s.score > current_sv.score + 0.02
                  and sum(cv.label is not Label.SUPPORTED for cv in s.claims)
                  <= sum(cv.label is not Label.SUPPORTED for cv in current_sv.claims)]
        if not better:
            break
        c, s = max(better, key=lambda cs: cs[1].score)
        steps.append(c)
        current_sv = s
    # Each source sentence once: two claims may quote the same sentence (with their own retrieval scores).
    first: dict[tuple[int, int], Evidence] = {}
    for cv in sv.claims:
        if cv.label is not Label.SUPPORTED:
            for e in cv.evidence[:1]:
                first.setdefault((e.span.start, e.span.end), e)
    evidence = tuple(first.values())
    return Edit(
        sentence=sv.sentence, kind="delete_sentence", before=original, after="",
        reason=("no small edit made it supported: delete it, or rewrite it from the evidence"
                if not steps else "the best edits left it unsupported: delete it, or rewrite it from the evidence"),
        evidence=evidence, score_before=sv.score, score_after=None, kept=0.0, new=0.0,
    )


def _edit(sv: SentenceVerdict, after: str, steps: Sequence[_Candidate], result: CheckResult, original: str) -> Edit:
    kinds = [s.kind for s in steps]
    kind: EditKind = "rewrite" if "rewrite" in kinds else "substitute" if "substitute" in kinds else "drop_claim"
    evidence: dict[tuple[int, int], Evidence] = {}
    for s in steps:
        # A substitution's evidence is the sentence its words came from; a dropped claim's is
        # the sentence that failed to support it, which backs nothing that remains.
        if s.kind != "drop_claim":
            for e in s.evidence:
                evidence.setdefault((e.span.start, e.span.end), e)
    for cv in result.claims:  # what the edited sentence now rests on
        for e in cv.evidence[:1]:
            evidence.setdefault((e.span.start, e.span.end), e)
    kept, new = word_overlap(original, after)
    return Edit(
        sentence=sv.sentence, kind=kind, before=original, after=after, reason="; ".join(s.reason for s in steps),
        evidence=tuple(evidence.values()), score_before=sv.score, score_after=result.score, kept=kept, new=new,
    )


def apply_edits(summary: str, edits: Sequence[Edit]) -> str:
    """The summary with every edit applied; a deleted sentence takes its bullet line with it
    when it was the line's only sentence."""
    text = summary
    for e in sorted(edits, key=lambda e: e.sentence.start, reverse=True):
        a, b = e.sentence.start, e.sentence.end
        if not e.deleted:
            text = text[:a] + e.after + text[b:]
            continue
        line_start = text.rfind("\n", 0, a) + 1
        line_end = text.find("\n", b)
        line_end = len(text) if line_end < 0 else line_end
        head, tail = text[line_start:a], text[b:line_end]
        if re.fullmatch(r"[ \t]*(?:[-*•·–]|\d{1,2}[.)])?[ \t]*", head) and not tail.strip():
            # the whole line goes, with its line break
            if line_end < len(text):
                text = text[:line_start] + text[line_end + 1:]
            else:
                text = text[:max(line_start - 1, 0)] if line_start else ""
        else:
            while b < len(text) and text[b] in " \t":
                b += 1
            text = text[:a] + text[b:]
    return text


def fix_result(checker: "Checker", result: CheckResult, *, rewriter: Any = None, max_rounds: int = MAX_ROUNDS,
               min_kept: float = MIN_KEPT) -> FixResult:
    """Edits for every sentence of ``result`` that is not supported, the corrected summary and
    its re-check (see the module docstring)."""
    edits = tuple(
        _fix_sentence(checker, result.source, sv, rewriter=rewriter, max_rounds=max_rounds, min_kept=min_kept)
        for sv in result.sentences if sv.label is not Label.SUPPORTED
    )
    if not edits:
        return FixResult(check=result, edits=(), text=result.summary.text, recheck=result, id=result.id)
    text = apply_edits(result.summary.text, edits)
    recheck = None
    if re.search(r"\w", text):
        recheck = checker.check(result.source, text, id=result.id)
    return FixResult(check=result, edits=edits, text=text, recheck=recheck, id=result.id)


@dataclass(frozen=True, slots=True)
class FixEvaluation:
    """What ``verisum eval-fix`` measures (see :func:`evaluate_fix`)."""

    perturbed: int  # variants of faithful summaries fixed
    caught: int  # variants the checker did not support (only these get edits)
    restored: int  # fixed back to the original summary exactly
    perturbed_supported: int  # variants whose corrected summary the checker supports
    by_type: dict[str, dict[str, int]]  # error type -> {"n", "caught", "restored", "supported"}
    unfaithful: int  # labelled unfaithful summaries fixed
    unfaithful_flagged: int  # of those, the checker rejected (so edits were proposed)
    unfaithful_supported: int  # corrected summaries the checker supports (no deletion of everything)
    sentences_edited: int  # edits that change words or drop a clause
    sentences_deleted: int  # sentences proposed for deletion
    mean_kept: float  # mean share of a sentence's words kept by the edits that change words
    mean_new: float  # mean share of new words in the edited sentences
    examples: tuple[dict[str, Any], ...]  # a few (type, before, after) rows for a spot check


def evaluate_fix(checker: "Checker", faithful: Sequence[Any], unfaithful: Sequence[Any], *, seed: int = 0,
                 progress: Any = None) -> FixEvaluation:
    """Fix on two kinds of input. ``faithful`` records (``.id``, ``.doc``, ``.summary``) are first
    broken by :func:`verisum.perturb.perturb` (one variant each, the error type drawn by seed):
    how many the checker catches, how many of those the fix restores exactly, and how many it
    makes supported. ``unfaithful`` records (human-labelled) are fixed as they are: how many
    corrected summaries the checker supports, and how big the edits are."""
    import random as _random

    from .perturb import ERROR_TYPES, perturb

    rng = _random.Random(seed)
    by_type: dict[str, dict[str, int]] = {t: {"n": 0, "caught": 0, "restored": 0, "supported": 0} for t in ERROR_TYPES}
    caught = restored = supported = n_pert = 0
    examples: list[dict[str, Any]] = []
    kept_all: list[float] = []
    new_all: list[float] = []
    edited = deleted = 0
    total = len(faithful) + len(unfaithful)
    done = 0

    def tally(result: FixResult) -> None:
        nonlocal edited, deleted
        for e in result.edits:
            if e.deleted:
                deleted += 1
            else:
                edited += 1
                if e.kind != "drop_claim":
                    kept_all.append(e.kept)
                    new_all.append(e.new)

    for rec in faithful:
        types = list(ERROR_TYPES)
        rng.shuffle(types)
        variants = []
        for t in types:
            variants = perturb(rec.source, rec.summary, types=[t], seed=seed, id=rec.id)
            if variants:
                break
        done += 1
        if progress:
            progress(done, total)
        if not variants:
            continue
        v = variants[0]
        n_pert += 1
        stats = by_type[v.error_type]
        stats["n"] += 1
        result = checker.fix(rec.source, v.summary, id=rec.id)
        if result.check.ok:
            continue
        caught += 1
        stats["caught"] += 1
        tally(result)
        if _same_text(result.text, rec.summary):
            restored += 1
            stats["restored"] += 1
        if result.ok:
            supported += 1
            stats["supported"] += 1
        if len(examples) < 40:
            edit = next((e for e in result.edits if e.sentence.start <= v.start < e.sentence.end + 1), None)
            examples.append({"type": v.error_type, "original": v.before, "perturbed": v.after,
                             "fixed": None if edit is None else edit.after, "restored": _same_text(result.text, rec.summary)})
    flagged = u_supported = 0
    for rec in unfaithful:
        result = checker.fix(rec.source, rec.summary, id=rec.id)
        done += 1
        if progress:
            progress(done, total)
        if result.check.ok:
            continue
        flagged += 1
        tally(result)
        if result.recheck is not None and result.ok:
            u_supported += 1
    return FixEvaluation(
        perturbed=n_pert, caught=caught, restored=restored, perturbed_supported=supported, by_type=by_type,
        unfaithful=len(unfaithful), unfaithful_flagged=flagged, unfaithful_supported=u_supported,
        sentences_edited=edited, sentences_deleted=deleted,
        mean_kept=sum(kept_all) / len(kept_all) if kept_all else 0.0,
        mean_new=sum(new_all) / len(new_all) if new_all else 0.0,
        examples=tuple(examples),
    )


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())
