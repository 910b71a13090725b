"""Render plan sources (corpus/sources, scripts/example_sources) into the submissions plancheck reads.

Each source's front matter names its format: pdf (reportlab, with real layout: larger or bold
headings, running header and footer, page numbers, bullets, tables), docx (python-docx), txt or
md. Rendering is deterministic, so re-running it leaves committed documents unchanged.

    python scripts/render_corpus.py [--only ID ...]
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plancheck.sources import Source, parse_source  # noqa: E402


def _variant(source: Source) -> int:
    return int(hashlib.sha256(source.id.encode()).hexdigest(), 16) % 4


def render_pdf(source: Source, out: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import (ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table,
                                    TableStyle)
    from reportlab.pdfgen import canvas as rl_canvas

    v = _variant(source)
    serif = v in (1, 3)
    body_font = "Times-Roman" if serif else "Helvetica"
    bold_font = "Times-Bold" if serif else "Helvetica-Bold"
    # Variant 2 marks headings by weight only, at body size: detection must use boldness.
    sizes = {1: 11, 2: 11, 3: 11} if v == 2 else {1: 17, 2: 14, 3: 12}
    base = ParagraphStyle("body", fontName=body_font, fontSize=10.5, leading=14, spaceAfter=6)
    cell = ParagraphStyle("cell", parent=base, fontSize=9, leading=11, spaceAfter=0)
    head_cell = ParagraphStyle("hcell", parent=cell, fontName=bold_font)
    heading = {lvl: ParagraphStyle(f"h{lvl}", parent=base, fontName=bold_font, fontSize=s, leading=s + 4,
                                   spaceBefore=10, spaceAfter=6) for lvl, s in sizes.items()}
    title_style = ParagraphStyle("title", parent=base, fontName=bold_font, fontSize=20, leading=26, spaceAfter=14)
    force = source.meta.get("force", "")
    marking = ["RESTRICTED", "NOT PROTECTIVELY MARKED", "RESTRICTED - POLICY", "PROTECT"][v]

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved = []

        def showPage(self):
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self.setFont(body_font, 8)
                self.drawCentredString(A4[0] / 2, A4[1] - 1.2 * cm, marking)
                self.drawString(2 * cm, 1.2 * cm, f"{force} - {source.meta.get('title', '')}"[:90])
                self.drawRightString(A4[0] - 2 * cm, 1.2 * cm, f"Page {self._pageNumber} of {total}")
                super().showPage()
            super().save()

    story = [Paragraph(escape(source.meta.get("title", "")), title_style),
             Paragraph(escape(f"{force}  |  {source.meta.get('author', '')}  |  {source.meta.get('date', '')}"), base),
             Spacer(1, 8)]
    pending: list = []

    def flush_list():
        if pending:
            kind = pending[0][0]
            items = [ListItem(Paragraph(escape(t), base)) for _, t in pending]
            story.append(ListFlowable(items, bulletType="bullet" if kind == "bullet" else "1",
                                      start="\u2022" if kind == "bullet" else "1", leftIndent=14))
            pending.clear()

    for b in source.blocks:
        if b.kind in ("bullet", "number"):
            if pending and pending[0][0] != b.kind:
                flush_list()
            pending.append((b.kind, b.text))
            continue
        flush_list()
        if b.kind == "heading":
            story.append(Paragraph(escape(b.text), heading[b.level]))
        elif b.kind == "para":
            story.append(Paragraph(escape(b.text), base))
        elif b.kind == "table":
            width = max(len(r) for r in b.rows)
            rows = [[Paragraph(escape(c), head_cell if i == 0 else cell) for c in r + [""] * (width - len(r))]
                    for i, r in enumerate(b.rows)]
            col = (A4[0] - 4 * cm) / width
            table = Table(rows, colWidths=[col] * width, repeatRows=1)
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde4ee")),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.extend([table, Spacer(1, 8)])
    flush_list()
    doc = SimpleDocTemplate(str(out), pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm,
                            bottomMargin=2 * cm, title=source.meta.get("title", ""),
                            author=source.meta.get("author", ""), invariant=1)
    doc.build(story, canvasmaker=NumberedCanvas)


def render_docx(source: Source, out: Path) -> None:
    import docx
    from docx.shared import Pt

    v = _variant(source)
    document = docx.Document()
    props = document.core_properties
    props.title = source.meta.get("title", "")
    props.author = source.meta.get("author", "")
    # python-docx stamps the current time; fix it so rendering is reproducible.
    import datetime as dt
    stamp = dt.datetime(2009, 1, 1)
    props.created = props.modified = stamp
    props.last_modified_by = props.author
    document.sections[0].header.paragraphs[0].text = "RESTRICTED"
    document.add_heading(source.meta.get("title", ""), level=0)
    for b in source.blocks:
        if b.kind == "heading":
            if v == 3:  # some authors bold a normal paragraph instead of using heading styles
                run = document.add_paragraph().add_run(b.text)
                run.bold = True
                run.font.size = Pt(13)
            else:
                document.add_heading(b.text, level=b.level)
        elif b.kind == "para":
            document.add_paragraph(b.text)
        elif b.kind == "bullet":
            document.add_paragraph(b.text, style="List Bullet")
        elif b.kind == "number":
            document.add_paragraph(b.text, style="List Number")
        elif b.kind == "table":
            width = max(len(r) for r in b.rows)
            table = document.add_table(rows=len(b.rows), cols=width)
            table.style = "Table Grid"
            for i, row in enumerate(b.rows):
                for j, value in enumerate(row):
                    table.cell(i, j).text = value
    document.save(str(out))
    _normalise_zip(out)


def _normalise_zip(path: Path) -> None:
    """Rewrite a ZIP with fixed timestamps so identical content gives identical bytes."""
    import zipfile

    with zipfile.ZipFile(path) as zin:
        items = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=(2009, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data)


def render_text(source: Source, out: Path, markdown: bool) -> None:
    v = _variant(source)
    lines = [("# " if markdown else "") + source.meta.get("title", ""), ""]
    if not markdown:
        lines += [f"{source.meta.get('force', '')} - {source.meta.get('author', '')} - {source.meta.get('date', '')}", ""]
    previous = None
    for b in source.blocks:
        if b.kind == "heading":
            text = b.text
            if markdown:
                text = "#" * (b.level + 1) + " " + text
            elif v in (0, 2) and not text[:1].isdigit():
                text = text.upper()
            lines += ["", text, ""]
        elif b.kind == "para":
            lines += [b.text, ""]
        elif b.kind in ("bullet", "number"):
            marker = "-" if b.kind == "bullet" else f"{b.level}."
            if not markdown and b.kind == "bullet" and v == 1:
                marker = "*"
            lines.append(f"{marker} {b.text}")
        elif b.kind == "table":
            if previous in ("bullet", "number"):
                lines.append("")
            for i, row in enumerate(b.rows):
                lines.append("| " + " | ".join(row) + " |")
                if markdown and i == 0:
                    lines.append("|" + "---|" * len(row))
            lines.append("")
        if b.kind in ("bullet", "number") and previous not in ("bullet", "number"):
            pass
        previous = b.kind
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    out.write_text(text.strip() + "\n", encoding="utf-8")


def render(source: Source, out_dir: Path) -> Path:
    fmt = source.meta.get("format", "pdf")
    out = out_dir / f"{source.id}.{fmt}"
    if fmt == "pdf":
        render_pdf(source, out)
    elif fmt == "docx":
        render_docx(source, out)
    elif fmt in ("txt", "md"):
        render_text(source, out, markdown=fmt == "md")
    else:
        raise SystemExit(f"{source.path}: unknown format {fmt!r}")
    return out


def render_scanned_example(out: Path) -> None:
    """An image-only submission (a scan with no text layer): the demo's unreadable file."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas as rl_canvas

    c = rl_canvas.Canvas(str(out), pagesize=A4, invariant=1)
    for page in range(2):
        c.setFillGray(0.92)
        c.rect(40, 40, A4[0] - 80, A4[1] - 80, fill=1, stroke=0)
        c.setFillGray(0.35)
        for i in range(38):  # grey bars where a scanner captured lines of type as pixels
            c.rect(70, A4[1] - 110 - i * 18, (A4[0] - 140) * (0.55 + 0.45 * ((i * 7 + page) % 5) / 4), 7, fill=1, stroke=0)
        c.showPage()
    c.save()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="ids to render (default: all)")
    args = parser.parse_args(argv)
    jobs = [(ROOT / "corpus" / "sources", ROOT / "corpus" / "documents"),
            (ROOT / "scripts" / "example_sources", ROOT / "examples")]
    for src_dir, out_dir in jobs:
        out_dir.mkdir(parents=True, exist_ok=True)
        for path in sorted(src_dir.glob("*.md")):
            source = parse_source(path)
            if args.only and source.id not in args.only:
                continue
            out = render(source, out_dir)
            print(f"{path.relative_to(ROOT)} -> {out.relative_to(ROOT)}")
    if not args.only:
        scan = ROOT / "examples" / "oakenvale-scan-2009.pdf"
        render_scanned_example(scan)
        print(f"(image-only scan) -> {scan.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
