"""Render the blind-dev writers' plans into submissions, for measuring segmentation on other writers.

Each plan of a blind-dev writer (``corpus/blind/sources/<writer>.txt``) becomes a source with true
area markers (``corpus/blind/plans/sources/<writer>-<plan>.md``), rendered by the corpus renderer
into PDF, Word, text or Markdown (``corpus/blind/plans/documents/``), in rotation. The writers'
own headings are kept, including sub-topic, abbreviated and question headings, and plans written
without headings stay without them. Blind-test writers' plans are never rendered here.

    python scripts/blind_plans.py                 # every blind-dev writer
    python scripts/blind_plans.py w10 w11 w12     # only these writers' plans (the rotation is the same)
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from blind_sets import TEST_WRITERS, _writer_order, parse_writer  # noqa: E402
from render_corpus import render  # noqa: E402

from plancheck.sources import parse_source  # noqa: E402

PLANS = ROOT / "corpus" / "blind" / "plans"
FORMATS = ("pdf", "docx", "txt", "pdf", "md")


def _body(text: str) -> str:
    """The writer's text as source blocks: table rows get the pipes a source table needs."""
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if " | " in stripped and not stripped.startswith("|"):
            out.append(f"| {stripped} |")
        else:
            out.append(line)
    return "\n".join(out)


def source_text(plan: list[dict], fmt: str) -> str:
    first = plan[0]
    lines = ["---", f"id: {first['writer']}-{first['plan'].lower()}", f"force: {first['force']}",
             f"title: Protective Services Improvement Plan", "author: Protective Services Lead",
             f"date: {first['date'] or '2009-01-01'}", f"format: {fmt}", "---"]
    for passage in plan:
        lines.append(f"<!-- area: {passage['area']} -->")
        if passage["heading"]:
            lines += [f"## {passage['heading']}", ""]
        lines += [_body(passage["text"]), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(only: list[str]) -> int:
    (PLANS / "sources").mkdir(parents=True, exist_ok=True)
    (PLANS / "documents").mkdir(parents=True, exist_ok=True)
    n = 0
    for path in sorted((ROOT / "corpus" / "blind" / "sources").glob("w*.txt"), key=_writer_order):
        if path.stem in TEST_WRITERS:
            continue
        passages = parse_writer(path)
        plans: dict[str, list[dict]] = {}
        for p in passages:
            plans.setdefault(p["plan"], []).append(p)
        for plan_id, plan in sorted(plans.items()):
            fmt = FORMATS[n % len(FORMATS)]
            n += 1
            if only and path.stem not in only:
                continue
            src = PLANS / "sources" / f"{path.stem}-{plan_id.lower()}.md"
            src.write_text(source_text(plan, fmt), encoding="utf-8")
            out = render(parse_source(src), PLANS / "documents")
            print(f"{src.relative_to(ROOT)} -> {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
