"""The three workflows end to end: resumable batches, inbox triage, grading and retraining."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plancheck.config import Config
from plancheck.errors import CorpusError
from plancheck.triage import Triage, _move

ROOT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _tree_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


# --- resumable batches ---------------------------------------------------------------------

@pytest.mark.slow
def test_workflow_resume_after_kill_9_gives_one_record_per_file(tmp_path, examples, root):
    folder = tmp_path / "plans"
    folder.mkdir()
    sources = [examples / "hollowfield-2009.pdf", examples / "larkmere-2009.docx", examples / "stourholme-2009.txt"]
    for i in range(24):
        src = sources[i % 3]
        # distinct bytes per copy, so each file is its own submission
        data = src.read_bytes() + (f"\n%{i}\n".encode() if src.suffix == ".pdf" else b"") if src.suffix != ".docx" else src.read_bytes()
        (folder / f"plan{i:02d}{src.suffix}").write_bytes(data)
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "plancheck", "score", str(folder), "--format", "jsonl", "--output", str(out), "-q"]
    proc = subprocess.Popen(cmd, cwd=root, start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group: parent and workers
    proc.wait()
    with open(out, "ab") as fh:
        fh.write(b'{"path": "torn li')  # a write cut off mid-line
    done_before = [json.loads(l) for l in out.read_text().splitlines()[:-1]]
    assert 3 <= len(done_before) < 24  # killed mid-batch: 21 files cannot be scored between two polls
    result = subprocess.run(cmd + ["--resume"], cwd=root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    records = [json.loads(l) for l in lines]  # every line parses: the torn one was dropped
    paths = [r["path"] for r in records]
    assert sorted(paths) == sorted(str(p) for p in folder.iterdir())
    assert len(paths) == len(set(paths)) == 24
    assert "already recorded" in result.stderr


# --- triage --------------------------------------------------------------------------------

@pytest.fixture
def inbox(tmp_path, examples):
    box = tmp_path / "inbox"
    box.mkdir()
    shutil.copy(examples / "hollowfield-2009.pdf", box / "good.pdf")
    shutil.copy(examples / "larkmere-2009.docx", box / "weak.docx")
    (box / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense")
    return box


@pytest.fixture
def make_triage(root):
    made = []

    def make(inbox: Path, out: Path) -> Triage:
        made.append(Triage(inbox, out, Config(model_dir=str(root / "models"), settle=0)))  # settled at the next poll
        return made[-1]

    yield make
    for t in made:
        t.close()


def test_workflow_triage_routes_every_file_once(inbox, tmp_path, make_triage):
    out = tmp_path / "out"
    t = make_triage(inbox, out)
    entries = list(t.run_until_settled(interval=0.05))
    assert not any(inbox.iterdir())  # everything left the inbox
    where = {e["file"]: e["destination"] for e in entries}
    assert where == {"good.pdf": "passed/good.pdf", "weak.docx": "needs-review/weak.docx",
                     "broken.pdf": "unreadable/broken.pdf"}
    for rel in where.values():
        assert (out / rel).is_file() and (out / (rel + ".json")).is_file() and (out / (rel + ".html")).is_file()
    log = [json.loads(l) for l in (out / "triage-log.jsonl").read_text().splitlines()]
    assert len(log) == 3 and all(e["event"] == "scored" for e in log)


def test_workflow_triage_same_bytes_never_scored_twice_and_names_never_clash(inbox, tmp_path, make_triage, examples):
    out = tmp_path / "out"
    t = make_triage(inbox, out)
    list(t.run_until_settled(interval=0.05))
    shutil.copy(examples / "larkmere-2009.docx", inbox / "weak.docx")  # same name, same bytes
    shutil.copy(examples / "stourholme-2009.txt", inbox / "good.pdf.txt")
    entries = list(t.run_until_settled(interval=0.05))
    dup = next(e for e in entries if e["file"] == "weak.docx")
    assert dup["event"] == "duplicate" and dup["destination"] == "needs-review/weak-1.docx"
    assert (out / "needs-review" / "weak.docx").is_file() and (out / "needs-review" / "weak-1.docx").is_file()
    scored = [json.loads(l) for l in (out / "triage-log.jsonl").read_text().splitlines() if '"scored"' in l]
    assert len(scored) == 4  # the duplicate was not scored again


def test_workflow_triage_waits_for_a_file_still_being_written(tmp_path, make_triage, examples):
    box = tmp_path / "inbox"
    box.mkdir()
    t = make_triage(box, tmp_path / "out")
    growing = box / "late.pdf"
    growing.write_bytes(examples.joinpath("hollowfield-2009.pdf").read_bytes()[:1000])
    ready, odd, waiting = t.poll()
    assert ready == [] and waiting == 1  # first sight: not yet stable
    with open(growing, "ab") as fh:
        fh.write(b"more bytes")
    ready, _, waiting = t.poll()
    assert ready == [] and waiting == 1  # changed since the last poll
    ready, _, _ = t.poll()
    assert ready == [str(growing)]


def test_workflow_triage_rejects_links_and_fifos_and_leaves_folders(tmp_path, make_triage, examples):
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "folder.pdf").mkdir()
    os.symlink(examples / "hollowfield-2009.pdf", box / "link.pdf")
    os.mkfifo(box / "pipe.pdf")
    out = tmp_path / "out"
    entries = list(make_triage(box, out).run_until_settled(interval=0.05))
    assert {e["file"]: e["error"]["code"] for e in entries if e["event"] == "scored"} == \
        {"link.pdf": "not_a_file", "pipe.pdf": "not_a_file"}
    assert [e["file"] for e in entries if e["event"] == "skipped"] == ["folder.pdf"]
    assert sorted(p.name for p in (out / "unreadable").iterdir() if not p.name.endswith((".json", ".html"))) == \
        ["link.pdf", "pipe.pdf"]
    assert os.listdir(box) == ["folder.pdf"]
    assert (examples / "hollowfield-2009.pdf").is_file()  # the link's target is untouched


def test_workflow_triage_file_removed_while_processing_is_logged(tmp_path, make_triage, examples, monkeypatch):
    box = tmp_path / "inbox"
    box.mkdir()
    shutil.copy(examples / "stourholme-2009.txt", box / "gone.txt")
    t = make_triage(box, tmp_path / "out")
    real_route = t._route

    def vanish_then_route(path, record, duplicate_of=None):
        Path(path).unlink()
        return real_route(path, record, duplicate_of)

    monkeypatch.setattr(t, "_route", vanish_then_route)
    entries = list(t.run_until_settled(interval=0.05))
    assert [e["event"] for e in entries] == ["vanished"]


def test_workflow_triage_read_only_inbox_copies_and_keeps_the_original(tmp_path, monkeypatch, examples):
    src_dir = tmp_path / "ro"
    src_dir.mkdir()
    src = src_dir / "plan.txt"
    shutil.copy(examples / "stourholme-2009.txt", src)
    dest_dir = tmp_path / "dest"
    dest_dir.mkdir()
    (dest_dir / "plan.txt").write_text("an earlier plan with the same name")

    def refuse(path, *a, **k):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(os, "unlink", refuse)
    dest, how = _move(str(src), dest_dir)
    assert how == "copied" and src.exists() and dest.name == "plan-1.txt"
    assert (dest_dir / "plan.txt").read_text() == "an earlier plan with the same name"  # never overwritten


# --- grading and retraining ----------------------------------------------------------------

def test_workflow_grade_appends_validated_rows(corpus_copy, tmp_path, examples):
    from plancheck.grading import record_grades

    grades = tmp_path / "g.csv"
    grades.write_text("area,assessment,objectives,actions,owner,timescales,resources,measures,collaboration,note\n"
                      "serious_organised_crime,2,2,2,2,2,2,2,2,terse but specific\n"
                      "public_order,1,1,1,1,1,0,1,1,vague notes\n")
    before = (corpus_copy / "labels.csv").read_text()
    rows = record_grades(examples / "stourholme-2009.txt", grades, "A Reviewer", corpus_copy, force="Stourholme Constabulary")
    assert [r["label"] for r in rows] == ["sufficient", "insufficient"]
    after = (corpus_copy / "labels.csv").read_text()
    assert after.startswith(before) and after.count("\n") == before.count("\n") + 2
    assert (corpus_copy / "documents" / "stourholme-2009.txt").is_file()
    assert "Stourholme Constabulary,train" in (corpus_copy / "split.csv").read_text()
    with pytest.raises(CorpusError, match="duplicate grade"):
        record_grades(examples / "stourholme-2009.txt", grades, "A Reviewer", corpus_copy, force="Stourholme Constabulary")


def test_workflow_grade_refuses_an_area_segmentation_does_not_find(corpus_copy, tmp_path, examples):
    from plancheck.grading import record_grades

    grades = tmp_path / "g.csv"
    grades.write_text("area,assessment,objectives,actions,owner,timescales,resources,measures,collaboration\n"
                      "roads_policing,1,1,1,1,1,1,1,1\n")
    before = _tree_digest(corpus_copy)
    with pytest.raises(CorpusError, match="roads_policing .* not found by segmentation"):
        record_grades(examples / "stourholme-2009.txt", grades, "A Reviewer", corpus_copy, force="Stourholme Constabulary")
    assert _tree_digest(corpus_copy) == before
    assert not (corpus_copy / "documents" / "stourholme-2009.txt").exists()


def test_workflow_grade_from_an_edited_json_record(corpus_copy, tmp_path, examples, scorer):
    from plancheck.grading import record_grades

    record = scorer.score_path(examples / "stourholme-2009.txt").to_dict()
    record["force"] = "Stourholme Constabulary"
    first, second = record["areas"][0], record["areas"][1]
    first["criteria"]["owner"] = 1 if first["criteria"]["owner"] == 2 else 2  # the reviewer changes one score
    second["confirmed"] = True  # and confirms another area as it stands
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    rows = record_grades(examples / "stourholme-2009.txt", path, "A Reviewer", corpus_copy)
    assert {r["area"] for r in rows} == {first["area"], second["area"]}  # unedited predictions are not grades


@pytest.mark.parametrize("damage,message", [
    (lambda t: t.replace("major_crime", "finance", 1), "unknown area 'finance'"),
    (lambda t: "", "is empty"),
    (lambda t: t.replace("document,force", "doc,force", 1), "wrong columns"),
    (lambda t: t + t.splitlines()[1] + "\n", "duplicate grade"),
])
def test_workflow_bad_labels_stop_training_and_leave_models_untouched(corpus_copy, models_copy, damage, message):
    from plancheck.train import train_model

    labels = corpus_copy / "labels.csv"
    labels.write_text(damage(labels.read_text()))
    before = _tree_digest(models_copy)
    with pytest.raises(CorpusError, match=message):
        train_model(corpus_copy, models_copy)
    assert _tree_digest(models_copy) == before


def test_workflow_missing_document_is_named(corpus_copy, models_copy):
    from plancheck.train import train_model

    (corpus_copy / "documents" / "ashmoor-2009.pdf").unlink()
    with pytest.raises(CorpusError, match=r"line \d+: document 'ashmoor-2009.pdf' not found"):
        train_model(corpus_copy, models_copy)


def test_workflow_promotion_rule():
    from plancheck.train import no_worse

    old = {"f1": 0.90, "recall": 0.95, "roc_auc": 0.96}
    assert no_worse({"f1": 0.91, "recall": 0.95, "roc_auc": 0.96}, old)[0]
    ok, why = no_worse({"f1": 0.85, "recall": 0.95, "roc_auc": 0.96}, old)
    assert not ok and "f1 0.850 < 0.900" in why


@pytest.mark.slow
def test_workflow_train_writes_card_and_promotes_only_if_no_worse(corpus_copy, tmp_path):
    from plancheck.card import current_name, load_model
    from plancheck.model import Params
    from plancheck.train import train_model

    # The blind sets too: blind-test whole, blind-dev by two of its writers (to keep the suite short).
    blind = corpus_copy / "blind"
    blind.mkdir()
    shutil.copy(ROOT_CORPUS / "blind" / "test.jsonl", blind / "test.jsonl")
    dev = [line for line in (ROOT_CORPUS / "blind" / "dev.jsonl").read_text().splitlines()
           if json.loads(line)["writer"] in ("w1", "w2")]
    (blind / "dev.jsonl").write_text("\n".join(dev) + "\n")
    models = tmp_path / "models"
    quick = Params(kinds=("word",))  # the same procedure on one bag of terms, to keep the suite short
    first = train_model(corpus_copy, models, params=quick)
    assert first.promoted and current_name(models) == first.name
    model, card = load_model(None, models)
    written = json.loads((models / f"{first.name}.card.json").read_text())
    for key in ("artefact_sha256", "training_data", "config", "model", "pipeline", "libraries", "git", "metrics",
                "threshold", "baselines", "promotion"):
        assert key in written and written[key] == getattr(card, key)
    m = card.metrics
    assert {"out_of_writer", "blind_dev_out_of_writer", "test", "blind_test"} <= set(m)
    assert {"label", "criteria", "per_area", "per_style", "per_writer"} <= set(m["blind_test"])
    assert card.training_data["blind_test_sha256"] == hashlib.sha256(
        (corpus_copy / "blind" / "test.jsonl").read_bytes()).hexdigest()
    assert card.training_data["writers"] == [f"seed-grader-{x}" for x in "abcdef"] + ["w1", "w2"]
    assert "out-of-writer" in card.threshold["rule"]
    assert (models / f"{first.name}.card.md").read_text().startswith("# Model card")
    # Promotion: a copy of the model whose stored test metrics are better stays current.
    from plancheck.card import _card_checksum, read_card, set_current
    from plancheck.train import promote

    better = read_card(models / f"{first.name}.card.json").to_dict()
    better["metrics"]["test"]["label"] = dict(better["metrics"]["test"]["label"], f1=1.0, recall=1.0, roc_auc=1.0)
    better["name"] = "plancheck-99"
    better["card_sha256"] = _card_checksum(better)
    (models / "plancheck-99.card.json").write_text(json.dumps(better))
    set_current(models, "plancheck-99")
    promoted, why = promote(models, first.name, card.metrics["test"]["label"])
    assert not promoted and "f1" in why and current_name(models) == "plancheck-99"
    promoted, why = promote(models, first.name, card.metrics["test"]["label"], force=True)
    assert promoted and "--force" in why and current_name(models) == first.name


def test_workflow_interrupted_save_leaves_current_model_intact(models_copy, monkeypatch):
    import os as _os

    from plancheck import card
    from plancheck.card import current_name, load_model

    before = _tree_digest(models_copy)
    current = current_name(models_copy)
    model, meta = load_model(None, models_copy)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the run is stopped half-way through writing the artefact

    monkeypatch.setattr(_os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        card.save_model(model, meta, models_copy, "plancheck-7")
    assert _tree_digest(models_copy) == before and current_name(models_copy) == current
    assert not [p for p in models_copy.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_workflow_one_triage_per_output_folder(tmp_path, make_triage):
    from plancheck.errors import PlancheckError

    box = tmp_path / "inbox"
    box.mkdir()
    make_triage(box, tmp_path / "out")
    with pytest.raises(PlancheckError, match="another triage"):
        make_triage(box, tmp_path / "out")


def test_workflow_validate_reports_counts_and_balance(root):
    from plancheck.grading import validate_corpus

    summary = validate_corpus(root / "corpus")
    assert summary.startswith("corpus OK: 48 documents, 333 graded sections")
    assert "insufficient" in summary and "test forces: 12" in summary


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_workflow_triage_watch_stops_cleanly(tmp_path, root, examples, signum):
    box, out = tmp_path / "inbox", tmp_path / "out"
    box.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "plancheck", "triage", str(box), "--out", str(out), "--watch",
                             "--interval", "0.2"], cwd=root, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600  # not a speed bound: only ends a wait that would never end
        while not (out / "needs-review").is_dir() and time.monotonic() < deadline:
            time.sleep(0.1)
        shutil.copy(examples / "stourholme-2009.txt", box / "late.txt")
        while not (out / "needs-review" / "late.txt.html").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (out / "needs-review" / "late.txt.json").is_file() and not (box / "late.txt").exists()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "stopped" in err
    assert json.loads((out / "needs-review" / "late.txt.json").read_text())["verdict"] == "needs_review"
