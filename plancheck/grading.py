"""Validate the corpus and record reviewers' grades into it.

Grades enter the corpus only through ``record_grades``, which validates them exactly as the
corpus is validated (columns, areas, scores, label rule, duplicates, segmentation finds the area)
and writes labels.csv atomically, so a bad grade file leaves the corpus untouched.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import shutil
from collections import Counter
from pathlib import Path

from .card import atomic_write
from .config import Config
from .corpus import COLUMNS, Corpus, load_split, parse_labels
from .rubric import CRITERIA, label_from_scores
from .errors import CorpusError, PlancheckError
from .ingest import read_document
from .segment import segment


def _check_segmentation(corpus: Corpus, grades, config: Config) -> list[str]:
    problems = []
    by_doc: dict[str, list] = {}
    for g in grades:
        by_doc.setdefault(g.document, []).append(g)
    for document, rows in sorted(by_doc.items()):
        path = corpus.documents_dir / document
        if not path.is_file():
            problems += [f"{corpus.labels_path} line {g.line}: document {document!r} not found in {corpus.documents_dir}"
                         for g in rows]
            continue
        try:
            seg = segment(read_document(path, config), config.required_areas)
        except PlancheckError as exc:
            problems.append(f"{corpus.labels_path} line {rows[0].line}: {exc.message}")
            continue
        found = {s.area for s in seg.sections}
        problems += [f"{corpus.labels_path} line {g.line}: area {g.area} of {document} is not found by segmentation "
                     f"(found {sorted(found)})" for g in rows if g.area not in found]
    return problems


def validate_corpus(root: str | Path = "corpus", config: Config | None = None) -> str:
    """Check every document and label; return a summary of counts and balance.

    Raises:
        CorpusError: with one ``file line N: ...`` message per problem.
    """
    config = config or Config()
    corpus = Corpus(Path(root))
    grades = parse_labels(corpus.labels_path.read_text(encoding="utf-8") if corpus.labels_path.is_file() else "",
                          str(corpus.labels_path))
    problems = _check_segmentation(corpus, grades, config)
    split = load_split(corpus.split_path)
    problems += [f"{corpus.split_path}: force {f!r} (labels.csv) has no split" for f in sorted({g.force for g in grades} - set(split))]
    if problems:
        raise CorpusError("\n".join(problems))
    docs = sorted({g.document for g in grades})
    labels = Counter(g.label for g in grades)
    lines = [f"corpus OK: {len(docs)} documents, {len(grades)} graded sections, {len({g.force for g in grades})} forces",
             f"labels: {dict(labels)} ({labels['insufficient'] / len(grades):.0%} insufficient)",
             f"tagged (hard cases): {sum(bool(g.tags) for g in grades)} ({sum(bool(g.tags) for g in grades) / len(grades):.0%})",
             "by area (insufficient/total):"]
    for area in sorted({g.area for g in grades}):
        rows = [g for g in grades if g.area == area]
        lines.append(f"  {area:<26} {sum(g.label == 'insufficient' for g in rows):>3}/{len(rows)}")
    formats = Counter(Path(d).suffix.lstrip(".") for d in docs)
    lines.append(f"formats: {dict(sorted(formats.items()))}")
    by_split = Counter(split[g.force] for g in grades)
    lines.append(f"split (sections): {dict(by_split)}; test forces: {sum(v == 'test' for v in split.values())}")
    return "\n".join(lines)


def _rows_from_csv(text: str, source: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    need = {"area", *CRITERIA}
    missing = need - set(reader.fieldnames or [])
    if missing:
        raise CorpusError(f"{source} line 1: missing column(s) {sorted(missing)}")
    return [dict(r, _line=reader.line_num) for r in reader]


def _rows_from_record(data: dict, source: str) -> list[dict]:
    rows = []
    for i, area in enumerate(data.get("areas") or []):
        crit = area.get("criteria") or {}
        rows.append({"area": area.get("area", ""), **{c: str(crit.get(c, "")) for c in CRITERIA},
                     "label": area.get("label", ""), "tags": ";".join(area.get("tags", []) or []),
                     "note": area.get("note", ""), "_line": f"areas[{i}]"})
    if not rows:
        raise CorpusError(f"{source}: the record has no areas to grade")
    return rows


def record_grades(document: str | Path, grades: str | Path, grader: str, root: str | Path = "corpus",
                  force: str | None = None, split: str = "train", config: Config | None = None) -> list[dict]:
    """Copy ``document`` into the corpus and append its grades to labels.csv, all validated first."""
    config = config or Config()
    corpus = Corpus(Path(root))
    document, grades = Path(document), Path(grades)
    if split not in ("train", "test"):
        raise CorpusError(f"--split must be train or test, got {split!r}")
    if not grader.strip():
        raise CorpusError("a grader's name is required")
    try:
        text = grades.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{grades}: cannot be read ({exc})") from exc
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CorpusError(f"{grades}: not valid JSON ({exc})") from exc
        rows = _rows_from_record(data, str(grades))
        force = force or data.get("force")
    else:
        rows = _rows_from_csv(text, str(grades))
        force = force or next((r.get("force") for r in rows if r.get("force")), None)
    if not force:
        raise CorpusError(f"{grades}: no force given; pass --force-name")
    doc = read_document(document, config)  # a document the corpus cannot read is refused here
    target = corpus.documents_dir / document.name
    copied = False
    if target.exists():
        if hashlib.sha256(target.read_bytes()).hexdigest() != doc.sha256:
            raise CorpusError(f"{target}: a different document with this name is already in the corpus; rename the file")
    today = dt.date.today().isoformat()
    new_rows = []
    for r in rows:
        scores = {c: str(r.get(c, "")).strip() for c in CRITERIA}
        label = (r.get("label") or "").strip()
        if not label and all(v in ("0", "1", "2") for v in scores.values()):
            label = label_from_scores({c: int(v) for c, v in scores.items()})
        new_rows.append({"document": document.name, "force": force, "area": str(r.get("area", "")).strip(), **scores,
                         "label": label, "tags": (r.get("tags") or "").strip(), "note": (r.get("note") or "").strip(),
                         "grader": grader.strip(), "graded_on": today})
    existing = corpus.labels_path.read_text(encoding="utf-8") if corpus.labels_path.is_file() else ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    if not existing.strip():
        writer.writeheader()
    writer.writerows(new_rows)
    combined = (existing if existing.endswith("\n") or not existing else existing + "\n") + buffer.getvalue()
    all_grades = parse_labels(combined, str(corpus.labels_path))  # columns, rule, duplicates ...
    try:
        if not target.exists():
            corpus.documents_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(document, target)
            copied = True
        problems = _check_segmentation(corpus, [g for g in all_grades if g.document == document.name], config)
        if problems:
            raise CorpusError("\n".join(problems))
        splits = load_split(corpus.split_path) if corpus.split_path.is_file() else {}
        if force not in splits:
            split_text = corpus.split_path.read_text(encoding="utf-8") if corpus.split_path.is_file() else "force,split\n"
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerow([force, split])
            atomic_write(corpus.split_path, (split_text.rstrip("\n") + "\n" + out.getvalue()).encode("utf-8"))
        atomic_write(corpus.labels_path, combined.encode("utf-8"))
    except BaseException:
        if copied:
            target.unlink(missing_ok=True)
        raise
    return new_rows
