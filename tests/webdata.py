"""Scored records for the workbench's tests, made by hand so that no model is needed.

Criteria are chosen per area and the flag follows the rubric's rule, as it does in real records;
section texts come from segmenting a real example plan, so grades of it pass corpus validation.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from plancheck.corpus import COLUMNS
from plancheck.ingest import read_document
from plancheck.rubric import CRITERIA, label_from_scores
from plancheck.segment import segment

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
THRESHOLD = 0.4
GOOD = (2, 2, 2, 2, 2, 2, 1, 1)
VAGUE = (1, 1, 1, 0, 1, 0, 0, 1)


def assessment(area: str, scores=GOOD, p: float | None = None, text: str = "", pages=(1,), headings=()) -> dict:
    criteria = dict(zip(CRITERIA, scores))
    flagged = label_from_scores(criteria) == "insufficient"
    p = p if p is not None else (0.9 if flagged else 0.1)
    evidence = {c: [f"Evidence for {c} in {area}."] for c in CRITERIA if criteria[c] == 2}
    evidence.update({c: [f"A vague line about {c}."] for c in CRITERIA if criteria[c] == 1})
    return {"area": area, "headings": list(headings) or [area.replace("_", " ").title()], "pages": list(pages),
            "p_insufficient": p, "threshold": THRESHOLD, "flagged": flagged, "criteria": criteria,
            "p_specific": {c: (0.85 if v == 2 else 0.2 if v == 1 else 0.05) for c, v in criteria.items()},
            "reasons": [f"{c}: vague" for c in CRITERIA if criteria[c] < 2] if flagged else [],
            "evidence": evidence, "text": text}


def record(path: str, areas: list[dict], missing=(), sha: str | None = None) -> dict:
    flagged = any(a["flagged"] for a in areas)
    return {"path": path, "sha256": sha or ("%064x" % abs(hash(path))), "status": "scored", "error": None,
            "verdict": "needs_review" if (missing or flagged) else "sufficient",
            "p_insufficient": max((a["p_insufficient"] for a in areas), default=None), "missing_areas": list(missing),
            "areas": areas, "model": "plancheck-test", "kind": "txt", "pages": 1, "words": 900, "title": "",
            "warnings": []}


def error_record(path: str) -> dict:
    return {"path": path, "sha256": None, "status": "error",
            "error": {"code": "no_text", "message": f"{path}: has no text layer to read"}, "verdict": None,
            "p_insufficient": None, "missing_areas": [], "areas": [], "model": "plancheck-test"}


REQUIRED = ("serious_organised_crime", "major_crime", "critical_incidents", "civil_contingencies", "public_order",
            "roads_policing", "vulnerable_people")


def batch_records() -> list[dict]:
    """Four plans: one sufficient, one with a flagged area, one with missing areas, one unreadable."""
    return [
        record("plans/ashvale-2009.pdf", [assessment(a) for a in REQUIRED]),
        record("plans/brenford-2009.docx", [assessment(a, VAGUE if a == "roads_policing" else GOOD,
                                                      0.55 if a == "roads_policing" else None) for a in REQUIRED]),
        record("plans/corrin-2009.txt", [assessment(a) for a in REQUIRED[:5]], missing=REQUIRED[5:]),
        error_record("plans/dunmere-scan-2009.pdf"),
    ]


def write_scores(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({**r, "areas": [{k: v for k, v in a.items() if k != "text"} for a in r["areas"]]})
                            + "\n" for r in records), encoding="utf-8")
    return path


def many_records(n: int) -> list[dict]:
    out = []
    for i in range(n):
        areas = [assessment(a, VAGUE if (i + j) % 5 == 0 else GOOD) for j, a in enumerate(REQUIRED[: 7 - i % 3])]
        out.append(record(f"plans/force{i:04d}-2009.pdf", areas, missing=REQUIRED[7 - i % 3:]))
    return out


def triage_folder(root: Path) -> Path:
    """A triage output with the example plan stourholme-2009.txt in needs-review/ and its record
    (section texts included), and triage-log.jsonl."""
    out = root / "triaged"
    (out / "needs-review").mkdir(parents=True)
    (out / "passed").mkdir()
    (out / "unreadable").mkdir()
    dest = out / "needs-review" / "stourholme-2009.txt"
    shutil.copyfile(EXAMPLES / "stourholme-2009.txt", dest)
    doc = read_document(dest)
    seg = segment(doc)
    areas = []
    for i, s in enumerate(seg.sections):
        scores = VAGUE if i % 2 else GOOD
        sentences = [line.strip() for line in s.text.splitlines() if len(line.split()) > 6]
        a = assessment(s.area, scores, text=s.text, pages=s.pages, headings=s.headings)
        a["evidence"] = {"owner": sentences[:1], "timescales": sentences[1:2]}
        a["p_specific"]["owner"] = 0.52
        areas.append(a)
    rec = record(str(dest), areas, missing=seg.missing_areas, sha=doc.sha256)
    rec["submitted_as"] = "/srv/inbox/stourholme-2009.txt"
    (out / "needs-review" / "stourholme-2009.txt.json").write_text(json.dumps(rec, indent=2), encoding="utf-8")
    log = {"time": "2026-11-30T18:05:41+00:00", "event": "scored", "file": "stourholme-2009.txt",
           "destination": "needs-review/stourholme-2009.txt", "status": "scored", "verdict": rec["verdict"],
           "record": "needs-review/stourholme-2009.txt.json", "report": "needs-review/stourholme-2009.txt.html"}
    (out / "triage-log.jsonl").write_text(json.dumps(log) + "\n", encoding="utf-8")
    return out


def empty_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    (corpus / "documents").mkdir(parents=True)
    with open(corpus / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow(COLUMNS)
    (corpus / "split.csv").write_text("force,split\n", encoding="utf-8")
    return corpus
