"""Check that flag reasons say what is true: a packet for an independent checker, and its tally.

A model is fitted without two blind-dev writers, so that it judges their sections as it would judge
anyone's; 50 of the sections it flags are drawn at random, and each quoted reason is written out
for a checker who reads the section and answers, for each reason, whether the quoted sentences
support what the reason claims (that the criterion is vague, or doubtful) and whether a "missing"
criterion is really absent.

    python scripts/reason_check.py packet OUT.txt [--held-out w10 w11]   # the checker's packet
    python scripts/reason_check.py tally ANSWERS.txt [--held-out w10 w11] [--packet P] [--model M]  # share that holds

Each tally is added to ``corpus/blind/reason-check.json`` (the latest first; earlier checks kept).

Answers are one line per reason: ``<id> <n>: yes|no | optional note``.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plancheck import dataset, nlp as nlp_mod  # noqa: E402
from plancheck.explain import explain  # noqa: E402
from plancheck.model import Params, choose_threshold, fit  # noqa: E402
from plancheck.rubric import CRITERIA  # noqa: E402
from plancheck.score import judge  # noqa: E402
from plancheck.train import out_of_writer  # noqa: E402

HELD_OUT = ("w4", "w5")
SAMPLE = 50
RECORD = ROOT / "corpus" / "blind" / "reason-check.json"


def held_out_model(pool, cache: Path | None, held_out=HELD_OUT):
    """The model fitted without HELD_OUT writers and its out-of-writer threshold (cached as arrays)."""
    from plancheck.lexical import SectionModel

    if cache and cache.with_suffix(".npz").is_file() and cache.with_suffix(".json").is_file():
        return SectionModel.load(cache.with_suffix(".npz")), json.loads(cache.with_suffix(".json").read_text())["threshold"]
    train = [s for s in pool if s.writer not in held_out]
    raw, _ = out_of_writer(train, Params())
    y = np.array([s.y for s in train])
    model = fit([s.text for s in train], y, np.array([[s.criteria[c] for c in CRITERIA] for s in train]), Params(),
                calibration=(raw, y))
    a, b = model.calibrator
    oof = 1 / (1 + np.exp(-(a * np.log(np.clip(raw, 1e-4, 1 - 1e-4) / (1 - np.clip(raw, 1e-4, 1 - 1e-4))) + b)))
    threshold = choose_threshold(y, oof).value
    if cache:
        model.save(cache.with_suffix(".npz"))
        cache.with_suffix(".json").write_text(json.dumps({"threshold": threshold}))
    return model, threshold


def packet(out: Path, cache: Path | None = None, held_out=HELD_OUT) -> None:
    corpus = ROOT / "corpus"
    pool = [s for s in dataset.corpus_sections(corpus) if s.split == "train"] + dataset.blind_sections(corpus, "blind-dev")
    held = [s for s in pool if s.writer in held_out]
    model, threshold = held_out_model(pool, cache, held_out)
    p, probs, deferred, model_p = judge(model, [s.text for s in held], threshold)
    nlp = nlp_mod.load()
    flagged = []
    for s, pi, pr, d, mp, doc in zip(held, p, probs, deferred, model_p, nlp_mod.parse(s.text for s in held)):
        if pi < threshold:
            continue
        sentences = nlp_mod.sentences(doc)
        why = explain(pr, float(pi), threshold, sentences, model.criterion_proba(sentences), d, float(mp))
        flagged.append((s, why))
    chosen = random.Random(2009).sample(flagged, min(SAMPLE, len(flagged)))
    lines = []
    for s, why in chosen:
        lines += [f"##### {s.id} | area: {s.area}", s.text, "", "Reasons:"]
        lines += [f"  {s.id} {i}: {r}" for i, r in enumerate(why.reasons, 1)]
        lines.append("")
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"{out}: {len(chosen)} flagged sections, {sum(len(w.reasons) for _, w in chosen)} reasons "
          f"(threshold {threshold:.3f}; {len(flagged)} of {len(held)} sections by {', '.join(held_out)} flagged)")


def true_by_grades(packet_text: str, rows: list[dict]) -> int:
    """How many of the answered reasons claim what the graders' scores say (the criterion scored below 2;
    a flag "although every criterion the rule needs is stated" on a section graded sufficient)."""
    from plancheck.rubric import label_from_scores

    corpus = ROOT / "corpus"
    graded = {s.id: s for s in dataset.corpus_sections(corpus)}
    graded.update({s.id: s for s in dataset.blind_sections(corpus, "blind-dev")})
    reasons = dict(re.findall(r"^  (\S+ \d+): (.*)$", packet_text, re.M))
    n = 0
    for r in rows:
        reason, section = reasons.get(f"{r['id']} {r['n']}"), graded.get(r["id"])
        if reason is None or section is None:
            continue
        if reason.startswith("flagged by the model"):
            n += label_from_scores(section.criteria) == "sufficient"
        else:
            n += section.criteria.get(reason.split(":", 1)[0], 2) < 2
    return n


def tally(answers: Path, held_out=HELD_OUT, packet_path: Path | None = None, model: str | None = None) -> None:
    pattern = re.compile(r"^\s*(?P<id>\S+)\s+(?P<n>\d+)\s*:\s*(?P<ok>yes|no)\b\s*(?:\|\s*(?P<note>.*))?$", re.I)
    rows = [m.groupdict() for line in answers.read_text(encoding="utf-8").splitlines() if (m := pattern.match(line))]
    held = sum(r["ok"].lower() == "yes" for r in rows)
    result = {"reasons_checked": len(rows), "supported": held, "share": round(held / max(len(rows), 1), 4),
              "sections": len({r["id"] for r in rows}), "held_out_writers": list(held_out),
              "model": model or "fitted without the held-out writers",
              "not_supported": [f"{r['id']} {r['n']}: {r['note'] or ''}".strip() for r in rows if r["ok"].lower() == "no"]}
    if packet_path is not None:
        result["true_by_grades"] = true_by_grades(packet_path.read_text(encoding="utf-8"), rows)
    earlier = []
    if RECORD.is_file():
        before = json.loads(RECORD.read_text(encoding="utf-8"))
        earlier = [{k: v for k, v in before.items() if k != "earlier"}] + before.get("earlier", [])
    result["earlier"] = earlier
    RECORD.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="verb", required=True)
    pk = sub.add_parser("packet")
    pk.add_argument("out", type=Path)
    pk.add_argument("--cache", type=Path, help="keep the held-out model here (NAME.npz, NAME.json) for reruns")
    pk.add_argument("--held-out", nargs="+", default=list(HELD_OUT), help="blind-dev writers the model is fitted without")
    tl = sub.add_parser("tally")
    tl.add_argument("answers", type=Path)
    tl.add_argument("--held-out", nargs="+", default=list(HELD_OUT), help="the writers the packet was made for")
    tl.add_argument("--packet", type=Path, help="the packet answered: also count the reasons the graders' scores bear out")
    tl.add_argument("--model", help="the model the packet was made with, when it was not fitted here (--cache)")
    args = parser.parse_args()
    if args.verb == "packet":
        packet(args.out, args.cache, tuple(args.held_out))
    else:
        tally(args.answers, tuple(args.held_out), args.packet, args.model)


if __name__ == "__main__":
    main()
