"""A learned area classifier: which protective-service area a passage of text is about.

Headings that name an area decide it (areas.py). Where they do not (a sub-topic heading such as
"Denying Criminals the Use of the Roads", an abbreviation, a question, or no heading at all), the
passage's own words decide, through a multinomial logistic regression over the word terms of
lexical.py, trained on area-marked passages (``python scripts/train_areas.py``). It is shipped
inside the package (``plancheck/data/areas.npz``: arrays only, read with ``allow_pickle=False``).
"""
from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import numpy as np

from .lexical import word_terms

FORMAT = "plancheck-area-model/1"
BUNDLED = Path(__file__).resolve().parent / "data" / "areas.npz"


class AreaModel:
    """P(area | text) over the eight areas and ``general``."""

    def __init__(self, classes, vocabulary, idf, coef, intercept):
        self.classes = [str(c) for c in classes]
        self.vocabulary = np.asarray(vocabulary, dtype=str)
        self.idf = np.asarray(idf, dtype=float)
        self.coef = np.asarray(coef, dtype=float)
        self.intercept = np.asarray(intercept, dtype=float)
        self._index = {t: i for i, t in enumerate(self.vocabulary.tolist())}

    def proba(self, text: str) -> dict[str, float]:
        counts = Counter(t for t in word_terms(text) if t in self._index)
        z = self.intercept.copy()
        if counts:
            cols = np.fromiter((self._index[t] for t in counts), dtype=np.int64, count=len(counts))
            vals = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * self.idf[cols]
            vals /= np.linalg.norm(vals)
            z = z + self.coef[:, cols] @ vals
        z = np.exp(z - z.max())
        p = z / z.sum()
        return dict(zip(self.classes, p.tolist()))

    def best(self, text: str, allowed: list[str] | None = None) -> tuple[str, float]:
        """The most likely area (among ``allowed`` when given) and its probability."""
        p = self.proba(text)
        keys = allowed or self.classes
        top = max(keys, key=lambda k: p.get(k, 0.0))
        return top, p.get(top, 0.0)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, format=np.array(FORMAT), classes=np.array(self.classes), vocabulary=self.vocabulary,
                            idf=self.idf, coef=self.coef, intercept=self.intercept)

    @classmethod
    def load(cls, path: str | Path) -> "AreaModel":
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
            if str(npz["format"]) != FORMAT:
                raise ValueError(f"{path}: not a plancheck area model")
            return cls(npz["classes"], npz["vocabulary"], npz["idf"], npz["coef"], npz["intercept"])


def fit(texts: list[str], areas: list[str], C: float = 8.0) -> AreaModel:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(analyzer=word_terms, min_df=2, sublinear_tf=True)
    X = vec.fit_transform(texts)
    est = LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(X, areas)
    return AreaModel(est.classes_, vec.get_feature_names_out(), vec.idf_, est.coef_, est.intercept_)


@functools.lru_cache(maxsize=1)
def bundled() -> AreaModel | None:
    """The shipped area model, or None when it is absent (segmentation then uses vocabulary alone)."""
    try:
        return AreaModel.load(BUNDLED)
    except (OSError, ValueError, KeyError):
        return None
