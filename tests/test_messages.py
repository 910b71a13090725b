"""What the command line says when a run is cut short: Ctrl-C, a closed pipe, an unexpected fault.

Scoring is stubbed (no model is needed): these tests are about the messages and exit codes.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import pytest

from plancheck.cli import EXIT_INTERRUPTED, EXIT_PIPE, main
from plancheck.record import Record

RECORD = {"sha256": "", "status": "scored", "error": None, "verdict": "sufficient", "p_insufficient": 0.01,
          "missing_areas": [], "areas": [], "model": "stub-1"}


@pytest.fixture
def plans(tmp_path):
    """A folder of five small plans."""
    folder = tmp_path / "plans"
    folder.mkdir()
    for n in range(5):
        (folder / f"plan-{n}.txt").write_text(f"plan {n}")
    return folder


@pytest.fixture
def interrupted_after_two(monkeypatch):
    """Scoring that yields two records, then meets Ctrl-C."""
    import plancheck.cli

    def stream(paths, config, model):
        for p in paths[:2]:
            yield Record.from_dict({"path": p, **RECORD})
        raise KeyboardInterrupt

    monkeypatch.setattr(plancheck.cli, "_score_stream", stream)


def test_messages_ctrl_c_during_score_says_what_was_written_and_how_to_resume(plans, tmp_path, interrupted_after_two,
                                                                              capsys):
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(plans), "-o", str(out), "-q", "--jobs", "2"]) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert f"2 of 5 record(s) written to {out}; 3 file(s) not scored" in err
    assert f"score {plans} --format jsonl --output {out} --jobs 2 --resume" in err
    assert len(out.read_text().splitlines()) == 2


def test_messages_ctrl_c_with_records_on_stdout_says_how_to_be_able_to_resume(plans, interrupted_after_two, capsys):
    assert main(["score", str(plans), "-f", "jsonl", "-q"]) == EXIT_INTERRUPTED
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2
    assert "2 of 5 record(s) were written to stdout" in captured.err and "--output" in captured.err


def test_messages_ctrl_c_with_json_output_writes_the_records_so_far(plans, tmp_path, interrupted_after_two, capsys):
    out = tmp_path / "scores.json"
    assert main(["score", str(plans), "-o", str(out), "-q"]) == EXIT_INTERRUPTED
    assert len(json.loads(out.read_text())) == 2
    assert "json output cannot be resumed" in capsys.readouterr().err


def test_messages_ctrl_c_during_train_says_nothing_was_saved(tmp_path, models_copy, monkeypatch, capsys):
    import plancheck.train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plancheck.train, "train_model", interrupted)
    before = sorted(p.name for p in models_copy.iterdir())
    assert main(["train", "--models", str(models_copy)]) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "interrupted: no model was saved" in err and "run `plancheck train` again" in err
    assert sorted(p.name for p in models_copy.iterdir()) == before


def test_messages_ctrl_c_during_train_names_a_model_already_saved(tmp_path, monkeypatch, capsys):
    import plancheck.train

    models = tmp_path / "models"
    models.mkdir()

    def saved_then_interrupted(corpus, folder, *args, **kwargs):
        (folder / "plancheck-7.card.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(plancheck.train, "train_model", saved_then_interrupted)
    assert main(["train", "--models", str(models)]) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "plancheck-7 was saved" in err and "plancheck models promote NAME" in err


class _ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_messages_closed_pipe_ends_quietly_in_process(plans, monkeypatch, capsys):
    import plancheck.cli

    monkeypatch.setattr(plancheck.cli, "_score_stream", lambda paths, config, model: (Record.from_dict({"path": p, **RECORD}) for p in paths))
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["score", str(plans), "-f", "jsonl", "-q"]) == EXIT_PIPE
    assert capsys.readouterr().err == ""


def test_messages_closed_pipe_ends_quietly(plans):
    """`plancheck score ... | head -1`: the reader goes away; plancheck stops, says nothing, exits 141."""
    script = textwrap.dedent(f"""
        import itertools, sys
        import plancheck.cli
        from plancheck.record import Record
        record = {RECORD!r}
        def endless(paths, config, model):
            for n in itertools.count():
                yield Record.from_dict(dict(record, path=f"plan-{{n}}.txt"))
        plancheck.cli._score_stream = endless
        sys.exit(plancheck.cli.main(["score", {str(plans)!r}, "-f", "jsonl", "-q"]))
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert json.loads(proc.stdout.readline())["path"] == "plan-0.txt"
        proc.stdout.close()  # as `head -1` does after its line
        err = proc.stderr.read().decode()
        code = proc.wait()
    assert (code, err) == (EXIT_PIPE, "")


def test_messages_an_unexpected_fault_is_one_line_without_a_traceback(plans, monkeypatch, capsys):
    import plancheck.cli

    def broken(paths, config, model):
        raise ValueError("something inside went wrong")
        yield

    monkeypatch.setattr(plancheck.cli, "_score_stream", broken)
    monkeypatch.delenv("PLANCHECK_DEBUG", raising=False)
    assert main(["score", str(plans), "-q"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "unexpected ValueError: something inside went wrong" in err and "PLANCHECK_DEBUG=1" in err


def test_messages_an_output_that_cannot_be_written_is_named(plans, tmp_path, monkeypatch, capsys):
    import plancheck.cli

    monkeypatch.setattr(plancheck.cli, "_score_stream", lambda paths, config, model: (Record.from_dict({"path": p, **RECORD}) for p in paths))
    out = tmp_path / "no-such-folder" / "scores.jsonl"
    assert main(["score", str(plans), "-o", str(out), "-q"]) == 1
    assert f"error: {out}: No such file or directory" in capsys.readouterr().err


def test_messages_progress_bar_is_drawn_by_rich_in_a_terminal():
    from rich.console import Console

    from plancheck.cli import _Progress

    screen = io.StringIO()
    with _Progress(3, True, terminal=True, console=Console(file=screen, force_terminal=True, width=100)) as progress:
        for name in ("a.pdf", "b.pdf", "c.pdf"):
            progress.step(name)
    assert progress.bar is not None and "3/3" in screen.getvalue()


def test_messages_progress_without_a_terminal_is_plain_lines(capsys):
    from plancheck.cli import _Progress

    with _Progress(4, True, terminal=False) as progress:
        for n in range(4):
            progress.step(f"plan-{n}.pdf")
    err = capsys.readouterr().err
    assert progress.bar is None and "progress: 4/4 files (100%" in err and "\x1b[" not in err


def test_messages_a_real_ctrl_c_reaches_the_message(plans, tmp_path):
    """SIGINT, as a terminal sends it, while a file is being scored."""
    import signal

    out = tmp_path / "scores.jsonl"
    script = textwrap.dedent(f"""
        import sys, time
        import plancheck.cli
        from plancheck.record import Record
        record = {RECORD!r}
        def slow(paths, config, model):
            yield Record.from_dict(dict(record, path=paths[0]))
            print("one written", file=sys.stderr, flush=True)
            while True:  # the second file never finishes
                time.sleep(0.05)
        plancheck.cli._score_stream = slow
        sys.exit(plancheck.cli.main(["score", {str(plans)!r}, "-o", {str(out)!r}, "-q"]))
    """)
    with subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr.readline().strip() == "one written"
        proc.send_signal(signal.SIGINT)
        err = proc.stderr.read()
        code = proc.wait()
    assert code == EXIT_INTERRUPTED
    assert f"1 of 5 record(s) written to {out}" in err and "--resume" in err and "Traceback" not in err
    assert len(out.read_text().splitlines()) == 1
