"""Train the area classifier (plancheck/data/areas.npz) from area-marked text.

Samples are the passages of the corpus sources (``<!-- area: KEY -->`` markers) and of the
blind-dev writers' plans, each whole and paragraph by paragraph (segmentation asks both kinds of
question), with headings as samples of their own. Blind-test writers are never read.

    python scripts/train_areas.py                 # the shipped model
    python scripts/train_areas.py --corpus-only --out /tmp/areas.npz
        # trained without the blind-dev writers: for measuring segmentation on their plans honestly
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from blind_sets import TEST_WRITERS, parse_writer  # noqa: E402

from plancheck.area_model import BUNDLED, fit  # noqa: E402
from plancheck.sources import parse_source  # noqa: E402


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if len(p.split()) >= 6]


def samples(corpus_only: bool) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    areas: list[str] = []

    def add(text: str, area: str) -> None:
        if text.strip():
            texts.append(text)
            areas.append(area)

    for path in sorted((ROOT / "corpus" / "sources").glob("*.md")):
        source = parse_source(path)
        for area, text in source.area_text().items():
            add(text, area)
            for p in _paragraphs(text):
                add(p, area)
        for block in source.blocks:
            if block.kind == "heading":
                add(block.text, block.area)
    if not corpus_only:
        for path in sorted((ROOT / "corpus" / "blind" / "sources").glob("w*.txt")):
            if path.stem in TEST_WRITERS:
                continue
            for passage in parse_writer(path):
                add(passage["text"], passage["area"])
                for p in _paragraphs(passage["text"]):
                    add(p, passage["area"])
                if passage["heading"]:
                    add(passage["heading"], passage["area"])
    return texts, areas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus-only", action="store_true")
    parser.add_argument("--out", type=Path, default=BUNDLED)
    args = parser.parse_args()
    texts, areas = samples(args.corpus_only)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fit(texts, areas).save(args.out)
    print(f"{args.out}: {len(texts)} samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
