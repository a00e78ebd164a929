"""Every error verisum raises, in one tree.

Callers catch :class:`VerisumError` for anything verisum-specific, or the builtin base it
shares (``InputError`` is also a ``ValueError``), as scikit-learn's ``NotFittedError`` does.
Each class carries a stable ``code`` (for JSON bodies and logs), the CLI ``exit_code`` and the
HTTP ``http_status``, so the CLI and the server map errors in exactly one place each::

    VerisumError
    ├── InputError (ValueError)            exit 2, HTTP 422
    │   ├── EmptyInput
    │   ├── NotText                        binary data
    │   ├── BadEncoding                    not UTF-8
    │   ├── InputTooLarge                  exit 2, HTTP 413
    │   └── BadRecord                      malformed JSONL line / missing field
    ├── BackendError                       exit 2, HTTP 502
    │   ├── BackendUnavailable             missing extra, model folder or server
    │   ├── BackendTimeout                 HTTP 504
    │   └── BackendResponseError           malformed, refused or truncated reply
    ├── ModelError                         shipped model files missing or corrupt, HTTP 500
    └── InternalError                      a bug in verisum, caught at a batch boundary: exit 3, HTTP 500
"""

from __future__ import annotations

__all__ = [
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
    "InternalError",
]


class VerisumError(Exception):
    """Root of every error verisum raises on purpose."""

    code: str = "verisum_error"
    exit_code: int = 2
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(VerisumError, ValueError):
    """The input cannot be used as given; the message says how to fix it."""

    code = "input_error"
    exit_code = 2
    http_status = 422


class EmptyInput(InputError):
    code = "empty_input"


class NotText(InputError):
    code = "not_text"


class BadEncoding(InputError):
    code = "bad_encoding"


class InputTooLarge(InputError):
    code = "input_too_large"
    http_status = 413


class BadRecord(InputError):
    code = "bad_record"


class BackendError(VerisumError):
    """The judge backend failed; nothing it returned was used."""

    code = "backend_error"
    exit_code = 2
    http_status = 502


class BackendUnavailable(BackendError):
    code = "backend_unavailable"
    http_status = 503


class BackendTimeout(BackendError):
    code = "backend_timeout"
    http_status = 504


class BackendResponseError(BackendError):
    code = "backend_response_error"


class ModelError(VerisumError):
    code = "model_error"
    http_status = 500


class InternalError(VerisumError):
    """An unexpected exception inside verisum, turned into an error of the one record or
    request that caused it (a batch goes on). Exit code 3, never 0 or 1: a crash is not a verdict."""

    code = "internal_error"
    exit_code = 3
    http_status = 500

    @classmethod
    def wrap(cls, exc: BaseException) -> "InternalError":
        # The exception's own text stays out: a server must not hand internals to its clients.
        return cls(f"internal error ({type(exc).__name__}); please report it")
