"""Loading and validating the catalogue of facilities, experts and programmes.

The catalogue is a folder of YAML files, each holding ``entries:``, a list of
records. :func:`load_catalogue` reads them all, checks every record against the
schema described in ``knowledge/README.md`` and either returns a complete
:class:`Catalogue` or raises :class:`~index.errors.CatalogueError` listing every
problem. A half-valid catalogue is never returned, so an index is never built
from part of one.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from index.errors import CatalogueError, CatalogueProblem


class EntryType(str, enum.Enum):
    FACILITY = "facility"
    EXPERT = "expert"
    PROGRAMME = "programme"


class Site(str, enum.Enum):
    FLEMINGSBERG = "flemingsberg"
    HAGASTADEN = "hagastaden"
    ELSEWHERE = "elsewhere"

    @property
    def label(self) -> str:
        """The name shown to people."""
        return _SITE_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Site:
        """Read a site as a person types it: ``solna``, ``Hagastaden/Solna``, ``other``.

        Raises:
            ValueError: naming the accepted values.
        """
        key = text.strip().lower()
        if key in _SITE_ALIASES:
            return _SITE_ALIASES[key]
        accepted = ", ".join(sorted(_SITE_ALIASES))
        raise ValueError(f"unknown site '{text}'; use one of: {accepted}")


_SITE_LABELS = {
    Site.FLEMINGSBERG: "Flemingsberg",
    Site.HAGASTADEN: "Hagastaden/Solna",
    Site.ELSEWHERE: "Elsewhere in Sweden",
}
_SITE_ALIASES = {
    "flemingsberg": Site.FLEMINGSBERG,
    "huddinge": Site.FLEMINGSBERG,
    "hagastaden": Site.HAGASTADEN,
    "solna": Site.HAGASTADEN,
    "hagastaden/solna": Site.HAGASTADEN,
    "elsewhere": Site.ELSEWHERE,
    "other": Site.ELSEWHERE,
}

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL_PATTERN = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[a-z]{2,}$", re.IGNORECASE)
MAX_DESCRIPTION_WORDS = 1000

# Which fields each type must have; ``last_verified`` and the identity fields are required of all.
_COMMON_REQUIRED = ("id", "type", "name", "organisation", "site", "summary", "summary_sv", "description", "url",
                    "last_verified")
_MISSING = "required field is missing"
_MISSING_HINTS = {"summary_sv": "write the summary in Swedish, for Swedish users and Swedish searches"}
_REQUIRED_BY_TYPE = {
    EntryType.FACILITY: ("services", "open_to_companies", "access", "contact"),
    EntryType.PROGRAMME: ("services", "open_to_companies", "access", "contact", "eligibility", "how_to_apply"),
    EntryType.EXPERT: ("role", "email", "serves", "sample_contact"),
}
_TEXT_FIELDS = (
    "id", "type", "name", "name_sv", "organisation", "site", "location", "summary", "summary_sv", "description",
    "access", "contact", "url", "role", "email", "eligibility", "how_to_apply",
)
_LIST_FIELDS = ("services", "techniques", "equipment", "keywords", "serves")
_BOOL_FIELDS = ("open_to_companies", "sample_contact")
KNOWN_FIELDS = frozenset(_TEXT_FIELDS + _LIST_FIELDS + _BOOL_FIELDS + ("last_verified",))

# Fields added after indexes were first built: left out of an entry's content hash while empty (see
# Entry.content_hash), so adding them to the schema does not re-embed every entry.
_OPTIONAL_SWEDISH_FIELDS = ("name_sv", "summary_sv")

# Quality bounds checked by ``validate --strict`` style warnings, not errors: an
# operator's short description is worth a warning, not a refusal to start.
DESCRIPTION_WORDS = {
    EntryType.FACILITY: (80, 250),
    EntryType.PROGRAMME: (80, 250),
    EntryType.EXPERT: (30, 250),
}


@dataclass(frozen=True)
class Entry:
    """One catalogue record. Optional text fields are ``""`` and optional lists are empty when absent."""

    id: str
    type: EntryType
    name: str
    organisation: str
    site: Site
    summary: str
    description: str
    url: str
    last_verified: dt.date
    summary_sv: str = ""
    name_sv: str = ""
    location: str = ""
    services: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    open_to_companies: bool | None = None
    access: str = ""
    contact: str = ""
    role: str = ""
    email: str = ""
    serves: tuple[str, ...] = ()
    sample_contact: bool | None = None
    eligibility: str = ""
    how_to_apply: str = ""
    source: str = field(default="", compare=False)

    def identity(self) -> dict[str, Any]:
        """What identifies the entry and where it is, as every list of entries and every hit publishes it:
        ``id``, ``name``, ``type``, ``organisation``, ``site`` (the value) and ``site_label`` (its name)."""
        return {"id": self.id, "name": self.name, "type": self.type.value, "organisation": self.organisation,
                "site": self.site.value, "site_label": self.site.label}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the record's fields (dates as ISO strings, enums as their values)."""
        data = asdict(self)
        data["type"] = self.type.value
        data["site"] = self.site.value
        data["last_verified"] = self.last_verified.isoformat()
        for name in _LIST_FIELDS:
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        """Inverse of :meth:`to_dict`, for records that were validated when they were written."""
        values = dict(data)
        values["type"] = EntryType(values["type"])
        values["site"] = Site(values["site"])
        values["last_verified"] = dt.date.fromisoformat(values["last_verified"])
        for name in _LIST_FIELDS:
            values[name] = tuple(values.get(name, ()))
        return cls(**values)

    def content_hash(self) -> str:
        """A hex digest of everything searchable in the record; its file location does not count.

        An optional text field that is empty counts as absent, so a field added to the schema changes the digest
        of an entry only once the entry fills it in (and only that entry is embedded again).
        """
        data = self.to_dict()
        data.pop("source")
        for name in _OPTIONAL_SWEDISH_FIELDS:
            if not data[name]:
                data.pop(name)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def searchable_text(self) -> str:
        """All the words a keyword search should see, in English and Swedish, with the names (``name`` and
        ``name_sv``) and keywords weighted twice."""
        parts = [self.name, self.name, self.name_sv, self.name_sv, self.organisation, self.location, self.summary,
                 self.summary_sv, self.description, self.role, self.eligibility, self.access, self.how_to_apply]
        parts += list(self.services) + list(self.techniques) + list(self.equipment)
        parts += list(self.keywords) * 2
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Catalogue:
    """A validated catalogue: entries sorted by id, plus the warnings that did not stop it loading."""

    entries: tuple[Entry, ...]
    warnings: tuple[CatalogueProblem, ...] = ()

    def __len__(self) -> int:
        return len(self.entries)

    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}

    def content_hash(self) -> str:
        """A hex digest that changes when any entry is added, removed or changed."""
        digest = hashlib.sha256()
        for entry in self.entries:
            digest.update(f"{entry.id}:{entry.content_hash()}\n".encode())
        return digest.hexdigest()

    def count_by_type(self) -> dict[EntryType, int]:
        counts = {t: 0 for t in EntryType}
        for entry in self.entries:
            counts[entry.type] += 1
        return counts


def catalogue_files(path: Path) -> list[Path]:
    """The YAML files that make up the catalogue at ``path`` (a folder or one file), in sorted order."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_catalogue(path: str | Path) -> Catalogue:
    """Read and validate every entry below ``path``.

    Args:
        path: a catalogue folder (every ``*.yaml`` below it is read) or a single YAML file.

    Returns:
        The catalogue, entries sorted by id, with non-fatal warnings attached.

    Raises:
        CatalogueError: listing every problem found, each with its file, entry id and field.
    """
    root = Path(path)
    if not root.exists():
        raise CatalogueError([CatalogueProblem(str(root), None, None, "no such file or folder")])
    files = catalogue_files(root)
    if not files:
        raise CatalogueError([CatalogueProblem(str(root), None, None, "no *.yaml files found")])

    problems: list[CatalogueProblem] = []
    warnings: list[CatalogueProblem] = []
    entries: list[Entry] = []
    for file in files:
        entries += _load_file(file, problems, warnings)

    _check_identity_and_references(entries, problems)
    if problems:
        raise CatalogueError(problems)
    entries.sort(key=lambda e: e.id)
    return Catalogue(entries=tuple(entries), warnings=tuple(warnings))


def _load_file(file: Path, problems: list[CatalogueProblem], warnings: list[CatalogueProblem]) -> list[Entry]:
    name = str(file)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(CatalogueProblem(name, None, None, f"not valid YAML: {exc}"))
        return []
    if document is None:
        warnings.append(CatalogueProblem(name, None, None, "file is empty"))
        return []
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        problems.append(CatalogueProblem(name, None, "entries", "the file must hold a list under the key 'entries'"))
        return []
    entries = []
    for position, record in enumerate(document["entries"], start=1):
        entry = validate_record(record, name, position, problems, warnings)
        if entry is not None:
            entries.append(entry)
    return entries


def validate_record(
    record: Any,
    file: str,
    position: int,
    problems: list[CatalogueProblem],
    warnings: list[CatalogueProblem] | None = None,
) -> Entry | None:
    """Check one raw record; append what is wrong to ``problems``.

    Returns:
        The entry, or ``None`` when the record had errors (they are in ``problems``).
    """
    warnings = warnings if warnings is not None else []
    if not isinstance(record, dict):
        problems.append(CatalogueProblem(file, f"#{position}", None, "an entry must be a mapping of fields"))
        return None
    entry_id = record.get("id") if isinstance(record.get("id"), str) else f"#{position}"
    before = len(problems)

    def problem(field_name: str | None, message: str) -> None:
        problems.append(CatalogueProblem(file, entry_id, field_name, message))

    for key in record:
        if key not in KNOWN_FIELDS:
            problem(str(key), "unknown field (see knowledge/README.md for the schema)")

    entry_type = _parse_enum(EntryType, record.get("type"), "type", problem)
    site = _parse_enum(Site, record.get("site"), "site", problem)
    required = _COMMON_REQUIRED + (_REQUIRED_BY_TYPE[entry_type] if entry_type else ())
    for name in required:
        if name not in record or record[name] is None or record[name] == "" or record[name] == []:
            hint = _MISSING_HINTS.get(name)
            problem(name, f"{_MISSING}; {hint}" if hint else _MISSING)

    values: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        if record.get(name) is not None:
            if not isinstance(record[name], str):
                problem(name, f"must be text, not {type(record[name]).__name__}")
            else:
                values[name] = " ".join(record[name].split())
    for name in _LIST_FIELDS:
        if record.get(name) is not None:
            items = record[name]
            if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
                problem(name, "must be a list of non-empty texts")
            else:
                values[name] = tuple(" ".join(i.split()) for i in items)
    for name in _BOOL_FIELDS:
        if record.get(name) is not None:
            if not isinstance(record[name], bool):
                problem(name, "must be true or false")
            else:
                values[name] = record[name]

    if isinstance(record.get("id"), str) and not ID_PATTERN.match(record["id"]):
        problem("id", "use lower-case letters, digits and single '-' only, such as 'vecura-gmp'")
    url = values.get("url", "")
    if url and not url.startswith(("https://", "http://")):
        problem("url", "must start with https:// or http://")
    email = values.get("email", "")
    if email and not EMAIL_PATTERN.match(email):
        problem("email", f"'{email}' is not an email address")
    verified = _parse_date(record.get("last_verified"))
    if "last_verified" in record and record["last_verified"] is not None and verified is None:
        problem("last_verified", "must be a date such as 2026-11-20")
    words = len(values.get("description", "").split())
    if words > MAX_DESCRIPTION_WORDS:
        problem("description", f"has {words} words; keep it under {MAX_DESCRIPTION_WORDS}")

    if len(problems) > before or entry_type is None or site is None or verified is None:
        return None
    values.pop("type"), values.pop("site")
    entry = Entry(type=entry_type, site=site, last_verified=verified, source=file, **values)
    low, high = DESCRIPTION_WORDS[entry_type]
    if not low <= words <= high:
        warnings.append(CatalogueProblem(file, entry.id, "description", f"has {words} words; aim for {low}-{high}"))
    if entry.sample_contact:
        warnings.append(CatalogueProblem(file, entry.id, "email", "sample contact: replace it with the real mailbox"))
    return entry


def _parse_enum(enum_type: type[enum.Enum], value: Any, field_name: str, problem) -> Any:
    if value is None:
        return None  # reported as missing
    try:
        return enum_type(value)
    except ValueError:
        accepted = ", ".join(m.value for m in enum_type)
        problem(field_name, f"'{value}' is not one of: {accepted}")
        return None


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _check_identity_and_references(entries: Iterable[Entry], problems: list[CatalogueProblem]) -> None:
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.id in seen:
            problems.append(CatalogueProblem(
                entry.source, entry.id, "id", f"duplicate id; also used in {seen[entry.id].source}"))
        else:
            seen[entry.id] = entry
    for entry in seen.values():
        if entry.contact:
            target = seen.get(entry.contact)
            if target is None:
                problems.append(CatalogueProblem(
                    entry.source, entry.id, "contact", f"points to '{entry.contact}', which is not in the catalogue"))
            elif target.type is not EntryType.EXPERT:
                problems.append(CatalogueProblem(
                    entry.source, entry.id, "contact", f"'{entry.contact}' is a {target.type.value}, not an expert"))
        for served in entry.serves:
            target = seen.get(served)
            if target is None:
                problems.append(CatalogueProblem(
                    entry.source, entry.id, "serves", f"points to '{served}', which is not in the catalogue"))
            elif target.type is EntryType.EXPERT:
                problems.append(CatalogueProblem(
                    entry.source, entry.id, "serves", f"'{served}' is an expert; list facilities or programmes"))
