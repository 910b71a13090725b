"""The graded corpus: labels.csv, the fixed split and their validation (the rubric is in rubric.py).

Grades are keyed by (document, area), never by section position: segmentation finds the area's
text in the document, so a regraded or re-rendered document keeps its labels.
"""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .areas import AREA_KEYS
from .errors import CorpusError
from .rubric import CRITERIA, LABELS, TAGS, label_from_scores

COLUMNS = ("document", "force", "area") + CRITERIA + ("label", "tags", "note", "grader", "graded_on")
# Grades replaced by a correction (``grade --replace``) keep these two columns more in labels-history.csv.
HISTORY_COLUMNS = COLUMNS + ("replaced_on", "replaced_by")
SPLITS = ("train", "test")


@dataclass(frozen=True)
class Grade:
    """One row of labels.csv; ``line`` is where its record starts, ``end_line`` where it ends."""

    document: str
    force: str
    area: str
    scores: dict[str, int]
    label: str
    tags: tuple[str, ...]
    note: str
    grader: str
    graded_on: str
    line: int
    end_line: int = 0


def read_text(path: str | Path) -> str:
    """The text of a corpus file (UTF-8, a byte-order mark allowed).

    Raises:
        CorpusError: the file is missing or unreadable, or is not UTF-8 (with the line of the first bad byte).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"{path}: not found") from None
    except IsADirectoryError:
        raise CorpusError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise CorpusError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise CorpusError(f"{path} line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); "
                          f"save the file as UTF-8") from None


def csv_problem(exc: csv.Error) -> str:
    """The csv module's complaint, said so that the writer of the file can fix it."""
    text = str(exc)
    if "field larger than field limit" in text:
        return (f"a field is longer than {csv.field_size_limit():,} characters; is a quote left unclosed, "
                f"or a whole document pasted into one cell?")
    return f"not valid CSV ({text})"


def csv_records(text: str, source: str) -> Iterator[tuple[int, int, dict]]:
    """``(first line, last line, row)`` of each record of a CSV text with a header row.

    Raises:
        CorpusError: ``source line N: ...`` where the CSV cannot be read any further.
    """
    reader = csv.DictReader(io.StringIO(text))
    try:
        reader.fieldnames
    except csv.Error as exc:
        raise CorpusError(f"{source} line 1: {csv_problem(exc)}") from None
    lines = text.split("\n")  # the reader's lines: io.StringIO splits on "\n" alone
    while True:
        line = reader.line_num + 1  # where the next record starts (one may span several lines)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CorpusError(f"{source} line {line}: {csv_problem(exc)}") from None
        while line < reader.line_num and lines[line - 1] in ("", "\r"):
            line += 1  # blank lines before a record are skipped by the reader, not part of it
        yield line, reader.line_num, row


def csv_header(text: str, source: str) -> list[str]:
    """The header row of a CSV text."""
    try:
        return list(csv.DictReader(io.StringIO(text)).fieldnames or [])
    except csv.Error as exc:
        raise CorpusError(f"{source} line 1: {csv_problem(exc)}") from None


def parse_labels(text: str, source: str = "labels.csv", places: list[str] | None = None) -> list[Grade]:
    """Parse and validate labels; every problem is reported as ``file line N: ...``.

    Args:
        text: the CSV text, header first.
        source: the file named in messages.
        places: where each data row came from, when not from ``source`` itself (a reviewer's grades
            file, say): the i-th row's problems are then reported at ``places[i]``.
    """
    if not text.strip():
        raise CorpusError(f"{source}: is empty; expected a header row {','.join(COLUMNS)}")
    header = csv_header(text, source)
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing or extra:
        raise CorpusError(f"{source} line 1: wrong columns (missing {missing}, unexpected {extra}); "
                          f"expected {','.join(COLUMNS)}")
    grades: list[Grade] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    records = csv_records(text, source)
    for index in itertools.count():
        try:
            line, end_line, row = next(records)
        except StopIteration:
            break
        except CorpusError as exc:
            problems.append(exc.message)
            break  # the reader cannot say where the next record starts
        where = places[index] if places and index < len(places) else f"{source} line {line}"
        if None in row or any(v is None for v in row.values()):
            problems.append(f"{where}: wrong number of fields")
            continue
        doc, area = row["document"].strip(), row["area"].strip()
        if not doc:
            problems.append(f"{where}: empty document")
        if area not in AREA_KEYS:
            problems.append(f"{where}: unknown area {area!r}; expected one of {list(AREA_KEYS)}")
        scores: dict[str, int] = {}
        for c in CRITERIA:
            value = row[c].strip()
            if value not in ("0", "1", "2"):
                problems.append(f"{where}: {c} must be 0, 1 or 2, got {value!r}")
            else:
                scores[c] = int(value)
        label = row["label"].strip()
        if not label and len(scores) < len(CRITERIA):
            pass  # the scores' problem is said; the label follows from them (a grades file may leave it out)
        elif label not in LABELS:
            problems.append(f"{where}: unknown label {label!r}; expected one of {list(LABELS)}")
        elif len(scores) == len(CRITERIA) and label_from_scores(scores) != label:
            problems.append(f"{where}: label {label!r} contradicts the criteria {scores} "
                            f"(the rule gives {label_from_scores(scores)!r})")
        tags = tuple(t.strip() for t in row["tags"].split(";") if t.strip())
        bad_tags = [t for t in tags if t not in TAGS]
        if bad_tags:
            problems.append(f"{where}: unknown tag(s) {bad_tags}; expected from {list(TAGS)}")
        if not row["force"].strip():
            problems.append(f"{where}: empty force")
        key = (doc, area)
        if key in seen:
            first = seen[key].removeprefix(f"{source} ")
            problems.append(f"{where}: duplicate grade for {doc} / {area} (first at {first})")
        seen[key] = where
        grades.append(Grade(doc, row["force"].strip(), area, scores, label, tags, row["note"].strip(),
                            row["grader"].strip(), row["graded_on"].strip(), line, end_line))
    if problems:
        raise CorpusError("\n".join(problems[:50]) + (f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""))
    if not grades:
        raise CorpusError(f"{source}: has a header but no grades")
    return grades


def load_labels(path: str | Path) -> list[Grade]:
    """The validated grades of a labels.csv file."""
    path = Path(path)
    return parse_labels(read_text(path), str(path))


def load_split(path: str | Path) -> dict[str, str]:
    """force -> train|test."""
    path = Path(path)
    out: dict[str, str] = {}
    for _, line, row in csv_records(read_text(path), str(path)):
        if row.get("split") not in SPLITS or not row.get("force"):
            raise CorpusError(f"{path} line {line}: expected force and split in {list(SPLITS)}")
        out[row["force"]] = row["split"]
    return out


@dataclass(frozen=True)
class Corpus:
    root: Path

    @property
    def labels_path(self) -> Path:
        return self.root / "labels.csv"

    @property
    def documents_dir(self) -> Path:
        return self.root / "documents"

    @property
    def split_path(self) -> Path:
        return self.root / "split.csv"

    @property
    def history_path(self) -> Path:
        """Grades replaced by corrections, with when and by whom (never read for training)."""
        return self.root / "labels-history.csv"

    def grades(self) -> list[Grade]:
        grades = load_labels(self.labels_path)
        problems = [f"{self.labels_path} line {g.line}: document {g.document!r} not found in {self.documents_dir}"
                    for g in grades if not (self.documents_dir / g.document).is_file()]
        if problems:
            raise CorpusError("\n".join(problems))
        return grades

    def split(self) -> dict[str, str]:
        return load_split(self.split_path)

    def data_hash(self) -> str:
        """SHA-256 over labels, split and every graded document's bytes."""
        h = hashlib.sha256()
        for path in [self.labels_path, self.split_path] + sorted(self.documents_dir.iterdir()):
            if path.is_file():
                h.update(path.name.encode())
                h.update(hashlib.sha256(path.read_bytes()).digest())
        return h.hexdigest()


def word_ngrams(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def max_overlap(texts: dict[str, str], n: int = 5) -> list[tuple[float, str, str]]:
    """Pairs of texts by the share of the smaller one's word n-grams they share, highest first."""
    grams = {k: word_ngrams(v, n) for k, v in texts.items()}
    index: dict[tuple[str, ...], set[str]] = {}
    for k, gs in grams.items():
        for g in gs:
            index.setdefault(g, set()).add(k)
    shared: Counter[tuple[str, str]] = Counter()
    for owners in index.values():
        if 1 < len(owners) < 50:
            ordered = sorted(owners)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1:]:
                    shared[(a, b)] += 1
    out = []
    for (a, b), count in shared.items():
        denom = max(min(len(grams[a]), len(grams[b])), 1)
        out.append((count / denom, a, b))
    return sorted(out, reverse=True)

