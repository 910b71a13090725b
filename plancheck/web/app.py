"""The workbench's web application: routes, pages and error pages.

Pages are server-rendered HTML with plain forms; every form posts with a CSRF token, and every
path a request names is resolved and checked to be inside the served folders. An error in one
request gives an error page; the server goes on.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..config import Config
from ..errors import CorpusError, ModelError, PlancheckError
from ..rubric import CRITERIA
from . import learning
from .batches import MATCH_BY, REVIEWS_FILE, Folders, NotServedError, Plan, area_order, corpus_forces, section_texts
from .national import build, to_csv
from .pages import STATIC, highlight, render
from .reviews import ReviewStore, history, parse_form, save_review, section_id, store_of
from .security import CSRF_FIELD, BodyTooLargeError, CsrfError, Guard, check_csrf

log = logging.getLogger(__name__)
FLASH_COOKIE = "plancheck_flash"
REVIEWER_COOKIE = "plancheck_reviewer"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_TEXT_SUFFIXES = {".txt", ".md", ".markdown"}


def create_app(folders: list[str | Path], corpus: Path | None = None, config: Config | None = None,
               token: str | None = None, host: str = "127.0.0.1", allowed_hosts: set[str] | None = None,
               scorer_loader=None, train_command: list[str] | None = None, match_by: str = "force") -> Starlette:
    """The workbench over ``folders``.

    Args:
        folders: triage output folders, folders of score files, or score files.
        corpus: where grades go (the corpus folder); None keeps them in the review files only.
        config: settings (model folder, upload limits, worker limits).
        token: access token; required by every request when given.
        host: the address served; the Host header must name it (or a loopback name for a loopback address).
        allowed_hosts: Host names to accept instead of those.
        scorer_loader: () -> a loaded ``score.Scorer`` for uploads (default: the current model).
        train_command: the command that retrains (default: ``plancheck train`` on ``corpus``).
        match_by: how a plan's earlier plan is found for the comparison page: ``force`` (the
            force it names) or ``file`` (its file name up to the first digit).
    """
    from . import is_loopback

    config = config or Config()
    if allowed_hosts is None:
        allowed_hosts = LOOPBACK_HOSTS | {host} if is_loopback(host) else {"*"}
    from .training import TrainingJob, train_command as default_train_command

    state = _State(Folders(folders, corpus_forces(corpus)), corpus, config, scorer_loader)
    state.training = TrainingJob(train_command or default_train_command(corpus, config.models))
    if match_by not in MATCH_BY:
        raise ValueError(f"match_by: expected one of {list(MATCH_BY)}, got {match_by!r}")
    state.match_by = match_by
    routes = [
        Route("/", national, methods=["GET"]),
        Route("/national.csv", national_csv, methods=["GET"]),
        Route("/plan/{batch}/{key}", plan_page, methods=["GET"]),
        Route("/plan/{batch}/{key}/review", review_post, methods=["POST"]),
        Route("/compare/{batch}/{key}", compare_page, methods=["GET"]),
        Route("/files/{root:int}/{path:path}", served_file, methods=["GET"]),
        Route("/next", next_page, methods=["GET"]),
        Route("/agreement", agreement_page, methods=["GET"]),
        Route("/models", models_page, methods=["GET"]),
        Route("/models/promote", promote_post, methods=["POST"]),
        Route("/models/rollback", rollback_post, methods=["POST"]),
        Route("/models/{name}", model_page, methods=["GET"]),
        Route("/train", train_page, methods=["GET"]),
        Route("/train", train_post, methods=["POST"]),
        Route("/train/log", train_log, methods=["GET"]),
        Route("/upload", upload_page, methods=["GET"]),
        Route("/upload", upload_post, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
    ]
    handlers = {NotServedError: _not_found, HTTPException: _http_error, CsrfError: _forbidden,
                BodyTooLargeError: _too_large, PlancheckError: _refused, Exception: _server_error}
    app = Starlette(routes=routes, exception_handlers=handlers,
                    middleware=[Middleware(Guard, token=token, allowed_hosts=allowed_hosts,
                                           upload_limit=config.max_file_bytes + 64 * 1024)])
    app.state.folders = state.folders
    app.state.workbench = state
    return app


class _State:
    def __init__(self, folders: Folders, corpus: Path | None, config: Config, scorer_loader):
        self.folders, self.corpus, self.config = folders, corpus, config
        self.scorer_loader = scorer_loader
        self.training = None  # the TrainingJob, set by create_app
        self.match_by = "force"  # how a plan's earlier plan is found (set by create_app)
        self._scorer = None
        self._scorer_for: str | None = None
        self._lock = threading.Lock()

    def scorer(self):
        """The scorer for uploads, loaded once and again after the current model changes."""
        from ..card import current_name

        try:
            current = current_name(self.config.models)
        except ModelError:
            current = None
        with self._lock:
            if self._scorer is None or self._scorer_for != current:
                if self.scorer_loader is not None:
                    self._scorer = self.scorer_loader()
                else:
                    from ..score import Scorer

                    self._scorer = Scorer.load(None, self.config)
                self._scorer_for = current
            return self._scorer

    def reviews(self) -> list:
        return [r for root in self.folders.roots for r in ReviewStore(root / REVIEWS_FILE).all()]


def _state(request: Request) -> _State:
    return request.app.state.workbench


# -- page helpers -------------------------------------------------------------------------------

def page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    flash = _read_flash(request)
    context.setdefault("flash", flash)
    context.setdefault("nav", "")
    html = render(template, standalone=False, csrf=request.state.csrf, csrf_field=CSRF_FIELD, **context)
    response = HTMLResponse(html, status_code=status)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, flash: str | None = None, bad: bool = False, area: str = "") -> RedirectResponse:
    """A redirect after a form (so a reload does not post again), with a message for the next page;
    ``area`` shows the message at that section of a plan page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        data = base64.urlsafe_b64encode(json.dumps({"text": flash[:1500], "bad": bad, "area": area}).encode()).decode()
        response.set_cookie(FLASH_COOKIE, data, path="/", httponly=True, samesite="strict")
    return response


def _read_flash(request: Request) -> dict | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())
        return {"text": str(data["text"]), "bad": bool(data.get("bad")), "area": str(data.get("area") or "")}
    except (ValueError, KeyError, TypeError):
        return None


async def checked_form(request: Request):
    """The submitted form, after the CSRF and origin checks.

    Raises:
        CsrfError: the token is missing or wrong, or the form came from another site.
    """
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
        raise CsrfError("this form came from another site and was refused")
    form = await request.form(max_files=1, max_fields=64)
    check_csrf(request.state.csrf_cookie, form.get(CSRF_FIELD))
    return form


def _file_link(folders: Folders, path: Path | None) -> str | None:
    where = folders.link_of(path) if path is not None else None
    if where is None:
        return None
    from urllib.parse import quote

    return f"/files/{where[0]}/{quote(where[1])}"


# -- the national picture -----------------------------------------------------------------------

def _picture(request: Request):
    folders = _state(request).folders
    q = request.query_params
    batch = folders.batch(q["batch"]) if q.get("batch") else None
    plans = folders.plans(batch)
    picture = build(plans, q.get("area", ""), q.get("verdict", ""), q.get("state", ""), q.get("sort", "force"),
                    q.get("dir") == "desc")
    return folders, batch, plans, picture


def national(request: Request) -> HTMLResponse:
    folders, batch, plans, picture = _picture(request)
    f = picture.filters
    query = {k: v for k, v in (("batch", batch.id if batch else ""), ("area", f["area"]), ("verdict", f["verdict"]),
                               ("state", f["state"]), ("sort", f["sort"]), ("dir", f["dir"])) if v}
    sort_links = {}
    for key in ("force", "verdict", "p", "flagged", "missing"):
        again = f["sort"] == key and f["dir"] == "asc"
        sort_links[key] = "/?" + urlencode({**query, "sort": key, "dir": "desc" if again else "asc"})
    return page(request, "national.html", title="National picture", nav="national", picture=picture,
                batches=folders.batches(), batch=batch, all_areas=area_order(plans), query=query,
                sort_links=sort_links)


def national_csv(request: Request) -> Response:
    _, batch, _, picture = _picture(request)
    name = f"national-{batch.id if batch else 'all'}.csv"
    return Response(to_csv(picture), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


# -- a plan -------------------------------------------------------------------------------------

def plan_page(request: Request) -> HTMLResponse:
    state = _state(request)
    plan = state.folders.plan(request.path_params["batch"], request.path_params["key"])
    return _render_plan(request, plan, store_of(plan).all())


def _render_plan(request: Request, plan: Plan, reviews: list, status: int = 200, problem: str = "",
                 submitted: dict | None = None) -> HTMLResponse:
    state = _state(request)
    sections = []
    assessments = plan.assessments
    reread = {}
    if plan.original is not None and assessments and not any(a.text for a in assessments):
        reread = section_texts(plan.original, state.config)  # score files leave the texts out
    for i, a in enumerate(assessments):
        versions = history(reviews, section_id(plan, a.area))
        current = dict(versions[-1].criteria) if versions else {c: a.criteria.get(c) for c in CRITERIA}
        note = versions[-1].note if versions else ""
        if submitted and submitted.get("area") == a.area:
            current = {c: submitted.get(c) for c in CRITERIA}
            note = submitted.get("note", "")
        source = a.text or reread.get(a.area, "")
        text, unfound = highlight(source, a.evidence, a.criteria) if source else ("", [])
        sections.append({"a": a, "versions": versions, "current": current, "note": note, "text": text,
                         "unfound": unfound, "reread": bool(source and not a.text), "evidence": _by_sentence(a),
                         "prev": assessments[i - 1].area if i else None,
                         "next": assessments[i + 1].area if i + 1 < len(assessments) else None})
    report = None
    if plan.record_file is not None:
        html = plan.record_file.with_name(plan.record_file.name[: -len(".json")] + ".html")
        report = _file_link(state.folders, html) if html.is_file() else None
    reviewer = request.cookies.get(REVIEWER_COOKIE, "")
    earlier = state.folders.earlier_plan(plan, state.match_by)
    return page(request, "plan.html", status=status, title=f"{plan.force}: {plan.file_name}", nav="national",
                plan=plan, sections=sections, original=_file_link(state.folders, plan.original), report=report,
                earlier=earlier,
                reviewer=reviewer, problem=problem, corpus=str(state.corpus) if state.corpus else "",
                missing=plan.missing_areas)


def compare_page(request: Request) -> Response:
    """The plan against the earlier plan of its force: what changed, area by area (compare.py)."""
    from dataclasses import replace

    from ..compare import compare_records, render_html
    from .security import FILE_POLICY

    state = _state(request)
    plan = state.folders.plan(request.path_params["batch"], request.path_params["key"])
    earlier = state.folders.earlier_plan(plan, state.match_by)
    if earlier is None:
        raise NotServedError(f"no earlier plan of {plan.force} in the served folders to compare {plan.file_name} with")

    def with_texts(p: Plan):
        record = p.record
        if p.original is None or any(a.text for a in record.areas):
            return record
        texts = section_texts(p.original, state.config)  # score files leave the texts out
        return record.with_areas([replace(a, text=texts.get(a.area, "")) for a in record.areas])

    comparison = compare_records(with_texts(earlier), with_texts(plan), required=state.config.required_areas)
    links = [(f"/plan/{plan.batch.id}/{plan.key}", f"back to {plan.file_name}"),
             (f"/plan/{earlier.batch.id}/{earlier.key}", f"the earlier plan, {earlier.file_name}"), ("/", "national picture")]
    # The page carries its own styles: it is served under the policy for served files, without scripts.
    return HTMLResponse(render_html(comparison, links), headers={"content-security-policy": FILE_POLICY})


def _by_sentence(a) -> list[tuple[str, list[str], int | None]]:
    """Each evidence sentence once, with the criteria it supports and the first one's score."""
    out: dict[str, list[str]] = {}
    for c in list(CRITERIA) + [k for k in a.evidence if k not in CRITERIA]:
        for sentence in a.evidence.get(c) or ():
            names = out.setdefault(str(sentence), [])
            if c not in names:
                names.append(c)
    return [(s, names, a.criteria.get(names[0])) for s, names in out.items()]


async def review_post(request: Request) -> Response:
    state = _state(request)
    form = await checked_form(request)
    plan = await run_in_threadpool(state.folders.plan, request.path_params["batch"], request.path_params["key"])
    area = str(form.get("area", ""))
    reviewer, force = str(form.get("reviewer", "")), str(form.get("force", ""))
    try:
        scores, note = parse_form(dict(form), area)
        review = await run_in_threadpool(save_review, plan, area, scores, note, reviewer, force, state.corpus,
                                         state.config)
    except CorpusError as exc:
        reviews = await run_in_threadpool(store_of(plan).all)
        submitted = {"area": area, **{c: form.get(c) for c in CRITERIA}, "note": str(form.get("note", ""))}
        return _render_plan(request, plan, reviews, status=400, problem=f"The grade was not saved:\n{exc.message}",
                            submitted=submitted)
    text = (f"Saved version {review.version} of the {area} grade by {review.reviewer}: {review.label}. "
            f"{review.summary[:1].upper()}{review.summary[1:]}. Corpus: {review.corpus.get('message', '')}")
    response = redirect(f"/plan/{plan.batch.id}/{plan.key}#s-{area}", text, area=area)
    response.set_cookie(REVIEWER_COOKIE, review.reviewer, path="/", httponly=True, samesite="strict",
                        max_age=365 * 24 * 3600)
    return response


def served_file(request: Request) -> Response:
    """A file inside a served folder: plans as downloads, reports and text shown, all sandboxed."""
    from .security import FILE_POLICY

    path = _state(request).folders.file_in_root(request.path_params["root"], request.path_params["path"])
    headers = {"content-security-policy": FILE_POLICY}
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return FileResponse(path, media_type="text/html; charset=utf-8", headers=headers)
    if suffix in _TEXT_SUFFIXES or suffix in (".json", ".jsonl", ".csv"):
        return FileResponse(path, media_type="text/plain; charset=utf-8", headers=headers)
    return FileResponse(path, media_type="application/octet-stream", filename=path.name, headers=headers)


# -- what to grade next, agreement ---------------------------------------------------------------

def next_page(request: Request) -> HTMLResponse:
    state = _state(request)
    reviews = state.reviews()
    weakness = _weakness(state.config.models)
    items = learning.queue(state.folders.plans(), {r.section for r in reviews}, weakness=weakness)
    return page(request, "next.html", title="What to grade next", nav="next", items=items, near=learning.NEAR,
                reviewed=len({r.section for r in reviews}), weakness=weakness)


def _weakness(folder) -> "learning.Weakness":
    """The current model's blind-set weaknesses; none when there is no readable current model."""
    from ..card import read_card, resolve
    from ..errors import PlancheckError

    try:
        return learning.Weakness.from_card(read_card(resolve(None, folder)))
    except (PlancheckError, OSError, ValueError):
        return learning.Weakness()


def agreement_page(request: Request) -> HTMLResponse:
    reviews = _state(request).reviews()
    model_rows, model_differ = learning.with_model(reviews)
    pair_rows, pair_differ = learning.between_reviewers(reviews)
    return page(request, "agreement.html", title="Agreement", nav="agreement", model_rows=model_rows,
                model_differ=model_differ, pair_rows=pair_rows, pair_differ=pair_differ,
                sections=len(learning.latest(reviews)), reviewers=sorted({r.reviewer for r in reviews}))


# -- models -------------------------------------------------------------------------------------

def models_page(request: Request) -> HTMLResponse:
    from ..card import current_name, history as model_history, list_models

    folder = _state(request).config.models
    try:
        current = current_name(folder)
        problem = ""
    except ModelError as exc:
        current, problem = None, exc.message
    entries = list_models(folder) if folder.is_dir() else []
    history = model_history(folder) if folder.is_dir() else []
    rows = []
    for entry in entries:
        card = entry.card
        if card is None:
            rows.append({"name": entry.name, "error": entry.error, "current": False})
            continue
        blind = card.label_metrics("blind_test") if card.metrics.get("blind_test") else {}
        rows.append({"name": entry.name, "error": "", "current": entry.current, "created": card.created,
                     "test": card.label_metrics("test"), "blind": blind,
                     "threshold": card.threshold.get("value"), "why": card.promotion_why,
                     "not_current": "" if entry.current else card.why_not_current(history)})
    return page(request, "models.html", title="Models", nav="models", rows=rows, current=current, folder=str(folder),
                history=list(reversed(history))[:20], problem=problem)


def model_page(request: Request) -> HTMLResponse:
    from ..card import read_card, resolve
    from ..report import render_card_markdown

    folder = _state(request).config.models
    card = read_card(resolve(request.path_params["name"], folder))
    try:
        html = _markdown(render_card_markdown(card))
    except (KeyError, TypeError, ValueError, AttributeError):  # a card of an older shape: show what it holds
        from markupsafe import Markup, escape

        html = (Markup(f"<h1>Model card: {escape(card.name)}</h1><pre>") + escape(json.dumps(card.to_dict(), indent=2))
                + Markup("</pre>"))
    return page(request, "model.html", title=f"Model card: {card.name}", nav="models", name=card.name,
                card_html=html)


def _markdown(text: str):
    from markupsafe import Markup, escape

    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return Markup("<pre>") + escape(text) + Markup("</pre>")
    # html=False: any HTML in a card is shown as text, never run.
    return Markup(MarkdownIt("commonmark", {"html": False}).enable("table").render(text))


async def promote_post(request: Request) -> Response:
    from ..card import promote_by_hand

    form = await checked_form(request)
    name = str(form.get("name", ""))
    folder = _state(request).config.models
    try:
        previous = await run_in_threadpool(promote_by_hand, folder, name)
    except ModelError as exc:
        return redirect("/models", f"{name} was not promoted: {exc.message}", bad=True)
    return redirect("/models", f"{name} is now current (was {previous or 'none'}); Roll back undoes it.")


async def rollback_post(request: Request) -> Response:
    from ..card import rollback

    await checked_form(request)
    folder = _state(request).config.models
    try:
        name, previous = await run_in_threadpool(rollback, folder)
    except ModelError as exc:
        return redirect("/models", f"Nothing was rolled back: {exc.message}", bad=True)
    return redirect("/models", f"{name} is current again (was {previous}).")


# -- retraining ---------------------------------------------------------------------------------

def train_page(request: Request) -> HTMLResponse:
    state = _state(request)
    return page(request, "train.html", title="Retrain", nav="models", job=state.training.snapshot(),
                corpus=str(state.corpus) if state.corpus else "", folder=str(state.config.models))


async def train_post(request: Request) -> Response:
    await checked_form(request)
    started = await run_in_threadpool(_state(request).training.start)
    if not started:
        return redirect("/train", "A training is already running: its progress is below.", bad=True)
    return redirect("/train", "Training started. This page follows its progress.")


async def train_log(request: Request) -> Response:
    """The training's output as plain text, streamed line by line while it runs."""
    from starlette.responses import StreamingResponse

    job = _state(request).training

    async def lines():
        seen = 0
        while True:
            more, over = await run_in_threadpool(job.wait_for_more, seen, 1.0)
            seen += len(more)
            for line in more:
                yield line + "\n"
            if over:
                return

    return StreamingResponse(lines(), media_type="text/plain; charset=utf-8")


# -- upload -------------------------------------------------------------------------------------

def upload_page(request: Request) -> HTMLResponse:
    state = _state(request)
    from .uploads import KINDS

    return page(request, "upload.html", title="Upload a plan", nav="upload", kinds=", ".join(KINDS),
                limit=state.config.max_file_bytes, folder=str(state.folders.uploads().path))


async def upload_post(request: Request) -> Response:
    state = _state(request)
    form = await checked_form(request)
    try:
        return await _upload(state, form)
    finally:
        await form.close()


async def _upload(state: _State, form) -> Response:
    from .uploads import UploadError, check, store_and_score

    upload = form.get("plan")
    if upload is None or not hasattr(upload, "read"):
        return redirect("/upload", "Choose a file to upload.", bad=True)
    limit = state.config.max_file_bytes
    chunks, size = [], 0
    while True:
        chunk = await upload.read(1 << 20)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            return redirect("/upload", f"{upload.filename}: more than the limit of {limit:,} bytes.", bad=True)
        chunks.append(chunk)
    data = b"".join(chunks)
    try:
        check(upload.filename or "", data, limit)
        scorer = await run_in_threadpool(state.scorer)
        batch = state.folders.uploads()
        record_file = await run_in_threadpool(store_and_score, batch.path, upload.filename or "", data, scorer,
                                              state.config)
    except UploadError as exc:
        return redirect("/upload", exc.message, bad=True)
    except ModelError as exc:
        return redirect("/upload", f"The plan was not stored: no model to score it with ({exc.message}).", bad=True)
    plan = next((p for p in state.folders.plans(batch) if p.record_file == record_file.resolve()), None)
    if plan is None:
        raise PlancheckError(f"{record_file}: the upload was scored but its record could not be read back")
    verdict = plan.verdict.replace("_", " ")
    return redirect(f"/plan/{batch.id}/{plan.key}", f"{plan.file_name} was uploaded and scored: {verdict}.")


# -- errors -------------------------------------------------------------------------------------

def _error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    csrf = getattr(request.state, "csrf", "")
    html = render("error.html", standalone=False, csrf=csrf, csrf_field=CSRF_FIELD, title=title, message=message,
                  nav="", flash=None)
    return HTMLResponse(html, status_code=status)


async def _not_found(request: Request, exc: Exception) -> HTMLResponse:
    return _error_page(request, 404, "Not found", getattr(exc, "message", "There is nothing here."))


async def _http_error(request: Request, exc: HTTPException) -> HTMLResponse:
    words = {404: "Not found", 405: "Not allowed"}.get(exc.status_code, "Request refused")
    return _error_page(request, exc.status_code, words, str(exc.detail))


async def _forbidden(request: Request, exc: CsrfError) -> HTMLResponse:
    return _error_page(request, 403, "Form refused", exc.message)


async def _too_large(request: Request, exc: BodyTooLargeError) -> HTMLResponse:
    return _error_page(request, 413, "Too large", exc.message)


async def _refused(request: Request, exc: PlancheckError) -> HTMLResponse:
    return _error_page(request, 400, "Could not do that", exc.message)


async def _server_error(request: Request, exc: Exception) -> HTMLResponse:
    log.error("request %s %s failed", request.method, request.url.path, exc_info=exc)
    return _error_page(request, 500, "Something went wrong",
                       "This page could not be shown because of an error in plancheck (it is logged). "
                       "The workbench is still running: go back and try again, or open another page.")
