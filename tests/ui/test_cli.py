"""The ``shopassist`` CLI as a user meets it: help everywhere, one-line errors, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import get_settings
from ui.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "catalog"
SUBCOMMANDS = [
    [],
    ["config"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["db", "check"],
    ["catalog"],
    ["catalog", "import"],
    ["catalog", "export"],
    ["catalog", "remove"],
    ["deals"],
    ["deals", "quote"],
    ["claim"],
]


@pytest.fixture
def shop_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh SQLite store under tmp_path, configured through the environment."""
    monkeypatch.setenv("SHOPASSIST_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setenv("SHOPASSIST_CURRENCY", "USD")
    monkeypatch.setenv("SHOPASSIST_SHOP_TZ", "UTC")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=lambda w: " ".join(w) or "shopassist")
def test_every_subcommand_has_help(words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*words, "--help"])
    assert done.value.code == 0
    assert "usage: shopassist" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bogus"], "invalid choice: 'bogus'"),
        (["deals", "quote", "--user", "u"], "the following arguments are required: --cart"),
        (["deals", "quote", "--user", "u", "--cart", "P1:0"], "quantity >= 1"),
        (["deals", "quote", "--user", "u", "--cart", "P1:x"], "quantity 'x' is not a number"),
        (
            ["deals", "quote", "--user", "u", "--cart", "P1", "--now", "2030-01-01T00:00"],
            "has no time zone",
        ),
        (["catalog", "export", "users", "x.jsonl"], "invalid choice: 'users'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_import_quote_and_claim(shop_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    code, out, _ = run(capsys, "catalog", "import", str(EXAMPLES / "products.jsonl"))
    assert (code, out.strip()) == (
        0,
        "products.jsonl: 5 products (5 inserted, 0 updated, 0 unchanged)",
    )
    assert run(capsys, "catalog", "import", str(EXAMPLES / "activities.jsonl"))[0] == 0
    # Outside the daily flash-sale slot, two shoes get the 20% shoe discount, the 100 tier of
    # the threshold and the Stride coupon (to be claimed).
    code, out, _ = run(
        capsys,
        "deals",
        "quote",
        "--user",
        "u1",
        "--cart",
        "P1:2",
        "--json",
        "--now",
        "2030-01-15T12:00:00Z",
    )
    quote = json.loads(out)
    assert code == 0
    assert quote["lines"][0]["item_deal"]["activity_id"] == "A1"
    assert (quote["goods_total"], quote["shipping"], quote["to_claim"]) == ("81.00", "0.00", ["A4"])
    code, out, _ = run(capsys, "claim", "--user", "u1", "A4", "--idempotency-key", "k1")
    assert code == 0 and json.loads(out)["amount"] == "10.00"
    code, _, err = run(capsys, "claim", "--user", "u1", "A4")
    assert code == 1 and "per_user_limit" in err


def test_bad_catalog_changes_nothing(shop_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "db", "upgrade")
    bad = shop_env / "products.jsonl"
    bad.write_text(
        '{"id": "P1", "title": "ok", "category": "a/b", "brand": "B", "price": "1.00"}\n'
        '{"id": "P2", "title": "neg", "category": "a/b", "brand": "B", "price": "-3"}\n'
        "{not json\n"
    )
    code, _, err = run(capsys, "catalog", "import", str(bad))
    assert code == 2
    assert "line 2" in err and "negative" in err and "line 3" in err
    assert err.count("\n") == 1
    out_file = shop_env / "out.jsonl"
    assert run(capsys, "catalog", "export", "products", str(out_file))[0] == 0
    assert out_file.read_text() == ""


@pytest.mark.parametrize("price", ["1e999999999", "Infinity", "9" * 40])
def test_a_price_beyond_any_amount_is_a_bad_row(
    shop_env: Path, capsys: pytest.CaptureFixture[str], price: str
) -> None:
    # Regression: "1e999999999" escaped as decimal.Overflow, a traceback instead of exit 2.
    run(capsys, "db", "upgrade")
    bad = shop_env / "products.csv"
    bad.write_text(f"id,title,category,brand,price\nP1,ok,a/b,B,1.00\nP2,big,a/b,B,{price}\n")
    code, out, err = run(capsys, "catalog", "import", str(bad))
    assert (code, out) == (2, "")
    assert err.startswith("shopassist: error: ") and err.count("\n") == 1
    assert "line 3: price: amount" in err
    assert ("not a finite number" if price == "Infinity" else "is too large") in err


def test_a_shipping_fee_beyond_any_amount_is_a_settings_error(
    shop_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPASSIST_SHIPPING_FEE", "1e999999999")
    code, out, err = run(capsys, "config")
    assert (code, out) == (2, "")
    assert err.startswith("shopassist: error: bad settings: ") and err.count("\n") == 1
    assert "amount '1e999999999' is too large" in err


def test_a_user_id_ending_in_a_newline_is_refused(
    shop_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Regression: "$" matched before the final newline, so "alice\n" became a second user.
    run(capsys, "db", "upgrade")
    assert run(capsys, "catalog", "import", str(EXAMPLES / "products.jsonl"))[0] == 0
    code, out, err = run(capsys, "deals", "quote", "--user", "alice\n", "--cart", "P1")
    assert (code, out) == (2, "")
    assert err.startswith("shopassist: error: user id 'alice\\n' must be 1-128 letters")
    assert err.count("\n") == 1


def test_unknown_products_in_a_cart(shop_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "db", "upgrade")
    code, _, err = run(capsys, "deals", "quote", "--user", "u1", "--cart", "NOPE")
    assert code == 2
    assert err.strip() == "shopassist: error: cart cannot be priced: unknown product id(s): NOPE"


def test_a_store_that_was_never_migrated(
    shop_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "deals", "quote", "--user", "u1", "--cart", "P1")
    assert code == 1
    assert "shopassist db upgrade" in err


def test_the_installed_entry_point(shop_env: Path) -> None:
    exe = shutil.which("shopassist", path=str(Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run([exe, "deals", "quote"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("shopassist deals quote: error:")
