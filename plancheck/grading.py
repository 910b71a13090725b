"""Validate the corpus and record reviewers' grades into it.

Grades enter the corpus only through ``grade_submission``, which validates them exactly as the
corpus is validated (columns, areas, scores, label rule, duplicates, segmentation finds the area),
reports each problem at the reviewer's own file and line, and writes labels.csv atomically, so a
bad grade file leaves the corpus untouched.

A reviewer grades in a CSV (every row is a grade) or by editing the submission's JSON record.
In a record, only the areas whose criteria the reviewer changed, or marked ``"confirmed": true``
(or gave a ``label``), are grades: the model's scores left as they were are predictions, and
storing them as a person's grades would teach the model its own mistakes. A correction
(``replace=True``) moves the grade it replaces to labels-history.csv, so no grade is lost.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .card import atomic_write
from .config import Config
from .corpus import COLUMNS, HISTORY_COLUMNS, Corpus, Grade, csv_header, csv_records, load_split, parse_labels, read_text
from .rubric import CRITERIA, label_from_scores
from .errors import CorpusError, ModelError, PlancheckError
from .ingest import read_document
from .segment import segment


def _check_segmentation(corpus: Corpus, grades, config: Config,
                        where: Callable[[Grade], str] | None = None) -> list[str]:
    """Problems of grades whose document is missing or whose area segmentation does not find."""
    where = where or (lambda g: f"{corpus.labels_path} line {g.line}")
    problems = []
    by_doc: dict[str, list] = {}
    for g in grades:
        by_doc.setdefault(g.document, []).append(g)
    for document, rows in sorted(by_doc.items()):
        path = corpus.documents_dir / document
        if not path.is_file():
            problems += [f"{where(g)}: document {document!r} not found in {corpus.documents_dir}" for g in rows]
            continue
        try:
            seg = segment(read_document(path, config), config.required_areas)
        except PlancheckError as exc:
            problems.append(f"{where(rows[0])}: {exc.message}")
            continue
        found = {s.area for s in seg.sections}
        problems += [f"{where(g)}: area {g.area} of {document} is not found by segmentation "
                     f"(found {sorted(found)})" for g in rows if g.area not in found]
    return problems


def validate_corpus(root: str | Path = "corpus", config: Config | None = None) -> str:
    """Check every document and label; return a summary of counts and balance.

    Raises:
        CorpusError: with one ``file line N: ...`` message per problem.
    """
    config = config or Config()
    corpus = Corpus(Path(root))
    grades = parse_labels(read_text(corpus.labels_path) if corpus.labels_path.is_file() else "",
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


@dataclass(frozen=True)
class ReviewerRow:
    """One area as a reviewer graded it, and where it is in their file (for messages)."""

    area: str
    scores: dict[str, str]
    label: str = ""
    tags: str = ""
    note: str = ""
    where: str = ""
    confirmed: bool = False
    force: str = ""


@dataclass
class Grading:
    """What ``grade_submission`` did.

    Attributes:
        added: the rows added to labels.csv.
        replaced: the grades they replaced (now in labels-history.csv).
        changes: one line per graded area: what the reviewer changed from the model's scores (or
            from the grade replaced), or that they confirmed it.
        skipped: one line per area of a record that is not a grade, and why.
    """

    added: list[dict] = field(default_factory=list)
    replaced: list[Grade] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _cell(value) -> str:
    return "" if value is None else str(value).strip()


def _rows_from_csv(text: str, source: str) -> list[ReviewerRow]:
    need = {"area", *CRITERIA}
    missing = need - set(csv_header(text, source))
    if missing:
        raise CorpusError(f"{source} line 1: missing column(s) {sorted(missing)}")
    rows = []
    for line, _, r in csv_records(text, source):
        where = f"{source} line {line}"
        if None in r:
            raise CorpusError(f"{where}: more fields than the header has columns")
        rows.append(ReviewerRow(_cell(r.get("area")), {c: _cell(r.get(c)) for c in CRITERIA}, _cell(r.get("label")),
                                _cell(r.get("tags")), _cell(r.get("note")), where, force=_cell(r.get("force"))))
    if not rows:
        raise CorpusError(f"{source}: has a header but no grades")
    return rows


def _area_lines(text: str) -> list[int]:
    """The line of each ``"area":`` key in a record's text, in order: one per entry of ``areas``.

    A quote inside a JSON string is escaped, so the pattern cannot match inside a section's text.
    """
    return [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r'"area"\s*:', text)]


def _rows_from_record(data: dict, source: str, text: str) -> list[ReviewerRow]:
    areas = data.get("areas")
    if not isinstance(areas, list) or not areas:
        raise CorpusError(f"{source}: the record has no areas to grade")
    lines = _area_lines(text)
    rows = []
    for i, area in enumerate(areas):
        where = f"{source} line {lines[i]} (areas[{i}])" if len(lines) == len(areas) else f"{source} areas[{i}]"
        if not isinstance(area, dict) or not isinstance(area.get("criteria"), dict):
            raise CorpusError(f"{where}: expected an object with area and criteria")
        confirmed = area.get("confirmed", False)
        if not isinstance(confirmed, bool):
            raise CorpusError(f"{where}: confirmed must be true or false, got {confirmed!r}")
        tags = area.get("tags") or []
        tags = tags if isinstance(tags, str) else ";".join(map(str, tags))
        crit = area["criteria"]
        rows.append(ReviewerRow(_cell(area.get("area")), {c: _cell(crit.get(c)) for c in CRITERIA},
                                _cell(area.get("label")), _cell(tags), _cell(area.get("note")), where, confirmed))
    return rows


def _predictions(doc, data: dict, config: Config, scorer=None) -> tuple[dict[str, dict] | None, str]:
    """The model's criteria of each area, as the record showed them before the reviewer's edits.

    The record names its model; scoring the same bytes with the same model gives the same
    criteria, so what the reviewer changed is what differs. Returns ``(None, why)`` when the
    model cannot be loaded.
    """
    name = data.get("model")
    if not name or not isinstance(name, str):
        return None, "the record names no model"
    if scorer is None or scorer.name != name:
        from .score import Scorer

        try:
            scorer = Scorer.load(name, config)
        except ModelError as exc:
            return None, f"its model {name!r} cannot be loaded ({exc.message})"
    record = scorer.score_document(doc)
    return {a.area: dict(a.criteria) for a in record.areas}, ""


def _diff(old: dict, new: dict[str, str]) -> str:
    return ", ".join(f"{c} {old[c]} -> {new[c]}" for c in CRITERIA if str(old.get(c)) != new[c])


def _choose_from_record(rows: list[ReviewerRow], predicted: dict[str, dict] | None, why_not: str,
                        result: Grading, source: str) -> list[ReviewerRow]:
    graded = []
    for row in rows:
        before = predicted.get(row.area) if predicted is not None else None
        changed = _diff(before, row.scores) if before is not None else ""
        if predicted is not None and before is None:
            graded.append(row)
            result.changes.append(f"{row.area}: added by the reviewer ({row.where})")
        elif changed:
            graded.append(row)
            result.changes.append(f"{row.area}: {changed}")
        elif row.confirmed or row.label:
            graded.append(row)
            result.changes.append(f"{row.area}: confirmed as the model scored it")
        elif predicted is None:
            result.skipped.append(f"{row.area}: not marked \"confirmed\": true, and what was changed cannot be told "
                                  f"({why_not})")
        else:
            result.skipped.append(f"{row.area}: left as the model scored it and not confirmed: not a grade")
    if not graded:
        hint = (f"; what was changed cannot be told because {why_not}" if predicted is None else "")
        raise CorpusError(f"{source}: no area was changed or confirmed, so there is nothing to grade{hint}. Edit the "
                          f"criteria you disagree with, and add \"confirmed\": true to each area whose scores you "
                          f"agree with")
    return graded


def grade_submission(document: str | Path, grades: str | Path, grader: str, root: str | Path = "corpus",
                     force: str | None = None, split: str = "train", config: Config | None = None,
                     replace: bool = False, scorer=None) -> Grading:
    """Copy ``document`` into the corpus and add its grades to labels.csv, all validated first.

    Args:
        document: the submission that was graded.
        grades: a CSV of grades (``area`` and the eight criteria; optionally ``label``, ``tags``,
            ``note``, ``force``) or the submission's JSON record as edited by the reviewer.
        grader: who graded it.
        root: the corpus folder.
        force: the force (default: from the grades).
        split: where a force new to the corpus goes: ``train`` or ``test``.
        config: settings (the models folder, to tell what a reviewer changed in a record).
        replace: correct existing grades of the same areas; the old ones move to labels-history.csv.
        scorer: a loaded ``score.Scorer`` to reuse when it is the record's model.

    Raises:
        CorpusError: naming the reviewer's file and line (or the record's area) of each problem;
            nothing in the corpus is changed.
    """
    config = config or Config()
    corpus = Corpus(Path(root))
    document, grades = Path(document), Path(grades)
    if split not in ("train", "test"):
        raise CorpusError(f"--split must be train or test, got {split!r}")
    if not grader.strip():
        raise CorpusError("a grader's name is required")
    if not corpus.labels_path.is_file():
        raise CorpusError(f"{corpus.root}: not a corpus folder (no labels.csv); give --corpus or set PLANCHECK_CORPUS")
    text = read_text(grades)
    doc = read_document(document, config)  # a document the corpus cannot read is refused here
    result = Grading()
    from_record = text.lstrip().startswith("{")
    if from_record:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{grades} line {exc.lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise CorpusError(f"{grades}: expected the submission's JSON record (an object with areas)")
        if data.get("sha256") and data["sha256"] != doc.sha256:
            raise CorpusError(f"{grades}: is the record of another file (SHA-256 {data['sha256'][:12]}...), not of "
                              f"{document} ({doc.sha256[:12]}...)")
        rows = _rows_from_record(data, str(grades), text)
        predicted, why_not = _predictions(doc, data, config, scorer)
        rows = _choose_from_record(rows, predicted, why_not, result, str(grades))
        force = force or _cell(data.get("force"))
    else:
        rows = _rows_from_csv(text, str(grades))
        force = force or next((r.force for r in rows if r.force), None)
    if not force:
        raise CorpusError(f"{grades}: no force given; pass --force-name")
    target = corpus.documents_dir / document.name
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() != doc.sha256:
        raise CorpusError(f"{target}: a different document with this name is already in the corpus; rename the file")

    today = dt.date.today().isoformat()
    new_rows = []
    for r in rows:
        label = r.label
        if not label and all(v in ("0", "1", "2") for v in r.scores.values()):
            label = label_from_scores({c: int(v) for c, v in r.scores.items()})
        new_rows.append({"document": document.name, "force": force, "area": r.area, **r.scores, "label": label,
                         "tags": r.tags, "note": r.note, "grader": grader.strip(), "graded_on": today})
    places = [r.where for r in rows]
    new_grades = parse_labels(_csv_text(new_rows, COLUMNS), str(grades), places)  # areas, scores, rule, repeats

    existing_text = read_text(corpus.labels_path)
    has_rows = len(existing_text.strip().splitlines()) > 1  # a new corpus may hold only the header
    existing = parse_labels(existing_text, str(corpus.labels_path)) if has_rows else []
    by_key = {(g.document, g.area): g for g in existing}
    problems = []
    for g, row, place in zip(new_grades, new_rows, places):
        old = by_key.get((g.document, g.area))
        if old is None:
            if not from_record:
                result.changes.append(f"{g.area}: graded {g.label}")
            continue
        if not replace:
            problems.append(f"{place}: duplicate grade: {g.area} of {g.document} is already graded "
                            f"({corpus.labels_path} line {old.line}, by {old.grader or 'unknown'} on "
                            f"{old.graded_on or 'an unknown date'}); pass --replace to correct it (the old grade is "
                            f"kept in {corpus.history_path.name})")
            continue
        result.replaced.append(old)
        changed = _diff({c: str(v) for c, v in old.scores.items()}, row) or "the same scores"
        result.changes.append(f"{g.area}: replaces the grade of {old.graded_on or 'an unknown date'} by "
                              f"{old.grader or 'unknown'} ({changed})")
    if problems:
        raise CorpusError("\n".join(problems))

    lines = existing_text.splitlines(keepends=True)
    drop = {n for old in result.replaced for n in range(old.line, max(old.end_line, old.line) + 1)}
    kept = "".join(line for n, line in enumerate(lines, start=1) if n not in drop) or ",".join(COLUMNS) + "\n"
    combined = (kept if kept.endswith("\n") else kept + "\n") + _csv_text(new_rows, COLUMNS, header=False)
    all_grades = parse_labels(combined, str(corpus.labels_path))  # the whole file, as training will read it

    place_of = {(g.document, g.area): place for g, place in zip(new_grades, places)}
    copied = False
    try:
        if not target.exists():
            corpus.documents_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(document, target)
            copied = True
        problems = _check_segmentation(corpus, [g for g in all_grades if g.document == document.name], config,
                                       lambda g: place_of.get((g.document, g.area), f"{corpus.labels_path} line {g.line}"))
        if problems:
            raise CorpusError("\n".join(problems))
        splits = load_split(corpus.split_path) if corpus.split_path.is_file() else {}
        if force not in splits:
            split_text = read_text(corpus.split_path) if corpus.split_path.is_file() else "force,split\n"
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerow([force, split])
            atomic_write(corpus.split_path, (split_text.rstrip("\n") + "\n" + out.getvalue()).encode("utf-8"))
        if result.replaced:
            # History first: if the run stops between the two writes, a grade is in both files, never in neither.
            history = read_text(corpus.history_path) if corpus.history_path.is_file() else ""
            rows_out = [_grade_row(old) | {"replaced_on": today, "replaced_by": grader.strip()} for old in result.replaced]
            body = _csv_text(rows_out, HISTORY_COLUMNS, header=not history.strip())
            history = history if not history or history.endswith("\n") else history + "\n"
            atomic_write(corpus.history_path, (history + body).encode("utf-8"))
        atomic_write(corpus.labels_path, combined.encode("utf-8"))
    except BaseException:
        if copied:
            target.unlink(missing_ok=True)
        raise
    result.added = new_rows
    return result


def record_grades(document: str | Path, grades: str | Path, grader: str, root: str | Path = "corpus",
                  force: str | None = None, split: str = "train", config: Config | None = None,
                  replace: bool = False) -> list[dict]:
    """Like :func:`grade_submission`, returning only the rows added."""
    return grade_submission(document, grades, grader, root, force, split, config, replace).added


def _grade_row(g: Grade) -> dict:
    return {"document": g.document, "force": g.force, "area": g.area, **{c: str(g.scores[c]) for c in CRITERIA},
            "label": g.label, "tags": ";".join(g.tags), "note": g.note, "grader": g.grader, "graded_on": g.graded_on}


def _csv_text(rows: list[dict], columns: tuple[str, ...], header: bool = True) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
