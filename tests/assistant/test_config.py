"""Settings: defaults are the embedded ones; prod refuses demo secrets; bad values are explained."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assistant.config import DEMO_JWT_SECRET, Environment, LLMBackend, Settings

STRONG = "x" * 40


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENV", "LLM_BACKEND", "DATABASE_URL", "CHROMA_URL", "CURRENCY", "SHOP_TZ"):
        monkeypatch.delenv(f"SHOPASSIST_{name}", raising=False)
    settings = Settings(_env_file=None)
    assert settings.env is Environment.DEV
    assert settings.llm_backend is LLMBackend.EMBEDDED
    assert settings.sqlalchemy_url.startswith("sqlite:///")
    assert settings.sqlalchemy_url.endswith("var/shopassist.db")
    assert settings.chroma_url is None
    assert settings.shipping_fee_minor == 600
    assert not settings.requires_signed_tokens


def test_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPASSIST_CURRENCY", "jpy")
    monkeypatch.setenv("SHOPASSIST_SHIPPING_FEE", "500")
    monkeypatch.setenv("SHOPASSIST_SHOP_TZ", "Asia/Shanghai")
    monkeypatch.setenv("SHOPASSIST_DATABASE_URL", "postgresql+psycopg://db/shop")
    settings = Settings(_env_file=None)
    assert settings.currency == "JPY"
    assert settings.shipping_fee_minor == 500
    assert settings.zone.key == "Asia/Shanghai"
    assert settings.sqlalchemy_url == "postgresql+psycopg://db/shop"


def test_prod_refuses_the_demo_secret() -> None:
    with pytest.raises(ValidationError, match="demo secret"):
        Settings(_env_file=None, env="prod", jwt_secret=DEMO_JWT_SECRET, admin_password=STRONG)


def test_prod_refuses_the_demo_admin_password() -> None:
    with pytest.raises(ValidationError, match="demo password"):
        Settings(_env_file=None, env="prod", jwt_secret=STRONG)


def test_prod_with_real_secrets_requires_signed_tokens() -> None:
    settings = Settings(_env_file=None, env="prod", jwt_secret=STRONG, admin_password=STRONG)
    assert settings.requires_signed_tokens


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("currency", "XYZ", "unknown currency 'XYZ'"),
        ("shop_tz", "Mars/Olympus", "unknown time zone"),
        ("shipping_fee", "6.001", "more than 2 decimals"),
        ("env", "staging", "Input should be 'dev', 'test' or 'prod'"),
        ("llm_backend", "openai", "needs SHOPASSIST_LLM_BASE_URL"),
    ],
)
def test_bad_settings_are_explained(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, **{field: value})
