"""Write records as a terminal table, CSV, JSON Lines or JSON; resume a JSON Lines or CSV output.

JSON Lines and CSV output is appended one complete line at a time and flushed, so a run killed at
any moment leaves a file whose complete lines all parse; ``--resume`` drops a torn last line and
skips the inputs already recorded (by path and SHA-256).
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import IO

from .areas import AREA_KEYS
from .errors import OutputError, UsageError
from .record import Record
from .rubric import CRITERIA
from .types import cite_pages

FORMATS = ("table", "csv", "jsonl", "json")
# The format a file name implies: ``-o scores.csv`` writes CSV without being told.
SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".txt": "table"}
RESUMABLE = ("jsonl", "csv")
# One row per document. Each area has its own columns (a fixed set, so that files from different
# batches line up): its probability, flag, the eight criterion scores and the reasons of a flag,
# then (with ``score --shared``) the share of its words shared with other forces' plans, and whose.
AREA_FIELDS = ("p_insufficient", "flagged") + CRITERIA + ("reasons", "shared", "shared_with")
CSV_FIELDS = (("path", "sha256", "status", "error_code", "error_message", "verdict", "p_insufficient", "missing_areas",
               "flagged_areas", "areas", "model")
              + tuple(f"{area}.{name}" for area in AREA_KEYS for name in AREA_FIELDS))
REASON_SEPARATOR = " | "


def choose_format(fmt: str | None, output: Path | None) -> str:
    """The output format: ``fmt`` if given, else the one ``output``'s extension implies, else ``table``.

    Raises:
        UsageError: an unknown format, a format that contradicts the file's extension
            (``-f table -o scores.csv``), or a file whose extension implies no format.
    """
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    implied = SUFFIX_FORMATS.get(output.suffix.lower()) if output is not None else None
    if fmt is None:
        if output is None:
            return "table"
        if implied is None:
            raise UsageError(f"--output {output}: cannot tell the format from the file name; give --format "
                             f"({', '.join(FORMATS)}) or name it .csv, .jsonl, .json or .txt")
        return implied
    if implied is not None and implied != fmt:
        raise UsageError(f"--format {fmt} does not match --output {output} (a {output.suffix} file holds {implied}); "
                         f"use --format {implied}, or another file name")
    return fmt


def csv_row(record: Record) -> dict:
    """One CSV row of a record: the document's fields, then each area's columns (empty when absent)."""
    row = {"path": record.path, "sha256": record.sha256, "status": record.status,
           "error_code": record.error_code, "error_message": record.error_message, "verdict": record.verdict or "",
           "p_insufficient": "" if record.p_insufficient is None else f"{record.p_insufficient:.3f}",
           "missing_areas": ";".join(record.missing_areas), "flagged_areas": ";".join(record.flagged_areas),
           "areas": ";".join(a.area for a in record.areas), "model": record.model or ""}
    for a in record.areas:
        if a.area not in AREA_KEYS:
            continue
        prefix = a.area + "."
        row[prefix + "p_insufficient"] = f"{a.p_insufficient:.3f}"
        row[prefix + "flagged"] = "yes" if a.flagged else "no"
        for c in CRITERIA:
            row[prefix + c] = a.criteria.get(c, "")
        row[prefix + "reasons"] = REASON_SEPARATOR.join(a.reasons)
        row[prefix + "shared"] = "" if a.shared is None else f"{a.shared:.2f}"
        row[prefix + "shared_with"] = ";".join(a.shared_with)
    return row


def table_lines(record: Record) -> list[str]:
    name = os.path.basename(record.path)
    if not record.ok:
        return [f"{name}  ERROR {record.error_code}: {record.error_message}"]
    verdict = "NEEDS REVIEW" if record.needs_review else "sufficient"
    p = record.p_insufficient
    threshold = record.threshold
    flag_at = f"; flagged at p >= {threshold:.2f}" if threshold is not None else ""
    lines = [f"{name}  {verdict}" + (f"  (highest p_insufficient {p:.2f}{flag_at})" if p is not None else "")]
    if record.missing_areas:
        lines.append(f"  missing areas: {', '.join(record.missing_areas)}")
    for a in record.areas:
        mark = "FLAG" if a.flagged else ("COPY" if a.mostly_shared else " ok ")
        scores = " ".join(f"{c[:4]}={v}" for c, v in a.criteria.items())
        lines.append(f"  [{mark}] {a.area:<24} p={a.p_insufficient:.2f}  {scores}  {cite_pages(a.pages)}")
        if a.needs_review:
            for reason in a.reasons[:4]:
                lines.append(f"         - {reason}")
    return lines


class RecordWriter:
    """Streams records to ``out`` in ``fmt``; JSON is collected and written at the end.

    ``header=False`` leaves out the CSV header, for appending to a file that has one (``--resume``).
    ``written`` counts the records written (or collected, for JSON).
    """

    def __init__(self, out: IO[str], fmt: str, header: bool = True):
        self.out, self.fmt = out, fmt
        self.collected: list[dict] = []
        self.written = 0
        self.csv = None
        if fmt == "csv":
            self.csv = csv.DictWriter(out, fieldnames=CSV_FIELDS, restval="")
            if header:
                self.csv.writeheader()

    def write(self, record: Record) -> None:
        """Write one record; batch outputs leave out the sections' texts (reports keep them)."""
        self.written += 1
        if self.fmt == "jsonl":
            self.out.write(json.dumps(record.to_dict(with_text=False), ensure_ascii=False) + "\n")
        elif self.fmt == "csv":
            self.csv.writerow(csv_row(record))
        elif self.fmt == "table":
            self.out.write("\n".join(table_lines(record)) + "\n")
        else:
            self.collected.append(record.to_dict(with_text=False))
            return
        self.out.flush()

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write(json.dumps(self.collected, indent=2, ensure_ascii=False) + "\n")
            self.out.flush()


def read_done(path: Path, fmt: str = "jsonl") -> set[tuple[str, str]]:
    """(path, sha256) of the complete records in a JSON Lines or CSV output; trims a torn last line.

    Raises:
        OutputError: a CSV output whose columns are not this version's (appending would misalign them).
    """
    done: set[tuple[str, str]] = set()
    if not path.exists():
        return done
    data = path.read_bytes()
    keep = data if data.endswith(b"\n") or not data else data[: data.rfind(b"\n") + 1]
    if len(keep) != len(data):
        with open(path, "r+b") as fh:
            fh.truncate(len(keep))
    text = keep.decode("utf-8", errors="replace")
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        try:
            if text and tuple(reader.fieldnames or ()) != CSV_FIELDS:
                raise OutputError(f"{path}: has other columns than this version of plancheck writes, so records "
                                  f"cannot be appended to it; resume into a new file (or use --format jsonl)")
            return {(r["path"], r["sha256"] or "") for r in reader if r.get("path")}
        except csv.Error as exc:
            raise OutputError(f"{path} line {reader.line_num}: not valid CSV ({exc}); cannot resume from it") from None
    for line in io.StringIO(text):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("path"):
            done.add((rec["path"], rec.get("sha256") or ""))
    return done
