"""The ``navigator`` command: validate the catalogue, build the index, search, evaluate, benchmark.

Errors the engine raises on purpose end here as one clear line on standard
error and exit status 1 (2 for a wrong command line); nothing else prints a
traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from index.catalogue import EntryType, Site, load_catalogue
from index.engine import SearchEngine, SearchFilters, SearchMode
from index.fusion import FusionMethod, Normalisation
from index.errors import NavigatorIndexError, QueryError
from index.text import clean_query
from navigator.advisors_cli import add_advisors_commands
from navigator.api_cli import add_api_commands
from navigator.rasa_config_cli import add_rasa_config_command
from navigator.report_cli import add_report_command
from navigator.requests_cli import add_requests_commands
from navigator.settings import Settings, SettingsError
from navigator.teams_package import add_teams_package_command


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        return args.handler(args, settings)
    except (NavigatorIndexError, SettingsError, ValueError) as exc:
        print(f"navigator: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="navigator", description="Find research infrastructure for a company's need.")
    commands = parser.add_subparsers(dest="command", required=True)

    knowledge = commands.add_parser("knowledge", help="work with the catalogue").add_subparsers(
        dest="action", required=True)
    validate = knowledge.add_parser("validate", help="check the catalogue against its schema")
    validate.add_argument("path", nargs="?", type=Path, help="catalogue folder or file (default: the configured one)")
    validate.add_argument("--warnings", action="store_true", help="list every warning, not just a count")
    validate.set_defaults(handler=_validate)

    index = commands.add_parser("index", help="work with the search index").add_subparsers(dest="action", required=True)
    build = index.add_parser("build", help="build the index, or update it where the catalogue changed")
    build.add_argument("--full", action="store_true", help="rebuild everything even if an index exists")
    build.set_defaults(handler=_build)
    status = index.add_parser("status", help="say whether the index fits the catalogue and model")
    status.set_defaults(handler=_status)

    search = commands.add_parser("search", help="search the catalogue; without QUERY, one query per input line")
    search.add_argument("query", nargs="?", help="the need, in plain words")
    search.add_argument("--top", type=int, default=5, help="how many hits (default 5)")
    search.add_argument("--type", dest="types", action="append", choices=[t.value for t in EntryType],
                        help="only this entry type (repeatable)")
    search.add_argument("--site", dest="sites", action="append", type=_site,
                        help="only this site: flemingsberg, hagastaden (or solna), elsewhere (repeatable)")
    search.add_argument("--organisation", dest="organisations", action="append", help="only this organisation")
    search.add_argument("--open", action="store_true", help="only entries open to companies")
    search.add_argument("--mode", choices=[m.value for m in SearchMode], default=SearchMode.HYBRID.value)
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(handler=_search)

    evaluate = commands.add_parser("eval", help="measure Recall@k and MRR on labelled queries")
    evaluate.add_argument("--queries", type=Path, help="labelled query file (default: tests/eval/queries.yaml)")
    evaluate.add_argument("--misses", choices=["dev"], help="also list the dev queries that hybrid misses at 3")
    evaluate.add_argument("--multipart", type=Path,
                          help="labelled messages with several needs (default without --queries: "
                               "multipart.yaml beside the default queries)")
    evaluate.add_argument("--no-multipart", action="store_true", help="measure single needs only")
    evaluate.add_argument("--split", choices=["dev", "test"], help="measure only this split (tune on dev only)")
    evaluate.add_argument("--language", choices=["en", "sv"],
                          help="measure only the needs written in this language (navigator.evaluation.need_language)")
    evaluate.add_argument("--fusion", choices=[f.value for f in FusionMethod],
                          help="fuse the retrievers this way instead of the engine's default")
    evaluate.add_argument("--dense-share", type=float,
                          help="the convex weight alpha of the dense score, 0 to 1 (with --fusion convex)")
    evaluate.add_argument("--normalisation", choices=[n.value for n in Normalisation],
                          help="how scores are normalised before the convex combination")
    evaluate.add_argument("--check", action="store_true",
                          help="exit with status 1 when hybrid search misses a threshold on the test split "
                               "(docs/benchmarks.md)")
    evaluate.add_argument("--bootstrap", type=int, default=0, metavar="RESAMPLES",
                          help="print a 95%% bootstrap interval of hybrid minus the better single retriever on the "
                               "test split")
    evaluate.set_defaults(handler=_evaluate)

    serve = commands.add_parser("serve", help="run the Navigator service (Rasa's action server and, later, the API)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5055)
    serve.set_defaults(handler=_serve)

    run = commands.add_parser("run", help="start the assistant: the Navigator service and the Rasa server")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--rasa-port", type=int, default=5005)
    run.add_argument("--service-port", type=int, default=5055)
    run.add_argument("--model", type=Path, default=Path("var/models/navigator.tar.gz"),
                     help="the trained Rasa model (default: var/models/navigator.tar.gz)")
    run.set_defaults(handler=_run)

    cluster = commands.add_parser("cluster", help="start several Rasa servers and Navigator services behind HAProxy "
                                                  "(PostgreSQL and Redis required; docs/deploy.md)")
    cluster.add_argument("--host", default="127.0.0.1", help="the interface of HAProxy's public addresses")
    cluster.add_argument("--rasa-servers", type=int, default=2)
    cluster.add_argument("--services", type=int, default=2)
    cluster.add_argument("--rasa-port", type=int, default=5005, help="the public Rasa address (through HAProxy)")
    cluster.add_argument("--service-port", type=int, default=5055,
                         help="the public Navigator address (through HAProxy)")
    cluster.add_argument("--actions-port", type=int, default=5056,
                         help="HAProxy's internal address on 127.0.0.1 for the Rasa servers' action calls")
    cluster.add_argument("--first-backend-port", type=int, default=5100,
                         help="the Rasa servers and then the services listen on 127.0.0.1 from this port on")
    cluster.add_argument("--model", type=Path, default=Path("var/models/navigator.tar.gz"))
    cluster.set_defaults(handler=_cluster)

    bench = commands.add_parser("bench", help="measure latency, build time and memory at several sizes")
    bench.add_argument("--sizes", default="1000,10000,100000", help="comma-separated entry counts")
    bench.add_argument("--queries", type=int, default=200, help="timed queries per size")
    bench.set_defaults(handler=_bench)

    bench_chat = commands.add_parser("bench-chat", help="end-to-end latency and throughput over Rasa's REST channel")
    bench_chat.add_argument("--turns", type=int, default=60, help="sequential turns of each kind")
    bench_chat.add_argument("--concurrent", type=int, default=20, help="conversations at once")
    bench_chat.set_defaults(handler=_bench_chat)

    bench_requests = commands.add_parser("bench-requests", help="support requests created per second")
    bench_requests.add_argument("--postgres-url", default=None,
                                help="a PostgreSQL database to create a scratch schema in "
                                     "(default: NAVIGATOR_BENCH_POSTGRES_URL or the local test database)")
    bench_requests.add_argument("--writers", type=int, default=10)
    bench_requests.add_argument("--per-writer", type=int, default=50)
    bench_requests.set_defaults(handler=_bench_requests)

    add_requests_commands(commands)
    add_advisors_commands(commands)
    add_api_commands(commands)
    add_teams_package_command(commands)
    add_rasa_config_command(commands)
    add_report_command(commands)
    return parser


def _site(text: str) -> Site:
    try:
        return Site.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    path = args.path or settings.knowledge_dir
    catalogue = load_catalogue(path)
    counts = catalogue.count_by_type()
    plurals = {EntryType.FACILITY: "facilities", EntryType.EXPERT: "experts", EntryType.PROGRAMME: "programmes"}
    summary = ", ".join(f"{n} {t.value if n == 1 else plurals[t]}" for t, n in counts.items())
    print(f"{path}: valid, {len(catalogue)} entries ({summary})")
    samples = [w for w in catalogue.warnings if w.field == "email"]
    others = [w for w in catalogue.warnings if w.field != "email"]
    if samples:
        print(f"warning: {len(samples)} expert entries still carry sample contacts on example.org; "
              "replace them before going live (knowledge/README.md)")
    shown = catalogue.warnings if args.warnings else others
    for warning in shown:
        print(f"warning: {warning}")
    return 0


def _build(args: argparse.Namespace, settings: Settings) -> int:
    from navigator.runtime import open_runtime

    runtime = open_runtime(settings, progress=sys.stderr.isatty(), force_full=args.full)
    report = runtime.build_report
    manifest = runtime.engine.state.manifest
    if report is None:
        print(f"the index in {settings.index_dir} is up to date ({manifest.entry_count} entries)")
        return 0
    kind = "built in full" if report.full else "updated"
    print(f"index {kind} in {report.seconds:.1f} s: {manifest.entry_count} entries, {manifest.passage_count} "
          f"passages ({manifest.dense_kind} vector index), {report.passages_encoded} passages encoded")
    if not report.full:
        print(f"  added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)}, "
              f"unchanged {report.unchanged}")
    print(f"  reason: {report.reason}")
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from index.store import read_manifest

    catalogue = load_catalogue(settings.knowledge_dir)
    manifest = read_manifest(settings.index_dir)
    reasons = manifest.stale_reasons(model=settings.embedding_model, dimension=manifest.dimension,
                                     catalogue_hash=catalogue.content_hash())
    print(f"index in {settings.index_dir}: {manifest.entry_count} entries, model {manifest.model}, "
          f"built {manifest.built_at}")
    if reasons:
        print("stale: " + "; ".join(reasons) + ". It is updated by 'navigator index build' or at the next search.")
        return 1
    print("up to date")
    return 0


def _filters(args: argparse.Namespace) -> SearchFilters:
    return SearchFilters(
        types=frozenset(EntryType(t) for t in args.types or ()),
        sites=frozenset(args.sites or ()),
        organisations=frozenset(args.organisations or ()),
        open_to_companies=True if args.open else None,
    )


def _search(args: argparse.Namespace, settings: Settings) -> int:
    from navigator.runtime import open_runtime

    if args.query is not None:
        clean_query(args.query, settings.max_query_chars)  # refuse a bad query before loading the model
    filters, mode = _filters(args), SearchMode(args.mode)
    runtime = open_runtime(settings)
    if runtime.build_report is not None:
        print(f"navigator: the index was rebuilt first ({runtime.build_report.reason})", file=sys.stderr)
    engine = runtime.engine
    if args.query is not None:
        hits = engine.search(args.query, top=args.top, filters=filters, mode=mode)
        if args.json:
            print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        else:
            _print_hits(hits, sys.stdout)
        return 0
    if sys.stdin.isatty():
        return _interactive(engine, args.top, filters, mode)
    return _search_lines(engine, sys.stdin, sys.stdout, args.top, filters, mode)


def _search_lines(engine: SearchEngine, source: TextIO, out: TextIO, top: int, filters: SearchFilters,
                  mode: SearchMode) -> int:
    """One JSON line per input line: the list of hits, or ``{"error": ...}`` for a query that cannot be searched.

    Blank lines are skipped. Returns 1 if any query failed, else 0.
    """
    failed = False
    for line in source:
        if not line.strip():
            continue
        try:
            payload = [h.to_dict() for h in engine.search(line, top=top, filters=filters, mode=mode)]
        except QueryError as exc:
            payload, failed = {"error": str(exc)}, True
        out.write(json.dumps(payload, ensure_ascii=False) + "\n")
        out.flush()
    return 1 if failed else 0


def _interactive(engine: SearchEngine, top: int, filters: SearchFilters, mode: SearchMode) -> int:
    print(f"Navigator search over {len(engine)} entries. Describe a need; an empty line or Ctrl-D ends.")
    while True:
        try:
            line = input("need> ")
        except EOFError:
            print()
            return 0
        if not line.strip():
            return 0
        try:
            _print_hits(engine.search(line, top=top, filters=filters, mode=mode), sys.stdout)
        except QueryError as exc:
            print(f"  {exc}")


def _print_hits(hits, out: TextIO) -> None:
    if not hits:
        out.write("no matches\n")
    for hit in hits:
        entry = hit.entry
        out.write(f"{hit.rank}. {entry.name} ({entry.type.value}) — {entry.organisation}, {entry.site.label}"
                  f"  [score {hit.score:.2f}]\n")
        terms = ", ".join(hit.explanation.terms)
        if terms:
            out.write(f"   shares: {terms}\n")
        out.write(f"   why: {hit.explanation.reason}\n")
        out.write(f"   id: {entry.id}\n")


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from navigator.evaluation import (SINGLE_MODES, bootstrap_margin, check, evaluate_multipart,
                                      evaluate_single_needs_split, format_bootstrap, format_multipart_table,
                                      format_single_split_table, format_table, judge_message, load_messages,
                                      load_queries, misses, need_language, ranks_by_split, score_ranks)
    from navigator.runtime import open_runtime

    runtime = open_runtime(settings)
    engine = _engine_for_evaluation(runtime, args)
    path = args.queries or settings.eval_queries
    queries = load_queries(path, known_ids=(e.id for e in engine.entries()))
    if args.split:
        queries = [q for q in queries if q.split == args.split]
    if args.language:
        queries = [q for q in queries if need_language(q.text) == args.language]
    if args.check and (args.split == "dev" or args.language):
        raise ValueError("--check measures the test split, all of it; leave out --split dev and --language")
    ranks = {mode: ranks_by_split(engine, queries, mode) for mode in SearchMode}
    results = {mode: {split: score_ranks(values) for split, values in by_split.items()}
               for mode, by_split in ranks.items()}
    fusion = engine.settings
    language = f" in {args.language}" if args.language else ""
    print(f"{len(queries)} labelled queries{language} from {path}; {len(engine)} entries; fusion {fusion.fusion.value} "
          + (f"(alpha {fusion.dense_share}, {fusion.normalisation.value})" if fusion.fusion is FusionMethod.CONVEX
             else f"(k {fusion.rrf_k}, dense weight {fusion.dense_weight})") + "\n")
    print(format_table(results))
    if args.bootstrap and "test" in ranks[SearchMode.HYBRID]:
        intervals = bootstrap_margin(ranks[SearchMode.HYBRID]["test"],
                                     [ranks[mode]["test"] for mode in SINGLE_MODES], resamples=args.bootstrap)
        print("\n" + format_bootstrap(intervals, len(ranks[SearchMode.HYBRID]["test"]), args.bootstrap, 17))
    if args.check:
        failures = check(results)
        print("\nQuality gate (docs/benchmarks.md): " + ("passed" if not failures else "FAILED"))
        for failure in failures:
            print(f"  {failure}")
        if failures:
            return 1
    if args.misses:
        dev = [q for q in queries if q.split == "dev"]
        for query, got in misses(engine, dev, SearchMode.HYBRID):
            print(f"miss {query.id}: {query.text!r} expected {list(query.expected)} got {got}")
    # The shipped messages name shipped entries: with a query file of one's own, only a given message file is read.
    multipart = args.multipart or (None if args.queries else path.parent / "multipart.yaml")
    if args.no_multipart or multipart is None:
        return 0
    messages = load_messages(multipart, known_ids=(e.id for e in engine.entries()))
    if args.language:
        messages = [m for m in messages if need_language(m.text) == args.language]
    print("\nThe same single needs searched need by need (hybrid), as the assistant searches them:\n")
    print(format_single_split_table(evaluate_single_needs_split(engine, queries)))
    print(f"\n{len(messages)} labelled messages with several needs from {multipart} (hybrid):\n")
    print(format_multipart_table(evaluate_multipart(engine, messages)))
    if args.misses:
        for message in (m for m in messages if m.split == "dev"):
            if not judge_message(engine, message)["after"]:
                found = [(r.need.text, [h.entry.id for h in r.hits]) for r in engine.search_parts(message.text, top=3)]
                print(f"miss {message.id}: {message.text!r} got {found}")
    return 0


def _engine_for_evaluation(runtime, args: argparse.Namespace) -> SearchEngine:
    """The runtime's engine, or one over the same index with the fusion settings given on the command line."""
    changes = {}
    if args.fusion:
        changes["fusion"] = FusionMethod(args.fusion)
    if args.dense_share is not None:
        changes["dense_share"] = args.dense_share
    if args.normalisation:
        changes["normalisation"] = Normalisation(args.normalisation)
    if not changes:
        return runtime.engine
    return SearchEngine(runtime.engine.state, runtime.embedder, runtime.processor,
                        dataclasses.replace(runtime.engine.settings, **changes))


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from navigator.service import serve

    serve(settings, args.host, args.port)
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from navigator.launcher import run_forever
    from navigator.settings import PROJECT_ROOT

    model = args.model if args.model.is_absolute() else PROJECT_ROOT / args.model
    return run_forever(settings, model=model, rasa_port=args.rasa_port, service_port=args.service_port,
                       host=args.host)


def _cluster(args: argparse.Namespace, settings: Settings) -> int:
    from navigator.cluster import ClusterLayout, run_cluster_forever
    from navigator.settings import PROJECT_ROOT

    model = args.model if args.model.is_absolute() else PROJECT_ROOT / args.model
    layout = ClusterLayout.numbered(args.rasa_servers, args.services, host=args.host, rasa_port=args.rasa_port,
                                    service_port=args.service_port, actions_port=args.actions_port,
                                    first_backend_port=args.first_backend_port)
    return run_cluster_forever(settings, model=model, layout=layout)


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from navigator.benchmark import run_benchmark

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 10:
        raise ValueError("--sizes takes entry counts of at least 10, such as 1000,10000")
    print(run_benchmark(settings, sizes, args.queries))
    return 0


def _bench_chat(args: argparse.Namespace, settings: Settings) -> int:
    from navigator.chat_benchmark import run_chat_benchmark

    if args.turns < 5 or args.concurrent < 1:
        raise ValueError("--turns takes at least 5 and --concurrent at least 1")
    print(run_chat_benchmark(settings, sequential_turns=args.turns, concurrent=args.concurrent))
    return 0


def _bench_requests(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from navigator.requests_benchmark import DEFAULT_POSTGRES_URL, run_requests_benchmark

    if args.writers < 1 or args.per_writer < 1:
        raise ValueError("--writers and --per-writer take at least 1")
    url = args.postgres_url or os.environ.get("NAVIGATOR_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    print(run_requests_benchmark(url, args.writers, args.per_writer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
