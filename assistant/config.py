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
from ipaddress import ip_network
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.money import Currency

if TYPE_CHECKING:
    from limits import RateLimitItem

RATE_STRATEGIES = ("fixed-window", "moving-window", "sliding-window-counter")
"""The rate-limit strategies of the ``limits`` package that ``rate_limit_strategy`` may name."""

__all__ = [
    "DEMO_ADMIN_PASSWORD",
    "RATE_STRATEGIES",
    "DEMO_JWT_SECRET",
    "Environment",
    "LLMBackend",
    "Settings",
    "get_settings",
    "rate_limit_items",
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
    rate_limit_user: str = Field(
        default="30/minute",
        description="requests per user (the token's sub; the body's user_id in dev) on the "
        'JSON API, in the `limits` notation: "30/minute", "5/second;100/hour"',
    )
    rate_limit_ip: str = Field(
        default="120/minute", description="requests per client address on the JSON API"
    )
    rate_limit_load: str = Field(
        default="100000/minute",
        description='the raised limit of a verified token with the claim shopassist_rate="load" '
        "(load tests), per user and per address",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description='"memory://" (per process) or "redis://HOST:PORT[/DB]" (shared by workers)',
    )
    rate_limit_strategy: str = Field(
        default="fixed-window",
        description='"fixed-window", "moving-window" or "sliding-window-counter"',
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks of the proxies whose X-Forwarded-For is honoured "
        "(JSON list in the environment: '[\"10.0.0.0/8\"]'); empty: never",
    )
    session_token_budget: int | None = Field(
        default=20_000,
        ge=0,
        description="LLM tokens (prompt + completion) a session may spend; past it its turns "
        'run on rules and templates. Empty or "none": no budget',
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

    @field_validator("rate_limit_user", "rate_limit_ip", "rate_limit_load")
    @classmethod
    def _rate_limit(cls, value: str, info: ValidationInfo) -> str:
        rate_limit_items(value, f"SHOPASSIST_{(info.field_name or '').upper()}")
        return value

    @field_validator("session_token_budget", mode="before")
    @classmethod
    def _no_budget(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "none", "null"):
            return None
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _rate_storage(cls, value: str) -> str:
        scheme = value.partition("://")[0]
        if scheme not in ("memory", "redis", "rediss", "redis+unix") or "://" not in value:
            raise ValueError(
                f"SHOPASSIST_RATE_LIMIT_STORAGE={value!r} is not supported; use 'memory://' or "
                "'redis://HOST:PORT[/DB]'"
            )
        return value

    @field_validator("rate_limit_strategy")
    @classmethod
    def _rate_strategy(cls, value: str) -> str:
        if value not in RATE_STRATEGIES:
            raise ValueError(
                f"SHOPASSIST_RATE_LIMIT_STRATEGY={value!r} is unknown; use one of "
                + ", ".join(RATE_STRATEGIES)
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"SHOPASSIST_TRUSTED_PROXIES entry {entry!r} is not an IP address or network"
                ) from None
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


def rate_limit_items(value: str, name: str) -> list[RateLimitItem]:
    """The limits a rate-limit string names (the ``limits`` package's notation).

    Args:
        value: E.g. ``"30/minute"``, ``"5 per second"`` or ``"10/second;200/hour"``.
        name: The setting, for the message.

    Raises:
        ValueError: ``value`` is no rate limit, or allows nothing.
    """
    from limits import parse_many  # lazily: only the API server needs the package

    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(
            f"{name}={value!r} is not a rate limit; write e.g. '30/minute', '5 per second' or "
            "'10/second;200/hour' (at least 1 per period)"
        )
    return items


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
