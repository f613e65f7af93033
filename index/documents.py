"""What of an entry is searched: its passages (for embeddings) and its keyword document (for BM25)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from index.catalogue import Entry, EntryType
from index.text import TextProcessor

_ID_MASK = (1 << 63) - 1


def passage_id(entry_id: str, position: int) -> int:
    """A stable, non-negative 63-bit id for the ``position``-th passage of an entry.

    The same entry id and position give the same id in every build, so an
    incremental update can remove exactly the vectors of a changed entry.
    """
    digest = hashlib.blake2b(f"{entry_id}#{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _ID_MASK


@dataclass(frozen=True)
class EntryDocuments:
    """An entry prepared for indexing.

    Attributes:
        entry: the catalogue record.
        content_hash: :meth:`Entry.content_hash` at the time it was prepared.
        passages: texts that are embedded, each readable on its own.
        passage_ids: one stable id per passage.
        lemmas: the keyword document.
    """

    entry: Entry
    content_hash: str
    passages: tuple[str, ...]
    passage_ids: tuple[int, ...]
    lemmas: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "entry": self.entry.to_dict(),
            "content_hash": self.content_hash,
            "passages": list(self.passages),
            "passage_ids": [str(i) for i in self.passage_ids],  # JSON numbers lose 64-bit precision elsewhere
            "lemmas": list(self.lemmas),
        }

    @classmethod
    def from_dict(cls, data: dict) -> EntryDocuments:
        return cls(
            entry=Entry.from_dict(data["entry"]),
            content_hash=data["content_hash"],
            passages=tuple(data["passages"]),
            passage_ids=tuple(int(i) for i in data["passage_ids"]),
            lemmas=tuple(data["lemmas"]),
        )


def entry_passages(entry: Entry, processor: TextProcessor, *, swedish_passage: bool = True) -> list[str]:
    """The entry as passages: a headline, a Swedish headline, the description in chunks, and its lists of
    services and terms.

    Each passage names the entry, so it still makes sense when shown alone. The Swedish headline (the Swedish
    name, else the name, with ``summary_sv``) is there so that a need written in Swedish has a Swedish text to
    meet; an entry without ``summary_sv`` has none, and ``swedish_passage=False`` leaves it out (for an
    English-only model, which ranks Swedish needs worse with it: docs/benchmarks.md, "Swedish passages").
    """
    headline = f"{entry.name} ({entry.organisation}). {entry.summary}"
    if entry.type is EntryType.EXPERT and entry.role:
        headline = f"{entry.role}, {entry.organisation}. {entry.summary}"
    passages = [headline]
    if swedish_passage and entry.summary_sv:
        passages.append(f"{entry.name_sv or entry.name} ({entry.organisation}). {entry.summary_sv}")
    passages += [f"{entry.name}: {chunk}" for chunk in processor.passages(entry.description)]
    offers = list(entry.services) + list(entry.techniques) + list(entry.equipment)
    if offers:
        passages.append(f"{entry.name} offers: " + "; ".join(offers) + ".")
    if entry.eligibility:
        passages.append(f"{entry.name}, who can apply: {entry.eligibility}")
    if entry.keywords:
        passages.append(f"{entry.name}: " + ", ".join(entry.keywords))
    return passages


def prepare_entry(entry: Entry, processor: TextProcessor, *, swedish_passage: bool = True) -> EntryDocuments:
    """Split, lemmatise and assign passage ids for one entry (no embedding yet); ``swedish_passage`` as in
    :func:`entry_passages`. The keyword document holds the Swedish name and summary either way."""
    passages = entry_passages(entry, processor, swedish_passage=swedish_passage)
    return EntryDocuments(
        entry=entry,
        content_hash=entry.content_hash(),
        passages=tuple(passages),
        passage_ids=tuple(passage_id(entry.id, i) for i in range(len(passages))),
        lemmas=tuple(processor.lemmas(entry.searchable_text())),
    )
