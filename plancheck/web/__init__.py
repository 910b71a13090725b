"""The reviewers' workbench: ``plancheck serve`` (a local web application over triage outputs and
score files) and ``plancheck summary`` (its national picture written to one HTML or CSV file).

The web stack is imported only when one of these verbs runs, so the rest of the command line
starts as fast as before.
"""
from __future__ import annotations

import ipaddress
import secrets
import sys
from pathlib import Path
from typing import List, Optional

import typer

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def register(app: typer.Typer) -> None:
    """Add the ``serve`` and ``summary`` verbs to the command line ``app``."""

    @app.command()
    def serve(folders: Optional[List[Path]] = typer.Argument(None, help="triage output folders, folders of score "
                                                                        "files, or score files (default: .)"),
              host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (another than this "
                                                                   "machine's needs a token)"),
              port: int = typer.Option(8765, "--port", help="port to listen on"),
              token: Optional[str] = typer.Option(None, "--token", envvar="PLANCHECK_TOKEN",
                                                  help="access token (made up and printed when --host is not local)"),
              corpus: Optional[Path] = typer.Option(None, "--corpus", help="where grades go (default: "
                                                                          "$PLANCHECK_CORPUS or the project's corpus/)"),
              models: Optional[Path] = typer.Option(None, "--models", help="model folder (default: the bundled models/)"),
              match_by: str = typer.Option("force", "--match-by", help="how a plan's earlier plan is found for "
                                                                      "comparison: force (named in the plan) | file "
                                                                      "(file name up to the first digit)"),
              config: Optional[Path] = typer.Option(None, "--config", help="TOML settings file")) -> None:
        """Open the reviewers' workbench in the browser: national picture, plans, grading, models.

        Example: plancheck serve triaged/ scores/ --port 8765   (then open http://127.0.0.1:8765/)
        """
        import uvicorn

        from ..config import default_corpus, load_config
        from .app import create_app

        from .batches import MATCH_BY

        if match_by not in MATCH_BY:
            raise typer.BadParameter(f"expected one of {', '.join(MATCH_BY)}", param_hint="--match-by")
        cfg = load_config(config, model_dir=str(models) if models else None)
        if not is_loopback(host) and not token:
            token = secrets.token_urlsafe(24)
        application = create_app(folders or [Path(".")], corpus=corpus or default_corpus(), config=cfg,
                                 token=token, host=host, match_by=match_by)
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
        typer.echo(f"plancheck workbench on {url} (Ctrl-C to stop)", err=True)
        for root in application.state.folders.roots:
            typer.echo(f"  serving {root}", err=True)
        uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False,
                    proxy_headers=False, server_header=False)

    @app.command()
    def summary(sources: List[Path] = typer.Argument(..., help="score files (JSON Lines) or triage output folders"),
                output: Optional[Path] = typer.Option(None, "--output", "-o", help="file to write (default: stdout)"),
                fmt: Optional[str] = typer.Option(None, "--format", "-f", help="html | csv (default: from --output, "
                                                                               "else html)"),
                corpus: Optional[Path] = typer.Option(None, "--corpus", help="corpus whose force names to use")) -> None:
        """Write the national picture of scored plans: forces x areas, shares, failing criteria.

        Example: plancheck summary scores.jsonl -o national.html   (or --format csv)
        """
        from ..card import atomic_write
        from ..config import default_corpus
        from ..errors import PlancheckError
        from .batches import Folders, corpus_forces
        from .national import build, to_csv
        from .pages import render_summary

        fmt = fmt or ("csv" if output is not None and output.suffix.lower() == ".csv" else "html")
        if fmt not in ("html", "csv"):
            raise typer.BadParameter("expected html or csv", param_hint="--format")
        folders = Folders(sources, corpus_forces(corpus or default_corpus()))
        plans = folders.plans()
        if not plans:
            raise PlancheckError(f"{', '.join(map(str, sources))}: no scored plans found (expected JSON Lines from "
                                 f"`plancheck score -f jsonl`, or a triage output folder)")
        picture = build(plans)
        if fmt == "csv":
            text = to_csv(picture)
        else:
            title = "National picture" if len(sources) != 1 else f"National picture: {sources[0].name}"
            text = render_summary(picture, title, [str(s) for s in sources])
        if output is None:
            sys.stdout.write(text)
        else:
            atomic_write(output, text.encode("utf-8"))
            typer.echo(f"{output}: {picture.plans} plan(s) of {len({p.force for p in plans})} force(s); "
                       f"{picture.plans_sufficient} sufficient, {picture.plans_unreadable} unreadable", err=True)
