"""Reviews: a reviewer's grade of one section, kept as versions, and put into the corpus.

Every save appends one line to ``plancheck-reviews.jsonl`` in the served folder of the plan's
batch: who, when, the eight scores, the label the rubric's rule gives them, the note, the model's
scores it was set against, and what changed from the model and from the previous version. The
file is only ever appended to, so a correction is a new version and nothing is overwritten.

The grade also goes into the corpus the way ``plancheck grade`` puts it there, through
``plancheck.grading`` (which validates it like the corpus and keeps replaced grades in
``labels-history.csv``); where that cannot be done (the plan's file is not in the served folders,
or the corpus cannot take corrections), the review line says so and the grade stays in this file.
"""
from __future__ import annotations

import csv
import datetime as dt
import fcntl
import inspect
import io
import json
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import Config
from ..corpus import COLUMNS, parse_labels
from ..errors import CorpusError
from ..rubric import CRITERIA, label_from_scores
from .batches import REVIEWS_FILE, Plan

MAX_NOTE = 2000
MAX_NAME = 100
_write_lock = threading.Lock()
_save_lock = threading.Lock()  # one save at a time in this process: versions are numbered in order


@dataclass(frozen=True)
class Review:
    """One version of one reviewer's grade of one section."""

    time: str
    reviewer: str
    section: str  # "<document sha256>:<area>": the same section whatever batch it is seen in
    document: str
    sha256: str
    force: str
    area: str
    criteria: dict[str, int]
    label: str
    note: str
    model: str
    model_criteria: dict[str, int]
    model_label: str
    p_insufficient: float | None
    threshold: float | None
    version: int
    batch: str = ""
    plan_key: str = ""
    changed_from_model: dict[str, list[int]] = field(default_factory=dict)
    changed_from_previous: dict[str, list] = field(default_factory=dict)
    corpus: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Review":
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def summary(self) -> str:
        """What this version changed, in a reviewer's words."""
        parts = []
        if self.changed_from_model:
            parts.append("from the model: " + ", ".join(f"{c} {a} -> {b}" for c, (a, b) in self.changed_from_model.items()))
        else:
            parts.append("agrees with the model's scores")
        if self.version > 1:
            prev = ", ".join(f"{k} {a} -> {b}" if k != "note" else "note changed"
                             for k, (a, b) in self.changed_from_previous.items())
            parts.append(f"from version {self.version - 1}: {prev or 'no change'}")
        return "; ".join(parts)


def section_id(plan: Plan, area: str) -> str:
    return f"{plan.record.sha256 or plan.record.path}:{area}"


class ReviewStore:
    """The append-only review file of one served folder."""

    def __init__(self, path: Path):
        self.path = path

    def all(self) -> list[Review]:
        out = []
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            try:
                out.append(Review.from_dict(json.loads(line)))
            except (ValueError, TypeError):
                continue  # a torn line of a write that was stopped
        return out

    def append(self, review: Review) -> None:
        line = json.dumps(review.to_dict(), ensure_ascii=False) + "\n"
        with _write_lock, open(self.path, "a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # two workbenches on one folder append whole lines
            try:
                fh.write(line)
                fh.flush()
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def store_of(plan: Plan) -> ReviewStore:
    return ReviewStore(plan.batch.root / REVIEWS_FILE)


def history(reviews: list[Review], section: str) -> list[Review]:
    return [r for r in reviews if r.section == section]


def parse_form(form: dict, area: str) -> tuple[dict[str, int], str]:
    """The eight scores and the note of ``area`` from a submitted form.

    Raises:
        CorpusError: a score missing or not 0, 1 or 2 (the corpus's own rule), or a note too long.
    """
    scores, problems = {}, []
    for c in CRITERIA:
        value = str(form.get(c, "")).strip()
        if value not in ("0", "1", "2"):
            problems.append(f"{area}: {c} must be 0, 1 or 2, got {value!r}")
        else:
            scores[c] = int(value)
    note = str(form.get("note", "")).strip()
    if len(note) > MAX_NOTE:
        problems.append(f"{area}: the note is longer than {MAX_NOTE} characters")
    if problems:
        raise CorpusError("\n".join(problems))
    return scores, note


def save_review(plan: Plan, area: str, scores: dict[str, int], note: str, reviewer: str, force: str,
                corpus: Path | None, config: Config, reviews: list[Review] | None = None) -> Review:
    """Validate a reviewer's grade of one section, put it into the corpus when possible, and append
    it as a new version to the review file.

    Raises:
        CorpusError: the grade is not valid (as the corpus judges it); nothing is written.
    """
    with _save_lock:
        return _save(plan, area, scores, note, reviewer, force, corpus, config, reviews)


def _save(plan: Plan, area: str, scores: dict[str, int], note: str, reviewer: str, force: str,
          corpus: Path | None, config: Config, reviews: list[Review] | None) -> Review:
    reviewer, force = reviewer.strip(), force.strip()
    if not reviewer:
        raise CorpusError("a reviewer's name is required")
    if len(reviewer) > MAX_NAME or len(force) > MAX_NAME:
        raise CorpusError(f"names are at most {MAX_NAME} characters")
    if not force:
        raise CorpusError("the force's name is required")
    section = next((a for a in plan.assessments if a.area == area), None)
    if section is None:
        raise CorpusError(f"{plan.file_name} has no {area} section to grade")
    label = label_from_scores(scores)
    document = plan.original.name if plan.original is not None else plan.file_name
    row = {"document": document, "force": force, "area": area, **{c: str(scores[c]) for c in CRITERIA},
           "label": label, "tags": "", "note": note, "grader": reviewer, "graded_on": dt.date.today().isoformat()}
    parse_labels(_csv([row], COLUMNS), "the grade")  # the corpus's own checks: area, scores, label rule
    corpus_result = _into_corpus(plan, row, corpus, config)

    store = store_of(plan)
    reviews = store.all() if reviews is None else reviews
    sid = section_id(plan, area)
    earlier = history(reviews, sid)
    previous = earlier[-1] if earlier else None
    model_criteria = {c: int(section.criteria.get(c, -1)) for c in CRITERIA}
    from_model = {c: [model_criteria[c], scores[c]] for c in CRITERIA if model_criteria[c] != scores[c]}
    from_previous: dict[str, list] = {}
    if previous is not None:
        from_previous = {c: [previous.criteria.get(c), scores[c]] for c in CRITERIA if previous.criteria.get(c) != scores[c]}
        if previous.label != label:
            from_previous["label"] = [previous.label, label]
        if previous.note != note:
            from_previous["note"] = [previous.note, note]
    review = Review(time=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), reviewer=reviewer, section=sid,
                    document=document, sha256=plan.record.sha256 or "", force=force, area=area,
                    criteria=dict(scores), label=label, note=note, model=plan.model, model_criteria=model_criteria,
                    model_label="insufficient" if section.flagged else "sufficient",
                    p_insufficient=section.p_insufficient, threshold=section.threshold, version=len(earlier) + 1,
                    batch=plan.batch.id, plan_key=plan.key, changed_from_model=from_model,
                    changed_from_previous=from_previous, corpus=corpus_result)
    store.append(review)
    return review


def _csv(rows: list[dict], columns) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _into_corpus(plan: Plan, row: dict, corpus: Path | None, config: Config) -> dict[str, str]:
    """Add the grade to the corpus through plancheck.grading; say what happened.

    Raises:
        CorpusError: the corpus refused the grade (it names the problem); nothing was written.
    """
    from .. import grading

    if corpus is None or not (Path(corpus) / "labels.csv").is_file():
        return {"status": "kept", "message": f"no corpus at {corpus} (no labels.csv): the grade is kept in "
                                             f"{REVIEWS_FILE} only"}
    if plan.original is None:
        return {"status": "kept", "message": "the plan's own file is not in the served folders, so it cannot be "
                                             f"added to the corpus: the grade is kept in {REVIEWS_FILE} only"}
    grade_fn = getattr(grading, "grade_submission", None) or grading.record_grades
    can_replace = "replace" in inspect.signature(grade_fn).parameters
    already = _already_graded(Path(corpus), row["document"], row["area"])
    if already and not can_replace:
        return {"status": "kept", "message": f"the corpus already holds a grade of this section ({already}) and this "
                                             f"version of plancheck cannot replace one: the correction is kept in "
                                             f"{REVIEWS_FILE} only"}
    grades_row = {k: row[k] for k in ("area", *CRITERIA, "label", "note", "force")}
    with tempfile.TemporaryDirectory(prefix="plancheck-grade-") as tmp:
        grades = Path(tmp) / "grades.csv"
        grades.write_text(_csv([grades_row], grades_row.keys()), encoding="utf-8")
        kwargs = {"force": row["force"], "config": config}
        if can_replace:
            kwargs["replace"] = True
        result = grade_fn(plan.original, grades, row["grader"], corpus, **kwargs)
    changes = getattr(result, "changes", None)
    if already:
        what = f"replaced the corpus's earlier grade ({already}; it is kept in labels-history.csv)"
    else:
        what = "added to the corpus"
    detail = f": {'; '.join(changes)}" if changes else ""
    return {"status": "replaced" if already else "added", "message": f"{what} in {corpus}/labels.csv{detail}"}


def _already_graded(corpus: Path, document: str, area: str) -> str:
    """"graded by X on DATE" when labels.csv holds this document's area, else ""."""
    try:
        with open(corpus / "labels.csv", encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                if r.get("document") == document and r.get("area") == area:
                    return f"graded by {r.get('grader') or 'unknown'} on {r.get('graded_on') or 'an unknown date'}"
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    return ""
