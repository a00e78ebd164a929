"""The fault head's training data: minimal pairs of NLI claims and perturbed news sentences,
each with the words at fault as character spans of the claim."""

from __future__ import annotations

import json
import re

from verisum.training import spans


def test_word_spans_leave_edge_punctuation_out():
    text = 'He said "no," (twice).'
    assert [text[a:b] for a, b in spans.word_spans(text)] == ["He", "said", "no", "twice"]


def test_minimal_pairs_mark_the_words_that_replace_or_add():
    rows = [
        {"premise": "P1", "hypothesis": "Zoey Deutch is an actress.", "label": "supported"},
        {"premise": "P1", "hypothesis": "Zoey Deutch is an American frog.", "label": "contradicted"},
        {"premise": "P1", "hypothesis": "Zoey is.", "label": "unsupported"},  # words only taken away: no fault to mark
        {"premise": "P1", "hypothesis": "Someone else entirely wrote four books about frogs.", "label": "unsupported"},
        {"premise": "P2", "hypothesis": "A man is speaking in a classroom.", "label": "supported"},
        {"premise": "P2", "hypothesis": "A man is speaking loudly in a classroom.", "label": "unsupported"},
    ]
    out = list(spans.minimal_pairs(rows))
    marked = {r["claim"]: [r["claim"][a:b] for a, b in r["faults"]] for r in out}
    assert marked == {
        "Zoey Deutch is an American frog.": ["American frog"],
        "Zoey Deutch is an actress.": [],
        "A man is speaking loudly in a classroom.": ["loudly"],
        "A man is speaking in a classroom.": [],
    }
    assert {r["label"] for r in out if r["faults"]} == {"contradicted", "unsupported"}
    assert all(r["label"] == "supported" for r in out if not r["faults"])


def test_perturbed_pairs_mark_what_perturb_changed():
    article = ("The council of Kell approved the new budget on Monday after a long debate in the town hall. "
               "The mayor thanked the 14 members of the council for their work on the plan this year. "
               "Local taxes will rise by 3 percent next year, the treasurer told reporters on Tuesday. "
               "Most of the money will go to the harbour and to two new schools in the north of the town.")
    rows = list(spans.perturbed_pairs([article] * 6, n=6, seed=0))
    assert rows and len(rows) % 2 == 0
    for good, bad in zip(rows[::2], rows[1::2]):
        assert good["faults"] == [] and good["claim"] in good["premise"]
        assert bad["label"] == "not_supported" and bad["claim"] != good["claim"]
        (a, b), = bad["faults"]
        assert 0 <= a < b <= len(bad["claim"])
        # outside the marked characters the claim has the original sentence's words
        words = re.findall(r"\w+", good["claim"])
        before, after = re.findall(r"\w+", bad["claim"][:a]), re.findall(r"\w+", bad["claim"][b:])
        assert words[:len(before)] == before and (not after or words[-len(after):] == after)


def test_spans_command_leaves_the_held_out_rows_out(tmp_path):
    from verisum.training.nli import read_rows, split_held_out

    data = tmp_path / "nli.jsonl"
    rows = []
    for i in range(1500):
        rows.append({"premise": f"P{i}", "hypothesis": f"Town {i} met on Monday.", "label": "supported"})
        rows.append({"premise": f"P{i}", "hypothesis": f"Town {i} met on Friday.", "label": "contradicted"})
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "spans.jsonl"
    assert spans.main(["--nli", str(data), "--out", str(out)]) == 0
    written = [json.loads(x) for x in out.read_text().splitlines()]
    held = {read_rows([str(data)])[i]["claim"] for i in split_held_out(len(rows), 13)[0]}
    assert written and not held & {r["claim"] for r in written}
    assert all(r["claim"][a:b] == "Friday" for r in written for a, b in r["faults"])


def test_fuse_joins_two_sentences_into_one_claim():
    context = "the council met. Kell is a town."
    assert spans.fuse("The council of Kell approved the new budget on Monday.",
                      "The mayor thanked all fourteen members for their work.", context) == (
        "The council of Kell approved the new budget on Monday, and the mayor thanked all fourteen members "
        "for their work.")
    # a name keeps its capital; a sentence with a link of its own, a question or a fragment is not fused
    assert spans.fuse("The council of Kell approved the new budget on Monday.",
                      "Kell will spend most of the money on its harbour.", context).endswith("and Kell will spend "
                                                                                           "most of the money on its harbour.")
    assert spans.fuse("The council of Kell approved the new budget on Monday.",
                      "But the mayor said the vote came too late.", context) is None
    assert spans.fuse("Did the council of Kell approve the new budget?", "The mayor said it did so.", context) is None
    assert spans.fuse("It passed.", "The mayor thanked all fourteen members for their work.", context) is None


def test_fused_pairs_are_supported_and_their_perturbations_marked():
    article = ("The council of Kell approved the new budget on Monday after a long debate in the town hall. "
               "The mayor thanked the fourteen members of the council for their work on the plan this year. "
               "Local taxes will rise by 3 percent next year, the treasurer told reporters on Tuesday. "
               "Most of the money will go to the harbour and to two new schools in the north of the town. "
               "The opposition said the plan would leave the town with debts for a decade to come.")
    rows = list(spans.fused_pairs([article] * 20, n=12, seed=0))
    assert any(r["kind"] == "fused" for r in rows) and any(r["kind"].startswith("fused:") for r in rows)
    numbers = list(spans.fused_pairs([article] * 20, n=12, seed=0, types=["number"]))
    assert {r["kind"] for r in numbers if r["faults"]} == {"fused:number"}
    for r in rows:
        if r["kind"] == "fused":
            assert r["label"] == "supported" and r["faults"] == []
        else:
            (a, b), = r["faults"]
            assert r["label"] == "not_supported" and 0 <= a < b <= len(r["claim"])


def test_perturbed_pairs_of_chosen_types_only_and_none_when_none_asked():
    article = ("The council of Kell approved the new budget on Monday after a long debate in the town hall. "
               "Mayor Ann Lee has thanked the fourteen members of the council for their work on the plan. "
               "Harbour chief Tom Reed said the money would go to two new schools in the north of the town. "
               "Local taxes will rise by 3 percent next year, the treasurer told reporters on Tuesday.")
    rows = list(spans.perturbed_pairs([article] * 8, n=8, seed=0, types=["recombined"]))
    bad = [r for r in rows if r["faults"]]
    assert bad and {r["kind"] for r in bad} == {"perturbed:recombined"}
    for r in bad:  # a subject of the premise with what another premise sentence says
        (a, b), = r["faults"]
        assert r["claim"] not in r["premise"] and r["claim"][a:b] in r["premise"]
    assert list(spans.perturbed_pairs([article] * 8, n=0)) == []
    assert list(spans.fused_pairs([article] * 8, n=0)) == []


def test_spans_command_rejects_an_unknown_perturbation_type(tmp_path, capsys):
    import pytest

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"text": "x" * 500}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        spans.main(["--corpus", str(corpus), "--perturb-types", "recombined,typo", "--out", str(tmp_path / "o.jsonl")])
    assert exc.value.code == 2 and "--perturb-types: error types are one or more of entity" in capsys.readouterr().err


def test_perturbed_pairs_read_premises_as_the_checker_retrieves_them():
    """With a retriever the variant may take its words from anywhere in the article, and its
    premise is what a check reads for it: the donor sentence too, however far away."""
    from verisum.document import Document
    from verisum.evidence import LexicalRetriever

    filler = " ".join(f"The {w} market in the old town opened again after the long winter of {y}."
                      for w, y in zip(["fish", "flower", "book", "cheese", "wine", "cloth"], range(1990, 1996)))
    article = ("The council of Kell approved the new budget on Monday after a long debate in the town hall. "
               "Mayor Ann Lee has thanked the fourteen members of the council for their work on the plan. " + filler
               + " Harbour chief Tom Reed was arrested in Leeds on suspicion of fraud last week by the police.")
    rows = list(spans.perturbed_pairs([article] * 40, n=40, seed=0, types=["recombined"],
                                      retriever=LexicalRetriever(), top_k=2))
    sentences = [s.text for s in Document(article).sentences]
    far = [r for r in rows if r["faults"] and r["claim"].startswith("Mayor Ann Lee was arrested")]
    assert far, rows
    for r in far:  # the subject's sentence and the donor, six sentences apart, both in the premise
        assert sentences[1] in r["premise"] and sentences[-1] in r["premise"]
        assert r["premise"].index(sentences[1]) < r["premise"].index(sentences[-1])  # source order
    for r in rows:
        if not r["faults"]:
            assert r["claim"] in r["premise"]


def _labelled(tmp_path, records):
    from verisum.evaluation.labelled import LabelledRecord, read_labelled

    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return [r for r in read_labelled([path]) if isinstance(r, LabelledRecord)]


_ARTICLE = ("The council of Kell approved the new budget on Monday after a long debate. "
            "Mayor Ann Lee thanked the fourteen members of the council for their work. "
            "The harbour will reopen in May after repairs to the old sea wall.")


def test_bench_pairs_label_each_claim_as_the_checker_splits_and_retrieves_it(tmp_path, fake_judge):
    """Labelled summaries as training rows: a faithful summary's claims are supported; in an
    unfaithful one the claim holding a marked span is not supported with the marked characters
    at fault (offsets into the claim), the other claims supported; an unfaithful summary without
    marks gives a row only when it is a single claim, its faults unknown."""
    from verisum.checker import Checker
    from verisum.evidence import LexicalRetriever

    bad = "The council approved the budget on Monday. Mayor Ann Lee thanked forty members."
    at = bad.index("forty")
    records = _labelled(tmp_path, [
        {"id": "ok", "doc": _ARTICLE, "summary": "The harbour will reopen in May.", "label": 1},
        {"id": "marked", "doc": _ARTICLE, "summary": bad, "label": 0,
         "spans": [{"start": at, "end": at + 5}]},
        {"id": "one", "doc": _ARTICLE, "summary": "The harbour will reopen in June.", "label": 0},
        {"id": "two", "doc": _ARTICLE, "summary": "The harbour reopens in June. Ann Lee left.", "label": 0},
    ])
    rows = list(spans.bench_pairs(records, Checker(fake_judge, retriever=LexicalRetriever())))
    by_claim = {r["claim"]: r for r in rows}
    assert set(by_claim) == {"The harbour will reopen in May.", "The council approved the budget on Monday.",
                             "Mayor Ann Lee thanked forty members.", "The harbour will reopen in June."}
    assert by_claim["The harbour will reopen in May."]["label"] == "supported"
    assert by_claim["The council approved the budget on Monday."]["label"] == "supported"
    wrong = by_claim["Mayor Ann Lee thanked forty members."]
    assert wrong["label"] == "not_supported"
    assert [wrong["claim"][a:b] for a, b in wrong["faults"]] == ["forty"]
    assert "Mayor Ann Lee thanked the fourteen members" in wrong["premise"]  # what the Checker retrieves
    assert by_claim["The harbour will reopen in June."] | {"premise": ""} == {
        "premise": "", "claim": "The harbour will reopen in June.", "label": "not_supported", "faults": None,
        "kind": "bench", "dataset": "bench"}


def test_spans_command_leaves_the_named_bench_sets_out(tmp_path):
    """--leave-out keeps a set's records out of the rows, by its records' "dataset" or its file's
    name, so a judge trained on the rest can be measured on it."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"doc": _ARTICLE, "summary": "The harbour will reopen in May.", "label": 1}) + "\n")
    b.write_text(json.dumps({"doc": _ARTICLE, "summary": "Mayor Ann Lee thanked the members.", "label": 1,
                             "dataset": "other"}) + "\n")
    out = tmp_path / "rows.jsonl"
    for leave_out, datasets in [([], {"a", "other"}), (["a"], {"other"}), (["other"], {"a"}), (["b"], {"a"})]:
        argv = ["--perturbed", "0", "--fused", "0", "--bench", str(a), "--bench", str(b), "--out", str(out)]
        assert spans.main(argv + [x for name in leave_out for x in ("--leave-out", name)]) == 0
        assert {json.loads(x)["dataset"] for x in out.read_text().splitlines()} == datasets



def test_spans_command_keeps_one_side_of_the_document_split(tmp_path):
    """--split keeps the bench records of one side of the project's document split (every set),
    so a judge trained on one side's documents is measured on the other's (cross-fitting by
    document); every record lands on exactly one side."""
    from verisum.evaluation import split_of

    docs = [_ARTICLE + " The mayor spoke again." * k for k in range(8)]
    side = {k: split_of(d) for k, d in enumerate(docs)}
    assert set(side.values()) == {"train", "val"}  # documents on both sides, or the test says nothing
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps({"doc": d, "summary": f"Mayor Ann Lee thanked {k + 2} members.",
                                         "label": 1, "dataset": "s"}) + "\n" for k, d in enumerate(docs)))
    out = tmp_path / "rows.jsonl"
    kept = {}
    for split in ("train", "val", "all"):
        argv = ["--perturbed", "0", "--fused", "0", "--bench", str(bench), "--split", split, "--out", str(out)]
        assert spans.main(argv) == 0
        kept[split] = {int(re.search(r"thanked (\d+)", json.loads(x)["claim"]).group(1)) - 2
                       for x in out.read_text().splitlines()}
    assert kept["train"] == {k for k, s in side.items() if s == "train"}
    assert kept["val"] == {k for k, s in side.items() if s == "val"}
    assert kept["all"] == set(side)
