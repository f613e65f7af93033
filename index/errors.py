"""The engine's exceptions. Callers at the edges (CLI, actions, HTTP views) turn them into messages."""

from __future__ import annotations

from dataclasses import dataclass


class NavigatorIndexError(Exception):
    """Base class of every error the engine raises on purpose."""


@dataclass(frozen=True)
class CatalogueProblem:
    """One thing wrong with the catalogue, located as precisely as possible."""

    file: str
    entry_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.entry_id:
            where += f": entry '{self.entry_id}'"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


class CatalogueError(NavigatorIndexError):
    """The catalogue is invalid; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[CatalogueProblem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the catalogue has {len(problems)} problem(s):\n{lines}")


class QueryError(NavigatorIndexError, ValueError):
    """The query cannot be searched (empty, too long, no searchable text)."""


class IndexMissingError(NavigatorIndexError):
    """No index has been built at the configured place."""


class IndexCorruptError(NavigatorIndexError):
    """Index files exist but cannot be read or fail their checksums."""


class IndexStaleError(NavigatorIndexError):
    """The index was built from another catalogue or another model than the one configured."""


class EmbeddingModelError(NavigatorIndexError):
    """The embedding model cannot be found or loaded."""


REBUILD_HINT = "Rebuild it with: navigator index build --full"
