"""Shared fixtures: paths to the repository's corpus, examples, models and the shared test PDFs."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _shared_pdfs() -> Path:
    """../shared/testdata/pdfs beside the checkout (or beside a folder above it), or PLANCHECK_SHARED."""
    if os.environ.get("PLANCHECK_SHARED"):
        return Path(os.environ["PLANCHECK_SHARED"]) / "testdata" / "pdfs"
    for parent in ROOT.parents:
        candidate = parent / "shared" / "testdata" / "pdfs"
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "testdata" / "pdfs"


SHARED_PDFS = _shared_pdfs()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def examples() -> Path:
    return ROOT / "examples"


@pytest.fixture(scope="session")
def shared_pdfs() -> Path:
    if not SHARED_PDFS.is_dir():
        pytest.skip("the shared test PDFs (../shared/testdata/pdfs) are not present")
    return SHARED_PDFS


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    """A private copy of models/ that a test may damage."""
    dest = tmp_path / "models"
    shutil.copytree(ROOT / "models", dest)
    return dest


@pytest.fixture(scope="session")
def english():
    """The pinned English pipeline (tests using it are marked `english`)."""
    from plancheck import nlp

    return nlp.load()


@pytest.fixture(scope="session")
def scorer():
    from plancheck.config import Config
    from plancheck.score import Scorer

    return Scorer.load(None, Config(model_dir=str(ROOT / "models")))


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of corpus/ (labels, split and documents; not the sources)."""
    dest = tmp_path / "corpus"
    dest.mkdir()
    for name in ("labels.csv", "split.csv"):
        shutil.copy(ROOT / "corpus" / name, dest / name)
    shutil.copytree(ROOT / "corpus" / "documents", dest / "documents")
    return dest


# --- security tests (tests/test_security.py) ---------------------------------------------------
# Hostile files are built at test time by tests/hostile.py; nothing large is committed.

@pytest.fixture(scope="module")
def hostile_inbox(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A folder holding every hostile case plus one good plan, and the case of each path in it."""
    import hostile

    base = tmp_path_factory.mktemp("hostile")
    inbox, outside = base / "inbox", base / "outside"
    inbox.mkdir()
    outside.mkdir()
    return inbox, hostile.build_inbox(inbox, outside)


@pytest.fixture(scope="module")
def hostile_batch(hostile_inbox, tmp_path_factory):
    """`plancheck score` over the hostile inbox: its records, exit code and leftover children.

    The reader is wrapped so that one file (``hostile.BLOCKING_NAME``) blocks forever, as a reader
    stuck in a parser would: the workers are forked from this process, so they inherit the wrapper.
    """
    import json
    import multiprocessing
    import threading
    from types import SimpleNamespace

    import hostile
    import plancheck.score
    from plancheck.cli import main

    real_read = plancheck.score.read_document

    def read_or_block(path, config):
        if Path(path).name == hostile.BLOCKING_NAME:
            threading.Event().wait()  # never set
        return real_read(path, config)

    inbox, _ = hostile_inbox
    work = tmp_path_factory.mktemp("hostile-batch")
    config = hostile.write_config(work / "plancheck.toml", timeout=hostile.TIMEOUT, memory_mb=512,
                                  model_dir=str(ROOT / "models"))
    output = work / "out.jsonl"
    before = hostile.child_pids()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plancheck.score, "read_document", read_or_block)
        code = main(["score", str(inbox), "--format", "jsonl", "--output", str(output), "--config", str(config),
                     "--jobs", "2", "--quiet"])
    active = multiprocessing.active_children()
    left = hostile.child_pids() - before
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    return SimpleNamespace(records=records, code=code, active=active, left=left)


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a ``[plancheck]`` TOML file into tmp_path (model_dir defaults to the repository's)."""
    import hostile

    def write(**settings) -> Path:
        settings.setdefault("model_dir", str(ROOT / "models"))
        return hostile.write_config(tmp_path / "plancheck.toml", **settings)

    return write
# --- end of security test fixtures --------------------------------------------------------------


# --- workbench tests (tests/test_web.py, tests/test_web_browser.py) -----------------------------

@pytest.fixture
def served(tmp_path: Path) -> dict:
    """Folders a workbench serves: a score file, a triage output and an empty corpus."""
    import webdata

    scores = webdata.write_scores(tmp_path / "scores" / "batch1.jsonl", webdata.batch_records())
    triaged = webdata.triage_folder(tmp_path)
    corpus = webdata.empty_corpus(tmp_path)
    return {"tmp": tmp_path, "scores": scores, "triaged": triaged, "corpus": corpus}
