"""Check plancheck's vagueness and commitment signals against human-labelled text from elsewhere.

Evaluation only: the data (``../shared/external``) is read where it lies and never copied. For
each labelled item we compute three scores of "specific" and their ROC-AUC against the human
label, always beside a length-only baseline:

* ``signals``: the share of sentences with specific evidence minus the share with vague evidence
  (hedges, deferrals, vague owners/resources/measures/partners), from the feature registry alone;
* ``concreteness``: the share of sentences with figures or proper names, past or
  future alike (the rubric's "specific", without its test of commitment);
* ``model``: 1 - p_insufficient from the current section model;
* ``length``: the number of words (its direction differs between the sets; see the README).
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from . import features, nlp as nlp_mod

SETS = {"lebanoff2018_privacy_vagueness.tsv": "privacy-policy sentences, vague (mean rating >= 3) vs clear (<= 2)",
        "mlpromise_promiseeval_en.tsv": "sustainability-report paragraphs, evidence quality Clear vs Not Clear/Misleading"}


def _signal(evidence: dict[str, list[str]], n_units: int) -> float:
    specific = vague = 0
    for name, feat in features.FEATURES.items():
        if feat.criterion == "style":
            continue
        if feat.polarity == "specific":
            specific += len(evidence.get(name, []))
        else:
            vague += len(evidence.get(name, []))
    return (specific - vague) / max(n_units, 1)


def evaluate_external(folder: str | Path, scorer=None) -> list[dict]:
    """AUC of each score on each labelled set found in ``folder``."""
    csv.field_size_limit(sys.maxsize)
    nlp = scorer.nlp if scorer else nlp_mod.load()
    results = []
    for name, description in SETS.items():
        path = Path(folder) / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh, delimiter="\t") if r.get("label_specific") in ("0", "1")]
        texts = [r["text"] for r in rows]
        y = np.array([int(r["label_specific"]) for r in rows])
        signal, concrete, rows_x = [], [], []
        for doc in nlp_mod.parse(texts, nlp):
            row, evidence = features.featurise(doc)
            rows_x.append(row)
            units = doc.user_data.get("plancheck_units", [])
            signal.append(_signal(evidence, len(units) or 1))
            concrete.append(sum(u.numbers or u.proper for u in units) / max(len(units), 1))
        scores = {"signals": np.array(signal), "concreteness": np.array(concrete), "length": np.array([len(t.split()) for t in texts], dtype=float)}
        if scorer is not None:
            scores["model"] = 1 - scorer.model.predict_proba(np.array(rows_x))[:, 1]
        results.append({"set": name.removesuffix(".tsv"), "description": description, "n": int(len(y)),
                        "specific_share": round(float(y.mean()), 3),
                        "auc": {k: round(float(roc_auc_score(y, v)), 3) for k, v in scores.items()}})
    return results
