"""The corpus: labels follow the rubric, texts are distinct, the split is fixed, bad labels are named."""
from __future__ import annotations

import csv
import io
import json

import pytest

from plancheck.corpus import COLUMNS, Corpus, load_labels, load_split, max_overlap, parse_labels
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


# --- unreadable labels: named errors with file and line, never a traceback ------------------------

def _write_labels(path, rows: list[dict], tail: bytes = b"") -> None:
    path.write_bytes(_labels_text(rows).encode("utf-8") + tail)


def test_corpus_huge_field_is_a_named_error_with_its_line(tmp_path):
    labels = tmp_path / "labels.csv"
    # One field far beyond the csv module's limit (the report was a 100 MB note).
    _write_labels(labels, [GOOD, dict(GOOD, area="public_order", note="x" * 2_000_000)])
    with pytest.raises(CorpusError) as info:
        load_labels(labels)
    assert f"{labels} line 3:" in str(info.value) and "longer than" in str(info.value)


def test_corpus_unclosed_quote_names_the_line_where_the_record_starts(tmp_path):
    labels = tmp_path / "labels.csv"
    _write_labels(labels, [GOOD], b'b.pdf,F,public_order,2,2,2,2,2,2,2,2,sufficient,,"never closed\n'
                  + b"more text\n" * 20_000)
    with pytest.raises(CorpusError, match=rf"{labels} line 3: .*quote"):
        load_labels(labels)


@pytest.mark.parametrize("bad,line", [(b"\xff", 3), (b"caf\xe9", 3)])
def test_corpus_non_utf8_labels_name_the_line(tmp_path, bad, line):
    labels = tmp_path / "labels.csv"
    text = _labels_text([GOOD, dict(GOOD, area="public_order")]).encode("utf-8")
    lines = text.splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].replace(b"fine", bad)
    labels.write_bytes(b"".join(lines))
    with pytest.raises(CorpusError, match=rf"{labels} line {line}: not UTF-8"):
        load_labels(labels)


def test_corpus_labels_saved_with_a_byte_order_mark_are_read(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_bytes(b"\xef\xbb\xbf" + _labels_text([GOOD]).encode("utf-8"))
    assert [g.area for g in load_labels(labels)] == ["major_crime"]


def test_corpus_bad_split_file_is_named(tmp_path):
    split = tmp_path / "split.csv"
    split.write_bytes(b"force,split\nTestshire Police,train\nCaf\xe9 Police,test\n")
    with pytest.raises(CorpusError, match=rf"{split} line 3: not UTF-8"):
        load_split(split)


def test_corpus_validate_command_gives_one_line_not_a_traceback(tmp_path, capsys):
    from plancheck.cli import main

    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    (corpus / "split.csv").write_text("force,split\nTestshire Police,train\n")
    _write_labels(corpus / "labels.csv", [dict(GOOD, note="x" * 200_000)])
    assert main(["validate", "--corpus", str(corpus)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{corpus / 'labels.csv'} line 2:" in err


# --- grading: what a reviewer graded, corrections with history, errors at the reviewer's line -----

STOURHOLME = "Stourholme Constabulary"
HEADER = "area,assessment,objectives,actions,owner,timescales,resources,measures,collaboration\n"


def _mini_corpus(tmp_path, root, documents=("ashmoor-2009.pdf",)):
    """A corpus of a few documents with their labels, split and sources (quick to measure)."""
    import shutil

    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    (corpus / "sources").mkdir()
    lines = (root / "corpus" / "labels.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (corpus / "labels.csv").write_text(lines[0] + "".join(l for l in lines[1:] if l.split(",")[0] in documents))
    shutil.copy(root / "corpus" / "split.csv", corpus / "split.csv")
    for name in documents:
        shutil.copy(root / "corpus" / "documents" / name, corpus / "documents" / name)
        stem = name.rsplit(".", 1)[0]
        shutil.copy(root / "corpus" / "sources" / f"{stem}.md", corpus / "sources" / f"{stem}.md")
    return corpus


class _StubScorer:
    """Stands in for the record's model: scores every area found with fixed criteria."""

    name = "stub-1"

    def __init__(self, criteria):
        self.criteria = criteria

    def score_document(self, document):
        from plancheck.config import Config
        from plancheck.segment import segment

        from plancheck.record import Record
        from plancheck.types import Assessment

        seg = segment(document, Config().required_areas)
        return Record.scored(document.path, document.sha256,
                             [Assessment(s.area, s.headings, s.pages, 0.5, False, dict(self.criteria), ())
                              for s in seg.sections], seg.missing_areas, self.name)


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _edited_record(tmp_path, examples, stub, edit):
    """The submission's record as the model scored it, edited by ``edit(areas)``, written to a file."""
    from plancheck.config import Config
    from plancheck.ingest import read_document

    doc = read_document(examples / "stourholme-2009.txt", Config())
    record = {"path": str(examples / "stourholme-2009.txt"), "sha256": doc.sha256, "model": stub.name,
              "force": STOURHOLME, "areas": stub.score_document(doc).to_dict()["areas"]}
    edit(record["areas"])
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, indent=2))
    return path


def test_grading_record_keeps_only_what_the_reviewer_changed_or_confirmed(tmp_path, root, examples):
    from plancheck.grading import grade_submission

    corpus = _mini_corpus(tmp_path, root)
    stub = _StubScorer({c: 1 for c in CRITERIA})

    def edit(areas):
        areas[0]["criteria"]["owner"] = 2  # serious_organised_crime: changed
        areas[1]["confirmed"] = True  # major_crime: confirmed as scored
        # the other areas are left as the model scored them

    result = grade_submission(examples / "stourholme-2009.txt", _edited_record(tmp_path, examples, stub, edit),
                              "A Reviewer", corpus, scorer=stub)
    assert [r["area"] for r in result.added] == ["serious_organised_crime", "major_crime"]
    assert result.added[0]["owner"] == "2" and result.added[1]["owner"] == "1"
    assert result.changes == ["serious_organised_crime: owner 1 -> 2", "major_crime: confirmed as the model scored it"]
    assert len(result.skipped) == 3 and all("not a grade" in s for s in result.skipped)
    labels = (corpus / "labels.csv").read_text()
    assert labels.count("stourholme-2009.txt") == 2 and "vulnerable_people" not in labels.split("stourholme")[-1]


def test_grading_an_unedited_record_is_refused_and_changes_nothing(tmp_path, root, examples):
    from plancheck.grading import grade_submission

    corpus = _mini_corpus(tmp_path, root)
    stub = _StubScorer({c: 2 for c in CRITERIA})
    before = _tree(corpus)
    with pytest.raises(CorpusError, match="no area was changed or confirmed"):
        grade_submission(examples / "stourholme-2009.txt", _edited_record(tmp_path, examples, stub, lambda a: None),
                         "A Reviewer", corpus, scorer=stub)
    assert _tree(corpus) == before


def test_grading_record_errors_name_the_reviewers_file_and_line(tmp_path, root, examples):
    from plancheck.grading import grade_submission

    corpus = _mini_corpus(tmp_path, root)
    stub = _StubScorer({c: 1 for c in CRITERIA})

    def edit(areas):
        areas[2]["criteria"]["timescales"] = 5

    path = _edited_record(tmp_path, examples, stub, edit)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if '"area": "vulnerable_people"' in text)
    with pytest.raises(CorpusError) as info:
        grade_submission(examples / "stourholme-2009.txt", path, "A Reviewer", corpus, scorer=stub)
    assert f"{path} line {line} (areas[2]): timescales must be 0, 1 or 2, got '5'" in str(info.value)
    assert "labels.csv" not in str(info.value)


def test_grading_csv_errors_name_the_reviewers_file_and_line(tmp_path, root, examples):
    from plancheck.grading import record_grades

    corpus = _mini_corpus(tmp_path, root)
    grades = tmp_path / "grades.csv"
    grades.write_text(HEADER + "major_crime,2,2,2,2,2,2,2,2\npublic_order,1,1,1,x,1,0,1,1\nroads_policing,1,1,1,1,1,1,1,1\n")
    with pytest.raises(CorpusError) as info:
        record_grades(examples / "stourholme-2009.txt", grades, "A Reviewer", corpus, force=STOURHOLME)
    assert f"{grades} line 3: owner must be 0, 1 or 2, got 'x'" in str(info.value)
    assert "labels.csv" not in str(info.value)
    grades.write_text(HEADER + "major_crime,2,2,2,2,2,2,2,2\nroads_policing,1,1,1,1,1,1,1,1\n")
    with pytest.raises(CorpusError, match=rf"{grades} line 3: area roads_policing of stourholme-2009.txt is not found"):
        record_grades(examples / "stourholme-2009.txt", grades, "A Reviewer", corpus, force=STOURHOLME)


def test_grading_a_correction_needs_replace_and_keeps_the_old_grade(tmp_path, root, examples):
    from plancheck.corpus import load_labels
    from plancheck.grading import grade_submission

    corpus = _mini_corpus(tmp_path, root)
    grades = tmp_path / "grades.csv"
    grades.write_text(HEADER + "major_crime,2,2,2,2,2,2,2,2\npublic_order,1,1,1,1,1,0,1,1\n")
    grade_submission(examples / "stourholme-2009.txt", grades, "A Reviewer", corpus, force=STOURHOLME)
    grades.write_text(HEADER + "public_order,2,2,2,2,2,2,2,2\n")
    before = _tree(corpus)
    with pytest.raises(CorpusError) as info:
        grade_submission(examples / "stourholme-2009.txt", grades, "B Reviewer", corpus, force=STOURHOLME)
    assert f"{grades} line 2: duplicate grade: public_order of stourholme-2009.txt is already graded" in str(info.value)
    assert "--replace" in str(info.value) and _tree(corpus) == before

    result = grade_submission(examples / "stourholme-2009.txt", grades, "B Reviewer", corpus, force=STOURHOLME,
                              replace=True)
    assert [g.area for g in result.replaced] == ["public_order"]
    assert result.changes[0].startswith("public_order: replaces the grade of ")
    assert "owner 1 -> 2" in result.changes[0]
    mine = [g for g in load_labels(corpus / "labels.csv") if g.document == "stourholme-2009.txt"]
    assert sorted((g.area, g.grader, g.label) for g in mine) == [("major_crime", "A Reviewer", "sufficient"),
                                                                 ("public_order", "B Reviewer", "sufficient")]
    history = list(csv.DictReader(io.StringIO((corpus / "labels-history.csv").read_text())))
    assert [(h["area"], h["grader"], h["label"], h["replaced_by"]) for h in history] == [
        ("public_order", "A Reviewer", "insufficient", "B Reviewer")]


def test_grading_refuses_a_folder_that_is_not_a_corpus(tmp_path, examples):
    from plancheck.grading import record_grades

    grades = tmp_path / "grades.csv"
    grades.write_text(HEADER + "major_crime,2,2,2,2,2,2,2,2\n")
    with pytest.raises(CorpusError, match="not a corpus folder"):
        record_grades(examples / "stourholme-2009.txt", grades, "A Reviewer", tmp_path / "elsewhere", force=STOURHOLME)
    assert not (tmp_path / "elsewhere").exists()


def test_grading_then_eval_segment_lists_the_document_without_a_source(tmp_path, root, examples, capsys):
    from plancheck.cli import main
    from plancheck.grading import record_grades

    corpus = _mini_corpus(tmp_path, root)
    grades = tmp_path / "grades.csv"
    grades.write_text(HEADER + "major_crime,2,2,2,2,2,2,2,2\n")
    record_grades(examples / "stourholme-2009.txt", grades, "A Reviewer", corpus, force=STOURHOLME)
    assert main(["eval-segment", "--corpus", str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "documents with exactly the right missing areas: 1/1" in out
    assert "not measured (no source): stourholme-2009.txt" in out


def test_grading_record_without_its_model_grades_only_confirmed_areas(tmp_path, root, examples):
    from plancheck.grading import grade_submission

    corpus = _mini_corpus(tmp_path, root)
    stub = _StubScorer({c: 1 for c in CRITERIA})

    def edit(areas):
        areas[0]["criteria"]["owner"] = 2  # changed, but nothing says from what
        areas[1]["confirmed"] = True

    path = _edited_record(tmp_path, examples, stub, edit)
    record = json.loads(path.read_text())
    record["model"] = None
    path.write_text(json.dumps(record))
    result = grade_submission(examples / "stourholme-2009.txt", path, "A Reviewer", corpus, scorer=stub)
    assert [r["area"] for r in result.added] == ["major_crime"]
    assert "the record names no model" in result.skipped[0] and "confirmed" in result.skipped[0]
