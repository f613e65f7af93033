"""``navigator requests ...``: the advisors' command line for support requests. It parses arguments and prints;
the store comes from :mod:`navigator.wiring`, the CSV from :mod:`support_requests.projection`, erasure across
stores from :mod:`support_requests.retention`. Errors the store raises on purpose end as one line on standard
error and exit status 1, with nothing changed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from navigator.cli_errors import Handler, guarded
from navigator.settings import Settings
from navigator.stores import open_request_store, outbox_worker
from support_requests.projection import csv_row, write_csv
from support_requests.retention import erase_conversations, purge_expired

if TYPE_CHECKING:
    from support_requests.model import ErasureReport, RequestStatus, SupportRequest
    from support_requests.store import RequestStore


def add_requests_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``requests`` and its actions to the ``navigator`` command line."""
    requests = subparsers.add_parser("requests", help="follow up support requests").add_subparsers(
        dest="action", required=True)

    listing = requests.add_parser("list", help="list requests, oldest first")
    listing.add_argument("--status", type=_status, help="only requests in this status")
    listing.add_argument("--assignee", help="only requests of this advisor")
    listing.set_defaults(handler=_guarded(_list))

    show = requests.add_parser("show", help="everything about one request")
    show.add_argument("reference", help="such as SLT-2026-0001")
    show.set_defaults(handler=_guarded(_show))

    status = requests.add_parser("set-status", help="move a request to another status")
    status.add_argument("reference")
    status.add_argument("status", type=_status, help="new, assigned, in_progress, connected, closed or withdrawn")
    status.add_argument("--note", help="a note to record with the change")
    status.add_argument("--by", default=_default_actor(), help="who makes the change (default: $USER)")
    status.set_defaults(handler=_guarded(_set_status))

    assign = requests.add_parser("assign", help="make an advisor responsible (a new request becomes assigned)")
    assign.add_argument("reference")
    assign.add_argument("advisor")
    assign.add_argument("--by", default=_default_actor(), help="who makes the change (default: $USER)")
    assign.set_defaults(handler=_guarded(_assign))

    note = requests.add_parser("note", help="add an internal note")
    note.add_argument("reference")
    note.add_argument("text")
    note.add_argument("--by", default=_default_actor(), help="who writes it (default: $USER)")
    note.set_defaults(handler=_guarded(_note))

    export = requests.add_parser("export", help="write requests to a CSV file (it holds personal data)")
    export.add_argument("--csv", required=True, type=Path, dest="csv_path", help="the file to write ('-': stdout)")
    export.add_argument("--status", type=_status, help="only requests in this status")
    export.set_defaults(handler=_guarded(_export))

    erase = requests.add_parser("erase", help="erase the personal data of a company's requests")
    target = erase.add_mutually_exclusive_group(required=True)
    target.add_argument("--email", help="every request with this contact email")
    target.add_argument("--reference", help="one request")
    erase.set_defaults(handler=_guarded(_erase))

    purge = requests.add_parser("purge", help="erase personal data of requests closed longer than the retention")
    purge.add_argument("--retention-days", type=int, help="days after closing (default: NAVIGATOR_RETENTION_DAYS)")
    purge.set_defaults(handler=_guarded(_purge))

    deliver = requests.add_parser("deliver", help="deliver pending notifications (runs until Ctrl-C)")
    deliver.add_argument("--once", action="store_true", help="deliver what is due now, then stop")
    deliver.set_defaults(handler=_guarded(_deliver))


def _guarded(handler: Handler) -> Handler:
    """The store's own errors become one line on standard error and exit status 1."""
    return guarded(handler)


def _status(text: str) -> RequestStatus:
    from support_requests.model import RequestStatus

    try:
        return RequestStatus.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _default_actor() -> str:
    return os.environ.get("USER") or os.environ.get("USERNAME") or "console"


def _list(args: argparse.Namespace, settings: Settings) -> int:
    with open_request_store(settings) as store:
        found = store.list(status=args.status, assignee=args.assignee)
    if not found:
        print("no support requests")
    for request in found:
        print(f"{request.reference}  {request.created_at:%Y-%m-%d %H:%M}  {request.status.value:<11}  "
              f"{request.company_name}  [{request.assignee or 'unassigned'}]  -> {request.routed_contact}")
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    with open_request_store(settings) as store:
        request = store.get(args.reference)
        notifications = store.outbox.records(request.reference)
    _print_request(request, sys.stdout)
    if notifications:
        print("notifications:")
        for record in notifications:
            error = f", last error {record.last_error}" if record.last_error else ""
            print(f"  #{record.id} {record.kind}: {record.status} after {record.attempts} attempt(s){error}")
    return 0


def _print_request(request: SupportRequest, out: TextIO) -> None:
    lines = [
        f"{request.reference}  ({request.status.value})",
        f"created:   {request.created_at:%Y-%m-%d %H:%M} UTC via {request.channel}",
        f"company:   {request.company_name}" + (f" ({request.org_number})" if request.org_number else ""),
        f"contact:   {request.contact_person} <{request.email or '-'}>"
        + (f", {request.phone}" if request.phone else ""),
        f"routed to: {request.routed_contact}",
        f"entries:   {', '.join(request.entry_ids) or '-'}",
        f"advisor:   {request.assignee or '-'}",
        f"consent:   {request.consent.given_at:%Y-%m-%d %H:%M} UTC, notice {request.consent.notice_version}",
    ]
    if request.closed_at:
        lines.append(f"closed:    {request.closed_at:%Y-%m-%d %H:%M} UTC")
    if request.erased_at:
        lines.append(f"erased:    {request.erased_at:%Y-%m-%d %H:%M} UTC")
    lines += ["need:", *("  " + line for line in request.need_summary.splitlines())]
    if request.notes:
        lines.append("notes:")
        for note in request.notes:
            text = "\n     ".join(note.text.splitlines())
            lines.append(f"  {note.number}. {note.at:%Y-%m-%d %H:%M} {note.author}: {text}")
    lines.append("history:")
    for entry in request.history:
        change = f"{entry.old_value} -> {entry.new_value}" if entry.old_value else f"{entry.new_value}"
        lines.append(f"  {entry.at:%Y-%m-%d %H:%M} {entry.actor}: {entry.field}: {change}")
    out.write("\n".join(lines) + "\n")


def _set_status(args: argparse.Namespace, settings: Settings) -> int:
    with open_request_store(settings) as store:
        request = store.set_status(args.reference, args.status, actor=args.by, note=args.note)
    print(f"{request.reference} is now {request.status.value}")
    return 0


def _assign(args: argparse.Namespace, settings: Settings) -> int:
    with open_request_store(settings) as store:
        request = store.assign(args.reference, args.advisor, actor=args.by)
    print(f"{request.reference} is assigned to {request.assignee} ({request.status.value})")
    return 0


def _note(args: argparse.Namespace, settings: Settings) -> int:
    with open_request_store(settings) as store:
        request = store.add_note(args.reference, actor=args.by, text=args.text)
    print(f"{request.reference}: note {len(request.notes)} added")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    with open_request_store(settings) as store:
        found = store.list(status=args.status)
    rows = [csv_row(request) for request in found]
    if str(args.csv_path) == "-":
        write_csv(sys.stdout, rows)
        return 0
    try:
        with open(args.csv_path, "w", encoding="utf-8", newline="") as out:
            write_csv(out, rows)
    except OSError as exc:
        from support_requests.errors import SupportRequestError

        raise SupportRequestError(f"cannot write {args.csv_path}: {exc.strerror}") from None
    print(f"exported {len(rows)} request(s) to {args.csv_path}")
    return 0


def _erase(args: argparse.Namespace, settings: Settings) -> int:
    with open_request_store(settings) as store:
        report = store.erase(email=args.email, reference=args.reference)
        if not report.references:
            print("nothing to erase: no request with personal data matches")
            return 0
        print(f"erased the personal data of {len(report)} request(s): {', '.join(report.references)}")
        _erase_conversations(report, settings, store)
    return 0


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    days = settings.retention_days if args.retention_days is None else args.retention_days
    with open_request_store(settings) as store:
        report, deleted = purge_expired(store, settings.tracker_db_url, days)
    print(f"erased the personal data of {len(report)} request(s) closed more than {days} day(s) ago"
          + (f": {', '.join(report.references)}" if report.references else ""))
    if report.conversation_ids:
        print(f"deleted {deleted} tracker event(s) of {len(report.conversation_ids)} conversation(s)")
    return 0


def _erase_conversations(report: ErasureReport, settings: Settings, store: RequestStore) -> None:
    if not report.conversation_ids:
        return
    deleted = erase_conversations(store.engine, settings.tracker_db_url, report.conversation_ids)
    if deleted:
        print(f"deleted {deleted} tracker event(s) of {len(report.conversation_ids)} conversation(s)")
    else:
        print(f"no tracker events to delete for {', '.join(report.conversation_ids)}: "
              "the assistant's tracker store holds no conversations")


def _deliver(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio
    import signal

    async def deliver(store: RequestStore) -> None:
        worker = outbox_worker(settings, store)
        try:
            if args.once:
                stats = await worker.run_until_idle()
                print(f"sent {stats.sent}, to retry {stats.retried}, failed {stats.failed}")
                return
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, worker.stop)
            await worker.run()
        finally:
            await worker.aclose()

    with open_request_store(settings) as store:
        if not settings.smtp_host:
            print("navigator: NAVIGATOR_SMTP_HOST is not set: email notifications stay pending", file=sys.stderr)
        asyncio.run(deliver(store))
        counts = store.outbox.counts()
    print("outbox: " + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "empty"))
    return 0
