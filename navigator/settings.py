"""One typed settings object, built from defaults and ``NAVIGATOR_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from index.build import BuildOptions
from index.embedding import DEFAULT_MODEL
from index.engine import EngineSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its environment variable.

    Attributes:
        knowledge_dir: NAVIGATOR_KNOWLEDGE_DIR, the catalogue folder.
        index_dir: NAVIGATOR_INDEX_DIR, where the built index is kept.
        embedding_model: NAVIGATOR_EMBEDDING_MODEL, ``all-MiniLM-L6-v2`` or a sentence-transformers model folder.
        ann_threshold: NAVIGATOR_ANN_THRESHOLD, passages from which an approximate index is used.
        nprobe: NAVIGATOR_NPROBE, lists scanned per approximate search.
        max_query_chars: NAVIGATOR_MAX_QUERY_CHARS, the longest query accepted.
        torch_threads: NAVIGATOR_TORCH_THREADS, CPU threads for the model (0 lets torch choose).
        eval_queries: NAVIGATOR_EVAL_QUERIES, the labelled query file for ``navigator eval``.
    """

    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    embedding_model: str = DEFAULT_MODEL
    ann_threshold: int = 20_000
    nprobe: int = 32
    max_query_chars: int = 4000
    torch_threads: int = 0
    eval_queries: Path = PROJECT_ROOT / "tests" / "eval" / "queries.yaml"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults overridden by the environment.

        Raises:
            SettingsError: naming the variable whose value is unusable.
        """
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            knowledge_dir=_path(env, "NAVIGATOR_KNOWLEDGE_DIR", defaults.knowledge_dir),
            index_dir=_path(env, "NAVIGATOR_INDEX_DIR", defaults.index_dir),
            embedding_model=env.get("NAVIGATOR_EMBEDDING_MODEL", defaults.embedding_model).strip()
            or defaults.embedding_model,
            ann_threshold=_int(env, "NAVIGATOR_ANN_THRESHOLD", defaults.ann_threshold, minimum=1),
            nprobe=_int(env, "NAVIGATOR_NPROBE", defaults.nprobe, minimum=1),
            max_query_chars=_int(env, "NAVIGATOR_MAX_QUERY_CHARS", defaults.max_query_chars, minimum=10),
            torch_threads=_int(env, "NAVIGATOR_TORCH_THREADS", defaults.torch_threads, minimum=0),
            eval_queries=_path(env, "NAVIGATOR_EVAL_QUERIES", defaults.eval_queries),
        )

    @property
    def build_options(self) -> BuildOptions:
        return BuildOptions(ann_threshold=self.ann_threshold, nprobe=self.nprobe)

    @property
    def engine_settings(self) -> EngineSettings:
        return EngineSettings(max_query_chars=self.max_query_chars)


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name, "").strip()
    return Path(value).expanduser() if value else default


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got '{value}'") from None
    if number < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {number}")
    return number
