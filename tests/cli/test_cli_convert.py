"""`gazenet convert`: checkpoint -> model + card in the user folder or at -o; clear errors, exit 2."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from gazenet_app.cli.convert import output_location
from gazenet_app.cli.main import main
from gazenet_app.model_zoo import store
from gazenet_app.model_zoo.card import load_card

torch = pytest.importorskip("torch", reason="writing a test checkpoint needs torch (convert extra)")


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    d = tmp_path / "user_models"
    monkeypatch.setenv(store.ENV_MODELS_DIR, str(d))
    monkeypatch.setattr(store, "package_model_dirs", lambda: [])
    return d


@pytest.fixture(scope="module")
def mobile_checkpoint(tmp_path_factory):
    from gazenet_app.model_zoo import torch_reference as tr

    path = tmp_path_factory.mktemp("ckpt") / "hopenet_mobile.pkl"
    net = tr.randomize_(tr.TorchHopenet("mobilenetv2"), seed=2)
    torch.save(net.state_dict(), path, _use_new_zipfile_serialization=False)
    return path


def test_convert_into_user_folder_then_listed_and_loadable(user_dir, mobile_checkpoint, tmp_path, capsys):
    report = tmp_path / "report.json"
    assert main(["convert", str(mobile_checkpoint), "--input-size", "64", "--verify", "--json", str(report)]) == 0
    card = load_card(user_dir / "hopenet_mobile.json")
    assert card.backbone == "mobilenetv2" and card.input_size == 64 and card.crop == "hopenet_test"
    assert mobile_checkpoint.name in card.source
    doc = json.loads(report.read_text())
    assert doc["verify"]["max_rel_logit_diff"] < 1e-4 and doc["params_sha256"] == card.params_sha256

    from gazenet_app.model_zoo.pose import load_pose_model

    model = load_pose_model("hopenet_mobile")
    assert model.predict_crops(np.zeros((2, 64, 64, 3), np.uint8)).shape == (2, 3)

    # Same name again: refused without --force.
    assert main(["convert", str(mobile_checkpoint), "--input-size", "64"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["convert", str(mobile_checkpoint), "--input-size", "64", "--force"]) == 0


def test_convert_to_explicit_path_and_errors(user_dir, mobile_checkpoint, tmp_path, capsys):
    out = tmp_path / "elsewhere" / "mine.json"
    assert main(["convert", str(mobile_checkpoint), "-o", str(out), "--input-size", "64"]) == 0
    assert out.is_file() and (out.parent / "mine.params").is_file() and not user_dir.exists()
    capsys.readouterr()

    assert main(["convert", str(mobile_checkpoint), "-o", "wrong", "--backbone", "resnet50"]) == 2
    err = capsys.readouterr().err
    assert "error: " in err and "(66, 1280)" in err and "(66, 2048)" in err and "Traceback" not in err

    junk = tmp_path / "notes.pkl"
    junk.write_bytes(pickle.dumps({"epochs": 3}, protocol=2))
    assert main(["convert", str(junk)]) == 2
    assert "not a PyTorch checkpoint" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "absent.pkl")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_output_location_rules(user_dir, tmp_path):
    assert output_location(None, "a/b/hopenet_x.pkl") == (user_dir, "hopenet_x")
    assert output_location("fast", "h.pkl") == (user_dir, "fast")
    assert output_location(str(tmp_path), "h.pkl") == (tmp_path, "h")
    assert output_location(str(tmp_path / "d" / "n.json"), "h.pkl") == (tmp_path / "d", "n")
    assert output_location(str(tmp_path / "d" / "n"), "h.pkl") == (tmp_path / "d", "n")
