"""``navigator bench``: search latency, build time and peak memory at several catalogue sizes.

Large catalogues are synthetic: entries made by recombining the sentences of the
real catalogue, so that their vocabulary and length are realistic. Each size runs
in a fresh child process, so that its peak memory is its own.
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from index.catalogue import Catalogue, Site, load_catalogue
from navigator.settings import Settings

FALLBACK_QUERIES = [
    "GMP manufacturing of a viral vector for a phase 1 trial",
    "cryo-EM structure of our membrane protein",
    "we need funding to validate a medical device",
    "flow cytometry sorting of immune cells in Flemingsberg",
    "single cell RNA sequencing of tumour samples",
]


def synthetic_catalogue(base: Catalogue, size: int, seed: int = 7, distinct: int = 10_000) -> Catalogue:
    """``size`` entries recombined from ``base``, deterministic for a given base, size and seed.

    There are at most ``distinct`` different texts: each text is a base entry's identity with two sentences
    drawn from the whole catalogue. Beyond that, entries repeat a text under a new id and site, so that
    a 100,000-entry catalogue costs the model only ``distinct`` texts to encode.
    """
    rng = random.Random(seed)
    sources = [e for e in base.entries if e.type.value != "expert"]
    sentences = [s.strip() + "." for e in sources for s in e.description.split(". ") if len(s.split()) > 5]
    texts = [" ".join(rng.sample(sentences, 2)) for _ in range(min(size, distinct))]
    sites = list(Site)
    entries = []
    for number in range(size):
        variant = number % len(texts)
        model = sources[variant % len(sources)]
        entries.append(replace(
            model,
            id=f"synthetic-{number:06d}",
            name=f"{model.name} {variant}",
            site=sites[number % len(sites)],
            description=texts[variant],
            services=model.services[:2],
            techniques=(),
            equipment=(),
            keywords=(),
            contact="",
        ))
    return Catalogue(entries=tuple(entries))


def _queries(settings: Settings) -> list[str]:
    try:
        from navigator.evaluation import load_queries

        return [q.text for q in load_queries(settings.eval_queries)]
    except (OSError, ValueError):
        return FALLBACK_QUERIES


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(size: int, query_count: int) -> dict[str, float]:
    """Build a synthetic index of ``size`` entries and time ``query_count`` searches (run in a child process)."""
    from index.build import build_index
    from index.engine import SearchEngine
    from index.store import load_index, save_index
    from index.text import TextProcessor
    from navigator.runtime import load_embedder

    settings = Settings.from_env()
    catalogue = synthetic_catalogue(load_catalogue(settings.knowledge_dir), size)
    embedder = load_embedder(settings)
    processor = TextProcessor()
    started = time.perf_counter()
    state, report = build_index(catalogue, embedder, processor, options=settings.build_options,
                                progress=sys.stderr.isatty())
    build_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        save_index(state, Path(folder) / "index")
        started = time.perf_counter()
        state = load_index(Path(folder) / "index", nprobe=settings.nprobe)
        load_seconds = time.perf_counter() - started
    engine = SearchEngine(state, embedder, processor, settings.engine_settings)
    queries = _queries(settings)
    for text in queries[:20]:
        engine.search(text, top=10)
    timings, encodings = [], []
    for number in range(query_count):
        text = queries[number % len(queries)]
        started = time.perf_counter()
        embedder.encode_queries([text])
        encodings.append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.search(text, top=10)
        timings.append(time.perf_counter() - started)
    return {
        "entries": size,
        "passages": state.manifest.passage_count,
        "encoded": report.passages_encoded,
        "dense_kind": state.manifest.dense_kind,
        "build_s": build_seconds,
        "load_s": load_seconds,
        "encode_p50_ms": statistics.median(encodings) * 1000,
        "p50_ms": statistics.median(timings) * 1000,
        "p95_ms": _percentile(timings, 0.95) * 1000,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_benchmark(settings: Settings, sizes: list[int], query_count: int) -> str:
    """Measure each size in its own process and return a Markdown report."""
    rows = []
    for size in sizes:
        print(f"bench: {size} entries ...", file=sys.stderr, flush=True)
        result = subprocess.run(
            [sys.executable, "-m", "navigator.benchmark", str(size), str(query_count)],
            check=True, stdout=subprocess.PIPE, text=True, env=os.environ.copy(),
        )
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"model {settings.embedding_model}; {query_count} single-query searches per size (top 10, query "
        "encoding included), after 20 warm-up queries.",
        "",
        "| entries | passages | distinct passages encoded | vector index | build (s) | load (s) | encode p50 (ms) "
        "| search p50 (ms) | search p95 (ms) | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['entries']:,} | {row['passages']:,} | {row['encoded']:,} | {row['dense_kind']} | {row['build_s']:.1f} | "
            f"{row['load_s']:.2f} | {row['encode_p50_ms']:.1f} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
            f"{row['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]))))
