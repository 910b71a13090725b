"""The blind sets: independent writers, graded by others, split by writer; blind-test frozen."""
from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from plancheck import dataset
from plancheck.errors import CorpusError
from plancheck.rubric import label_from_scores


@pytest.fixture(scope="module")
def blind(root):
    return {which: dataset.blind_sections(root / "corpus", which) for which in ("blind-dev", "blind-test")}


def test_blind_sets_are_other_writers_split_by_writer(blind):
    dev, test = blind["blind-dev"], blind["blind-test"]
    assert len(dev) + len(test) >= 400
    dev_writers, test_writers = {s.writer for s in dev}, {s.writer for s in test}
    assert len(dev_writers | test_writers) >= 4 and not dev_writers & test_writers
    assert not any(w.startswith("seed") for w in dev_writers | test_writers)
    styles = Counter(s.style for s in dev + test)
    assert len(styles) >= 12
    for s in dev + test:
        assert s.label == label_from_scores(s.criteria)
    share = sum(s.y for s in dev + test) / len(dev + test)
    assert 0.35 <= share <= 0.65


def test_blind_test_is_frozen(root):
    data = (root / "corpus" / "blind" / "test.jsonl").read_bytes()
    assert hashlib.sha256(data).hexdigest() == (root / "corpus" / "blind" / "FROZEN").read_text().strip()


def test_bundled_model_card_records_the_frozen_blind_test(root):
    from plancheck.card import current_name, read_card

    models = root / "models"
    card = read_card(models / f"{current_name(models)}.card.json")
    assert card.training_data["blind_test_sha256"] == (root / "corpus" / "blind" / "FROZEN").read_text().strip()
    assert card.metrics["blind_test"]["label"]["n"] == card.training_data["blind_test_sections"]


def test_second_grading_covers_at_least_100_sections(root, blind):
    ids = {s.id for s in blind["blind-dev"] + blind["blind-test"]}
    second = [json.loads(l) for l in (root / "corpus" / "blind" / "second-grading.jsonl").read_text().splitlines()]
    assert len(second) >= 100 and {r["id"] for r in second} <= ids


@pytest.mark.parametrize("line,message", [
    ('{"area": "roads_policing", "text": "x", "criteria": {}}', "assessment must be 0, 1 or 2"),
    ('{"area": "finance", "text": "x"}', "unknown area 'finance'"),
    ('{"area": "roads_policing"}', "no text"),
    ('not json', "not JSON"),
    ('{"area": "roads_policing", "text": "x", "label": "sufficient", "criteria": {"assessment": 0, "objectives": 0, '
     '"actions": 2, "owner": 2, "timescales": 2, "resources": 0, "measures": 0, "collaboration": 0}}', "contradicts"),
])
def test_graded_jsonl_errors_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "graded.jsonl"
    path.write_text("\n" + line + "\n")
    with pytest.raises(CorpusError, match=rf"graded.jsonl line 2: .*{message}"):
        dataset.read_jsonl(path)


def test_graded_jsonl_refuses_bad_bytes_and_huge_lines(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "caf\xe9"}\n')
    with pytest.raises(CorpusError, match="line 1: not UTF-8"):
        dataset.read_jsonl(path)
    path.write_bytes(b'{"text": "' + b"a" * (dataset.MAX_LINE + 10) + b'"}\n')
    with pytest.raises(CorpusError, match="line 1: longer than"):
        dataset.read_jsonl(path)


@pytest.mark.slow
def test_evaluate_verb_measures_a_model_on_graded_sections(root, tmp_path, capsys):
    from plancheck.cli import main

    sample = (root / "corpus" / "blind" / "dev.jsonl").read_text().splitlines()[:40]
    path = tmp_path / "sample.jsonl"
    path.write_text("\n".join(sample) + "\n")
    assert main(["evaluate", str(path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    result = out["results"]["sample.jsonl"]
    assert result["label"]["n"] == 40 and 0 <= result["label"]["f1"] <= 1
    assert set(result["criteria"]) >= {"owner", "macro_f1"} and result["per_style"]


def test_merging_new_writers_never_drops_or_changes_merged_ones(root, tmp_path, monkeypatch):
    import shutil
    import sys

    sys.path.insert(0, str(root / "scripts"))
    import blind_sets

    blind_dir = tmp_path / "blind"
    blind_dir.mkdir()
    for split in ("dev", "test"):
        shutil.copy(root / "corpus" / "blind" / f"{split}.jsonl", blind_dir / f"{split}.jsonl")
    monkeypatch.setattr(blind_sets, "BLIND", blind_dir)
    before = {split: (blind_dir / f"{split}.jsonl").read_bytes() for split in ("dev", "test")}
    # A sources folder holding one new writer only, and that writer's grades.
    sources, grades = tmp_path / "sources", tmp_path / "grades"
    sources.mkdir(), grades.mkdir()
    (sources / "w99.txt").write_text(
        "=== plan: P01 | force: Testshire Police | date: 2009-03-01\n"
        "--- area: roads_policing | style: tidy_prose | intended: sufficient | heading: Roads\n"
        "Insp Vale will open two ANPR sites by 31 May 2009.\n", encoding="utf-8")
    (grades / "w99-grades.txt").write_text("w99-P01-1: 1 1 2 2 2 1 1 1 | one action\n", encoding="utf-8")
    blind_sets.merge(sources, grades)
    after = {split: (blind_dir / f"{split}.jsonl").read_bytes() for split in ("dev", "test")}
    assert after["test"] == before["test"]  # the frozen blind-test, byte for byte
    assert after["dev"].startswith(before["dev"])  # every merged writer kept, in order
    added = [json.loads(line) for line in after["dev"][len(before["dev"]):].decode().splitlines()]
    assert [r["id"] for r in added] == ["w99-P01-1"] and added[0]["label"] == "insufficient"


def test_reason_tally_counts_the_reasons_the_grades_bear_out(root):
    import sys

    sys.path.insert(0, str(root / "scripts"))
    import reason_check

    # w1-P01-2 is graded specific on every criterion (sufficient); w1-P01-3 vague on actions and owner.
    packet = ("##### w1-P01-3 | area: major_crime\ntext\n\nReasons:\n"
              "  w1-P01-3 1: actions: vague - 'We will look at this.'\n"
              "  w1-P01-3 2: assessment: not specific - no evidenced statement found\n"
              "##### w1-P01-2 | area: serious_organised_crime\ntext\n\nReasons:\n"
              "  w1-P01-2 1: flagged by the model (p = 0.60, threshold 0.41) although every criterion ...\n"
              "  w1-P01-2 2: owner: doubtful - the model is only 55% sure\n")
    rows = [{"id": "w1-P01-3", "n": "1"}, {"id": "w1-P01-3", "n": "2"}, {"id": "w1-P01-2", "n": "1"},
            {"id": "w1-P01-2", "n": "2"}, {"id": "w1-P01-9", "n": "1"}]  # the last is not in the packet
    # Borne out: actions (scored 1) and the flag on a section graded sufficient; not: the assessment
    # (scored 2) and the owner of the sufficient section.
    assert reason_check.true_by_grades(packet, rows) == 2
