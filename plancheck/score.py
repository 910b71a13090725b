"""Score documents and sections with a trained model: the records every command writes.

A record (one per document) is a :class:`plancheck.record.Record`; its JSON shape is defined there.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from . import nlp as nlp_mod
from .card import ModelCard, load_model
from .config import Config
from .errors import PlancheckError
from .ingest import force_name, read_document
from .record import Record
from .explain import explain
from .segment import segment
from .spans import deferrals
from .types import Assessment, Document, Section

log = logging.getLogger(__name__)

# A section that leaves its owner or timescales unsettled ("Owner: TBC", "dates to be agreed") is
# flagged when the model gives it at least this P(insufficient), even below the threshold: by the rubric
# it is insufficient, and the section model passes some of those near misses. The floor and the
# deferring words were chosen while reading how each group of new writers (w10-w30, each judged by a
# model trained without it) came out: no false flag added in any group (README, "Results").
DEFERRAL_FLOOR = 0.05


def judge(model, texts: list[str], threshold: float) -> tuple[np.ndarray, np.ndarray, list[dict[str, list[str]]], np.ndarray]:
    """The verdict's probabilities for ``texts``: the model's P(insufficient), raised to ``threshold``
    where a text leaves a core criterion unsettled (spans.deferrals) and the model gives it at least
    DEFERRAL_FLOOR. Returns (p, P(criterion scores), each text's deferrals, the model's own p)."""
    model_p, probs = model.predict(texts)
    deferred = [deferrals(t) for t in texts]
    p = np.array([max(pi, threshold) if d and pi >= DEFERRAL_FLOOR else pi for pi, d in zip(model_p, deferred)])
    return p, probs, deferred, model_p


@dataclass
class Scorer:
    """A loaded model with its card, language pipeline and settings."""

    model: object
    card: ModelCard
    nlp: object
    config: Config

    @classmethod
    def load(cls, model: str | Path | None = None, config: Config | None = None) -> "Scorer":
        config = config or Config()
        nlp = nlp_mod.load()
        obj, card = load_model(model, config.models, pipeline=nlp_mod.pipeline_id(nlp))
        return cls(obj, card, nlp, config)

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def threshold(self) -> float:
        return self.card.threshold_value

    def assess(self, sections: list[Section]) -> list[Assessment]:
        """Judge sections: criteria, probability, flag, reasons and evidence."""
        if not sections:
            return []
        p, probs, deferred, model_p = judge(self.model, [s.text for s in sections], self.threshold)
        out = []
        for i, (section, doc) in enumerate(zip(sections, nlp_mod.parse((s.text for s in sections), self.nlp))):
            sentences = nlp_mod.sentences(doc)
            why = explain(probs[i], float(p[i]), self.threshold, sentences, self.model.criterion_proba(sentences),
                          deferred[i], float(model_p[i]))
            out.append(Assessment(section.area, section.headings, section.pages, round(float(p[i]), 4),
                                  bool(p[i] >= self.threshold), why.criteria, why.reasons, why.evidence, section.text,
                                  why.p_specific, self.threshold))
        return out

    def score_document(self, document: Document) -> Record:
        seg = segment(document, self.config.required_areas)
        assessments = self.assess(list(seg.sections))
        return document_record(document, assessments, seg.missing_areas, self.name)

    def score_path(self, path: str | Path) -> Record:
        """Read and score one file; a failure becomes an error record, never an exception."""
        try:
            return self.score_document(read_document(path, self.config))
        except PlancheckError as exc:
            return error_record(str(path), exc.code, exc.message, self.name)


def score_paths(paths: Iterable[str], config: Config | None = None, model: str | Path | None = None,
                scorer: "Scorer | None" = None) -> Iterator[Record]:
    """Score files in isolated workers that share one loaded model: one record per path, in order.

    The one way a batch is scored: the command line, the demo, reports and comparisons call it.
    A file that cannot be read is an error record; nothing stops the batch.
    """
    import gc

    from . import runner

    config = config or Config()
    scorer = scorer or Scorer.load(model, config)
    # The pipeline and model live as long as the batch: keep their objects out of the collector's
    # walks, here and in the forked readers (which then share those pages instead of copying them).
    gc.freeze()

    def error(path: str, code: str, message: str) -> Record:
        return error_record(path, code, message, scorer.name, sha256=file_sha256(path, config.max_file_bytes))

    yield from runner.run(list(paths), scorer.score_path, error, config)


def document_record(document: Document, assessments: list[Assessment], missing: Iterable[str], model: str) -> Record:
    return Record.scored(document.path, document.sha256, assessments, missing, model, kind=document.kind,
                         pages=document.page_count, words=document.word_count, title=document.title,
                         force=force_name(document), warnings=tuple(document.warnings))


def error_record(path: str, code: str, message: str, model: str | None = None, sha256: str | None = None) -> Record:
    if sha256 is None:
        sha256 = file_sha256(path)
    return Record.failed(path, code, message, model, sha256)


def file_sha256(path: str | Path, limit: int | None = None) -> str | None:
    """SHA-256 of a regular file's bytes (None for anything else or an unreadable file)."""
    import os
    import stat

    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or (limit is not None and info.st_size > limit):
            return None
        h = hashlib.sha256()
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def score_sections(scorer: Scorer, items: Iterable[dict]) -> Iterator[dict]:
    """Score sections given as ``{id, text, area?}``: for text exported from other systems."""
    from .areas import ALL_KEYS, best_area

    batch: list[tuple[dict, Section]] = []

    def flush():
        assessed = scorer.assess([s for _, s in batch])
        for (item, _), a in zip(batch, assessed):
            yield {"id": item.get("id")} | a.to_dict(with_text=False)
        batch.clear()

    for item in items:
        text = str(item.get("text") or "")
        area = item.get("area") or best_area(text)
        if area not in ALL_KEYS:
            area = best_area(text)
        batch.append((item, Section(area, (), (), text)))
        if len(batch) >= nlp_mod.BATCH_SIZE:
            yield from flush()
    if batch:
        yield from flush()
