"""Check the section model's sense of "specific" against human-labelled text from elsewhere.

Evaluation only: the data (``../shared/external``) is read where it lies and never copied. For
each labelled item three scores of "specific" are compared with the human label by ROC-AUC:

* ``specificity``: the mean over the eight criteria of P(specific) / (P(specific) + P(vague)), from
  the criterion models: how specific rather than vague the text reads, whatever it is about;
* ``model``: 1 - P(insufficient) of the whole section model (which also asks for owners, dates
  and the rest, so it is a stricter test than vagueness alone);
* ``length``: the number of words (a baseline; its direction differs between the sets).
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

SETS = {"lebanoff2018_privacy_vagueness.tsv": "privacy-policy sentences, vague (mean rating >= 3) vs clear (<= 2)",
        "mlpromise_promiseeval_en.tsv": "sustainability-report paragraphs, evidence quality Clear vs Not Clear/Misleading"}


def specificity(probs: np.ndarray) -> np.ndarray:
    """Mean over criteria of P(2) / (P(1) + P(2)), from (n, 8, 3) criterion probabilities."""
    return (probs[:, :, 2] / np.clip(probs[:, :, 1] + probs[:, :, 2], 1e-9, None)).mean(axis=1)


def evaluate_external(folder: str | Path, scorer) -> list[dict]:
    """ROC-AUC of each score on each labelled set found in ``folder``."""
    from sklearn.metrics import roc_auc_score

    csv.field_size_limit(sys.maxsize)
    results = []
    for name, description in SETS.items():
        path = Path(folder) / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh, delimiter="\t") if r.get("label_specific") in ("0", "1")]
        texts = [r["text"] for r in rows]
        y = np.array([int(r["label_specific"]) for r in rows])
        p, probs = scorer.model.predict(texts)
        scores = {"specificity": specificity(probs), "model": 1 - p,
                  "length": np.array([len(t.split()) for t in texts], dtype=float)}
        results.append({"set": name.removesuffix(".tsv"), "description": description, "n": int(len(y)),
                        "specific_share": round(float(y.mean()), 3),
                        "auc": {k: round(float(roc_auc_score(y, v)), 3) for k, v in scores.items()}})
    return results
