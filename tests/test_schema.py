"""The JSON schema: built from CheckResult, versioned, every span slices its text."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from verisum.errors import BadRecord, InputTooLarge
from verisum.schema import (
    SCHEMA_VERSION,
    CheckResultModel,
    ErrorModel,
    HighlightsResultModel,
    json_schemas,
)

SOURCE = "Ana 😀 opened the bridge on Monday.\r\nIt cost 5 million euros. Crowds came."
SUMMARY = "- Ana opened the bridge on Monday.\n- It cost 9 billion dollars, pleasing the Martians."


@pytest.fixture
def result(fake_checker):
    return fake_checker.check(SOURCE, SUMMARY, id="r1")


def test_schema_check_result_round_trips_and_spans_slice(result) -> None:
    model = CheckResultModel.from_result(result)
    data = json.loads(model.model_dump_json())
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert data["id"] == "r1" and data["source"] == SOURCE and data["summary"] == SUMMARY
    assert CheckResultModel.model_validate(data) == model
    assert len(data["sentences"]) == 2
    for sent in data["sentences"]:
        assert SUMMARY[sent["start"] : sent["end"]] == sent["text"]
        assert 0.0 <= sent["score"] <= 1.0
        for claim in sent["claims"]:
            assert SUMMARY[claim["start"] : claim["end"]] == claim["text"]
            assert set(claim["probs"]) == {"supported", "contradicted", "unsupported"}
            for f in claim["faults"]:
                assert SUMMARY[f["start"] : f["end"]] == f["text"]
            for ev in claim["evidence"]:
                assert SOURCE[ev["start"] : ev["end"]] == ev["text"]
    assert data["label"] == str(result.label) and data["threshold"] == result.threshold
    assert data["meta"]["judge"]["judge"] == "fake"


def test_schema_texts_are_given_once(result) -> None:
    text = CheckResultModel.from_result(result).model_dump_json()
    assert text.count("Crowds came.") == 1  # the source is not repeated per sentence


def test_schema_check_result_worse_sentence_wins(result) -> None:
    model = CheckResultModel.from_result(result)
    assert [s.label for s in model.sentences] == ["supported", "unsupported"]
    assert model.label == "unsupported"
    assert model.score == pytest.approx(sum(s.score for s in model.sentences) / len(model.sentences), abs=0.01)


def test_schema_refuses_unknown_fields_and_bad_labels(result) -> None:
    data = CheckResultModel.from_result(result).model_dump(mode="json")
    with pytest.raises(ValidationError):
        CheckResultModel.model_validate({**data, "surprise": 1})
    with pytest.raises(ValidationError):
        CheckResultModel.model_validate({**data, "label": "maybe"})
    with pytest.raises(ValidationError):
        CheckResultModel.model_validate({**data, "schema_version": 2})


def test_schema_error_model_from_exception_and_record_error() -> None:
    from verisum.records import RecordError

    err = ErrorModel.from_exception(InputTooLarge("too big"))
    assert err.model_dump() == {"ok": False, "error": "too big", "errors": [], "status": 413,
                                "code": "input_too_large", "id": None, "line": None}
    rec = ErrorModel.from_record_error(RecordError(id="a", line=3, error=BadRecord('line 3: missing field "summary"')))
    assert rec.model_dump(exclude={"errors"}) == {"ok": False, "error": 'line 3: missing field "summary"',
                                                  "status": 422, "code": "bad_record", "id": "a", "line": 3}


def test_schema_highlights_result_from_a_result(result) -> None:
    hr = SimpleNamespace(
        id="h1", highlights=("Ana opened the bridge on Monday.",), check=result,
        dropped=(SimpleNamespace(text="Martians came.", reason="unsupported by the article", label="unsupported",
                                 score=0.1),),
        meta={"writer": "extractive", "n": (1, 2)},
    )
    model = HighlightsResultModel.from_result(hr)
    data = json.loads(model.model_dump_json())
    assert data["schema_version"] == 1 and data["highlights"] == ["Ana opened the bridge on Monday."]
    assert data["check"]["summary"] == SUMMARY and data["dropped"][0]["label"] == "unsupported"
    assert data["meta"] == {"writer": "extractive", "n": [1, 2]}


def test_schema_json_schema_documents_offsets_and_required_fields() -> None:
    schemas = {name: json.loads(text) for name, text in json_schemas().items()}
    assert set(schemas) == {"check-result.schema.json", "highlights-result.schema.json", "fix-result.schema.json",
                            "error.schema.json", "report.schema.json"}
    fix = schemas["fix-result.schema.json"]
    assert {"schema_version", "ok", "source", "summary", "fixed", "edits", "check", "recheck"} <= set(fix["required"])
    check = schemas["check-result.schema.json"]
    assert {"schema_version", "label", "score", "threshold", "source", "summary", "sentences"} <= set(check["required"])
    span = check["$defs"]["SpanModel"]
    assert "Code-point offset" in span["properties"]["start"]["description"]
    assert set(schemas["error.schema.json"]["required"]) >= {"error", "status", "code"}
    report = schemas["report.schema.json"]
    assert set(report["required"]) >= {"headline", "groups", "histogram", "labelled", "worst", "bad_lines"}
