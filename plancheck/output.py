"""Write records as a terminal table, CSV, JSON Lines or JSON; resume a JSON Lines output.

JSON Lines output is appended one complete line at a time and flushed, so a run killed at any
moment leaves a file whose complete lines all parse; ``--resume`` drops a torn last line and
skips the inputs already recorded (by path and SHA-256).
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import IO

FORMATS = ("table", "csv", "jsonl", "json")
CSV_FIELDS = ("path", "sha256", "status", "error_code", "error_message", "verdict", "p_insufficient", "missing_areas",
              "flagged_areas", "areas", "model")


def csv_row(record: dict) -> dict:
    err = record.get("error") or {}
    return {"path": record.get("path"), "sha256": record.get("sha256"), "status": record.get("status"),
            "error_code": err.get("code", ""), "error_message": err.get("message", ""), "verdict": record.get("verdict") or "",
            "p_insufficient": "" if record.get("p_insufficient") is None else f"{record['p_insufficient']:.3f}",
            "missing_areas": ";".join(record.get("missing_areas") or []),
            "flagged_areas": ";".join(a["area"] for a in record.get("areas") or [] if a.get("flagged")),
            "areas": ";".join(a["area"] for a in record.get("areas") or []), "model": record.get("model") or ""}


def slim(record: dict) -> dict:
    """A record without section texts (they stay in reports, not in batch outputs)."""
    out = dict(record)
    out["areas"] = [{k: v for k, v in a.items() if k != "text"} for a in record.get("areas") or []]
    return out


def table_lines(record: dict) -> list[str]:
    name = os.path.basename(record.get("path") or "")
    if record.get("status") != "scored":
        err = record.get("error") or {}
        return [f"{name}  ERROR {err.get('code')}: {err.get('message')}"]
    verdict = "NEEDS REVIEW" if record["verdict"] == "needs_review" else "sufficient"
    p = record.get("p_insufficient")
    lines = [f"{name}  {verdict}" + (f"  (highest p_insufficient {p:.2f})" if p is not None else "")]
    if record.get("missing_areas"):
        lines.append(f"  missing areas: {', '.join(record['missing_areas'])}")
    for a in record.get("areas") or []:
        mark = "FLAG" if a["flagged"] else " ok "
        scores = " ".join(f"{c[:4]}={v}" for c, v in a["criteria"].items())
        pages = a.get("pages") or []
        where = f"pp. {min(pages)}-{max(pages)}" if pages and min(pages) != max(pages) else (f"p. {pages[0]}" if pages else "")
        lines.append(f"  [{mark}] {a['area']:<24} p={a['p_insufficient']:.2f}  {scores}  {where}")
        if a["flagged"]:
            for reason in a["reasons"][:4]:
                lines.append(f"         - {reason}")
    return lines


class RecordWriter:
    """Streams records to ``out`` in ``fmt``; JSON is collected and written at the end."""

    def __init__(self, out: IO[str], fmt: str):
        self.out, self.fmt = out, fmt
        self.collected: list[dict] = []
        self.csv = None
        if fmt == "csv":
            self.csv = csv.DictWriter(out, fieldnames=CSV_FIELDS)
            if not getattr(out, "_plancheck_resumed", False):
                self.csv.writeheader()

    def write(self, record: dict) -> None:
        record = slim(record)
        if self.fmt == "jsonl":
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif self.fmt == "csv":
            self.csv.writerow(csv_row(record))
        elif self.fmt == "table":
            self.out.write("\n".join(table_lines(record)) + "\n")
        else:
            self.collected.append(record)
            return
        self.out.flush()

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write(json.dumps(self.collected, indent=2, ensure_ascii=False) + "\n")
            self.out.flush()


def read_done(path: Path) -> set[tuple[str, str]]:
    """(path, sha256) of the complete records in a JSON Lines output; trims a torn last line."""
    done: set[tuple[str, str]] = set()
    if not path.exists():
        return done
    data = path.read_bytes()
    keep = data if data.endswith(b"\n") or not data else data[: data.rfind(b"\n") + 1]
    if len(keep) != len(data):
        with open(path, "r+b") as fh:
            fh.truncate(len(keep))
    for line in io.StringIO(keep.decode("utf-8", errors="replace")):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("path"):
            done.add((rec["path"], rec.get("sha256") or ""))
    return done
