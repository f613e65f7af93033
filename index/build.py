"""Building the index from a catalogue, and updating it in place when only some entries changed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.catalogue import Catalogue
from index.dense import DenseIndex, DenseKind
from index.documents import EntryDocuments, prepare_entry
from index.embedding import Embedder
from index.errors import IndexCorruptError, IndexMissingError
from index.keyword import KeywordIndex
from index.store import IndexState, load_index, make_manifest, read_manifest, save_index
from index.text import TextProcessor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildOptions:
    """How the vector index is shaped.

    Attributes:
        ann_threshold: from this many passages on, an approximate IVF index replaces the exact one.
        nprobe: how many IVF lists a search scans; more is slower and closer to exact.
        swedish_passages: embed each entry's Swedish summary as a passage of its own. Worth it with a
            multilingual model only (``index.embedding.MULTILINGUAL_MODELS``, which the settings follow): an
            English-only model ranks Swedish needs worse with it (docs/benchmarks.md, "Swedish passages"). The
            option goes with the model, so an index never needs rebuilding for it alone.
    """

    ann_threshold: int = 20_000
    nprobe: int = 32
    swedish_passages: bool = True


@dataclass
class BuildReport:
    """What a build did. ``full`` is False for an incremental update."""

    full: bool
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    passages_encoded: int = 0  # distinct passage texts sent to the model
    seconds: float = 0.0
    reason: str = ""

    @property
    def did_work(self) -> bool:
        return self.full or bool(self.added or self.changed or self.removed)


def build_index(
    catalogue: Catalogue,
    embedder: Embedder,
    processor: TextProcessor,
    *,
    previous: IndexState | None = None,
    options: BuildOptions = BuildOptions(),
    progress: bool = False,
) -> tuple[IndexState, BuildReport]:
    """Index ``catalogue``, reusing ``previous`` where it was built with the same model.

    With a usable ``previous`` index only added and changed entries are processed
    and embedded, and the vectors of changed and removed entries are removed;
    unchanged entries keep their vectors. Otherwise everything is built anew.

    Returns:
        The new index state (not yet saved) and a report of what was done.
    """
    started = time.perf_counter()
    usable = previous is not None and previous.manifest.model == embedder.name \
        and previous.manifest.dimension == embedder.dimension
    old = {d.entry.id: d for d in previous.documents} if usable and previous else {}
    report = BuildReport(full=not usable)

    documents: list[EntryDocuments] = []
    fresh: list[EntryDocuments] = []
    for entry in catalogue.entries:
        known = old.get(entry.id)
        if known is not None and known.content_hash == entry.content_hash():
            documents.append(known)
            report.unchanged += 1
            continue
        prepared = prepare_entry(entry, processor, swedish_passage=options.swedish_passages)
        documents.append(prepared)
        fresh.append(prepared)
        (report.changed if known is not None else report.added).append(entry.id)
    current_ids = {d.entry.id for d in documents}
    report.removed = sorted(i for i in old if i not in current_ids)
    if report.full:
        report.added = []  # a full build re-adds everything; listing it all says nothing

    texts = [p for d in fresh for p in d.passages]
    ids = np.array([i for d in fresh for i in d.passage_ids], dtype=np.int64)
    vectors = _encode_unique(embedder, texts, progress)
    report.passages_encoded = len(set(texts))

    if report.full or previous is None:
        dense = DenseIndex.build(vectors, ids, embedder.dimension,
                                 ann_threshold=options.ann_threshold, nprobe=options.nprobe)
    else:
        dense = previous.dense
        stale_ids = [i for eid in report.changed + report.removed for i in old[eid].passage_ids]
        dense.remove(np.array(stale_ids, dtype=np.int64))
        dense.add(vectors, ids)
        dense = _reshape_if_needed(dense, documents, embedder.dimension, options)

    keyword = KeywordIndex.build([d.lemmas for d in documents])
    manifest = make_manifest(embedder.name, embedder.dimension, catalogue.content_hash(), documents, dense)
    report.seconds = time.perf_counter() - started
    return IndexState(manifest=manifest, documents=documents, dense=dense, keyword=keyword), report


def _encode_unique(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    """Encode each distinct text once (shared boilerplate passages are common) and return one row per text."""
    unique = list(dict.fromkeys(texts))
    vectors = embedder.encode_passages(unique, progress=progress)
    if len(unique) == len(texts):
        return vectors
    row = {text: i for i, text in enumerate(unique)}
    return vectors[[row[text] for text in texts]]


def _reshape_if_needed(dense: DenseIndex, documents: list[EntryDocuments], dimension: int,
                       options: BuildOptions) -> DenseIndex:
    """Switch between exact and IVF when an update crosses the threshold, reusing the stored vectors."""
    wanted = DenseKind.IVF if len(dense) >= options.ann_threshold else DenseKind.EXACT
    if wanted is dense.kind:
        return dense
    ids = np.array([i for d in documents for i in d.passage_ids], dtype=np.int64)
    return DenseIndex.build(dense.vectors(ids), ids, dimension,
                            ann_threshold=options.ann_threshold, nprobe=options.nprobe)


def index_is_fresh(folder: Path, catalogue: Catalogue, model: str) -> bool:
    """True when the saved index was built from exactly this catalogue with ``model``; reads only the manifest.

    Cheap enough to call before loading the model; the dimension and the files'
    checksums are checked again when the index is loaded.
    """
    try:
        manifest = read_manifest(folder)
    except (IndexMissingError, IndexCorruptError):
        return False
    return not manifest.stale_reasons(model=model, dimension=manifest.dimension,
                                      catalogue_hash=catalogue.content_hash())


def open_index(
    folder: Path,
    catalogue: Catalogue,
    embedder: Embedder,
    processor: TextProcessor,
    *,
    options: BuildOptions = BuildOptions(),
    progress: bool = False,
    force_full: bool = False,
    on_build: Callable[[BuildReport], None] | None = None,
) -> tuple[IndexState, BuildReport | None]:
    """Load the index in ``folder`` if it fits ``catalogue`` and ``embedder``; otherwise update or rebuild it and save it.

    A missing or damaged index is rebuilt in full; a stale one is updated
    incrementally when it was built with the same model. A stale index is never
    returned.

    Returns:
        The index and the report of the build, or ``None`` when the saved index was used as it was.
    """
    previous: IndexState | None = None
    reason = "a full rebuild was asked for"
    if not force_full:
        try:
            previous = load_index(folder, nprobe=options.nprobe)
        except IndexMissingError:
            reason = "no index had been built"
        except IndexCorruptError as exc:
            reason = f"the saved index was damaged: {exc}"
            log.warning("rebuilding the index: %s", exc)
        else:
            reasons = previous.manifest.stale_reasons(
                model=embedder.name, dimension=embedder.dimension, catalogue_hash=catalogue.content_hash())
            if not reasons:
                return previous, None
            reason = "; ".join(reasons)
            log.info("the index is stale (%s); updating it", reason)
    state, report = build_index(catalogue, embedder, processor, previous=previous, options=options, progress=progress)
    report.reason = reason
    save_index(state, folder)
    if on_build is not None:
        on_build(report)
    return state, report
