"""Shared fixtures: paths to the repository's corpus, examples, models and the shared test PDFs."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_PDFS = ROOT.parent / "shared" / "testdata" / "pdfs"


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
