"""Writing a built index to disk and reading it back, with a manifest that says what it was built from.

An index folder holds:

- ``manifest.json``: format version, model name, vector dimension, catalogue
  hash, build time, counts, and a SHA-256 of every other file;
- ``entries.json``: the entries as they were indexed, with passages and lemmas;
- ``dense.faiss``: the FAISS vector index;
- ``keyword/``: the BM25 index.

A folder is written beside the target and swapped in whole, so a reader never
sees half of a new index.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.dense import DenseIndex, DenseKind
from index.documents import EntryDocuments
from index.errors import REBUILD_HINT, IndexCorruptError, IndexMissingError
from index.keyword import KeywordIndex

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ENTRIES = "entries.json"
DENSE = "dense.faiss"
KEYWORD = "keyword"


@dataclass(frozen=True)
class Manifest:
    """What an index was built from. Compared with the configuration to detect a stale index."""

    model: str
    dimension: int
    catalogue_hash: str
    built_at: str
    entry_count: int
    passage_count: int
    dense_kind: str
    format_version: int = FORMAT_VERSION
    files: dict[str, str] = field(default_factory=dict)

    def stale_reasons(self, *, model: str, dimension: int, catalogue_hash: str) -> list[str]:
        """Why this index does not fit the given model and catalogue; empty when it does."""
        reasons = []
        if self.format_version != FORMAT_VERSION:
            reasons.append(f"it has format {self.format_version}, this version reads {FORMAT_VERSION}")
        if self.model != model:
            reasons.append(f"it was built with the model '{self.model}', the configured model is '{model}'")
        if self.dimension != dimension:
            reasons.append(f"its vectors have {self.dimension} dimensions, the model gives {dimension}")
        if self.catalogue_hash != catalogue_hash:
            reasons.append("the catalogue has changed since it was built")
        return reasons


@dataclass
class IndexState:
    """A complete index in memory: the prepared entries (sorted by id) and both retrieval indexes."""

    manifest: Manifest
    documents: list[EntryDocuments]
    dense: DenseIndex
    keyword: KeywordIndex


def make_manifest(model: str, dimension: int, catalogue_hash: str, documents: list[EntryDocuments],
                  dense: DenseIndex) -> Manifest:
    return Manifest(
        model=model,
        dimension=dimension,
        catalogue_hash=catalogue_hash,
        built_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        entry_count=len(documents),
        passage_count=sum(len(d.passage_ids) for d in documents),
        dense_kind=dense.kind.value,
    )


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): _file_digest(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def save_index(state: IndexState, folder: Path) -> Manifest:
    """Write ``state`` to ``folder``, replacing what was there only once everything is written.

    Returns:
        The manifest as written, with the files' checksums.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        with (staging / ENTRIES).open("w", encoding="utf-8") as handle:
            json.dump([d.to_dict() for d in state.documents], handle, ensure_ascii=False)
        state.dense.save(staging / DENSE)
        (staging / KEYWORD).mkdir()
        state.keyword.save(staging / KEYWORD)
        manifest = Manifest(**{**asdict(state.manifest), "files": _checksums(staging)})
        (staging / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")
        retired = folder.with_name(f".{folder.name}-retired")
        if retired.exists():
            shutil.rmtree(retired)
        if folder.exists():
            folder.rename(retired)
        staging.rename(folder)
        shutil.rmtree(retired, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    state.manifest = manifest
    return manifest


def read_manifest(folder: Path) -> Manifest:
    """The manifest of the index in ``folder``.

    Raises:
        IndexMissingError: no index there.
        IndexCorruptError: the manifest cannot be read.
    """
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise IndexMissingError(f"no search index in {folder}. Build it with: navigator index build")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(f"the index manifest {path} cannot be read ({exc}). {REBUILD_HINT}") from exc


def load_index(folder: Path, *, nprobe: int = 32) -> IndexState:
    """Read the index in ``folder``, checking every file against the manifest's checksums.

    Raises:
        IndexMissingError: no index there.
        IndexCorruptError: a file is missing, altered or unreadable; the message says how to rebuild.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    expected = manifest.files
    actual = _checksums(folder) if folder.exists() else {}
    damaged = sorted(name for name in expected if actual.get(name) != expected[name])
    if damaged or not expected:
        listed = ", ".join(damaged) or "the file list"
        raise IndexCorruptError(f"the index in {folder} is damaged ({listed} missing or altered). {REBUILD_HINT}")
    try:
        with (folder / ENTRIES).open(encoding="utf-8") as handle:
            documents = [EntryDocuments.from_dict(d) for d in json.load(handle)]
        dense = DenseIndex.load(folder / DENSE, nprobe=nprobe)
        keyword = KeywordIndex.load(folder / KEYWORD, size=len(documents))
    except IndexCorruptError as exc:
        raise IndexCorruptError(f"{exc}. {REBUILD_HINT}") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"the index in {folder} cannot be read ({exc}). {REBUILD_HINT}") from exc
    if len(documents) != manifest.entry_count or len(dense) != manifest.passage_count:
        raise IndexCorruptError(f"the index in {folder} does not match its manifest. {REBUILD_HINT}")
    if dense.kind is not DenseKind(manifest.dense_kind):
        raise IndexCorruptError(f"the vector index in {folder} is not of the kind its manifest says. {REBUILD_HINT}")
    return IndexState(manifest=manifest, documents=documents, dense=dense, keyword=keyword)
