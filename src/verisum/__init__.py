"""verisum: check machine-written summaries against their source, and write news highlights
that hold up.

    import verisum
    result = verisum.check(article, summary)
    print(result.label, result.score)

Importing verisum loads nothing heavy; models load on first use.
"""

from .version import __version__

from .calibration import Calibrator
from .checker import Checker, check, fix
from .records import Record, RecordError
from .claims import Claim
from .document import Document, Span
from .errors import (
    BackendError,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    BadEncoding,
    BadRecord,
    EmptyInput,
    InputError,
    InputTooLarge,
    ModelError,
    NotText,
    VerisumError,
)
from .evidence import Evidence
from .judges import Judge, Judgement, Pair, get_judge
from .verdicts import CheckResult, ClaimVerdict, Label, SentenceVerdict

__all__ = [
    "__version__",
    "check",
    "fix",
    "write_highlights",
    "Checker",
    "Record",
    "RecordError",
    "Calibrator",
    "Document",
    "Span",
    "Claim",
    "Evidence",
    "Judge",
    "Judgement",
    "Pair",
    "get_judge",
    "Label",
    "CheckResult",
    "ClaimVerdict",
    "SentenceVerdict",
    "VerisumError",
    "InputError",
    "EmptyInput",
    "NotText",
    "BadEncoding",
    "InputTooLarge",
    "BadRecord",
    "BackendError",
    "BackendUnavailable",
    "BackendTimeout",
    "BackendResponseError",
    "ModelError",
]


def __getattr__(name: str):
    # write_highlights lives in verisum.highlights, which is imported only when first used.
    if name == "write_highlights":
        from .highlights import write_highlights

        return write_highlights
    raise AttributeError(f"module 'verisum' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"write_highlights"})
