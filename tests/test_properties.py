"""Property-based tests (hypothesis, a bounded number of examples per run) at every boundary
where text enters verisum: the Document and its sentences, claims, the readers, the checker
and the HTTP request models. Each returns a result or raises a VerisumError, never anything
else; the longer run of the same properties is `python benchmarks/fuzz.py` (README)."""
from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FakeJudge
from support.fuzzing import clean_texts, lines, records, request_bodies, run_boundary, texts
from verisum.checker import Checker
from verisum.records import Record, RecordError
from verisum.claims import summary_claims
from verisum.document import Document
from verisum.errors import VerisumError
from verisum.io import split_seed
from verisum.records import iter_lines, loads_json, read_records
from verisum.verdicts import CheckResult

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHECKER = Checker(FakeJudge(), top_k=2)


@SETTINGS
@given(texts)
def test_properties_document_spans_slice_the_text(text):
    doc = run_boundary(lambda: Document(text))
    if isinstance(doc, VerisumError):
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        return
    assert doc.text == text
    prev = 0
    for s in doc.sentences:
        assert prev <= s.start < s.end <= len(text)
        assert s.text == text[s.start:s.end]
        prev = s.end


@SETTINGS
@given(clean_texts)
def test_properties_claims_tile_inside_their_sentences(text):
    for sentence, claims in summary_claims(Document(text)):
        assert claims
        last = sentence.start
        for c in sorted(claims, key=lambda c: c.span.start):
            assert sentence.start <= c.span.start < c.span.end <= sentence.end
            assert c.span.start >= last  # claims never overlap
            last = c.span.end
            assert c.hypothesis.strip()


@SETTINGS
@given(st.lists(lines, min_size=1, max_size=8))
def test_properties_readers_give_one_item_per_line(raw_lines):
    stream = io.BytesIO(b"\n".join(x.replace(b"\n", b" ") for x in raw_lines) + b"\n")
    got = list(read_records(iter_lines(stream, 10_000), max_bytes=10_000))
    assert len(got) == len(raw_lines)
    for n, item in enumerate(got, start=1):
        assert isinstance(item, (Record, RecordError))
        if isinstance(item, RecordError):
            assert item.line == n and isinstance(item.error, VerisumError)


@SETTINGS
@given(lines)
def test_properties_json_decoder_raises_only_decode_errors(raw):
    try:
        loads_json(raw)
    except json.JSONDecodeError:
        pass


@SETTINGS
@given(texts)
def test_properties_seed_form_reader(text):
    run_boundary(lambda: split_seed(text, require_summary=False))


@SETTINGS
@given(texts, texts | st.lists(texts, max_size=3))
def test_properties_check_answers_or_raises_a_verisum_error(source, summary):
    out = run_boundary(lambda: CHECKER.check(source, summary))
    if isinstance(out, CheckResult):
        for sv in out.sentences:
            assert out.summary.text[sv.sentence.start:sv.sentence.end] == sv.sentence.text
            for cv in sv.claims:
                assert 0.0 <= cv.score <= 1.0
                for ev in cv.evidence:
                    assert out.source.text[ev.span.start:ev.span.end] == ev.span.text


@SETTINGS
@given(st.lists(records, max_size=5))
def test_properties_check_many_keeps_every_record(recs):
    items = [r if isinstance(r, dict) else {"doc": r} for r in recs]
    out = list(CHECKER.check_many(items, batch_size=2))
    assert len(out) == len(items)
    assert all(isinstance(o, (CheckResult, RecordError)) for o in out)


fastapi = pytest.importorskip("fastapi", reason="the [serve] extra is not installed")


@pytest.fixture(scope="module")
def api():
    from fastapi.testclient import TestClient

    from verisum.server.app import create_app
    from verisum.server.settings import ServerSettings

    with TestClient(create_app(ServerSettings(), judge=FakeJudge()), raise_server_exceptions=False) as client:
        yield client


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["/v1/check", "/v1/fix", "/v1/highlights"]), request_bodies)
def test_properties_api_answers_every_body_with_a_documented_status(api, path, body):
    r = api.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code in (200, 400, 413, 422, 501), (r.status_code, r.text[:300])
    if r.status_code != 200:
        err = r.json()
        assert err["ok"] is False and err["status"] == r.status_code and err["error"]
