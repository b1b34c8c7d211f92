"""Settings that every part of shopassist shares (DESIGN.md "Settings that everything shares").

One `pydantic-settings` class, environment prefix ``SHOPASSIST_``, loaded once through
:func:`get_settings`. The defaults are the embedded ones (a SQLite file and a Chroma directory
under ``var/``, the bundled models); production swaps URLs, not code. ``prod`` refuses the demo
secrets.

Example:
    >>> from assistant.config import Settings
    >>> Settings(currency="usd").currency
    'USD'
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.money import Currency

__all__ = [
    "DEMO_ADMIN_PASSWORD",
    "DEMO_JWT_SECRET",
    "Environment",
    "LLMBackend",
    "Settings",
    "get_settings",
]

DEMO_JWT_SECRET = "shopassist-demo-secret-change-me"  # noqa: S105 - refused in prod
DEMO_ADMIN_PASSWORD = "shopassist-demo"  # noqa: S105 - refused in prod


class Environment(StrEnum):
    """Where shopassist runs; ``prod`` refuses demo secrets and requires signed tokens."""

    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class LLMBackend(StrEnum):
    """Which LLM understands and phrases: the bundled model, an OpenAI-compatible server, none."""

    EMBEDDED = "embedded"
    OPENAI = "openai"
    RULES = "rules"


class Settings(BaseSettings):
    """Every setting, read from ``SHOPASSIST_*`` environment variables (and ``.env``)."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPASSIST_", env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = Environment.DEV
    llm_backend: LLMBackend = LLMBackend.EMBEDDED
    llm_base_url: str | None = None
    llm_model: str | None = None
    currency: str = "USD"
    shop_tz: str = "UTC"
    var_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset means SQLite at var/shopassist.db"
    )
    chroma_url: str | None = Field(default=None, description="unset means local var/chroma")
    embedder: str = Field(
        default="use",
        description='"use" (USE-multilingual, bundled), "minilm" (English) or '
        '"openai:<model>@<base_url>" (a vLLM-served embedding model)',
    )
    jwt_secret: SecretStr = SecretStr(DEMO_JWT_SECRET)
    admin_password: SecretStr = SecretStr(DEMO_ADMIN_PASSWORD)
    shipping_fee: str = Field(default="6.00", description="flat fee in the shop currency")
    ranker: Literal["promoted", "heuristic"] = Field(
        default="promoted",
        description='"promoted": the ranker `shopassist ranker promote` let through (the '
        'heuristic until one is); "heuristic": always the documented heuristic',
    )

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return Currency.of(value).code

    @field_validator("shop_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'UTC' or 'Asia/Shanghai'"
            ) from exc
        return value

    @model_validator(mode="after")
    def _checks(self) -> Self:
        self.shipping_fee_minor  # noqa: B018 - validates the amount for this currency
        if self.env is Environment.PROD:
            if self.jwt_secret.get_secret_value() == DEMO_JWT_SECRET:
                raise ValueError("SHOPASSIST_JWT_SECRET is the demo secret; set a real one in prod")
            if len(self.jwt_secret.get_secret_value()) < 32:
                raise ValueError("SHOPASSIST_JWT_SECRET must be at least 32 characters in prod")
            if self.admin_password.get_secret_value() == DEMO_ADMIN_PASSWORD:
                raise ValueError(
                    "SHOPASSIST_ADMIN_PASSWORD is the demo password; set a real one in prod"
                )
        if self.llm_backend is LLMBackend.OPENAI and not self.llm_base_url:
            raise ValueError("SHOPASSIST_LLM_BACKEND=openai needs SHOPASSIST_LLM_BASE_URL")
        return self

    @property
    def shop_currency(self) -> Currency:
        """The one currency of the shop."""
        return Currency.of(self.currency)

    @property
    def zone(self) -> ZoneInfo:
        """The shop's time zone; activity schedules are in shop time."""
        return ZoneInfo(self.shop_tz)

    @property
    def shipping_fee_minor(self) -> int:
        """The flat shipping fee in minor units of the shop currency."""
        return self.shop_currency.parse(self.shipping_fee)

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to a WAL-mode SQLite file under ``var_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'shopassist.db').resolve()}"

    @property
    def requires_signed_tokens(self) -> bool:
        """Whether a request without a valid JWT is refused (everywhere but dev)."""
        return self.env is not Environment.DEV


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
