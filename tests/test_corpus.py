"""The corpus: labels follow the rubric, texts are distinct, the split is fixed, bad labels are named."""
from __future__ import annotations

import csv
import io

import pytest

from plancheck.corpus import COLUMNS, Corpus, load_split, max_overlap, parse_labels
from plancheck.rubric import CRITERIA, label_from_scores
from plancheck.errors import CorpusError
from plancheck.sources import parse_source


def _scores(**kw):
    base = {c: 2 for c in CRITERIA}
    base.update(kw)
    return base


@pytest.mark.parametrize("scores,label", [
    (_scores(), "sufficient"),
    (_scores(timescales=1), "insufficient"),
    (_scores(owner=0), "insufficient"),
    (_scores(assessment=1, objectives=1, resources=1), "sufficient"),  # exactly two supporting at 2
    (_scores(assessment=1, objectives=1, resources=1, measures=0), "insufficient"),
])
def test_corpus_label_rule(scores, label):
    assert label_from_scores(scores) == label


def test_corpus_labels_valid_and_balanced(root):
    grades = Corpus(root / "corpus").grades()
    assert len(grades) >= 300
    assert len({g.document for g in grades}) >= 40
    share = sum(g.label == "insufficient" for g in grades) / len(grades)
    assert 0.40 <= share <= 0.60
    assert sum(bool(g.tags) for g in grades) / len(grades) >= 0.25
    for g in grades:
        assert label_from_scores(g.scores) == g.label


def test_corpus_formats_and_split(root):
    corpus = Corpus(root / "corpus")
    docs = {g.document for g in corpus.grades()}
    pdfs = [d for d in docs if d.endswith(".pdf")]
    assert len(pdfs) >= len(docs) / 2
    assert {d.rsplit(".", 1)[1] for d in docs} == {"pdf", "docx", "txt", "md"}
    split = load_split(corpus.split_path)
    forces = {g.force for g in corpus.grades()}
    assert forces <= set(split)
    test_share = sum(v == "test" for v in split.values()) / len(split)
    assert 0.2 <= test_share <= 0.3


def test_corpus_sections_share_at_most_30_percent_of_5grams(root):
    texts = {}
    for path in sorted((root / "corpus" / "sources").glob("*.md")):
        source = parse_source(path)
        for area, text in source.area_text().items():
            if area != "general":
                texts[f"{source.id}/{area}"] = text
    assert len(texts) >= 300
    worst = max_overlap(texts)[:1]
    assert not worst or worst[0][0] <= 0.30, worst


def _labels_text(rows: list[dict]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=COLUMNS)
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


GOOD = {"document": "a.pdf", "force": "Testshire Police", "area": "major_crime", **{c: "2" for c in CRITERIA},
        "label": "sufficient", "tags": "", "note": "fine", "grader": "t", "graded_on": "2009-01-01"}


@pytest.mark.parametrize("change,message", [
    ({"area": "finance"}, "line 2: unknown area 'finance'"),
    ({"label": "great"}, "line 2: unknown label 'great'"),
    ({"owner": "1"}, "line 2: label 'sufficient' contradicts the criteria"),
    ({"timescales": "3"}, "line 2: timescales must be 0, 1 or 2"),
    ({"tags": "vague_fluent;nonsense"}, "unknown tag(s) ['nonsense']"),
])
def test_corpus_bad_labels_name_file_and_line(change, message):
    with pytest.raises(CorpusError) as info:
        parse_labels(_labels_text([dict(GOOD, **change)]), "corpus/labels.csv")
    assert message in str(info.value) and "corpus/labels.csv" in str(info.value)


def test_corpus_duplicate_missing_columns_and_empty():
    with pytest.raises(CorpusError, match="line 3: duplicate grade for a.pdf / major_crime"):
        parse_labels(_labels_text([GOOD, GOOD]), "labels.csv")
    with pytest.raises(CorpusError, match="line 1: wrong columns"):
        parse_labels("document,area\na.pdf,major_crime\n", "labels.csv")
    with pytest.raises(CorpusError, match="is empty"):
        parse_labels("", "labels.csv")
