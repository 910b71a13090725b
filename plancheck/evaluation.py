"""Measure segmentation against the corpus sources, whose area markers give the true areas.

A graded (document, area) counts as correctly segmented when segmentation finds the area and
the section it gives holds most of the area's true words (and little of other areas' words).
Missing-area detection is exact when the missing areas equal those absent from the markers.
A document with no source (one added by ``plancheck grade``) has no markers to measure against:
it is listed as not measured, never guessed at.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .areas import AREA_KEYS
from .config import Config
from .corpus import Corpus
from .ingest import read_document
from .segment import segment
from .sources import parse_source


def _bag(text: str) -> Counter:
    return Counter(re.findall(r"[a-z0-9]+", text.lower()))


def _covered(true: Counter, found: Counter) -> float:
    total = sum(true.values())
    return sum(min(n, found[w]) for w, n in true.items()) / total if total else 0.0


@dataclass
class SegmentationReport:
    """Counts over the measured documents; ``unmeasured`` names the graded documents without a source."""

    graded: int = 0
    correct: int = 0
    documents: int = 0
    missing_exact: int = 0
    errors: list[str] = field(default_factory=list)
    unmeasured: list[str] = field(default_factory=list)

    @property
    def section_accuracy(self) -> float:
        return self.correct / self.graded if self.graded else 0.0


def evaluate_segmentation(corpus_root: str | Path = "corpus", config: Config | None = None,
                          min_coverage: float = 0.6) -> SegmentationReport:
    """Segment every graded document that has a source and compare with the source's area markers."""
    config = config or Config()
    corpus = Corpus(Path(corpus_root))
    grades = corpus.grades()
    by_doc: dict[str, list[str]] = {}
    for g in grades:
        by_doc.setdefault(g.document, []).append(g.area)
    report = SegmentationReport()
    for document, areas in sorted(by_doc.items()):
        source_path = corpus.root / "sources" / (Path(document).stem + ".md")
        if not source_path.is_file():
            report.unmeasured.append(document)
            continue
        _measure(report, corpus.documents_dir / document, source_path, areas, config, min_coverage)
    return report


def evaluate_plan_folder(folder: str | Path, config: Config | None = None, prefixes: tuple[str, ...] = (),
                         min_coverage: float = 0.6) -> SegmentationReport:
    """Segment every rendered plan in ``folder/documents`` against its area-marked source in
    ``folder/sources`` (as ``corpus/blind/plans``), every marked area counting as graded.

    ``prefixes`` keeps only plans whose file name starts with one of them (a writer: ``w10-``).
    """
    config = config or Config()
    folder = Path(folder)
    report = SegmentationReport()
    for document in sorted((folder / "documents").iterdir()):
        if prefixes and not document.name.startswith(prefixes):
            continue
        source_path = folder / "sources" / (document.stem + ".md")
        if not source_path.is_file():
            report.unmeasured.append(document.name)
            continue
        _measure(report, document, source_path, None, config, min_coverage)
    return report


def _measure(report: SegmentationReport, document: Path, source_path: Path, areas, config: Config,
             min_coverage: float) -> None:
    """Segment ``document`` and count its sections and missing areas against ``source_path``'s markers.

    ``areas``: the areas graded in it; None for every area the markers give ("general" is not graded).
    """
    source = parse_source(source_path)
    truth = {k: _bag(v) for k, v in source.area_text().items()}
    if areas is None:
        areas = sorted(a for a in truth if a in AREA_KEYS)
    seg = segment(read_document(document, config), config.required_areas)
    found = {s.area: _bag(s.text) for s in seg.sections}
    document = document.name
    report.documents += 1
    true_missing = tuple(a for a in config.required_areas if a not in truth)
    if tuple(seg.missing_areas) == true_missing:
        report.missing_exact += 1
    else:
        report.errors.append(f"{document}: missing areas {list(seg.missing_areas)}, truly {list(true_missing)}")
    for area in areas:
        report.graded += 1
        if area not in found:
            report.errors.append(f"{document}: {area} not found")
            continue
        if area not in truth:
            report.errors.append(f"{document}: {area} is graded but its source marks no text as {area}")
            continue
        recall = _covered(truth[area], found[area])
        precision = _covered(found[area], truth[area])
        if recall >= min_coverage and precision >= 0.5:
            report.correct += 1
        else:
            report.errors.append(f"{document}: {area} holds {recall:.0%} of its true text "
                                 f"({precision:.0%} of the section is truly it)")
