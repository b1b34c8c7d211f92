"""The sample host shop: its token endpoint mints what the assistant accepts, its page carries
the widget's one tag and no secret, and it refuses to start without a real secret outside dev."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import jwt
import pytest

from assistant.config import DEMO_JWT_SECRET
from ui.api._auth import Authenticator
from ui.api._errors import ApiError
from ui.cli import build_parser

from ._widget_host import host_shop, run_host
from .conftest import free_port

SECRET = "s3cret-shared-by-shop-and-assistant-0123456789"
PROD = {"SHOPASSIST_ENV": "prod", "SHOPASSIST_JWT_SECRET": SECRET}
ASSISTANT = "http://127.0.0.1:7999"

pytestmark = pytest.mark.integration


def test_the_token_is_the_signed_in_shoppers_and_verifies_with_the_shared_secret(
    tmp_path: Path,
) -> None:
    port = free_port()
    args = ("--assistant", ASSISTANT, "--user", "shopper-42", "--ttl", "600")
    with host_shop(port, *args, env=PROD, log=tmp_path / "host.log") as origin:
        response = httpx.get(f"{origin}/shopassist-token")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
        assert claims["sub"] == body["user_id"] == "shopper-42"
        assert 590 <= claims["exp"] - time.time() <= 600
        # What the assistant does with it: outside dev, the token is the identity.
        identity = Authenticator(SECRET, dev=False).identify(f"Bearer {body['token']}")
        assert identity.subject == "shopper-42" and not identity.agent
        with pytest.raises(ApiError, match="the token is invalid: Signature verification failed"):
            Authenticator("another-secret-" * 3, dev=False).identify(f"Bearer {body['token']}")


def test_the_page_carries_the_widget_tag_and_never_the_secret(tmp_path: Path) -> None:
    port = free_port()
    with host_shop(port, "--assistant", ASSISTANT, env=PROD, log=tmp_path / "h.log") as origin:
        page = httpx.get(f"{origin}/")
        missing = httpx.get(f"{origin}/admin")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (
        f'<script src="{ASSISTANT}/widget.js" data-token-url="/shopassist-token" defer>'
        in page.text
    )
    assert "demo-shopper" in page.text  # the signed-in shopper
    assert SECRET not in page.text
    assert missing.status_code == 404 and "try /" in missing.json()["error"]


def test_in_dev_without_a_secret_it_signs_with_the_assistants_dev_default(tmp_path: Path) -> None:
    env = {"SHOPASSIST_ENV": "dev", "SHOPASSIST_JWT_SECRET": ""}
    with host_shop(free_port(), env=env, log=tmp_path / "host.log") as origin:
        token = httpx.get(f"{origin}/shopassist-token").json()["token"]
    assert jwt.decode(token, DEMO_JWT_SECRET, algorithms=["HS256"])["sub"] == "demo-shopper"
    assert "signing with the dev demo secret" in (tmp_path / "host.log").read_text()


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "SHOPASSIST_JWT_SECRET is not set \\(SHOPASSIST_ENV=prod\\)"),
        (DEMO_JWT_SECRET, "is the demo secret or under 32 characters"),
        ("short", "is the demo secret or under 32 characters"),
    ],
)
def test_outside_dev_it_refuses_to_start_without_a_real_secret(secret: str, message: str) -> None:
    done = run_host(
        "--port", str(free_port()), env={"SHOPASSIST_ENV": "prod", "SHOPASSIST_JWT_SECRET": secret}
    )
    assert done.returncode == 2
    assert done.stderr.startswith("widget_host: ")
    assert "export SHOPASSIST_JWT_SECRET=" in done.stderr
    assert re.search(message, done.stderr)


def test_bad_options_are_refused_with_what_to_use() -> None:
    bad_url = run_host("--assistant", "ftp://x/y", env=PROD)
    assert bad_url.returncode == 2
    assert "--assistant 'ftp://x/y' must look like http://127.0.0.1:7860" in bad_url.stderr
    bad_port = run_host("--port", "99999", env=PROD)
    assert bad_port.returncode == 2 and "port 99999 is not in 0-65535" in bad_port.stderr
    bad_ttl = run_host("--ttl", "5", env=PROD)
    assert (
        bad_ttl.returncode == 2 and "a token lifetime of 5 s is not in 60-86400" in bad_ttl.stderr
    )


def test_help_explains_the_secret_and_the_cors_origin() -> None:
    done = run_host("--help", env={})
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "SHOPASSIST_JWT_SECRET" in text
    assert "shopassist serve --cors-origin" in text
    assert "--assistant" in text and "--port" in text


def test_serve_takes_the_hosts_origin_and_refuses_what_is_no_origin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    args = parser.parse_args(
        [
            "serve",
            "--cors-origin",
            "http://127.0.0.1:8000/",
            "--cors-origin",
            "https://shop.example",
        ]
    )
    assert args.cors_origin == ["http://127.0.0.1:8000", "https://shop.example"]
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["serve", "--cors-origin", "https://shop.example/checkout"])
    assert exited.value.code == 2
    assert "'https://shop.example/checkout' is not an origin" in capsys.readouterr().err
