"""The model folder: CURRENT stays inside it, models are found from anywhere, promote and roll back."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from plancheck.card import current_name, history, load_model, promote_by_hand, rollback, set_current
from plancheck.errors import ModelIntegrityError, ModelNotFoundError


def test_current_as_a_link_to_another_file_is_refused_without_showing_it(models_copy):
    (models_copy / "CURRENT").unlink()
    (models_copy / "CURRENT").symlink_to("/etc/passwd")
    with pytest.raises(ModelIntegrityError) as err:
        load_model(None, models_copy)
    assert "root:" not in str(err.value) and "not a regular file" in str(err.value)


@pytest.mark.parametrize("pointer", ["../elsewhere/plancheck-1", "/etc/passwd", "plancheck-2/../../x", ".hidden"])
def test_current_naming_a_path_is_refused(models_copy, pointer):
    (models_copy / "CURRENT").write_text(pointer + "\n")
    with pytest.raises(ModelIntegrityError, match="does not hold a model name"):
        load_model(None, models_copy)


def test_a_model_name_with_a_path_is_refused(models_copy):
    with pytest.raises(ModelNotFoundError):
        load_model("../models/plancheck-2", models_copy)


def test_promote_and_rollback(models_copy):
    first = current_name(models_copy)
    card = models_copy / f"{first}.card.json"
    # A second model: the same arrays under another name (the card re-signed as training would).
    import json

    from plancheck.card import _card_checksum

    data = json.loads(card.read_text())
    data["name"], data["artefact"] = "plancheck-77", "plancheck-77.npz"
    data["card_sha256"] = _card_checksum(data)
    (models_copy / "plancheck-77.npz").write_bytes((models_copy / f"{first}.npz").read_bytes())
    (models_copy / "plancheck-77.card.json").write_text(json.dumps(data))
    assert promote_by_hand(models_copy, "plancheck-77") == first
    assert current_name(models_copy) == "plancheck-77"
    assert rollback(models_copy) == (first, "plancheck-77")
    assert current_name(models_copy) == first
    assert [e["to"] for e in history(models_copy)][-2:] == ["plancheck-77", first]
    with pytest.raises(ModelNotFoundError):
        promote_by_hand(models_copy, "no-such-model")


def test_rollback_without_history_says_so(models_copy):
    (models_copy / "HISTORY.jsonl").unlink(missing_ok=True)
    set_current(models_copy, current_name(models_copy))  # one entry: from itself
    with pytest.raises(ModelNotFoundError, match="no earlier current model"):
        rollback(models_copy)


@pytest.mark.slow
def test_commands_find_the_bundled_model_from_any_folder(tmp_path, examples):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANCHECK_")}
    run = subprocess.run([sys.executable, "-m", "plancheck", "score", str(examples / "stourholme-2009.txt"),
                          "-f", "jsonl", "-q"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert '"status": "scored"' in run.stdout
    models = subprocess.run([sys.executable, "-m", "plancheck", "models"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert models.returncode == 0 and "*" in models.stdout
    assert not (tmp_path / "corpus").exists() and not (tmp_path / "models").exists()


def test_train_refuses_a_folder_that_is_not_a_corpus(tmp_path):
    from plancheck.errors import CorpusError
    from plancheck.train import train_model

    with pytest.raises(CorpusError, match="not a corpus folder"):
        train_model(tmp_path, tmp_path / "models")
    assert not (tmp_path / "models").exists()
