"""Security tests: hostile submissions, isolated workers and safe model loading.

The hostile files are built at test time by tests/hostile.py. Each must end as one record, scored
or a named error, within the per-file timeout and a memory cap, without stopping the batch or
leaving processes behind; a tampered or malicious model must never be unpickled into running code.
"""
from __future__ import annotations

import faulthandler
import hashlib
import json
import multiprocessing
import os
import resource
import signal
import threading
import time
from pathlib import Path

import pytest

import hostile
from plancheck import runner
from plancheck.card import _card_checksum, load_model, read_card, sha256_file
from plancheck.config import Config
from plancheck.errors import (IngestError, ModelIntegrityError, ModelNotFoundError, NotAFileError,
                              TooManyPagesError, UnreadableError)
from plancheck.ingest import read_document
from plancheck.score import error_record

ERROR_CODES = {"unsupported_type", "empty", "encrypted", "no_text", "unreadable", "too_large", "too_many_pages",
               "limit_exceeded", "timeout", "not_a_file"}
TIMEOUT = hostile.TIMEOUT


def read_task(config: Config):
    """A worker task that only reads (no model): a record with the code, page count and peak memory."""
    def task(path: str) -> dict:
        start_kb = hostile.peak_rss_kb()
        try:
            document = read_document(path, config)
            record = {"path": path, "status": "scored", "error": None, "pages": document.page_count}
        except IngestError as exc:
            record = error_record(path, exc.code, exc.message).to_dict()
        record["grew_kb"] = hostile.peak_rss_kb() - start_kb
        record["pid"] = os.getpid()
        return record

    return task


def run_all(paths: list[str], task, config: Config) -> list[dict]:
    """Records as dicts (the fields a record is written with), whichever way each was made."""
    def error(path: str, code: str, message: str) -> dict:
        return error_record(path, code, message).to_dict()

    return list(runner.run(paths, task, error, config))


def finishes(call, seconds: float = 120.0) -> bool:
    """Whether ``call()`` returns or raises at all: a call that would block forever is left behind.

    The limit only tells "finished" from "never finishes"; it is not a measure of speed.
    """
    thread = threading.Thread(target=lambda: _swallow(call), daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()


def _swallow(call) -> None:
    try:
        call()
    except Exception:
        pass


def assert_no_children_left(before: set[int]) -> None:
    assert multiprocessing.active_children() == []
    assert hostile.child_pids() - before == set()


# --- one batch over every hostile file --------------------------------------------------------

@pytest.mark.slow
def test_security_batch_gives_one_record_per_input(hostile_inbox, hostile_batch):
    _, cases = hostile_inbox
    paths = [r["path"] for r in hostile_batch.records]
    assert sorted(paths) == sorted(cases)


@pytest.mark.slow
def test_security_batch_records_are_scored_or_named_errors(hostile_batch):
    for record in hostile_batch.records:
        assert record["status"] in ("scored", "error"), record
        if record["status"] == "error":
            assert record["error"]["code"] in ERROR_CODES, record
            assert record["path"] in record["error"]["message"]


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(hostile.EXPECTED))
def test_security_batch_gives_expected_code(case, hostile_inbox, hostile_batch):
    _, cases = hostile_inbox
    by_case = {cases[r["path"]]: r for r in hostile_batch.records}
    record = by_case[case]
    code = "scored" if record["status"] == "scored" else record["error"]["code"]
    assert code in hostile.EXPECTED[case], record.get("error")


@pytest.mark.slow
def test_security_batch_scores_good_plan_and_exits_1(hostile_inbox, hostile_batch):
    _, cases = hostile_inbox
    good = next(r for r in hostile_batch.records if cases[r["path"]] == "good_plan")
    assert good["status"] == "scored" and good["verdict"] in ("sufficient", "needs_review")
    assert good["pages"] == 6
    assert hostile_batch.code == 1


@pytest.mark.slow
def test_security_batch_leaves_no_child_processes(hostile_batch):
    assert hostile_batch.active == []
    assert hostile_batch.left == set()


# --- single hostile files, read in this process where they are safe to read ------------------

def test_security_many_pages_rejected_before_flattening(tmp_path):
    path = hostile.many_pages(tmp_path)
    with pytest.raises(TooManyPagesError, match="more than 2,000 pages"):
        read_document(path, Config())


def test_security_page_count_lie_reads_only_real_pages(tmp_path):
    document = read_document(hostile.count_lie(tmp_path, kids=3), Config())
    assert document.page_count == 3
    assert "named lead" in document.pages[0].text


def test_security_page_tree_cycle_is_unreadable(tmp_path):
    with pytest.raises(UnreadableError, match="cyclic"):
        read_document(hostile.page_tree_cycle(tmp_path), Config())


def test_security_docx_entities_are_not_expanded(tmp_path):
    small = read_document(hostile.docx_entities(tmp_path, levels=4), Config())
    text = "\n".join(p.text for p in small.pages)
    assert "named lead" in text and "lol" not in text
    before = hostile.peak_rss_kb()
    with pytest.raises(UnreadableError, match="amplification"):
        read_document(hostile.docx_entities(tmp_path, levels=10), Config())
    assert hostile.peak_rss_kb() - before < 100 * 1024  # a billion laughs would take gigabytes


def test_security_docx_external_entity_is_not_fetched(tmp_path):
    secret = hostile.secret_file(tmp_path)
    document = read_document(hostile.docx_external_entity(tmp_path, secret), Config())
    text = "\n".join(p.text for p in document.pages)
    assert "named lead" in text
    assert hostile.SECRET.decode() not in text


@pytest.mark.parametrize("build", [hostile.directory_named_pdf, hostile.fifo,
                                   lambda folder: hostile.symlink(folder, hostile.GOOD_PLAN)],
                         ids=["directory", "fifo", "symlink"])
def test_security_not_regular_files_are_refused_without_opening(tmp_path, build):
    path = build(tmp_path)
    with pytest.raises(NotAFileError):
        read_document(path, Config())
    # A FIFO opened for reading would block forever: reading in a thread shows it never blocks.
    assert finishes(lambda: read_document(path, Config()))


def test_security_folder_named_like_a_document_is_an_entry_not_searched(tmp_path):
    inbox = tmp_path / "inbox"
    unpacked = inbox / "plan.docx" / "word"
    unpacked.mkdir(parents=True)
    (unpacked / "document.xml").write_text("<w:document/>")
    (inbox / "notes").mkdir()
    (inbox / "notes" / "a.txt").write_text("words")
    assert runner.collect_paths([str(inbox)]) == [str(inbox / "plan.docx"), str(inbox / "notes" / "a.txt")]
    assert runner.collect_paths([str(inbox / "plan.docx")]) == [str(inbox / "plan.docx")]


# --- isolated workers: timeout, memory cap, dead workers --------------------------------------

@pytest.mark.slow
def test_security_operator_flood_is_one_record_and_batch_goes_on(tmp_path):
    # Whether 300,000 operators take more or less than the timeout depends on the machine; either
    # way the flood is one record and the good plan after it is read by the replaced worker.
    config = Config(timeout=TIMEOUT, memory_mb=512, jobs=1)
    flood, good = hostile.operator_flood(tmp_path), hostile.good_plan(tmp_path)
    before = hostile.child_pids()
    records = run_all([str(flood), str(good)], read_task(config), config)
    assert [r["path"] for r in records] == [str(flood), str(good)]
    assert records[0]["status"] == "scored" or records[0]["error"]["code"] == "timeout"
    assert records[1]["status"] == "scored"
    assert_no_children_left(before)


@pytest.mark.slow
def test_security_flate_bomb_ends_as_named_error_within_memory_cap(tmp_path):
    config = Config(timeout=TIMEOUT, memory_mb=512, jobs=1)
    bomb = hostile.flate_bomb(tmp_path, gigabytes=2, layers=3)
    assert bomb.stat().st_size < 10_000
    parent_before = hostile.peak_rss_kb()
    (record,) = run_all([str(bomb)], read_task(config), config)
    assert record["status"] == "error"
    assert record["error"]["code"] in {"limit_exceeded", "unreadable", "no_text"}
    assert record["grew_kb"] < 512 * 1024  # the worker stayed under its cap ...
    assert hostile.peak_rss_kb() - parent_before < 50 * 1024  # ... and the parent never inflated it


def _hog(path: str) -> dict:
    if "hog" in path:
        bytearray(2 << 30)  # 2 GiB, over the 256 MiB cap
    return {"path": path, "status": "scored", "error": None, "pid": os.getpid()}


def test_security_memory_cap_turns_allocation_into_limit_exceeded():
    config = Config(timeout=TIMEOUT, memory_mb=256, jobs=1)
    records = run_all(["hog.pdf", "after.pdf"], _hog, config)
    assert [r["path"] for r in records] == ["hog.pdf", "after.pdf"]
    assert records[0]["error"]["code"] == "limit_exceeded"
    assert records[1]["status"] == "scored"


def _die(how: str):
    def task(path: str) -> dict:
        if "die" in path:
            if how == "sigkill":
                os.kill(os.getpid(), signal.SIGKILL)
            elif how == "exit":
                os._exit(3)
            else:
                faulthandler.disable()  # pytest's crash report would fill the output
                os.kill(os.getpid(), signal.SIGSEGV)
        return {"path": path, "status": "scored", "error": None, "pid": os.getpid()}

    return task


@pytest.mark.parametrize("how", ["sigkill", "exit", "sigsegv"])
def test_security_killed_worker_gives_limit_exceeded_and_is_replaced(how):
    config = Config(timeout=TIMEOUT, jobs=1)
    before = hostile.child_pids()
    records = run_all(["a.pdf", "die.pdf", "b.pdf", "c.pdf"], _die(how), config)
    assert [r["path"] for r in records] == ["a.pdf", "die.pdf", "b.pdf", "c.pdf"]
    assert records[1]["error"]["code"] == "limit_exceeded"
    assert "ended abruptly" in records[1]["error"]["message"]
    assert [r["status"] for r in records] == ["scored", "error", "scored", "scored"]
    assert records[0]["pid"] != records[2]["pid"] == records[3]["pid"]  # one new worker for the rest
    assert_no_children_left(before)


def _hang(path: str) -> dict:
    if "hang" in path:
        threading.Event().wait()  # blocks for good
    return {"path": path, "status": "scored", "error": None}


def test_security_hanging_task_times_out_and_batch_goes_on():
    # The hanging tasks block for good; the others return at once, well within 10 s on any machine.
    config = Config(timeout=10, jobs=2)
    before = hostile.child_pids()
    records = run_all(["hang-1.pdf", "hang-2.pdf", "ok-1.pdf", "ok-2.pdf"], _hang, config)
    codes = {r["path"]: (r["error"] or {}).get("code", r["status"]) for r in records}
    assert codes == {"hang-1.pdf": "timeout", "hang-2.pdf": "timeout", "ok-1.pdf": "scored", "ok-2.pdf": "scored"}
    assert_no_children_left(before)


def _cpu_left(path: str) -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    left = resource.getrlimit(resource.RLIMIT_CPU)[0] - (usage.ru_utime + usage.ru_stime)
    if "burn" in path:
        end = time.process_time() + 1.2
        while time.process_time() < end:
            pass
    return {"path": path, "status": "scored", "error": None, "cpu_left": left}


def test_security_cpu_backstop_is_renewed_for_each_file():
    # Regression: RLIMIT_CPU counts a worker's whole life, so a fixed limit would shrink with
    # every file read and finally kill the worker on an innocent file of a long batch.
    # A wall-clock timeout far above the 1.2 s of CPU burnt, so a busy machine cannot turn it into a timeout.
    config = Config(timeout=120, jobs=1)
    records = run_all(["burn.pdf", "next.pdf"], _cpu_left, config)
    first, second = (r["cpu_left"] for r in records)
    assert first > 1 and second > first - 0.5


# --- the shared corpus of malformed PDFs -------------------------------------------------------

@pytest.mark.slow
def test_security_shared_pdfs_give_one_named_record_each(shared_pdfs, tmp_path, write_config):
    from plancheck.cli import main

    manifest = json.loads((shared_pdfs / "manifest.json").read_text(encoding="utf-8"))
    paths = sorted(str(shared_pdfs / entry["file"]) for entry in manifest)
    output = tmp_path / "out.jsonl"
    # A timeout far above what any of these small files needs: none of them may hang a reader.
    config = write_config(timeout=120, memory_mb=512)
    before = hostile.child_pids()
    code = main(["score", *paths, "--format", "jsonl", "--output", str(output), "--config", str(config),
                 "--jobs", "2", "--quiet"])
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["path"] for r in records) == paths
    for record in records:
        assert record["status"] == "scored" or record["error"]["code"] in ERROR_CODES, record
    assert not any(r["status"] == "error" and r["error"]["code"] == "timeout" for r in records)
    assert code == 1  # some are broken or encrypted
    assert_no_children_left(before)


# --- safe models -------------------------------------------------------------------------------

def _install_artefact(models: Path, data: bytes) -> Path:
    """Replace the current artefact by ``data`` and re-sign the card as card.py does, so every hash matches."""
    card_path = models / f"{(models / 'CURRENT').read_text().strip()}.card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    (models / card["artefact"]).write_bytes(data)
    card["artefact_sha256"] = hashlib.sha256(data).hexdigest()
    card["card_sha256"] = _card_checksum(card)
    card_path.write_text(json.dumps(card, indent=2), encoding="utf-8")
    return card_path


def _artefact(models: Path) -> Path:
    """The current model's arrays (the folder may hold earlier models too)."""
    name = (models / "CURRENT").read_text(encoding="utf-8").strip()
    return models / json.loads((models / f"{name}.card.json").read_text(encoding="utf-8"))["artefact"]


class _Canary:
    """Pickles as a call that would create the canary file: what a malicious model would carry."""

    def __init__(self, canary: Path):
        self.canary = canary

    def __reduce__(self):
        return os.system, (f"touch {self.canary}",)


def test_security_model_byte_flip_is_refused_before_reading(models_copy, monkeypatch):
    from plancheck.lexical import SectionModel

    artefact = _artefact(models_copy)
    data = bytearray(artefact.read_bytes())
    data[len(data) // 2] ^= 0x01
    artefact.write_bytes(bytes(data))
    read = []
    monkeypatch.setattr(SectionModel, "load", classmethod(lambda cls, path: read.append(path)))
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        load_model(None, models_copy)
    assert read == []


@pytest.mark.parametrize("kind", ["pickle", "npz-object-array", "npy-pickle"])
def test_security_model_carrying_code_with_valid_hashes_is_refused(models_copy, tmp_path, kind):
    import io
    import pickle

    import numpy as np

    canary = tmp_path / "canary"
    if kind == "pickle":
        data = pickle.dumps(_Canary(canary), protocol=4)
    else:
        buffer = io.BytesIO()
        payload = np.array([_Canary(canary)], dtype=object)
        if kind == "npz-object-array":
            np.savez(buffer, format=np.array("plancheck-section-model/1"), kinds=payload)
        else:
            np.save(buffer, payload, allow_pickle=True)
        data = buffer.getvalue()
    card_path = _install_artefact(models_copy, data)
    # The card and artefact hashes match: only the pickle-free loader stands in the way.
    assert sha256_file(_artefact(models_copy)) == read_card(card_path).artefact_sha256
    with pytest.raises(ModelIntegrityError, match="refuses to load"):
        load_model(None, models_copy)
    assert not canary.exists()


def test_security_resigned_genuine_model_still_loads(models_copy):
    # The control for the test above: re-signing the card as it does keeps a genuine model loadable.
    _install_artefact(models_copy, _artefact(models_copy).read_bytes())
    model, card = load_model(None, models_copy)
    assert type(model).__name__ == "SectionModel" and card.name


def test_security_card_edited_without_checksum_is_refused(models_copy):
    current = (models_copy / "CURRENT").read_text(encoding="utf-8").strip()
    card_path = models_copy / f"{current}.card.json"  # the card of the model that load_model(None) loads
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["threshold"]["value"] = 0.99
    card_path.write_text(json.dumps(card, indent=2), encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="checksum"):
        load_model(None, models_copy)


def test_security_no_model_says_how_to_train(tmp_path):
    empty = tmp_path / "models"
    empty.mkdir()
    with pytest.raises(ModelNotFoundError, match="plancheck train"):
        load_model(None, empty)


@pytest.mark.slow
def test_security_cli_with_tampered_model_exits_1_with_one_line(models_copy, write_config, capsys):
    from plancheck.cli import main

    artefact = _artefact(models_copy)
    artefact.write_bytes(artefact.read_bytes() + b"\0")
    config = write_config(model_dir=str(models_copy))
    code = main(["score", str(hostile.GOOD_PLAN), "--format", "jsonl", "--config", str(config), "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "SHA-256" in lines[0]
