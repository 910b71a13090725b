"""Triage of an inbox: names, side files, settling, read-only inboxes, locks, folders, messages."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from plancheck import report
from plancheck.config import Config
from plancheck.errors import PlancheckError
from plancheck.triage import Triage, describe


@pytest.fixture
def triage(root):
    made = []

    def make(inbox: Path, out: Path, settle: float = 0.0) -> Triage:
        made.append(Triage(inbox, out, Config(model_dir=str(root / "models"), settle=settle)))
        return made[-1]

    yield make
    for t in made:
        t.close()


@pytest.fixture
def box(tmp_path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def plan_text(examples) -> bytes:
    return (examples / "stourholme-2009.txt").read_bytes()


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "triage-log.jsonl").read_text(encoding="utf-8").splitlines()]


def _sha(data: bytes | Path) -> str:
    return hashlib.sha256(data.read_bytes() if isinstance(data, Path) else data).hexdigest()


# --- names and side files ------------------------------------------------------------------

def test_triage_side_files_never_replace_a_submission(box, tmp_path, triage):
    out = tmp_path / "out"
    t = triage(box, out)
    (box / "plan.txt.json").write_bytes(b"\x00\x01 the first submission")
    list(t.run_until_settled(interval=0.01))
    (box / "plan.txt").write_bytes(b"\x00\x02 the second submission")  # its record would be plan.txt.json
    [entry] = list(t.run_until_settled(interval=0.01))
    assert (out / "unreadable" / "plan.txt.json").read_bytes() == b"\x00\x01 the first submission"
    first = json.loads((out / "unreadable" / "plan.txt.json.json").read_text())
    assert first["submitted_as"].endswith("plan.txt.json")
    routed = out / entry["destination"]
    assert routed.read_bytes() == b"\x00\x02 the second submission"
    record = json.loads((out / entry["record"]).read_text())
    assert record["submitted_as"].endswith("plan.txt") and record["sha256"] == _sha(routed)
    assert (out / entry["report"]).is_file()
    logged = _log(out)[-1]
    assert (logged["record"], logged["report"]) == (entry["record"], entry["report"])


def test_triage_long_and_non_utf8_names_are_routed_with_their_records(box, tmp_path, triage, plan_text, examples):
    out = tmp_path / "out"
    t = triage(box, out)
    long_name = "p" * 246 + ".txt"  # 250 bytes: "<name>.json" would be too long a name
    odd_name = os.fsdecode(b"caf\xe9.txt")  # Latin-1, not UTF-8
    (box / long_name).write_bytes(plan_text)
    (box / odd_name).write_bytes(plan_text + b"\nSubmitted from an old system.\n")
    shutil.copy(examples / "hollowfield-2009.pdf", box / "other.pdf")
    entries = list(t.run_until_settled(interval=0.01))
    assert os.listdir(box) == []
    by_file = {e["file"]: e for e in entries}
    assert set(by_file) == {long_name, "caf\\xe9.txt", "other.pdf"}  # printable in the log and the message
    assert all(e["event"] == "scored" and e["status"] == "scored" for e in entries)
    # the files themselves keep their names and bytes; their records have shorter or printable names
    assert (out / "needs-review" / long_name).read_bytes() == plan_text
    assert (out / "needs-review" / odd_name).read_bytes() == plan_text + b"\nSubmitted from an old system.\n"
    for e in entries:
        record = json.loads((out / e["record"]).read_text(encoding="utf-8"))
        assert record["sha256"] == e["sha256"] and (out / e["report"]).is_file()
        assert len(os.fsencode(Path(e["record"]).name)) <= 255
    assert json.loads((out / by_file["caf\\xe9.txt"]["record"]).read_text())["submitted_as"].endswith("caf\\xe9.txt")
    assert len(_log(out)) == 3  # the log is UTF-8 throughout

    # the same long name again: the suffixed name is shortened to fit
    (box / long_name).write_bytes(plan_text + b"\nRevised.\n")
    [again] = list(t.run_until_settled(interval=0.01))
    routed = out / again["destination"]
    assert again["event"] == "scored" and routed.read_bytes() == plan_text + b"\nRevised.\n"
    assert routed.name != long_name and len(os.fsencode(routed.name)) <= 255
    assert json.loads((out / again["record"]).read_text())["sha256"] == _sha(routed)


def test_triage_a_file_that_cannot_be_routed_is_its_own_error_not_the_batch_end(box, tmp_path, triage, plan_text,
                                                                                monkeypatch):
    out = tmp_path / "out"
    t = triage(box, out)
    (box / "bad.txt").write_bytes(plan_text + b"\nBad.\n")
    (box / "good.txt").write_bytes(plan_text + b"\nGood.\n")
    real_render = report.render_html

    def render(record) -> str:
        if record.extra.get("submitted_as", "").endswith("bad.txt"):
            raise OSError(28, "No space left on device")
        return real_render(record)

    monkeypatch.setattr(report, "render_html", render)
    entries = {e["file"]: e for e in t.run_until_settled(interval=0.01)}
    assert entries["good.txt"]["event"] == "scored" and (out / entries["good.txt"]["report"]).is_file()
    bad = entries["bad.txt"]
    assert bad["event"] == "error" and "No space left on device" in bad["error"]["message"]
    assert (out / bad["destination"]).read_bytes() == plan_text + b"\nBad.\n"  # the file is kept
    assert sorted(e["file"] for e in _log(out)) == ["bad.txt", "good.txt"]


# --- taking only finished files --------------------------------------------------------------

def test_triage_waits_for_a_writer_that_pauses_longer_than_the_interval(box, tmp_path, triage, plan_text, monkeypatch):
    out = tmp_path / "out"
    t = triage(box, out, settle=2.0)
    started, resume = threading.Event(), threading.Event()
    polls = []
    real_poll = t.poll

    def poll():
        polls.append(1)
        if len(polls) == 6:  # five intervals after the first bytes
            resume.set()
        return real_poll()

    def write():
        with open(box / "slow.txt", "wb") as fh:
            fh.write(plan_text[: len(plan_text) // 2])
            fh.flush()
            started.set()
            resume.wait(timeout=600)  # not a speed bound: only ends a wait that would never end
            fh.write(plan_text[len(plan_text) // 2:])

    monkeypatch.setattr(t, "poll", poll)
    writer = threading.Thread(target=write)
    writer.start()
    try:
        started.wait(timeout=600)
        entries = list(t.run_until_settled(interval=0.05))
    finally:
        resume.set()
        writer.join()
    [entry] = entries
    routed = out / entry["destination"]
    record = json.loads(routed.with_name(routed.name + ".json").read_text())
    assert record["sha256"] == entry["sha256"] == _sha(routed) == _sha(plan_text)


def test_triage_a_file_changed_after_it_was_scored_is_scored_again(box, tmp_path, triage, plan_text, monkeypatch):
    out = tmp_path / "out"
    t = triage(box, out)
    (box / "plan.txt").write_bytes(plan_text)
    marker = tmp_path / "appended"
    real_score = t.scorer.score_path

    def score_then_append(path):
        record = real_score(path)
        if not marker.exists():  # once: the writer came back after the file was read
            marker.touch()
            with open(path, "ab") as fh:
                fh.write(b"\nAn appendix sent after the plan.\n")
        return record

    monkeypatch.setattr(t.scorer, "score_path", score_then_append)
    [entry] = list(t.run_until_settled(interval=0.01))
    routed = out / entry["destination"]
    assert routed.read_bytes() == plan_text + b"\nAn appendix sent after the plan.\n"
    record = json.loads(routed.with_name(routed.name + ".json").read_text())
    assert record["sha256"] == entry["sha256"] == _sha(routed)


def test_triage_a_file_that_keeps_changing_is_unreadable_with_its_own_hash(box, tmp_path, triage, plan_text,
                                                                          monkeypatch):
    out = tmp_path / "out"
    t = triage(box, out)
    (box / "plan.txt").write_bytes(plan_text)
    real_score = t.scorer.score_path

    def score_then_append(path):
        record = real_score(path)
        with open(path, "ab") as fh:
            fh.write(b"\nOne more line.\n")
        return record

    monkeypatch.setattr(t.scorer, "score_path", score_then_append)
    [entry] = list(t.run_until_settled(interval=0.01))
    assert entry["error"]["code"] == "changed" and entry["destination"] == "unreadable/plan.txt"
    routed = out / entry["destination"]
    assert json.loads((out / entry["record"]).read_text())["sha256"] == entry["sha256"] == _sha(routed)
    assert not (out / "needs-review" / "plan.txt").exists()


# --- read-only inboxes, locks, folders -----------------------------------------------------

def test_triage_read_only_inbox_is_not_copied_again_by_a_later_poll_or_run(box, tmp_path, triage, plan_text,
                                                                            monkeypatch):
    out = tmp_path / "out"
    (box / "plan.txt").write_bytes(plan_text)
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if Path(os.fsdecode(path)).parent == box:
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    t = triage(box, out)
    assert [e["how"] for e in t.run_until_settled(interval=0.01)] == ["copied"]
    assert list(t.run_until_settled(interval=0.01)) == []  # the next poll
    t.close()
    t = triage(box, out)
    assert list(t.run_until_settled(interval=0.01)) == []  # the next run
    t.close()
    assert sorted(p.name for p in (out / "needs-review").iterdir()) == ["plan.txt", "plan.txt.html", "plan.txt.json"]
    assert (box / "plan.txt").read_bytes() == plan_text
    assert (out / "needs-review" / "plan.txt").stat().st_ino != (box / "plan.txt").stat().st_ino  # a copy, not a link

    (box / "plan.txt").write_bytes(plan_text + b"\nRevised.\n")  # new bytes are a new submission
    [entry] = list(triage(box, out).run_until_settled(interval=0.01))
    assert entry["how"] == "copied" and entry["destination"] == "needs-review/plan-1.txt"
    assert (out / "needs-review" / "plan.txt").read_bytes() == plan_text


def test_triage_one_triage_per_inbox(box, tmp_path, triage):
    first = triage(box, tmp_path / "out1")
    with pytest.raises(PlancheckError, match="another triage is already reading this inbox"):
        triage(box, tmp_path / "out2")
    first.close()
    triage(box, tmp_path / "out2").close()  # free again once the first has finished


def test_triage_leaves_subfolders_alone_and_logs_them_once(box, tmp_path, triage, plan_text):
    out = tmp_path / "out"
    (box / "sub").mkdir()
    (box / "sub" / "inner.txt").write_bytes(plan_text)
    (box / "plan.pdf").mkdir()  # a folder named like a document is a folder too
    (box / "plan.txt").write_bytes(plan_text)
    t = triage(box, out)
    entries = list(t.run_until_settled(interval=0.01)) + list(t.run_until_settled(interval=0.01))
    t.close()
    entries += list(triage(box, out).run_until_settled(interval=0.01))
    skipped = [e for e in _log(out) if e["event"] == "skipped"]
    assert sorted(e["file"] for e in skipped) == ["plan.pdf", "sub"]
    assert all(e["destination"] is None and "folder" in e["reason"] for e in skipped)
    assert sorted(e["file"] for e in entries) == ["plan.pdf", "plan.txt", "sub"]
    assert sorted(os.listdir(box)) == ["plan.pdf", "sub"] and (box / "sub" / "inner.txt").read_bytes() == plan_text
    assert not any(p.is_dir() for p in (out / "unreadable").iterdir())


def test_triage_message_says_duplicate(box, tmp_path, triage, plan_text):
    out = tmp_path / "out"
    t = triage(box, out)
    (box / "plan.txt").write_bytes(plan_text)
    [first] = list(t.run_until_settled(interval=0.01))
    (box / "plan.txt").write_bytes(plan_text)
    [again] = list(t.run_until_settled(interval=0.01))
    assert describe(first) == "plan.txt -> needs-review/plan.txt"
    assert describe(again) == "plan.txt -> needs-review/plan-1.txt (duplicate of needs-review/plan.txt)"
