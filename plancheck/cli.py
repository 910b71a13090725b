"""The plancheck command line: one verb per job, each a thin layer over library functions.

Data goes to stdout (or --output), messages and progress to stderr. Exit codes: 0 success,
1 error (any file failed, or the job failed), 2 usage error (including a bad setting),
130 interrupted (Ctrl-C), 141 the reader of the output closed the pipe (``| head``), as a shell
reports a command ended by SIGPIPE.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from .config import Config, load_config
from .errors import ConfigError, NotAFileError, PlancheckError, UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="First-pass review of protective-services improvement plans.")

EXIT_INTERRUPTED = 130
EXIT_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader went away

FormatOpt = typer.Option(None, "--format", "-f", metavar="FORMAT",
                         help="table | csv | jsonl | json (default: from the --output file's extension, else table)")
ConfigOpt = typer.Option(None, "--config", metavar="FILE",
                         help="TOML settings file (default: ./plancheck.toml when present)")
ModelOpt = typer.Option(None, "--model", "-m", metavar="NAME",
                        help="model name (see `plancheck models`) or path of its .card.json")


class _Interrupted(Exception):
    """Ctrl-C in a verb that says what it had done; ``main`` prints the message and exits 130.

    (Typer turns a bare KeyboardInterrupt into a silent exit 130 before ``main`` sees it.)
    """


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"plancheck {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print plancheck's version and exit")) -> None:
    """First-pass review of protective-services improvement plans."""


def _command() -> str:
    """How to run plancheck from here: ``plancheck`` when it is on PATH, else the path of its script."""
    import shutil

    script = Path(sys.executable).parent / "plancheck"
    found = shutil.which("plancheck")
    if found and script.exists() and Path(found).resolve() == script.resolve():
        return "plancheck"
    if script.exists():
        relative = os.path.relpath(script)
        return relative if not relative.startswith("..") else str(script)
    return f"{sys.executable} -m plancheck"


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _config(config: Optional[Path], **overrides) -> Config:
    return load_config(config, **overrides)


def _corpus(corpus: Optional[Path]) -> Path:
    from .config import default_corpus

    return corpus or default_corpus()


class _Progress:
    """Progress on stderr: rich's bar in a terminal, a line every 10% otherwise (for logs).

    Use it as a context manager around the loop, so the bar is closed however the loop ends.
    ``terminal=False`` gives the lines even on a terminal: when the records themselves go to the
    same terminal, a redrawn bar would be torn by them.
    """

    def __init__(self, total: int, enabled: bool, terminal: bool | None = None, console=None):
        self.total, self.done, self.enabled = total, 0, enabled and total > 1
        self.started = time.monotonic()
        self.last = -1
        self.bar = None
        if self.enabled and (sys.stderr.isatty() if terminal is None else terminal):
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.bar = Progress(TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("left"), TimeRemainingColumn(), TextColumn("{task.description}"),
                                console=console or Console(stderr=True), redirect_stdout=False, redirect_stderr=False)
            self.task = self.bar.add_task("", total=total)

    def __enter__(self) -> "_Progress":
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def step(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        pct = int(100 * self.done / self.total)
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=Path(label).name[:40])
        elif pct // 10 != self.last // 10 or self.done == self.total:
            self.last = pct
            sys.stderr.write(f"progress: {self.done}/{self.total} files ({pct}%, {time.monotonic() - self.started:.0f} s)\n")
            sys.stderr.flush()


BackendOpt = typer.Option("local", "--backend", help="local | dask (plancheck[dask]; --jobs local Dask workers "
                                                     "unless --scheduler is given)")
SchedulerOpt = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://HOST:8786 (with --backend dask)")


def _check_backend(backend: str, scheduler: Optional[str]) -> None:
    from .config import BACKENDS

    if backend not in BACKENDS:
        raise typer.BadParameter(f"expected one of {', '.join(BACKENDS)}", param_hint="--backend")
    if scheduler and backend != "dask":
        raise typer.BadParameter("--scheduler needs --backend dask", param_hint="--scheduler")


def _score_stream(paths: list[str], config: Config, model: Optional[str]):
    """Yield records for ``paths`` (score.score_paths: isolated workers sharing one loaded model)."""
    from .score import score_paths

    return score_paths(paths, config, model)


@app.command()
def score(paths: List[str] = typer.Argument(..., metavar="PATH",
                                           help="files, folders (searched recursively) or glob patterns"),
          fmt: Optional[str] = FormatOpt,
          output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FILE",
                                                help="write records here instead of stdout"),
          jobs: int = typer.Option(1, "--jobs", "-j", min=1, metavar="N", help="worker processes"),
          resume: bool = typer.Option(False, "--resume", help="skip files already in --output (JSON Lines or CSV)"),
          timeout: Optional[float] = typer.Option(None, "--timeout", metavar="SECONDS",
                                                  help="seconds allowed per file (default 60)"),
          model: Optional[str] = ModelOpt, config: Optional[Path] = ConfigOpt,
          quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
          backend: str = BackendOpt, scheduler: Optional[str] = SchedulerOpt,
          shared: bool = typer.Option(False, "--shared", help="also find text shared between plans of different "
                                                              "forces in the batch: each section gets shared_with, "
                                                              "and one that is mostly shared needs review (records "
                                                              "are written when the batch ends)")) -> None:
    """Score plans: one record per document, streamed as files finish.

    Example: plancheck score inbox/ --format jsonl --output scores.jsonl --jobs 2
    Example: plancheck score archive/ -f jsonl -o scores.jsonl --backend dask --scheduler tcp://HOST:8786
    Example: plancheck score inbox/ --shared -f jsonl -o scores.jsonl
    """
    from .output import RESUMABLE, RecordWriter, choose_format, read_done
    from .runner import collect_paths
    from .score import file_sha256

    fmt = choose_format(fmt, output)
    if resume and (output is None or fmt not in RESUMABLE):
        raise typer.BadParameter("--resume needs --output and --format jsonl or csv", param_hint="--resume")
    _check_backend(backend, scheduler)
    if shared and resume:
        raise typer.BadParameter("a batch is compared for shared text as a whole: run it again without --resume",
                                 param_hint="--shared")
    cfg = _config(config, jobs=jobs, timeout=timeout)
    inputs, problems = list(paths), []
    paths = collect_paths(inputs, problems)
    for problem in problems:
        _err(problem)
    if output is not None:  # never read our own output as a submission
        target = os.path.realpath(output)
        paths = [p for p in paths if os.path.realpath(p) != target]
    if not paths:
        _err("nothing to score: give plans, folders of plans or patterns such as 'inbox/*.pdf'")
        raise typer.Exit(1)
    done: set = set()
    if resume and output is not None and output.exists():
        done = read_done(output, fmt)
        before = len(paths)
        paths = [p for p in paths if (p, file_sha256(p, cfg.max_file_bytes) or "") not in done]
        _err(f"resuming: {before - len(paths)} of {before} file(s) already recorded in {output}")
    appending = resume and output is not None and output.exists() and output.stat().st_size > 0
    out = open(output, "a" if resume else "w", encoding="utf-8", newline="") if output else sys.stdout
    writer = RecordWriter(out, fmt, header=not appending)
    progress = _Progress(len(paths), not quiet, terminal=sys.stderr.isatty() and not (output is None and sys.stdout.isatty()))
    failed: list[dict] = []
    held: list = []  # with --shared: the batch's records, written once it is compared
    try:
        if backend == "dask":
            from .backends import dask_records
            stream = dask_records(paths, cfg, model, scheduler)
        else:
            stream = _score_stream(paths, cfg, model)
        with progress:
            for record in stream:
                if shared:
                    held.append(record)
                else:
                    writer.write(record)
                if not record.ok:
                    failed.append(record)
                progress.step(record.path)
        if shared:
            from . import overlap

            try:
                held = overlap.mark_shared(held)
            except Exception as exc:  # a fault in the comparison must not cost the batch its records
                _err(f"warning: text shared between plans could not be compared ({type(exc).__name__}: {exc}); "
                     f"the records are written without shared_with")
            for record in held:
                writer.write(record)
        writer.close()
    except KeyboardInterrupt:
        for record in held if shared else ():  # not compared for shared text, but not lost either
            writer.write(record)
        writer.close()  # JSON: the records collected so far, as a complete array
        again = ["--jobs", str(jobs)] if jobs != 1 else []
        again += ["--timeout", f"{timeout:g}"] if timeout else []
        again += ["--model", model] if model else []
        again += ["--config", str(config)] if config else []
        again += ["--backend", backend] if backend != "local" else []
        again += ["--scheduler", scheduler] if scheduler else []
        raise _Interrupted(_score_interrupted(writer.written, len(paths), fmt, output, inputs, again)) from None
    finally:
        if output:
            out.close()
    if failed:
        _err(_failures(failed, len(paths), listed=output is not None or fmt != "table"))
        raise typer.Exit(1)


def _score_interrupted(written: int, total: int, fmt: str, output: Optional[Path], inputs: list[str],
                       options: list[str]) -> str:
    """What an interrupted ``score`` wrote, and how to go on from there."""
    from .output import RESUMABLE

    left = f"{total - written} file(s) not scored"
    if output is None:
        return (f"interrupted: {written} of {total} record(s) were written to stdout; {left}. To be able to resume "
                f"a long batch, write it to a file: --output scores.jsonl, then add --resume")
    if fmt in RESUMABLE:
        command = shlex.join([_command(), "score", *inputs, "--format", fmt, "--output", str(output), *options,
                              "--resume"])
        return (f"interrupted: {written} of {total} record(s) written to {output}; {left}. "
                f"Resume with:\n  {command}")
    return (f"interrupted: {written} of {total} record(s) written to {output}; {left}. {fmt} output cannot be "
            f"resumed: run again, or use --format jsonl (or csv) and --resume")


def _failures(failed: list, total: int, listed: bool, most: int = 5) -> str:
    """The closing message of a batch in which some files failed, naming the first few."""
    lines = [f"{len(failed)} of {total} file(s) could not be scored (see their error records)"]
    if listed:
        lines += [f"  {r.error_code}: {r.error_message}" for r in failed[:most]]
        if len(failed) > most:
            lines.append(f"  ... and {len(failed) - most} more")
    return "\n".join(lines)


@app.command()
def segment(file: Path = typer.Argument(..., help="a plan: PDF, .docx, .rtf, .txt or .md"),
            fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
            config: Optional[Path] = ConfigOpt) -> None:
    """Show what plancheck reads in a plan: its areas, headings, pages and missing areas.

    Example: plancheck segment examples/hollowfield-2009.pdf --format json
    """
    from .ingest import read_document
    from .segment import segment as run_segment

    if fmt not in ("table", "json"):
        raise typer.BadParameter("expected table or json", param_hint="--format")
    cfg = _config(config)
    seg = run_segment(read_document(file, cfg), cfg.required_areas)
    if fmt == "json":
        typer.echo(json.dumps({"path": seg.path, "sections": [{"area": s.area, "heading": s.heading, "headings": list(s.headings),
                                                                "pages": list(s.pages), "text": s.text} for s in seg.sections],
                               "missing_areas": list(seg.missing_areas)}, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{seg.path}")
    for s in seg.sections:
        typer.echo(f"  {s.area:<24} {s.page_range:<10} {len(s.text.split()):>5} words  {s.heading[:70]}")
    typer.echo(f"  missing areas: {', '.join(seg.missing_areas) or 'none'}")


@app.command("score-sections")
def score_sections_cmd(file: Path = typer.Argument(..., help="JSON Lines of {id, text, area?}; '-' for stdin"),
                       output: Optional[Path] = typer.Option(None, "--output", "-o"),
                       model: Optional[str] = ModelOpt, config: Optional[Path] = ConfigOpt) -> None:
    """Score sections exported from other systems: {id, text, area?} lines in, judgements out.

    Example: plancheck score-sections sections.jsonl --output judged.jsonl
    """
    from .score import Scorer, score_sections

    cfg = _config(config)
    items = _read_sections(file)  # every line is checked before the model is loaded or a line written
    scorer = Scorer.load(model, cfg)
    out = open(output, "w", encoding="utf-8") if output else sys.stdout
    try:
        for record in score_sections(scorer, items):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if output:
            out.close()


def _read_sections(file: Path) -> list[dict]:
    """The ``{id, text, area?}`` objects of a JSON Lines file ('-': stdin); errors name the line."""
    from .areas import ALL_KEYS
    from .dataset import json_lines

    items = []
    source = sys.stdin.buffer if str(file) == "-" else open(file, "rb")
    try:
        for where, item in json_lines(source, str(file), PlancheckError):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise PlancheckError(f"{where}: expected an object with 'id' and 'text'")
            area = item.get("area")
            if area not in (None, "") and area not in ALL_KEYS:
                raise PlancheckError(f"{where}: unknown area {area!r}; expected one of {list(ALL_KEYS)}, "
                                     f"or no area to have it found from the text")
            items.append(item)
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    return items


@app.command()
def report(file: Path = typer.Argument(..., help="a plan to report on"),
           output: Path = typer.Option(..., "--output", "-o", help="the HTML file to write"),
           model: Optional[str] = ModelOpt, config: Optional[Path] = ConfigOpt) -> None:
    """Write a self-contained HTML report of one plan for a reviewer.

    Example: plancheck report examples/larkmere-2009.docx -o larkmere.html
    """
    from .card import atomic_write
    from .report import render_html

    if not os.path.lexists(file):
        raise NotAFileError(f"{file}: no such file; no report written")
    if file.is_dir():
        raise NotAFileError(f"{file}: is a folder; give one plan (no report written)")
    cfg = _config(config)
    record = next(_score_stream([str(file)], cfg, model))
    atomic_write(output, render_html(record).encode("utf-8"))
    if not record.ok:
        _err(f"{file}: {record.error_code}: {record.error_message} (report written)")
        raise typer.Exit(1)
    _err(f"{output}: {record.verdict}")


@app.command()
def triage(inbox: Path = typer.Argument(..., help="folder where submissions arrive"),
           out: Path = typer.Option(..., "--out", help="folder for needs-review/, passed/, unreadable/ and the log"),
           watch: bool = typer.Option(False, "--watch", help="keep polling until interrupted (Ctrl-C)"),
           interval: float = typer.Option(2.0, "--interval", help="seconds between polls"),
           jobs: int = typer.Option(1, "--jobs", "-j", min=1), timeout: Optional[float] = typer.Option(None, "--timeout"),
           model: Optional[str] = ModelOpt, config: Optional[Path] = ConfigOpt,
           backend: str = BackendOpt, scheduler: Optional[str] = SchedulerOpt) -> None:
    """Score every new file in INBOX and move it to needs-review/, passed/ or unreadable/.

    Example: plancheck triage inbox/ --out triaged/ --watch
    Example: plancheck triage inbox/ --out triaged/ --watch --backend dask --scheduler tcp://HOST:8786
    """
    from .triage import Triage

    _check_backend(backend, scheduler)
    cfg = _config(config, jobs=jobs, timeout=timeout)
    with Triage(inbox, out, cfg, model, backend, scheduler) as t:
        _run_triage(t, watch, interval)


def _run_triage(t, watch: bool, interval: float) -> None:
    import signal

    from .triage import describe

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C, and a service manager's SIGTERM, stop the watch cleanly between files.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        if watch:
            _err(f"watching {t.inbox} every {interval:g} s; Ctrl-C to stop")
            t.watch(interval, on_result=lambda e: _err(describe(e)))
        else:
            for e in t.run_until_settled(interval):
                _err(describe(e))
    except KeyboardInterrupt:
        _err("stopped")


@app.command()
def grade(document: Path = typer.Argument(..., help="the submission that was graded"),
          grades: Path = typer.Option(..., "--grades", help="CSV of grades (area + eight criteria + label) or the "
                                                             "submission's JSON record edited by the reviewer"),
          grader: str = typer.Option(..., "--grader", help="who graded it"),
          force_name: Optional[str] = typer.Option(None, "--force-name", help="the force (default: from the grades)"),
          split: str = typer.Option("train", "--split", help="train | test: where a new force goes"),
          corpus: Path = typer.Option(None, "--corpus", help="corpus folder (default: $PLANCHECK_CORPUS or the project's corpus/)"),
          replace: bool = typer.Option(False, "--replace", help="correct grades already in the corpus; the ones "
                                                                "replaced are kept in labels-history.csv"),
          config: Optional[Path] = ConfigOpt) -> None:
    """Record a reviewer's grades of a submission into the corpus (validated like the corpus).

    From an edited JSON record, only the areas whose criteria the reviewer changed, or marked
    "confirmed": true, are grades; the command shows each change.

    Example: plancheck grade inbox/newshire.pdf --grades newshire-grades.csv --grader "J Smith"
    """
    from .grading import grade_submission

    corpus = _corpus(corpus)
    result = grade_submission(document, grades, grader, corpus, force=force_name, split=split,
                              config=_config(config), replace=replace)
    _err(f"{document.name}, graded by {grader}:")
    for line in result.changes:
        _err(f"  {line}")
    for line in result.skipped:
        _err(f"  not graded: {line}")
    kept = (f"; {len(result.replaced)} earlier grade(s) replaced and kept in {corpus / 'labels-history.csv'}"
            if result.replaced else "")
    _err(f"added {len(result.added)} grade(s) for {document.name} to {corpus / 'labels.csv'}{kept}; "
         f"retrain with `plancheck train`")


@app.command()
def train(corpus: Optional[Path] = typer.Option(None, "--corpus", help="corpus folder (default: $PLANCHECK_CORPUS "
                                                                      "or the project's corpus/)"),
          models: Optional[Path] = typer.Option(None, "--models", help="model folder (default: the bundled models/)"),
          force: bool = typer.Option(False, "--force", help="make the new model current even if it is worse"),
          config: Optional[Path] = ConfigOpt) -> None:
    """Train (validated leave-one-writer-out), evaluate on the held-out sets, promote if no worse.

    Example: plancheck train   (same as: python train.py)
    """
    from .train import train_model

    cfg = _config(config)
    started = time.monotonic()
    folder = Path(models or cfg.models)
    before = {p.name for p in folder.glob("*.card.json")}
    try:
        result = train_model(_corpus(corpus), folder, cfg, force=force,
                             progress=lambda m: _err(f"[{time.monotonic() - started:4.0f} s] {m}"))
    except KeyboardInterrupt:
        raise _Interrupted(_train_interrupted(folder, before)) from None
    card = result.card
    rows = [("out of writer", card.metrics.get("out_of_writer")), ("test", card.metrics.get("test")),
            ("blind-test", card.metrics.get("blind_test"))]
    for name, r in rows:
        if r:
            lab = r["label"]
            _err(f"{name:>13}: precision {lab['precision']:.3f}  recall {lab['recall']:.3f}  F1 {lab['f1']:.3f}  "
                 f"ROC-AUC {lab.get('roc_auc', 0):.3f}  criteria macro-F1 {r['criteria']['macro_f1']:.3f}")
    for key, r in card.baselines.get("tfidf_logreg", {}).items():
        if isinstance(r, dict):
            _err(f"      baseline tfidf_logreg {key:<14} F1 {r['f1']:.3f}  ROC-AUC {r.get('roc_auc', 0):.3f}")
    state = "is now current" if result.promoted else "was saved but NOT made current"
    _err(f"{result.name} (threshold {result.threshold:.3f}) {state}: {result.why} [{result.seconds:.0f} s]")


def _train_interrupted(folder: Path, before: set[str]) -> str:
    """What an interrupted ``train`` left in the model folder, and what to do next."""
    from .card import current_name

    try:
        current = current_name(folder) or "none"
    except PlancheckError:
        current = "unreadable"
    saved = sorted(p.name[: -len(".card.json")] for p in folder.glob("*.card.json") if p.name not in before)
    if saved:
        return (f"interrupted: {', '.join(saved)} was saved in {folder}/ before the interruption (the current model "
                f"is {current}); `plancheck models` lists it and `plancheck models promote NAME` makes it current")
    return (f"interrupted: no model was saved and nothing in {folder}/ changed (the current model is still "
            f"{current}); run `plancheck train` again to train")


@app.command()
def evaluate(data: Path = typer.Argument(..., help="graded sections (.jsonl) or a corpus folder"),
             model: Optional[str] = ModelOpt,
             fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
             config: Optional[Path] = ConfigOpt) -> None:
    """Measure a model on graded sections: label, criteria, per area, per style, per writer.

    A .jsonl file has one section a line: {"id", "area", "text", "criteria": {...}, "label"?,
    "writer"?, "style"?}. A corpus folder gives its test split and blind-test set.

    Example: plancheck evaluate corpus/blind/test.jsonl --model plancheck-2
    """
    from . import dataset
    from .score import Scorer
    from .train import evaluate_model

    cfg = _config(config)
    scorer = Scorer.load(model, cfg)
    if data.is_dir():
        sets = {"test": [s for s in dataset.corpus_sections(data, cfg) if s.split == "test"],
                "blind-test": dataset.blind_sections(data, "blind-test")}
    else:
        sets = {data.name: dataset.read_jsonl(data)}
    results = {name: evaluate_model(scorer.model, items, scorer.threshold) for name, items in sets.items() if items}
    if fmt == "json":
        typer.echo(json.dumps({"model": scorer.name, "threshold": scorer.threshold, "results": results}, indent=2))
        return
    if fmt != "table":
        raise typer.BadParameter(f"unknown format {fmt!r}; use table or json", param_hint="--format")
    typer.echo(f"model {scorer.name}, threshold {scorer.threshold:.3f}")
    for name, r in results.items():
        lab = r["label"]
        typer.echo(f"\n{name}: {lab['n']} sections, {lab['insufficient']} insufficient")
        typer.echo(f"  insufficient: precision {lab['precision']:.3f}  recall {lab['recall']:.3f}  F1 {lab['f1']:.3f}  "
                   f"ROC-AUC {lab.get('roc_auc', float('nan')):.3f}  accuracy {lab['accuracy']:.3f}")
        typer.echo(f"  criteria macro-F1 (met = 2): {r['criteria']['macro_f1']:.3f}   " +
                   "  ".join(f"{c[:5]} {v['met_f1']:.2f}" for c, v in r["criteria"].items() if c != "macro_f1"))
        for group in ("per_style", "per_area", "per_writer"):
            typer.echo(f"  {group.replace('_', ' ')}:")
            for k, g in r[group].items():
                typer.echo(f"    {k:<28} n={g['n']:<4} accuracy {g['accuracy']:.3f}")


models_app = typer.Typer(help="List the models; promote one or roll back.\n\nExample: plancheck models promote plancheck-2",
                         invoke_without_command=True,
                         no_args_is_help=False)
app.add_typer(models_app, name="models")


@models_app.callback()
def models_cmd(ctx: typer.Context, models: Optional[Path] = typer.Option(None, "--models"),
               config: Optional[Path] = ConfigOpt) -> None:
    """List the models with their key figures; * marks the current one, with why others are not.

    Example: plancheck models
    """
    if ctx.invoked_subcommand:
        ctx.obj = models
        return
    from .card import history as read_history, list_models

    cfg = _config(config)
    rows = list_models(models or cfg.models)
    history = read_history(models or cfg.models)
    if not rows:
        _err(f"no models in {models or cfg.models}/; train one with `plancheck train`")
        raise typer.Exit(1)
    for entry in rows:
        if entry.card is None:
            typer.echo(f"  {entry.name:<16} DAMAGED: {entry.error}")
            continue
        card = entry.card
        t = card.label_metrics("test")
        b = card.metrics.get("blind_test") and card.label_metrics("blind_test")
        blind = f"  blind-test F1 {b['f1']:.3f}" if b else ""
        why = "" if entry.current else f"  ({card.why_not_current(history)})"
        typer.echo(f"{'*' if entry.current else ' '} {entry.name:<16} {card.created}  test F1 {t.get('f1', 0):.3f}  "
                   f"recall {t.get('recall', 0):.3f}  ROC-AUC {t.get('roc_auc', 0):.3f}{blind}{why}")


@models_app.command("promote")
def models_promote(ctx: typer.Context, name: str = typer.Argument(..., help="the model to make current")) -> None:
    """Make a model current (after checking it loads).

    Example: plancheck models promote plancheck-2
    """
    from .card import promote_by_hand

    folder = ctx.obj or _config(None).models
    previous = promote_by_hand(folder, name)
    _err(f"{name} is now current (was {previous or 'none'}); `plancheck models rollback` undoes it")


@models_app.command("rollback")
def models_rollback(ctx: typer.Context) -> None:
    """Make the previously current model current again.

    Example: plancheck models rollback
    """
    from .card import rollback

    folder = ctx.obj or _config(None).models
    name, previous = rollback(folder)
    _err(f"{name} is now current again (was {previous})")


@app.command()
def info(model: Optional[str] = typer.Argument(None, help="model name (default: the current one)"),
         models: Optional[Path] = typer.Option(None, "--models"), config: Optional[Path] = ConfigOpt) -> None:
    """Print a model's card.

    Example: plancheck info plancheck-2
    """
    from .card import read_card, resolve
    from .report import render_card_markdown

    cfg = _config(config)
    typer.echo(render_card_markdown(read_card(resolve(model, models or cfg.models))))


@app.command()
def features(model: Optional[str] = ModelOpt, top: int = typer.Option(8, "--top", help="terms per direction"),
             config: Optional[Path] = ConfigOpt) -> None:
    """Show what the model reads: for each criterion, the terms that weigh most towards specific and vague.

    Example: plancheck features --top 5
    """
    from .score import Scorer

    scorer = Scorer.load(model, _config(config))
    for criterion, (specific, vague) in scorer.model.top_terms(top).items():
        typer.echo(f"{criterion}\n    specific: {', '.join(map(repr, specific))}\n    vague:    {', '.join(map(repr, vague))}")


@app.command()
def validate(corpus: Path = typer.Option(None, "--corpus", help="corpus folder (default: $PLANCHECK_CORPUS or the project's corpus/)"), config: Optional[Path] = ConfigOpt) -> None:
    """Check the corpus: documents read, labels valid and found by segmentation; print balance.

    Example: plancheck validate
    """
    from .grading import validate_corpus

    summary = validate_corpus(_corpus(corpus), _config(config))
    typer.echo(summary)


@app.command("eval-segment")
def eval_segment(corpus: Path = typer.Option(None, "--corpus", help="corpus folder (default: $PLANCHECK_CORPUS or the project's corpus/)"),
                 plans: Optional[Path] = typer.Option(None, "--plans", help="instead, a folder of rendered plans "
                                                      "(documents/) and their area-marked sources (sources/)"),
                 writer: Optional[List[str]] = typer.Option(None, "--writer", help="with --plans: only the plans of "
                                                            "this writer (file names WRITER-...); repeatable"),
                 config: Optional[Path] = ConfigOpt) -> None:
    """Measure segmentation against sources' true areas: the corpus's, or a folder of rendered plans.

    Example: plancheck eval-segment
    Example: plancheck eval-segment --plans corpus/blind/plans --writer w10 --writer w11
    """
    from .evaluation import evaluate_plan_folder, evaluate_segmentation

    if writer and plans is None:
        raise typer.BadParameter("--writer needs --plans", param_hint="--writer")
    if plans is not None:
        if not (plans / "documents").is_dir() or not (plans / "sources").is_dir():
            raise typer.BadParameter(f"{plans}: expected documents/ and sources/ folders in it", param_hint="--plans")
        r = evaluate_plan_folder(plans, _config(config), tuple(f"{w}-" for w in writer or ()))
    else:
        r = evaluate_segmentation(_corpus(corpus), _config(config))
    typer.echo(f"graded sections given the right area: {r.correct}/{r.graded} ({r.section_accuracy:.1%})")
    typer.echo(f"documents with exactly the right missing areas: {r.missing_exact}/{r.documents}")
    for e in r.errors:
        typer.echo(f"  {e}")
    if r.unmeasured:
        typer.echo(f"not measured (no source): {', '.join(r.unmeasured)}")


@app.command("eval-external")
def eval_external(folder: Path = typer.Argument(Path("../shared/external"), help="folder of the labelled .tsv files"),
                  model: Optional[str] = ModelOpt, config: Optional[Path] = ConfigOpt) -> None:
    """Check the vagueness and commitment signals on human-labelled text (evaluation only).

    Example: plancheck eval-external ../shared/external
    """
    from .external import evaluate_external
    from .score import Scorer

    results = evaluate_external(folder, Scorer.load(model, _config(config)))
    if not results:
        _err(f"{folder}: no labelled sets found")
        raise typer.Exit(1)
    for r in results:
        aucs = "  ".join(f"{k} {v:.3f}" for k, v in r["auc"].items())
        typer.echo(f"{r['set']:<34} n={r['n']:<5} specific={r['specific_share']:.2f}  ROC-AUC: {aucs}")
        typer.echo(f"    {r['description']}")


@app.command()
def demo(folder: Path = typer.Argument(Path("examples"), help="the example submissions"),
         config: Optional[Path] = ConfigOpt) -> None:
    """Score the bundled example submissions (or show what plancheck reads if no model exists).

    Example: plancheck demo
    """
    from .card import current_name
    from .output import table_lines
    from .runner import collect_paths

    cfg = _config(config)
    paths = collect_paths([str(folder)])
    if not current_name(cfg.models):
        _err("no trained model yet: showing what plancheck reads (train one with `make train`)")
        for p in paths:
            try:
                segment(Path(p), "table", config)
            except PlancheckError as exc:
                typer.echo(f"{p}  ERROR {exc.code}: {exc.message}")
        return
    failed = []
    for record in _score_stream(paths, cfg, None):
        typer.echo("\n".join(table_lines(record)))
        if not record.ok:
            failed.append(record)
    typer.echo(f"\nTry: {_command()} report examples/larkmere-2009.docx -o larkmere.html")
    if failed:  # the same exit code as `plancheck score` on the same files
        _err(_failures(failed, len(paths), listed=False))
        raise typer.Exit(1)


from .compare import register as _compare_verbs; _compare_verbs(app)  # noqa: E402,E702 - compare, overlap
from .web import register as _web_verbs; _web_verbs(app)  # noqa: E402,E702 - serve, summary


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 error, 2 usage)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # damage is reported in records, not logs
    try:
        result = _click_command().main(args=argv, prog_name="plancheck", standalone_mode=False)
    except (ConfigError, UsageError) as exc:
        _err(f"error: {exc.message}")
        return 2
    except PlancheckError as exc:
        _err(f"error: {exc.message}")
        return 1
    except _Interrupted as exc:
        _err(str(exc))
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except SystemExit as exc:
        # Typer ends a run whose stdout pipe was closed with sys.exit(1): make it the documented code.
        if isinstance(exc.__context__, OSError) and exc.__context__.errno == errno.EPIPE:
            _silence_stdout()
            return EXIT_PIPE
        raise
    except OSError as exc:  # an output that cannot be written, a file that cannot be opened
        where = f"{exc.filename}: " if exc.filename else ""
        _err(f"error: {where}{exc.strerror or exc}")
        return 1
    except Exception as exc:
        # Typer's own usage errors (it bundles its own copy of click): show them, exit 2.
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        if type(exc).__name__ == "Abort":
            _err("aborted")
            return 1
        if os.environ.get("PLANCHECK_DEBUG"):
            raise
        _err(f"error: unexpected {type(exc).__name__}: {exc} (a fault in plancheck; run again with "
             f"PLANCHECK_DEBUG=1 for the details, and report it)")
        return 1
    if result == EXIT_INTERRUPTED:
        _err("interrupted")
    return result if isinstance(result, int) else 0


def _click_command():
    """The app as a click command, its arguments shown in help as ``PATH...`` rather than with
    Typer's Python type (``paths <list[str]>``)."""
    command = typer.main.get_command(app)
    stack = [command]
    while stack:
        cmd = stack.pop()
        stack.extend(getattr(cmd, "commands", {}).values())
        for param in cmd.params:
            if isinstance(param, typer.core.TyperArgument):
                param.display_type_rich = lambda ctx: None
                param._rich_display_name = lambda p=param: _argument_label(p)
                param._usage_display_name = lambda p=param: _argument_label(p, usage=True)
    return command


def _argument_label(param, usage: bool = False) -> str:
    name = param.metavar or param.name.upper()
    if param.nargs != 1 and not name.endswith("..."):
        name += "..."
    return f"[{name}]" if usage and not param.required else name


def _silence_stdout() -> None:
    """After the reader of stdout went away: send what is still buffered nowhere, so that the
    interpreter's final flush neither fails nor prints a warning."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (captured in tests): nothing will be flushed to a pipe


if __name__ == "__main__":
    raise SystemExit(main())
