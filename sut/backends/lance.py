"""Lance via pylance: one dataset per table store and per index store; forks are native Lance branches;
the authority lives in a manifest dataset swapped with an Overwrite commit at a read version (the only
commit Lance checks for conflicts: tests/surface/test_lance_surface.py, docs/lance-notes.md).

The engine's store names map onto (dataset, branch): `d.t.3.main.0` is dataset `d.t.3` on Lance's main
branch, `d.t.3.b.5` is branch `b.5` of it, `i.t.3.b.5.a` branch `b.5` of dataset `i.t.3.a`. Every dataset
holds rows (k: binary, v: binary, dead: bool): a put or a delete is one merge_insert, one version.
Readers open a store at its published version, never at HEAD. A version is immutable, so a worker may
cache what it read at one version; the engine evicts those caches when a store is dropped.
"""
from __future__ import annotations

import bisect
import os
import shutil
from typing import Any

import lance
import pyarrow as pa
from lance import LanceOperation
from lance.commit import CommitConflictError
from lance.fragment import LanceFragment

from sut.engine.naming import parse_store

SCHEMA = pa.schema([("k", pa.binary()), ("v", pa.binary()), ("dead", pa.bool_())])
MANIFEST_SCHEMA = pa.schema([("doc", pa.binary())])
FIRST = 1  # every dataset is created empty at version 1; non-main stores branch from it


class _Snap:
    """The live rows of one store at one version, sorted by key, for gets and (prefix) scans."""
    __slots__ = ("by_key", "keys", "values")

    def __init__(self, rows: dict[bytes, bytes]) -> None:
        self.keys = sorted(rows)
        self.values = [rows[k] for k in self.keys]
        self.by_key = rows


def _location(store: str) -> tuple[str, str | None]:
    """(dataset name, Lance branch or None for main) of an engine store name."""
    parsed = parse_store(store)
    if parsed is None:
        raise ValueError(f"not a store name: {store!r}")
    f = parsed.fork
    dataset = f"d.{f.table}.{f.tid}" if parsed.kind == "data" else f"i.{f.table}.{f.tid}.{parsed.attr}"
    return dataset, None if f.bid == 0 else f"{f.branch}.{f.bid}"


def _store_name(dataset: str, branch: str | None) -> str:
    parts = dataset.split(".")
    owner = "main.0" if branch is None else branch
    if parts[0] == "d":
        return f"d.{parts[1]}.{parts[2]}.{owner}"
    return f"i.{parts[1]}.{parts[2]}.{owner}.{parts[3]}"


class LanceBackend:
    name = "lance"
    versioned = True

    def __init__(self, path: str) -> None:
        self.root = os.path.join(path, "stores")
        self.manifest = os.path.join(path, "manifest")
        os.makedirs(self.root, exist_ok=True)

    # -- the authority: one row in the manifest dataset ----------------------------------------------
    def auth_read(self) -> tuple[bytes | None, Any]:
        if not os.path.isdir(self.manifest):
            return None, None
        ds = lance.dataset(self.manifest)
        rows = ds.to_table().column("doc").to_pylist()
        return (rows[0] if rows else None), ds.version

    def auth_write(self, raw: bytes, token: Any) -> Any:
        """Compare-and-swap: an Overwrite commit at read version `token`; None when another won."""
        doc = pa.table({"doc": [raw]}, schema=MANIFEST_SCHEMA)
        if token is None:
            try:
                return lance.write_dataset(doc, self.manifest, mode="create").version
            except OSError:
                return None  # another opener created it first
        fragment = LanceFragment.create(self.manifest, doc)
        try:
            op = LanceOperation.Overwrite(MANIFEST_SCHEMA, [fragment])
            return lance.LanceDataset.commit(self.manifest, op, read_version=token).version
        except CommitConflictError:
            return None

    # -- stores --------------------------------------------------------------------------------------
    def _uri(self, dataset: str) -> str:
        return os.path.join(self.root, dataset)

    def _open(self, store: str, version: int | None = None) -> Any:
        dataset, branch = _location(store)
        ds = lance.dataset(self._uri(dataset))
        if branch is None:
            return ds if version is None else ds.checkout_version(version)
        return ds.checkout_version((branch, version))

    @staticmethod
    def _committed(uri: str) -> bool:
        """Whether the dataset directory holds a committed version. A create that died or failed at the
        system-call layer leaves a directory with no manifest, which Lance will not open or list branches
        of, ever (tests/surface/test_lance_surface.py): debris, not a dataset."""
        try:
            return any(n.endswith(".manifest") for n in os.listdir(os.path.join(uri, "_versions")))
        except FileNotFoundError:
            return False

    def stores(self) -> list[str]:
        out = []
        for dataset in sorted(os.listdir(self.root)):
            out.append(_store_name(dataset, None))  # debris too: the inventory sees it, cleanup reclaims it
            if self._committed(self._uri(dataset)):
                out += [_store_name(dataset, b) for b in lance.dataset(self._uri(dataset)).branches.list()]
        return out

    def create(self, store: str) -> None:
        dataset, branch = _location(store)
        uri = self._uri(dataset)
        if os.path.isdir(uri) and not self._committed(uri):
            shutil.rmtree(uri)  # debris of a create that never committed: its files would linger beside ours
        if branch is None or not os.path.isdir(uri):
            lance.write_dataset(SCHEMA.empty_table(), uri, mode="create")  # raises if it exists
        if branch is not None:
            lance.dataset(uri).create_branch(branch, ("main", FIRST))

    def fork(self, src: str, version: int, dst: str) -> int:
        """A native branch of `src` at `version`, named for `dst`; returns its version (== `version`)."""
        dataset, src_branch = _location(src)
        dst_dataset, dst_branch = _location(dst)
        if dataset != dst_dataset or dst_branch is None:
            raise ValueError(f"cannot fork {src} into {dst}")
        return lance.dataset(self._uri(dataset)).create_branch(dst_branch, (src_branch or "main", version)).version

    def drop(self, store: str) -> None:
        dataset, branch = _location(store)
        if branch is None:
            shutil.rmtree(self._uri(dataset))  # the dataset and every branch left in it
        else:
            lance.dataset(self._uri(dataset)).branches.delete(branch)

    def head(self, store: str) -> int | None:
        """HEAD of the store's branch; None for debris (a dataset that never committed a version)."""
        dataset, branch = _location(store)
        if branch is None and not self._committed(self._uri(dataset)):
            return None
        return int(self._open(store).latest_version)

    # -- reads at a version --------------------------------------------------------------------------
    def handle(self, store: str, version: int | None) -> _Snap:
        table = self._open(store, version).to_table(columns=["k", "v", "dead"])
        ks, vs, dead = (table.column(c).to_pylist() for c in ("k", "v", "dead"))
        return _Snap({k: v for k, v, d in zip(ks, vs, dead, strict=True) if not d})

    def get(self, h: _Snap, key: bytes) -> bytes | None:
        return h.by_key.get(key)

    def scan(self, h: _Snap, prefix: bytes = b"", start: bytes | None = None,
             limit: int | None = None) -> list[tuple[bytes, bytes]]:
        out: list[tuple[bytes, bytes]] = []
        i = bisect.bisect_left(h.keys, max(start or b"", prefix))
        while i < len(h.keys) and h.keys[i].startswith(prefix) and (limit is None or len(out) < limit):
            out.append((h.keys[i], h.values[i]))
            i += 1
        return out

    # -- commits -------------------------------------------------------------------------------------
    def commit(self, store: str, base: int, rows: list[tuple[bytes, bytes | None]]) -> int:
        """One merge_insert on HEAD, which must still be the published `base` (a leftover commit would
        otherwise leak into this version: Lance rebases writes silently). Returns the new HEAD."""
        ds = self._open(store)
        if ds.latest_version != base:
            raise RuntimeError(f"{store}: HEAD {ds.latest_version} is not the published version {base}")
        last = dict(rows)  # one row per key: duplicate new keys would both be inserted
        batch = pa.table({"k": list(last), "v": [v or b"" for v in last.values()],
                          "dead": [v is None for v in last.values()]}, schema=SCHEMA)
        ds.merge_insert(on="k").when_matched_update_all().when_not_matched_insert_all().execute(batch)
        return self._open(store).latest_version

    def restore(self, store: str, version: int) -> int:
        self._open(store, version).restore()
        return self._open(store).latest_version

    def compact(self, store: str) -> int:
        self._open(store).optimize.compact_files()
        return self._open(store).latest_version

    def close(self) -> None:
        """Every commit is durable when it returns; nothing to flush or release."""

    def abandon(self) -> None:
        """Process death: nothing is buffered above Lance."""
