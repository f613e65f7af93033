"""``navigator report``: the funder's report of a period, as an XLSX workbook or a zip of CSV files.

The figures come from :class:`support_requests.outcome_report.OutcomeReporter` with "reached" as the settings
define it (``NAVIGATOR_REACHED_*``), the catalogue from ``NAVIGATOR_KNOWLEDGE_DIR``; docs/outcomes.md describes
the sheets. A period or format that cannot be used ends as one line on standard error and exit status 2; a
database that cannot be used, 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from navigator.cli_errors import guarded
from navigator.settings import Settings


def add_report_command(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report`` to the ``navigator`` command line."""
    report = subparsers.add_parser("report", help="the funder's report of a period: companies reached, forms of "
                                                  "support, sites, facilities, requests by status")
    report.add_argument("--from", dest="first", required=True, metavar="DATE",
                        help="the first day, such as 2026-01-01 (Europe/Stockholm)")
    report.add_argument("--to", dest="last", required=True, metavar="DATE",
                        help="the last day, included, such as 2026-12-31")
    report.add_argument("--format", choices=("xlsx", "csv"), default="xlsx",
                        help="xlsx: one sheet per table; csv: a zip of one CSV file per table (default: xlsx)")
    report.add_argument("--by", choices=("month", "week"), default="month",
                        help="the timeline's steps (default: month)")
    report.add_argument("--output", type=Path,
                        help="the file to write (default: outcomes-FROM-to-TO.xlsx or .zip here; '-': stdout)")
    report.set_defaults(handler=guarded(_report, input_errors=_input_errors))


def _input_errors() -> tuple[type[Exception], ...]:
    from support_requests.outcomes import OutcomeError

    return (OutcomeError,)


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from index.catalogue import load_catalogue
    from navigator.stores import open_request_store
    from support_requests.errors import SupportRequestError
    from support_requests.outcome_files import file_name, write_report
    from support_requests.outcome_report import OutcomeReporter
    from support_requests.outcomes import Granularity, Period

    period = Period.parse(args.first, args.last)
    catalogue = {entry.id: entry for entry in load_catalogue(settings.knowledge_dir).entries}
    with open_request_store(settings) as store:
        reporter = OutcomeReporter(store.engine, settings.reached_definition, entry=catalogue.get,
                                   clock=store.clock)
        report = reporter.report(period, Granularity(args.by))
    if str(args.output) == "-":
        write_report(report, args.format, sys.stdout.buffer)
        return 0
    target = args.output or Path(file_name(report, args.format))
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with open(partial, "wb") as out:
            write_report(report, args.format, out)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SupportRequestError(f"cannot write {target}: {exc.strerror}") from None
    print(f"{target}: {report.reached} companies reached from {period.first} to {period.last} "
          f"({report.new} new; {report.reached_to_date} of the target {report.definition.target} since the start)")
    return 0
