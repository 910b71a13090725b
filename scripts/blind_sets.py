"""Build the blind sets from independent writers' plans and independent graders' scores.

Each writer's plans are one plain-text file (``corpus/blind/sources/<writer>.txt``)::

    === plan: P01 | force: Thornbury Vale Police | date: 2009-03-12
    --- area: roads_policing | style: terse_table | intended: sufficient | heading: 5. Roads
    text ...

Graders never see the writer's intention, style or the model: they get packets of
``id, area, heading, text`` and return one line per section::

    w1-P01-2: 2 2 2 1 2 0 1 2 | the reason in a few words

(the eight criteria in the rubric's order). The label always follows from the rubric's rule.

    python scripts/blind_sets.py packets SOURCES_DIR OUT_DIR      # grading packets, one per writer
    python scripts/blind_sets.py merge SOURCES_DIR GRADES_DIR     # -> corpus/blind/{dev,test}.jsonl
    python scripts/blind_sets.py kappa                            # agreement of the second grading
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plancheck.rubric import CRITERIA, label_from_scores  # noqa: E402

BLIND = ROOT / "corpus" / "blind"
# Writers whose sections are frozen as blind-test: never read to choose or tune anything.
TEST_WRITERS = ("w6", "w7")
_PLAN = re.compile(r"^=== plan:\s*(?P<plan>[^|]+)\|\s*force:\s*(?P<force>[^|]+?)\s*(?:\|\s*date:\s*(?P<date>.*))?$")
_SECTION = re.compile(r"^--- area:\s*(?P<area>\w+)\s*\|\s*style:\s*(?P<style>[\w-]+)\s*\|\s*intended:\s*"
                      r"(?P<intended>\w+)\s*\|\s*heading:\s*(?P<heading>.*)$")
_GRADE = re.compile(r"^\s*(?P<id>w\d+-P\d+-\d+)\s*:\s*(?P<scores>(?:[012]\s*){8})\s*(?:\|\s*(?P<note>.*))?$")


def parse_writer(path: Path) -> list[dict]:
    """Every passage of one writer's file, in order (``general`` passages included)."""
    writer = path.stem
    out: list[dict] = []
    plan: dict | None = None
    current: dict | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        m = _PLAN.match(raw.strip())
        if m:
            plan = {"plan": m["plan"].strip(), "force": m["force"].strip(), "date": (m["date"] or "").strip()}
            current = None
            continue
        m = _SECTION.match(raw.strip())
        if m:
            if plan is None:
                raise ValueError(f"{path}: a section before any plan line")
            n = sum(1 for s in out if s["plan"] == plan["plan"]) + 1
            heading = m["heading"].strip()
            current = {"id": f"{writer}-{plan['plan']}-{n}", "writer": writer, **plan, "area": m["area"],
                       "style": m["style"], "intended": m["intended"],
                       "heading": "" if heading.lower() in ("(none)", "none") else heading, "lines": []}
            out.append(current)
            continue
        if current is not None:
            current["lines"].append(raw.rstrip())
    for s in out:
        s["text"] = "\n".join(s.pop("lines")).strip()
    return out


def graded_sections(sections: list[dict]) -> list[dict]:
    return [s for s in sections if s["area"] != "general" and s["text"]]


def packets(sources: Path, out: Path, only: list[str] | None = None) -> None:
    """One grading packet per writer: id, area, heading and text only, in a shuffled order."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(sources.glob("w*.txt")):
        if only and path.stem not in only:
            continue
        items = graded_sections(parse_writer(path))
        random.Random(path.stem).shuffle(items)
        lines = []
        for s in items:
            lines += [f"##### {s['id']} | area: {s['area']} | heading: {s['heading'] or '(none)'}", s["text"], ""]
        (out / f"{path.stem}-packet.txt").write_text("\n".join(lines), encoding="utf-8")
        print(f"{path.stem}: {len(items)} sections")


def read_grades(path: Path) -> dict[str, dict]:
    grades = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _GRADE.match(line)
        if not m:
            raise ValueError(f"{path} line {n}: not 'id: s s s s s s s s | note': {line[:80]!r}")
        scores = dict(zip(CRITERIA, (int(c) for c in m["scores"].split())))
        grades[m["id"]] = {"criteria": scores, "note": (m["note"] or "").strip()}
    return grades


def _writer_order(path: Path) -> tuple[int, str]:
    digits = re.sub(r"\D", "", path.stem)
    return (int(digits) if digits else 0, path.stem)


def merge(sources: Path, grades_dir: Path) -> None:
    """Join sections and their primary grades into blind-dev and blind-test JSONL files.

    A writer with no score file in ``grades_dir``, or with no source in ``sources``, keeps the rows
    already merged for it (so that adding writers never changes the frozen blind-test); a writer with
    a source but neither grades nor merged rows is an error.
    """
    merged: dict[str, list[dict]] = {}
    for split in ("dev", "test"):
        path = BLIND / f"{split}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else ():
            row = json.loads(line)
            merged.setdefault(row["writer"], []).append(row)
    by_writer: dict[str, list[dict]] = {}
    paths = sorted(sources.glob("w*.txt"), key=_writer_order)
    # A writer merged before whose source is not in ``sources`` keeps its rows: a merge never drops one.
    for writer in set(merged) - {p.stem for p in paths}:
        print(f"{writer}: no source in {sources}; its {len(merged[writer])} merged sections are kept")
        by_writer[writer] = merged[writer]
    for path in paths:
        writer = path.stem
        grades = {}
        for g in sorted(grades_dir.glob(f"{writer}-grades*.txt")):
            grades.update(read_grades(g))
        if not grades:
            if writer not in merged:
                raise ValueError(f"{writer}: no grades in {grades_dir} and none merged before")
            by_writer[writer] = merged[writer]
            continue
        by_writer[writer] = []
        for s in graded_sections(parse_writer(path)):
            if s["id"] not in grades:
                raise ValueError(f"{s['id']}: no grade in {grades_dir}")
            g = grades[s["id"]]
            by_writer[writer].append({
                "id": s["id"], "writer": writer, "plan": s["plan"], "force": s["force"], "area": s["area"],
                "heading": s["heading"], "style": s["style"], "text": s["text"], "criteria": g["criteria"],
                "label": label_from_scores(g["criteria"]), "note": g["note"], "grader": f"{writer}-grader",
            })
    rows = {"dev": [], "test": []}
    for writer in sorted(by_writer, key=lambda w: _writer_order(Path(w))):
        rows["test" if writer in TEST_WRITERS else "dev"].extend(by_writer[writer])
    BLIND.mkdir(parents=True, exist_ok=True)
    second = grades_dir / "second-grades.txt"
    if second.is_file():
        lines = [{"id": k, "criteria": g["criteria"], "label": label_from_scores(g["criteria"]), "note": g["note"],
                  "grader": "second-grader"} for k, g in read_grades(second).items()]
        (BLIND / "second-grading.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines),
                                                    encoding="utf-8")
        print(f"corpus/blind/second-grading.jsonl: {len(lines)} sections")
    for split, items in rows.items():
        path = BLIND / f"{split}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
        insufficient = sum(r["label"] == "insufficient" for r in items)
        print(f"{path}: {len(items)} sections, {insufficient} insufficient")


def kappa(second: Path | None = None) -> dict:
    """Cohen's kappa per criterion (and of the label) between primary and second grading."""
    from sklearn.metrics import cohen_kappa_score

    second = second or BLIND / "second-grading.jsonl"
    primary = {}
    for split in ("dev", "test"):
        for line in (BLIND / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            primary[r["id"]] = r
    pairs = []
    for line in second.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        pairs.append((primary[r["id"]], r))
    out = {"sections": len(pairs)}
    for c in CRITERIA:
        a = [p["criteria"][c] for p, _ in pairs]
        b = [s["criteria"][c] for _, s in pairs]
        out[c] = {"kappa": round(float(cohen_kappa_score(a, b)), 3),
                  "agreement": round(sum(x == y for x, y in zip(a, b)) / len(a), 3)}
    a = [p["label"] for p, _ in pairs]
    b = [label_from_scores(s["criteria"]) for _, s in pairs]
    out["label"] = {"kappa": round(float(cohen_kappa_score(a, b)), 3),
                    "agreement": round(sum(x == y for x, y in zip(a, b)) / len(a), 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("packets")
    p.add_argument("sources", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--only", nargs="*", help="writers to make packets for (default: all)")
    m = sub.add_parser("merge")
    m.add_argument("sources", type=Path)
    m.add_argument("grades", type=Path)
    sub.add_parser("kappa")
    args = parser.parse_args()
    if args.verb == "packets":
        packets(args.sources, args.out, args.only)
    elif args.verb == "merge":
        merge(args.sources, args.grades)
    else:
        print(json.dumps(kappa(), indent=2))


if __name__ == "__main__":
    main()
