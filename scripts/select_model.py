"""Choose the section model by what holds on writers it never saw.

Every candidate is validated leave-one-writer-out over the training pool (the corpus's training
split and blind-dev): each writer's sections are scored by a candidate fitted without that writer.
The threshold of each candidate is chosen the same way as plancheck's (best F1 on those
out-of-writer scores). Figures are given over the whole pool and over its blind-dev part (the
writers whose styles the corpus lacked). The blind-test set is never read here.

    python scripts/select_model.py [--quick]     # writes models/SELECTION.md and SELECTION.json
    python scripts/select_model.py --groups 4 --only "lexical word+char / blend" tfidf "spacy textcat"

``--quick`` leaves out spaCy's text classifiers (the slowest candidates); ``--groups K`` validates over K
groups of whole writers instead of one writer at a time (for the neural ensemble, which trains a
network per fold), into ``models/SELECTION-groupsK.md``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plancheck import dataset, metrics  # noqa: E402
from plancheck.model import Params, choose_threshold, fit  # noqa: E402
from plancheck.rubric import CRITERIA  # noqa: E402

SEED = 2009


def lexical(params: Params):
    def run(train, test):
        model = fit([s.text for s in train], np.array([s.y for s in train]),
                    np.array([[s.criteria[c] for c in CRITERIA] for s in train]), params)
        return model.raw_score([s.text for s in test]), model.predict([s.text for s in test])[1].argmax(-1)
    return run


def with_entities(sections):
    """The sections with spaCy's statistical entities appended to their text as tokens
    ("entPERSON entDATE ..."): what the pipeline's NER, dropped from plancheck's pipeline for speed,
    would add to the lexical model. Parsed once, with the pinned pipeline's own tagger and NER."""
    import dataclasses

    import spacy

    from plancheck.nlp import PIPELINE

    nlp = spacy.load(PIPELINE, exclude=["parser", "lemmatizer"])
    out = []
    for s, doc in zip(sections, nlp.pipe((s.text for s in sections), batch_size=32)):
        tokens = " ".join(f"ent{e.label_}" for e in doc.ents)
        out.append(dataclasses.replace(s, text=f"{s.text}\n{tokens}" if tokens else s.text))
    return out


def tfidf_logreg(train, test):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                          LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced"))
    model.fit([s.text for s in train], [s.y for s in train])
    return model.predict_proba([s.text for s in test])[:, 1], None


def tfidf_criteria(train, test):
    """Criterion models over plain TF-IDF, the label from the rule (no direct model)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from plancheck.lexical import rule_probability

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    X, Xt = vec.fit_transform([s.text for s in train]), vec.transform([s.text for s in test])
    p2, pred = {}, np.zeros((len(test), len(CRITERIA)), dtype=int)
    for j, c in enumerate(CRITERIA):
        target = np.array([s.criteria[c] for s in train])
        est = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(X, target)
        probs = est.predict_proba(Xt)
        p2[c] = probs[:, list(est.classes_).index(2)] if 2 in est.classes_ else np.zeros(len(test))
        pred[:, j] = est.classes_[probs.argmax(1)]
    return rule_probability(p2), pred


def _textcat(model: dict, train, test, epochs: int):
    """Train spaCy's text classifier with ``model`` (an architecture config) from scratch; P(insufficient) of test."""
    import spacy
    from spacy.training import Example
    from spacy.util import minibatch

    spacy.util.fix_random_seed(SEED)
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat", config={"model": model})
    for label in ("insufficient", "sufficient"):
        textcat.add_label(label)
    data = [Example.from_dict(nlp.make_doc(s.text), {"cats": {"insufficient": float(s.y), "sufficient": 1.0 - s.y}})
            for s in train]
    optimizer = nlp.initialize(lambda: data)
    rng = np.random.default_rng(SEED)
    for _ in range(epochs):
        order = rng.permutation(len(data))
        for batch in minibatch([data[i] for i in order], size=16):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    return np.array([d.cats["insufficient"] for d in nlp.pipe(s.text for s in test)]), None


def textcat_bow(train, test, epochs: int = 10):
    """spaCy's bag-of-words text classifier (word 1-2-grams)."""
    return _textcat({"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 2,
                     "no_output_layer": False}, train, test, epochs)


def textcat_ensemble(train, test, epochs: int = 8):
    """spaCy's ensemble text classifier (a CNN over hashed word features with a bag of words), from scratch."""
    embed = {"@architectures": "spacy.MultiHashEmbed.v2", "width": 64, "rows": [2000, 2000, 500, 1000, 500],
             "attrs": ["NORM", "LOWER", "PREFIX", "SUFFIX", "SHAPE"], "include_static_vectors": False}
    encode = {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 64, "window_size": 1, "maxout_pieces": 3,
              "depth": 2}
    return _textcat({"@architectures": "spacy.TextCatEnsemble.v2",
                     "tok2vec": {"@architectures": "spacy.Tok2Vec.v2", "embed": embed, "encode": encode},
                     "linear_model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True,
                                      "ngram_size": 1, "no_output_layer": False}}, train, test, epochs)


def writer_folds(pool, groups: int | None):
    """Validation folds: one per writer, or ``groups`` folds of whole writers (for costly candidates)."""
    writers = np.array([s.writer for s in pool])
    names = sorted(set(writers))
    if not groups:
        return [(w, writers == w) for w in names]
    order = [names[i] for i in np.random.default_rng(SEED).permutation(len(names))]
    return [(f"writers {', '.join(sorted(order[k::groups]))}", np.isin(writers, order[k::groups]))
            for k in range(groups)]


def out_of_writer(pool, run, label, groups: int | None = None):
    raw = np.zeros(len(pool))
    crit = None
    for w, held in writer_folds(pool, groups):
        tr, te = np.where(~held)[0], np.where(held)[0]
        p, c = run([pool[i] for i in tr], [pool[i] for i in te])
        raw[te] = p
        if c is not None:
            crit = crit if crit is not None else np.zeros((len(pool), len(CRITERIA)), dtype=int)
            crit[te] = c
        print(f"  {label}: without {w} done", flush=True)
    return raw, crit


def write(results: dict, pool, dev, groups: int | None = None) -> None:
    """Write models/SELECTION.json and SELECTION.md (SELECTION-groups<K> with ``groups``) from the results so far."""
    out = {"pool_sections": len(pool), "blind_dev_sections": int(dev.sum()),
           "writers": sorted({s.writer for s in pool}), "results": results}
    if groups:
        out["folds"] = [name for name, _ in writer_folds(pool, groups)]
    stem = f"SELECTION-groups{groups}" if groups else "SELECTION"
    (ROOT / "models" / f"{stem}.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    how = (f"Each of {groups} groups of whole writers is scored by a model fitted without that group "
           f"(`python scripts/select_model.py --groups {groups}`): a cheaper protocol than leave-one-writer-out, for "
           "candidates that train a neural network per fold." if groups else
           "Each writer is scored by a model fitted without that writer. Made by `python scripts/select_model.py`.")
    lines = [f"# Model selection: {'writer groups' if groups else 'leave-one-writer-out'}", "",
             f"Pool: {len(pool)} graded sections by {len(out['writers'])} writers (corpus training split + blind-dev); "
             f"{int(dev.sum())} of them blind-dev. {how} Each candidate's threshold is its best F1 on those scores.", ""]
    if groups:
        lines += [f"Folds: {'; '.join(out['folds'])}.", ""]
    lines += ["| candidate | pool F1 | pool ROC-AUC | blind-dev precision | blind-dev recall | blind-dev F1 | "
              "blind-dev ROC-AUC | criteria macro-F1 (blind-dev) | seconds |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        b, p = r["blind_dev"], r["pool"]
        lines.append(f"| {name} | {p['f1']:.3f} | {p.get('roc_auc', 0):.3f} | {b['precision']:.3f} | {b['recall']:.3f} "
                     f"| {b['f1']:.3f} | {b.get('roc_auc', 0):.3f} | {r.get('criteria_macro_f1_blind_dev', '-')} "
                     f"| {r['seconds']} |")
    (ROOT / "models" / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--groups", type=int, metavar="K", help="validate over K groups of whole writers instead of "
                                                                "one writer at a time (writes SELECTION-groupsK)")
    parser.add_argument("--only", nargs="*", help="candidates whose name starts with one of these (results are "
                                                  "merged into an existing SELECTION.json)")
    args = parser.parse_args()
    corpus = ROOT / "corpus"
    pool = [s for s in dataset.corpus_sections(corpus) if s.split == "train"] + dataset.blind_sections(corpus, "blind-dev")
    y = np.array([s.y for s in pool])
    dev = np.array([s.split == "blind-dev" for s in pool])
    true = np.array([[s.criteria[c] for c in CRITERIA] for s in pool])
    candidates = {f"lexical {'+'.join(k)} / {m}": lexical(Params(kinds=k, mode=m))
                  for k in (("word",), ("word", "char")) for m in ("direct", "criteria", "blend")}
    ner = None  # the pool with entity tokens, parsed only if an NER candidate runs

    def lexical_ner(train, test):
        nonlocal ner
        if ner is None:
            ner = {s.id: s for s in with_entities(pool)}
        return lexical(Params(kinds=("word", "char"), mode="blend"))([ner[s.id] for s in train], [ner[s.id] for s in test])

    candidates["lexical word+char / blend + spaCy NER entity tokens"] = lexical_ner
    candidates["tfidf_logreg (word 1-2-grams)"] = tfidf_logreg
    candidates["tfidf criteria + rule"] = tfidf_criteria
    if not args.quick:
        candidates["spacy textcat bow"] = textcat_bow
        candidates["spacy textcat ensemble"] = textcat_ensemble
    results = {}
    existing = ROOT / "models" / (f"SELECTION-groups{args.groups}.json" if args.groups else "SELECTION.json")
    if args.only:
        if existing.is_file():
            results = json.loads(existing.read_text(encoding="utf-8")).get("results", {})
        candidates = {k: v for k, v in candidates.items() if any(k.startswith(o) for o in args.only)}
    for name, run in candidates.items():
        started = time.perf_counter()
        raw, crit = out_of_writer(pool, run, name, args.groups)
        t = choose_threshold(y, raw)
        row = {"threshold": round(t.value, 4), "pool": metrics.binary(y, raw, t.value),
               "blind_dev": metrics.binary(y[dev], raw[dev], t.value), "seconds": round(time.perf_counter() - started)}
        if crit is not None:
            row["criteria_macro_f1_pool"] = metrics.criteria(true, crit)["macro_f1"]
            row["criteria_macro_f1_blind_dev"] = metrics.criteria(true[dev], crit[dev])["macro_f1"]
        results[name] = row
        print(f"{name}: blind-dev F1 {row['blind_dev']['f1']:.3f} AUC {row['blind_dev'].get('roc_auc', 0):.3f}",
              flush=True)
        write(results, pool, dev, args.groups)


if __name__ == "__main__":
    main()
