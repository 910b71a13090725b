"""Graded sections, wherever they come from: the corpus folder or a graded JSON Lines file.

:class:`GradedSection` is the one shape of a graded section that training and evaluation read.
A graded JSON Lines file has one object per line::

    {"id": "...", "area": "roads_policing", "text": "...",
     "criteria": {"assessment": 2, "objectives": 1, ...},      # the eight criteria, 0/1/2
     "label": "insufficient",                                  # optional: follows from the rule
     "writer": "...", "force": "...", "style": "..."}          # optional

The corpus folder (``corpus/``) gives its graded sections through the real reading and
segmentation of each document, plus the blind sets in ``corpus/blind/``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .errors import CorpusError
from .rubric import CRITERIA, LABELS, label_from_scores

BLIND_DIR = "blind"
BLIND_DEV = "dev.jsonl"
BLIND_TEST = "test.jsonl"
MAX_LINE = 1_000_000  # characters: a longer line is not a section


@dataclass(frozen=True)
class GradedSection:
    """One graded section.

    ``split`` is where it belongs: ``train`` or ``test`` (the corpus's fixed split), ``blind-dev``
    (independent writers, used to choose models and in training) or ``blind-test`` (frozen).
    ``writer`` groups sections for leave-one-writer-out validation.
    """

    id: str
    area: str
    text: str
    criteria: dict[str, int]
    label: str
    writer: str = ""
    force: str = ""
    split: str = ""
    style: str = ""
    tags: tuple[str, ...] = field(default=())

    @property
    def y(self) -> int:
        """1 when the section is insufficient."""
        return int(self.label == "insufficient")

    def to_dict(self) -> dict:
        return {"id": self.id, "area": self.area, "text": self.text, "criteria": dict(self.criteria),
                "label": self.label, "writer": self.writer, "force": self.force, "split": self.split,
                "style": self.style, "tags": list(self.tags)}

    @classmethod
    def from_dict(cls, data: dict, where: str = "", split: str = "") -> "GradedSection":
        """Validate and build; ``where`` ("file line N") prefixes every error."""
        from .areas import ALL_KEYS

        if not isinstance(data, dict):
            raise CorpusError(f"{where}: expected a JSON object")
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise CorpusError(f"{where}: no text")
        area = data.get("area")
        if area not in ALL_KEYS:
            raise CorpusError(f"{where}: unknown area {area!r}; expected one of {list(ALL_KEYS)}")
        raw = data.get("criteria")
        if not isinstance(raw, dict):
            raise CorpusError(f"{where}: no criteria object")
        criteria = {}
        for c in CRITERIA:
            value = raw.get(c)
            if value not in (0, 1, 2) or isinstance(value, bool):
                raise CorpusError(f"{where}: {c} must be 0, 1 or 2, got {value!r}")
            criteria[c] = int(value)
        rule = label_from_scores(criteria)
        label = data.get("label") or rule
        if label not in LABELS:
            raise CorpusError(f"{where}: unknown label {label!r}; expected one of {list(LABELS)}")
        if label != rule:
            raise CorpusError(f"{where}: label {label!r} contradicts the criteria (the rule gives {rule!r})")
        tags = data.get("tags") or ()
        return cls(str(data.get("id") or where), area, text, criteria, label, str(data.get("writer") or ""),
                   str(data.get("force") or ""), split or str(data.get("split") or ""), str(data.get("style") or ""),
                   tuple(str(t) for t in tags) if isinstance(tags, (list, tuple)) else ())


def json_lines(source: Iterable[bytes], name: str, error=CorpusError) -> Iterator[tuple[str, object]]:
    """``("NAME line N", object)`` for each non-blank line of a JSON Lines byte stream.

    A line that is too long, not UTF-8 or not JSON raises ``error`` naming the file and line.
    """
    for n, raw in enumerate(source, 1):
        where = f"{name} line {n}"
        if len(raw) > MAX_LINE:
            raise error(f"{where}: longer than {MAX_LINE:,} bytes")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(f"{where}: not UTF-8 text (byte {exc.start})") from None
        if not line.strip():
            continue
        try:
            yield where, json.loads(line)
        except ValueError as exc:
            raise error(f"{where}: not JSON ({getattr(exc, 'msg', exc)})") from None


def read_jsonl(path: str | Path, split: str = "") -> list[GradedSection]:
    """Graded sections from a JSON Lines file; errors name the file and line."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            out = [GradedSection.from_dict(data, where, split) for where, data in json_lines(fh, str(path))]
    except FileNotFoundError:
        raise CorpusError(f"{path}: not found") from None
    except IsADirectoryError:
        raise CorpusError(f"{path}: is a folder; give a graded .jsonl file or a corpus folder") from None
    if not out:
        raise CorpusError(f"{path}: holds no graded sections")
    return out


def corpus_sections(root: str | Path, config=None) -> list[GradedSection]:
    """The corpus's graded sections, read and segmented from its documents as plancheck reads them."""
    from .config import Config
    from .corpus import Corpus
    from .ingest import read_document
    from .segment import segment

    config = config or Config()
    corpus = Corpus(Path(root))
    grades = corpus.grades()
    split = corpus.split()
    unknown = sorted({g.force for g in grades} - set(split))
    if unknown:
        raise CorpusError(f"{corpus.split_path}: no split for force(s) {unknown}; add them (new forces go to train)")
    out: list[GradedSection] = []
    problems: list[str] = []
    for document in sorted({g.document for g in grades}):
        seg = segment(read_document(corpus.documents_dir / document, config), config.required_areas)
        found = {s.area: s.text for s in seg.sections}
        for g in (g for g in grades if g.document == document):
            if g.area not in found:
                problems.append(f"{corpus.labels_path} line {g.line}: area {g.area} not found in {document} by "
                                f"segmentation (found {sorted(found)})")
                continue
            out.append(GradedSection(f"{document}:{g.area}", g.area, found[g.area], dict(g.scores), g.label,
                                     g.grader, g.force, split[g.force], "", g.tags))
    if problems:
        raise CorpusError("\n".join(problems))
    return out


def blind_sections(root: str | Path, which: str) -> list[GradedSection]:
    """``blind-dev`` or ``blind-test`` from ``corpus/blind/`` (empty when the corpus has none)."""
    path = Path(root) / BLIND_DIR / (BLIND_DEV if which == "blind-dev" else BLIND_TEST)
    return read_jsonl(path, which) if path.is_file() else []


def file_sha256(path: str | Path) -> str | None:
    path = Path(path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def load(source: str | Path, config=None) -> list[GradedSection]:
    """Graded sections from a corpus folder (every split, blind sets included) or a JSON Lines file."""
    source = Path(source)
    if source.is_dir():
        if not (source / "labels.csv").is_file():
            raise CorpusError(f"{source}: not a corpus folder (no labels.csv); give a corpus folder or a graded .jsonl")
        return corpus_sections(source, config) + blind_sections(source, "blind-dev") + blind_sections(source, "blind-test")
    return read_jsonl(source)


def writers(sections: Iterable[GradedSection]) -> list[str]:
    return sorted({s.writer for s in sections})
