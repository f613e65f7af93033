"""The funder's report as files: an XLSX workbook (one sheet per table) or a zip of CSV files (one per table).

Both are written from :meth:`OutcomeReport.tables <support_requests.outcome_report.OutcomeReport.tables>`, so
they hold the same tables with the same headers. In the workbook, the first sheet (``about``) states the
definitions and the period; numbers are stored as numbers and dates as dates, headers are bold and frozen. In
the zip, ``about.csv`` plays the cover's part and every other table is ``<sheet name>.csv`` (UTF-8, a header
row, dates as ``YYYY-MM-DD``). Text that a spreadsheet would run as a formula gets a leading ``'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from typing import BinaryIO

from support_requests.outcome_report import OutcomeReport, ReportTable
from support_requests.projection import spreadsheet_safe

FORMATS = ("xlsx", "csv")
"""The report's file formats (``csv``: a zip of CSV files)."""

SUFFIXES = {"xlsx": ".xlsx", "csv": ".zip"}
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "application/zip"}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same report gives the same bytes


def file_name(report: OutcomeReport, file_format: str) -> str:
    """The report's file name, such as ``outcomes-2026-01-01-to-2026-12-31.xlsx``."""
    return f"outcomes-{report.period.first.isoformat()}-to-{report.period.last.isoformat()}{SUFFIXES[file_format]}"


def write_report(report: OutcomeReport, file_format: str, out: BinaryIO) -> None:
    """Write ``report`` to ``out`` as ``xlsx`` or ``csv`` (a zip of CSV files).

    Raises:
        ValueError: for another format.
    """
    if file_format == "xlsx":
        write_xlsx(report, out)
    elif file_format == "csv":
        write_csv_zip(report, out)
    else:
        raise ValueError("the report's format must be xlsx or csv")


def write_xlsx(report: OutcomeReport, out: BinaryIO) -> None:
    """The workbook: one sheet per table, the definitions and the period on the first."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in report.tables():
        sheet = workbook.create_sheet(table.name)
        sheet.append([column.header for column in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_value(value) for value in row])
        for index, column in enumerate(table.columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            width = max([len(column.header)] + [len(_text(row[index - 1])) for row in table.rows])
            sheet.column_dimensions[letter].width = min(max(width + 2, 10), 90)
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                if column.kind == "date" and cell.value is not None:
                    cell.number_format = "yyyy-mm-dd"
                elif column.kind in ("int", "number") and cell.value is not None:
                    # The indicators' Value column holds counts and, for the response times, days.
                    cell.number_format = "0" if isinstance(cell.value, int) else "0.00"
                elif column.kind == "text":
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
    workbook.properties.title = f"Companies reached, {report.period}"
    workbook.properties.creator = "Navigator"
    workbook.properties.created = workbook.properties.modified = report.generated_at.replace(tzinfo=None)
    workbook.save(out)


def write_csv_zip(report: OutcomeReport, out: BinaryIO) -> None:
    """The zip: ``<table name>.csv`` per table, in the report's order."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in report.tables():
            member = zipfile.ZipInfo(f"{table.name}.csv", date_time=_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, table_csv(table).encode("utf-8"))


def table_csv(table: ReportTable) -> str:
    """One table as CSV text: a header row, then its rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.header for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(value) for value in row])
    return buffer.getvalue()


def _xlsx_value(value: object) -> object:
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return value


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return spreadsheet_safe(str(value))


def _text(value: object) -> str:
    return "" if value is None else value.isoformat() if isinstance(value, dt.date) else str(value)
