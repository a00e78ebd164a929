"""Server settings: limits, the optional API token and the judge, from the environment.

Every field can be set by an environment variable named ``VERISUM_<FIELD>`` (for example
``VERISUM_API_TOKEN``, ``VERISUM_MAX_BODY_BYTES``) or passed to ``ServerSettings(...)``.
Nothing here is a module global: ``create_app(settings)`` takes an instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..judges.base import PremiseRule

__all__ = ["ServerSettings"]


class ServerSettings(BaseSettings):
    """What ``verisum serve`` runs with. Safe by default: loopback only, limits on."""

    model_config = SettingsConfigDict(env_prefix="VERISUM_", extra="ignore", frozen=True)

    host: str = Field("127.0.0.1", description="Address to bind; loopback unless told otherwise.")
    port: int = Field(8000, ge=0, le=65535)

    # -- limits ---------------------------------------------------------------------------
    max_body_bytes: int = Field(
        2_000_000, ge=1, description="Largest request body accepted; a larger one gets 413."
    )
    max_source_chars: int = Field(
        1_000_000, ge=1, description="Longest article (in characters) accepted; a longer one gets 413."
    )
    max_summary_sentences: int = Field(
        50, ge=1, description="Most summary sentences checked per request; more gets 413."
    )
    max_highlights: int = Field(10, ge=1, description="Largest n accepted by /v1/highlights.")

    # -- access ---------------------------------------------------------------------------
    api_token: SecretStr | None = Field(
        None,
        description="When set (VERISUM_API_TOKEN), /v1 routes need 'Authorization: Bearer <token>'.",
    )

    # -- the judge ------------------------------------------------------------------------
    judge: str = Field("embedded", description="Judge backend by registry name.")
    judge_params: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments for the judge's constructor (JSON in the environment)."
    )
    top_k: int = Field(3, ge=1, le=20, description="Evidence sentences retrieved per claim.")
    premises: PremiseRule | None = Field(
        None, description="What each claim is judged against: join_first, sentences or joined "
                          "(the judge's or model's own rule when unset, else join_first).")
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="Default P(supported) threshold.")
    calibration: Path | None = Field(None, description="A calibration file saved by `verisum calibrate`.")

    # -- batching -------------------------------------------------------------------------
    max_batch: int = Field(
        16, ge=1, description="Most requests joined into one pass through the model."
    )
    max_queue: int = Field(
        256, ge=1, description="Most requests waiting for the model; more get 503 (retry later)."
    )
    batch_wait_ms: float = Field(
        2.0, ge=0.0, le=1000.0,
        description="How long the worker waits for more requests to join a batch once one arrives.",
    )

    @field_validator("api_token")
    @classmethod
    def _empty_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        # VERISUM_API_TOKEN="" must not mean "the empty string is the token".
        if value is not None and not value.get_secret_value():
            return None
        return value
