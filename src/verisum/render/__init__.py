"""Human-readable views of results: ``terminal`` (rich) and ``html`` (one self-contained page).

Both read the same :class:`~verisum.verdicts.CheckResult`; neither interprets any text of the
input as markup.
"""

__all__ = ["LABEL_COLOURS", "LABEL_MARKS", "SOURCE_NOTES", "notes"]

#: Colour of each label, shared by the terminal and HTML views.
LABEL_COLOURS = {"supported": "green", "unsupported": "yellow", "contradicted": "red"}
#: A mark that still reads without colour.
LABEL_MARKS = {"supported": "✓", "unsupported": "?", "contradicted": "✗"}


#: What a result's ``meta`` says about its input that a reader must know, as one line each.
SOURCE_NOTES = {
    "transcript": "the source reads as a transcript or chat (speakers' turns): the judge was trained on prose "
                  "and flags most faithful summaries of such sources (README, \"What to expect\"); "
                  "fit a threshold on labelled examples of your own with `verisum calibrate`",
}


def notes(meta: object) -> list[str]:
    """The notes a view shows under a result, from its ``meta`` (a dict, or anything else: none)."""
    if not isinstance(meta, dict):
        return []
    kind = meta.get("source_kind")
    return [SOURCE_NOTES[kind]] if isinstance(kind, str) and kind in SOURCE_NOTES else []
