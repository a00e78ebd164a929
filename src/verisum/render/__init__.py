"""Human-readable views of results: ``terminal`` (rich) and ``html`` (one self-contained page).

Both read the same :class:`~verisum.verdicts.CheckResult`; neither interprets any text of the
input as markup.
"""

__all__ = ["LABEL_COLOURS", "LABEL_MARKS"]

#: Colour of each label, shared by the terminal and HTML views.
LABEL_COLOURS = {"supported": "green", "unsupported": "yellow", "contradicted": "red"}
#: A mark that still reads without colour.
LABEL_MARKS = {"supported": "✓", "unsupported": "?", "contradicted": "✗"}
