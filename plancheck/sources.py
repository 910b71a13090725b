"""Parse the editable source of a corpus or example plan (Markdown with area markers).

A source is front matter, then Markdown-like blocks; ``<!-- area: KEY -->`` comments mark the
true area of the text that follows. The renderer turns sources into PDF, Word, text and Markdown
submissions; segmentation is measured against the markers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_MARKER = re.compile(r"^<!--\s*area:\s*([a-z_]+)\s*-->\s*$")
_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_BULLET = re.compile(r"^[-*]\s+(.*)$")
_NUMBER = re.compile(r"^(\d{1,2})[.)]\s+(.*)$")


@dataclass
class Block:
    kind: str  # heading | para | bullet | number | table
    area: str
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Source:
    path: Path
    meta: dict[str, str]
    blocks: list[Block]

    @property
    def id(self) -> str:
        return self.meta.get("id", self.path.stem)

    def area_text(self) -> dict[str, str]:
        """The true text of each area (headings excluded), for measuring segmentation."""
        out: dict[str, list[str]] = {}
        for b in self.blocks:
            if b.kind == "heading":
                continue
            text = b.text if b.kind != "table" else "\n".join(" ".join(r) for r in b.rows)
            out.setdefault(b.area, []).append(text)
        return {k: "\n".join(v) for k, v in out.items()}


def parse_source(path: str | Path) -> Source:
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    body = raw
    if raw.startswith("---"):
        _, front, body = raw.split("---", 2)
        for line in front.strip().splitlines():
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
    blocks: list[Block] = []
    area = "general"
    para: list[str] = []
    table: list[list[str]] = []

    def flush():
        nonlocal para, table
        if para:
            blocks.append(Block("para", area, " ".join(para)))
            para = []
        if table:
            rows = [r for r in table if not all(re.fullmatch(r":?-{2,}:?", c.strip() or "--") for c in r)]
            blocks.append(Block("table", area, rows=rows))
            table = []

    for line in body.splitlines():
        stripped = line.strip()
        m = _MARKER.match(stripped)
        if m:
            flush()
            area = m.group(1)
            continue
        if not stripped:
            flush()
            continue
        if stripped.startswith("|"):
            if para:
                flush()
            table.append([c.strip() for c in stripped.strip("|").split("|")])
            continue
        if table:
            flush()
        if (m := _HEADING.match(stripped)):
            flush()
            blocks.append(Block("heading", area, m.group(2).strip(), level=len(m.group(1))))
        elif (m := _BULLET.match(stripped)):
            flush()
            blocks.append(Block("bullet", area, m.group(1)))
        elif (m := _NUMBER.match(stripped)):
            flush()
            blocks.append(Block("number", area, m.group(2), level=int(m.group(1))))
        else:
            para.append(stripped)
    flush()
    return Source(path, meta, blocks)
