"""Chroma collections that hold our own embeddings: one :class:`ChromaIndex` per collection.

Chroma never embeds anything here: every write and query carries vectors, and every collection
is opened with ``embedding_function=None`` (its default function downloads an ONNX model, which
fails offline). Collections use cosine distance; :meth:`ChromaIndex.query` returns
``score = 1 - distance``. Each collection records the embedder's name, the dimension and
:data:`SCHEMA_VERSION` in its metadata and refuses to open for a different embedder.

A record may hold at most :data:`MAX_LIST_ITEMS` list elements as Chroma lists; longer lists are
stored packed (see :data:`MAX_LIST_ITEMS`) and unpacked again by :meth:`ChromaIndex.export`.

``chromadb`` is imported lazily (about a second), so importing :mod:`retrieval` stays cheap.

Example:
    >>> client = make_client(Path("var/chroma"))  # doctest: +SKIP
    >>> index = ChromaIndex.open(client, "products", dim=512, embedder_name="use-m3")  # +SKIP
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import numpy as np
from numpy.typing import NDArray

from retrieval._index_errors import (
    ChromaUnavailableError,
    IndexDamagedError,
    IndexMismatchError,
)
from retrieval._index_meta import IndexItem

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

__all__ = [
    "MAX_LIST_ITEMS",
    "SCHEMA_VERSION",
    "ChromaIndex",
    "IndexExport",
    "discard_local_index",
    "make_client",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
"""Bumped when the stored metadata schema changes; an older collection must be rebuilt."""

MAX_LIST_ITEMS = 5000
"""List elements (all list-valued keys together) one record stores as Chroma lists.

Chroma's local SQLite writer (chromadb 1.5) inserts all of a record's list elements in one
statement with six parameters each, and SQLite allows 32,766 parameters: a record with 5,462 or
more elements is accepted by ``upsert`` and logged, then fails to apply ("Error in compaction:
Failed to apply logs to the metadata segment"), and every later read of the collection fails
on the same log entry. So the longest lists of a record over this budget are stored as a JSON
string under ``KEY@json`` instead (a ``where`` on ``KEY`` does not see them; nothing filters on
``scope_products``, the one list that grows this long), and :meth:`ChromaIndex.export` returns
them as ordinary tuples under ``KEY``.
"""

_PACKED = "@json"

_DB_FILE = "chroma.sqlite3"
_OPENED: dict[str, tuple[int, int] | None] = {}
"""Local Chroma directories this process opened -> the identity of their SQLite file then."""


def _settings() -> Any:
    from chromadb.config import Settings

    # A fresh object per client: chromadb mutates the one it is given.
    return Settings(anonymized_telemetry=False)


def make_client(path: Path | None = None, url: str | None = None) -> ClientAPI:
    """A Chroma client: a server when ``url`` is given, else a local persistent directory.

    Args:
        path: Directory of a ``chromadb.PersistentClient`` (created if missing).
        url: ``http://HOST:PORT`` (or ``https://``) of a ``chroma run`` server; wins over
            ``path`` (it is ``SHOPASSIST_CHROMA_URL``).

    Raises:
        ValueError: Neither given, or a malformed URL.
        ChromaUnavailableError: The server does not answer.
        IndexDamagedError: The local directory cannot be opened (rebuild it).
    """
    import chromadb

    if url:
        parts = urlsplit(url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
        ):
            raise ValueError(f"Chroma URL {url!r} must look like http://HOST:PORT")
        ssl = parts.scheme == "https"
        port = parts.port or (443 if ssl else 8000)
        try:
            client = chromadb.HttpClient(parts.hostname, port, ssl=ssl, settings=_settings())
            client.heartbeat()
        except Exception as exc:
            raise ChromaUnavailableError(
                f"the Chroma server at {url} is not reachable ({exc}); start it with "
                f"`chroma run --path var/chroma --host {parts.hostname} --port {port}` "
                "or unset SHOPASSIST_CHROMA_URL to use the local directory"
            ) from exc
        return client
    if path is None:
        raise ValueError("give a Chroma directory (path) or a server URL")
    path.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    if key in _OPENED and _OPENED[key] != _file_id(path / _DB_FILE):
        # The directory was deleted or rebuilt by someone else since this process opened it:
        # chromadb would hand back its cached client, still reading the old (unlinked) files.
        _forget_system(path)
    try:
        client = chromadb.PersistentClient(path, settings=_settings())
    except Exception as exc:  # a damaged directory fails in many ways (see below)
        _forget_system(path)
        # chromadb 1.5 cleans up a failed open twice, so an AttributeError may hide the cause
        cause = exc.__context__ if isinstance(exc, AttributeError) and exc.__context__ else exc
        raise IndexDamagedError(
            f"the Chroma directory {path} cannot be opened ({cause}): the index is damaged; "
            "run `shopassist index --rebuild` (SQL is the source of truth, nothing is lost)"
        ) from exc
    _OPENED[key] = _file_id(path / _DB_FILE)
    return client


def discard_local_index(path: Path) -> None:
    """Delete a local Chroma directory that cannot be opened any more, to build it again.

    Hold :func:`retrieval.index_lock` around it. Clients of ``path`` this process made earlier
    are dropped from chromadb's cache (the next :func:`make_client` starts afresh).

    Args:
        path: The directory given to :func:`make_client`.
    """
    _forget_system(path)
    if path.exists():
        shutil.rmtree(path)
        logger.warning("removed the unreadable Chroma directory %s", path)


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _forget_system(path: Path) -> None:
    """Drop chromadb's cached client system of the directory ``path``.

    chromadb keeps one system per directory for the life of the process and offers no public
    way to drop just one (``clear_system_cache`` drops them all), hence its private maps. The
    old system is not stopped: clients still holding it keep their (stale) view until dropped.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    key = path.resolve()
    systems = SharedSystemClient._identifier_to_system
    for identifier in [i for i in systems if Path(i).resolve() == key]:
        systems.pop(identifier, None)
        SharedSystemClient._identifier_to_refcount.pop(identifier, None)
    _OPENED.pop(str(key), None)


@dataclass(frozen=True)
class IndexExport:
    """A whole collection in memory, rows aligned.

    Attributes:
        ids: Record ids, shape ``(n,)``.
        vectors: float32, shape ``(n, dim)``, unit rows.
        metadatas: Each record's metadata (lists as tuples; ``content_hash``/``text_hash``
            included).
    """

    ids: tuple[str, ...]
    vectors: NDArray[np.float32]
    metadatas: tuple[Mapping[str, Any], ...]


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _stored_metadata(item: IndexItem) -> dict[str, Any]:
    """What Chroma stores for ``item``: lists as lists, over-long ones packed as JSON strings."""
    meta: dict[str, Any] = {
        k: list(v) if isinstance(v, tuple) else v for k, v in item.metadata.items()
    }
    lists = sorted((k for k, v in meta.items() if isinstance(v, list)), key=lambda k: -len(meta[k]))
    total = sum(len(meta[k]) for k in lists)
    for key in lists:
        if total <= MAX_LIST_ITEMS:
            break
        total -= len(meta[key])
        meta[key + _PACKED] = json.dumps(meta.pop(key), ensure_ascii=False, separators=(",", ":"))
    meta["content_hash"] = item.content_hash
    meta["text_hash"] = item.text_hash
    return meta


def _tupled(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """Stored metadata as items hold it: lists as tuples, packed lists unpacked."""
    out: dict[str, Any] = {}
    for key, value in (meta or {}).items():
        if key.endswith(_PACKED) and isinstance(value, str):
            out[key.removesuffix(_PACKED)] = tuple(json.loads(value))
        else:
            out[key] = tuple(value) if isinstance(value, list) else value
    return out


class ChromaIndex:
    """One Chroma collection of ``dim``-d vectors from one embedder, with item metadata.

    Use :meth:`open`, not the constructor. Writes are idempotent upserts by id; only one
    process should write at a time (:func:`retrieval.index_lock`).
    """

    def __init__(self, client: ClientAPI, collection: Collection, *, dim: int, embedder: str):
        self._client = client
        self._collection = collection
        self.name: str = collection.name
        self.dim = dim
        self.embedder_name = embedder
        self.max_batch_size: int = client.get_max_batch_size()
        self.page_size = 2000  # records per get() when scanning the whole collection

    @classmethod
    def open(
        cls,
        client: ClientAPI,
        name: str,
        *,
        dim: int,
        embedder_name: str,
        rebuild: bool = False,
    ) -> ChromaIndex:
        """Open (creating it if needed) the collection ``name``.

        Args:
            client: From :func:`make_client`.
            name: Collection name, e.g. ``"products"`` (3-512 chars of ``[a-zA-Z0-9._-]``; tests
                prefix a namespace).
            dim: The embedder's dimension.
            embedder_name: The embedder's stable ``name``.
            rebuild: Drop the collection first and start empty.

        Raises:
            IndexMismatchError: The collection was built with another embedder, dimension or
                schema version (or not by shopassist); rebuild to replace it.
        """
        if dim < 1:
            raise ValueError(f"dim must be positive, got {dim}")
        revision = _drop(client, name) + 1 if rebuild else 0
        wanted = _collection_metadata(dim, embedder_name, revision=revision)
        collection = client.get_or_create_collection(
            name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata=wanted,
            embedding_function=None,
        )
        stored = dict(collection.metadata or {})
        found = {k: stored.get(k) for k in ("shopassist_schema", "dim", "embedder", "space")}
        expected = {k: wanted[k] for k in found}
        if found != expected:
            raise IndexMismatchError(
                f"Chroma collection {name!r} was built as {found}, but this run needs "
                f"{expected}: run `shopassist index --rebuild` to rebuild it"
            )
        return cls(client, collection, dim=dim, embedder=embedder_name)

    def refresh(self) -> None:
        """Take up the collection of this name again: another process may have rebuilt it
        (a handle on the dropped collection fails). Never creates it.

        Raises:
            IndexMismatchError: It was rebuilt for another embedder or dimension.
            chromadb.errors.NotFoundError: It does not exist (a rebuild is under way).
        """
        collection = self._client.get_collection(self.name, embedding_function=None)
        stored = collection.metadata or {}
        if (stored.get("dim"), stored.get("embedder")) != (self.dim, self.embedder_name):
            raise IndexMismatchError(
                f"Chroma collection {self.name!r} was rebuilt for {stored.get('embedder')!r} "
                f"(dim {stored.get('dim')}), not {self.embedder_name!r}: restart with that embedder"
            )
        self._collection = collection

    def reset(self) -> None:
        """Drop the collection and recreate it empty (``--rebuild``).

        The revision keeps rising across the rebuild, so readers never see an old number again.
        """
        revision = _drop(self._client, self.name) + 1
        self._collection = self._client.create_collection(
            self.name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata=_collection_metadata(self.dim, self.embedder_name, revision=revision),
            embedding_function=None,
        )

    @property
    def revision(self) -> int:
        """A counter that tells readers holding an in-memory copy when to reload it.

        Each sync that writes bumps it before and after its writes, and a rebuild raises it too
        (then reopen the index: the collection was replaced).
        """
        meta = self._client.get_collection(self.name, embedding_function=None).metadata or {}
        return int(meta.get("revision", 0))

    def bump_revision(self) -> int:
        """Increase :attr:`revision` by one and return the new value."""
        new = self.revision + 1
        self._collection.modify(
            metadata=_collection_metadata(self.dim, self.embedder_name, revision=new)
        )
        return new

    def count(self) -> int:
        """Number of records."""
        return self._collection.count()

    def upsert(self, items: Sequence[IndexItem], vectors: NDArray[np.floating[Any]]) -> None:
        """Insert or replace records; each chunk of ``max_batch_size`` is one atomic write.

        Chroma merges metadata on upsert, so keys an existing record had and the new item
        lacks are deleted explicitly: the stored metadata is exactly the item's (lists over
        :data:`MAX_LIST_ITEMS` packed as JSON).

        Args:
            items: The records; ids unique.
            vectors: Their embeddings, shape ``(len(items), dim)``.

        Raises:
            ValueError: Shapes disagree, a vector is not finite, an id repeats, or a metadata
                key ends ``@json``.
        """
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape != (len(items), self.dim):
            raise ValueError(
                f"vectors must have shape ({len(items)}, {self.dim}), got {matrix.shape}"
            )
        if not np.isfinite(matrix).all():
            raise ValueError("vectors must be finite")
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique within one upsert")
        for item in items:
            packed = [k for k in item.metadata if k.endswith(_PACKED)]
            if packed:
                raise ValueError(f"item {item.id!r}: metadata key {packed[0]!r} ends {_PACKED!r}")
        for part in _chunks(len(items), self.max_batch_size):
            batch = items[part]
            old = self._collection.get(ids=ids[part], include=["metadatas"])
            old_metas = old["metadatas"] or []
            old_keys = {i: set(m or {}) for i, m in zip(old["ids"], old_metas, strict=True)}
            metadatas: list[dict[str, Any]] = []
            for item in batch:
                meta = _stored_metadata(item)
                meta.update(dict.fromkeys(old_keys.get(item.id, set()) - meta.keys()))
                metadatas.append(meta)
            self._collection.upsert(
                ids=ids[part], embeddings=matrix[part], metadatas=cast(Any, metadatas)
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Delete records by id (unknown ids are ignored)."""
        for part in _chunks(len(ids), self.max_batch_size):
            self._collection.delete(ids=list(ids[part]))

    def _scan(self, include: list[str]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._collection.get(
                include=cast(Any, include), limit=self.page_size, offset=offset
            )
            if not page["ids"]:
                return
            yield cast(dict[str, Any], page)
            offset += len(page["ids"])

    def stored_hashes(self) -> dict[str, tuple[str, str]]:
        """``{id: (content_hash, text_hash)}`` for every record (empty strings if absent)."""
        out: dict[str, tuple[str, str]] = {}
        for page in self._scan(["metadatas"]):
            for rid, meta in zip(page["ids"], page["metadatas"], strict=True):
                meta = meta or {}
                out[rid] = (str(meta.get("content_hash", "")), str(meta.get("text_hash", "")))
        return out

    def get_hashes(self) -> dict[str, str]:
        """``{id: content_hash}`` for every record."""
        return {rid: pair[0] for rid, pair in self.stored_hashes().items()}

    def get_vectors(self, ids: Sequence[str]) -> NDArray[np.float32]:
        """Stored vectors in the order of ``ids``, shape ``(len(ids), dim)``, float32.

        Raises:
            KeyError: Some ids are not in the index.
        """
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        row = {rid: i for i, rid in enumerate(ids)}
        found: set[str] = set()
        for part in _chunks(len(ids), self.max_batch_size):
            got = self._collection.get(ids=list(ids[part]), include=["embeddings"])
            if got["ids"]:
                embeddings = np.asarray(got["embeddings"], dtype=np.float32)
                out[[row[rid] for rid in got["ids"]]] = embeddings
                found.update(got["ids"])
        if len(found) != len(row):
            missing = sorted(set(row) - found)
            raise KeyError(f"not in index {self.name!r}: {missing[:5]} ({len(missing)} in all)")
        return out

    def verify(self) -> int:
        """Read every record's vector back and run one query, as serving will.

        A sync reads only metadata, so a damaged or missing HNSW segment goes unnoticed by it;
        this finds it (about a second per 100k records).

        Returns:
            The number of records.

        Raises:
            IndexDamagedError: Chroma cannot read the collection back.
        """
        from chromadb.errors import ChromaError

        try:
            n = sum(len(page["ids"]) for page in self._scan(["embeddings"]))
            if n:
                self.query(np.full(self.dim, self.dim**-0.5, dtype=np.float32), 1)
        except ChromaError as exc:
            raise IndexDamagedError(
                f"the Chroma collection {self.name!r} cannot be read back ({exc}): the index "
                "is damaged; run `shopassist index --rebuild` (SQL is the source of truth)"
            ) from exc
        return n

    def export(self) -> IndexExport:
        """Every record's id, vector and metadata, for in-memory search structures."""
        ids: list[str] = []
        blocks: list[NDArray[np.float32]] = []
        metadatas: list[Mapping[str, Any]] = []
        for page in self._scan(["embeddings", "metadatas"]):
            ids += page["ids"]
            blocks.append(np.asarray(page["embeddings"], dtype=np.float32).reshape(-1, self.dim))
            metadatas += [_tupled(m) for m in page["metadatas"]]
        vectors = np.concatenate(blocks) if blocks else np.empty((0, self.dim), np.float32)
        return IndexExport(tuple(ids), vectors, tuple(metadatas))

    def query(
        self,
        vector: NDArray[np.floating[Any]],
        k: int,
        where: Mapping[str, Any] | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest records by cosine similarity, best first.

        Args:
            vector: The query embedding, shape ``(dim,)``.
            k: How many to return at most.
            where: A Chroma metadata filter (see :mod:`retrieval._index_meta`'s helpers).

        Returns:
            ``[(id, score)]`` with ``score = 1 - cosine distance`` (cosine similarity).
        """
        query = np.asarray(vector, dtype=np.float32)
        if query.shape != (self.dim,):
            raise ValueError(f"query vector must have shape ({self.dim},), got {query.shape}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        result = self._collection.query(
            query_embeddings=query[None, :],
            n_results=k,
            where=cast(Any, dict(where)) if where else None,
            include=["distances"],
        )
        ids, distances = result["ids"][0], (result["distances"] or [[]])[0]
        return [(rid, 1.0 - float(d)) for rid, d in zip(ids, distances, strict=True)]


def _collection_metadata(dim: int, embedder: str, *, revision: int) -> dict[str, Any]:
    return {
        "shopassist_schema": SCHEMA_VERSION,
        "dim": dim,
        "embedder": embedder,
        "space": "cosine",
        "revision": revision,
    }


def _drop(client: ClientAPI, name: str) -> int:
    """Delete collection ``name`` if it exists; its last revision (-1 when there was none)."""
    from chromadb.errors import NotFoundError

    try:
        meta = client.get_collection(name, embedding_function=None).metadata or {}
        client.delete_collection(name)
    except (NotFoundError, ValueError):
        return -1
    logger.info("dropped Chroma collection %s", name)
    revision = meta.get("revision", 0)
    return revision if isinstance(revision, int) else 0
