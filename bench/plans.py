"""The benchmark's inputs: generated plan PDFs, folders of them, and a snapshot of the code measured.

Plans are corpus sources (``corpus/sources/*.md``) concatenated under a new force name and rendered
by ``scripts/render_corpus.py`` (its layouts, running headers and footers, tables): long plans of
about 30 pages for throughput, short ones (one source, 2-6 pages) for the batch-size curve. They
are cached in bench/out/ and regenerated when ``GEN_VERSION`` changes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import multiprocessing as mp
import os
import random
import shutil
from pathlib import Path

from . import OUT, ROOT, SNAP
from .monitor import log

GEN_VERSION = 3          # bump to regenerate cached plans
TARGET_WORDS = 13_500    # sources are added until this many words: 28-34 A4 pages at ~510 words a page

_PREFIX = ["Ash", "Brack", "Cal", "Dun", "Elm", "Fen", "Gal", "Hol", "Ing", "Kel", "Lang", "Mar", "Nor", "Oak",
           "Pen", "Quen", "Ros", "Sel", "Thorn", "Ul", "Ver", "Wes", "Yar", "Brom", "Cotter", "Dray", "Ember"]
_SUFFIX = ["bury", "combe", "dale", "field", "ford", "ham", "holme", "leigh", "mere", "moor", "shire", "stow",
           "ton", "wick", "worth", "well"]


def force_names(n: int) -> list[str]:
    names = [p + s for s in _SUFFIX for p in _PREFIX]
    random.Random(2009).shuffle(names)
    return [names[i % len(names)] + ("" if i < len(names) else f" {i // len(names) + 1}") for i in range(n)]


def _renderer():
    spec = importlib.util.spec_from_file_location("bench_render_corpus", ROOT / "scripts" / "render_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _source_words(blocks) -> int:
    return sum(len(b.text.split()) if b.kind != "table" else sum(len(c.split()) for r in b.rows for c in r)
               for b in blocks)


def _render_plan(spec: tuple) -> dict:
    """Render one plan from several sources, renamed to one force (runs in a pool worker)."""
    from pypdf import PdfReader

    from plancheck.sources import Block, Source, parse_source

    plan_id, force, source_paths, out = spec
    blocks = []
    for p in source_paths:
        source = parse_source(p)
        old_force = source.meta.get("force", "")
        stem = source.id.rsplit("-", 1)[0].replace("-", " ").title()
        pairs = [(old_force, f"{force} Police"), (stem, force)] if old_force else [(stem, force)]

        def sub(text: str) -> str:
            for a, b in pairs:
                text = text.replace(a, b) if a else text
            return text

        blocks += [Block(b.kind, b.area, sub(b.text), b.level, [[sub(c) for c in r] for r in b.rows])
                   for b in source.blocks]
    meta = {"id": plan_id, "force": f"{force} Police",
            "title": f"{force} Police - Protective Services Improvement Plan 2009/10 to 2011/12",
            "author": "Head of Strategic Development", "date": "2009-01-15", "format": "pdf"}
    _renderer().render_pdf(Source(Path(f"{plan_id}.md"), meta, blocks), Path(out))
    return {"file": Path(out).name, "pages": len(PdfReader(out).pages), "source_words": _source_words(blocks),
            "bytes": Path(out).stat().st_size}


def _generate(specs: list[tuple], folder: Path, what: str) -> dict:
    manifest_path = folder / "manifest.json"
    manifest = {}
    if manifest_path.is_file():
        data = json.loads(manifest_path.read_text())
        manifest = data["files"] if data.get("version") == GEN_VERSION else {}
    todo = [s for s in specs if Path(s[3]).name not in manifest or not Path(s[3]).is_file()]
    if not todo:
        log(f"{len(specs)} {what} cached in {folder.relative_to(ROOT)}")
        return manifest
    log(f"generating {len(todo)} {what} ({len(specs) - len(todo)} cached) ...")
    with mp.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
        for i, info in enumerate(pool.imap_unordered(_render_plan, todo), start=1):
            manifest[info["file"]] = info
            if i % 20 == 0 or i == len(todo):
                log(f"  {i}/{len(todo)} {what} rendered")
                manifest_path.write_text(json.dumps({"version": GEN_VERSION, "files": manifest}, indent=1))
    return manifest


def long_plans(n: int) -> tuple[list[Path], list[dict]]:
    """``n`` plans of about 30 pages (several sources each); their paths and manifest entries."""
    from plancheck.sources import parse_source

    folder = OUT / "plans"
    folder.mkdir(parents=True, exist_ok=True)
    sources = sorted((ROOT / "corpus" / "sources").glob("*.md"))
    words = {p: _source_words(parse_source(p).blocks) for p in sources}
    specs = []
    for i, name in enumerate(force_names(n)):
        chosen, total = [], 0
        for p in random.Random(i).sample(sources, len(sources)):
            chosen.append(str(p))
            total += words[p]
            if total >= TARGET_WORDS:
                break
        specs.append((f"bench-plan-{i:04d}", name, chosen, str(folder / f"plan-{i:04d}.pdf")))
    manifest = _generate(specs, folder, "~30-page plans")
    paths = [Path(s[3]) for s in specs]
    return paths, [manifest[p.name] for p in paths]


def short_plans(count: int) -> list[Path]:
    """``count`` short plans (one corpus source each, 2-6 pages), for batches of many files."""
    folder = OUT / "small"
    folder.mkdir(parents=True, exist_ok=True)
    sources = sorted((ROOT / "corpus" / "sources").glob("*.md"))
    names = force_names(count + 500)[500:]
    specs = [(f"bench-small-{i:03d}", names[i], [str(sources[i % len(sources)])], str(folder / f"small-{i:03d}.pdf"))
             for i in range(count)]
    _generate(specs, folder, "short plans")
    return [Path(s[3]) for s in specs]


def link_set(name: str, files: list[Path], count: int) -> Path:
    """A folder of ``count`` distinct names hard-linked (or copied) from ``files`` in rotation."""
    folder = OUT / "sets" / name
    wanted = {f"{i:05d}-{files[i % len(files)].name}": files[i % len(files)] for i in range(count)}
    if folder.is_dir() and sorted(os.listdir(folder)) == sorted(wanted):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for target, src in wanted.items():
        try:
            os.link(src, folder / target)
        except OSError:
            shutil.copyfile(src, folder / target)
    return folder


# --- the code measured -------------------------------------------------------------------------

def _digest(base: Path) -> dict[str, str]:
    out = {}
    for part in ("plancheck", "models"):
        for f in sorted((base / part).rglob("*")):
            rel = f.relative_to(base)
            if f.is_file() and "__pycache__" not in rel.parts:
                out[str(rel)] = hashlib.sha256(f.read_bytes()).hexdigest()[:12]
    return out


def take_snapshot(models: Path) -> dict:
    """Copy plancheck/ and the model folder ``models`` to bench/out/snapshot (again if they changed meanwhile)."""
    import subprocess

    for _ in range(5):
        shutil.rmtree(SNAP, ignore_errors=True)
        SNAP.mkdir(parents=True)
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / "plancheck", SNAP / "plancheck", ignore=ignore)
        shutil.copytree(models, SNAP / "models", ignore=ignore)
        (SNAP / "examples").mkdir()
        shutil.copy2(ROOT / "examples" / "hollowfield-2009.pdf", SNAP / "examples")
        files = _digest(SNAP)
        source = {k: v for k, v in files.items() if k.startswith("plancheck/")}
        if source == {k: v for k, v in _digest(ROOT).items() if k.startswith("plancheck/")}:
            break
        log("  the repository changed while it was copied; copying again")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "plancheck"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    model = (SNAP / "models" / "CURRENT").read_text().strip() if (SNAP / "models" / "CURRENT").is_file() else "none"
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:12]
    log(f"snapshot of plancheck/ (commit {head}{', with uncommitted changes' if dirty else ''}) and {models} "
        f"(model {model}) in {SNAP.relative_to(ROOT)}")
    return {"taken": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "digest": digest, "model": model,
            "commit": head, "dirty": bool(dirty), "models_from": str(models)}
