"""`gazenet train` end to end on tiny data: train, resume the newest run, export a model with a card, evaluate it
with `gazenet evaluate --model ... --update-card`; the evaluation's numbers are recomputable from predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gazenet_app.cli.main import main
from gazenet_app.training.model_eval import format_mae_table, mae_report


def test_mae_report_counts_unanswered_rows():
    pred = np.array([[1.0, 2.0, 3.0], [np.nan, 0, 0], [0.0, 0.0, 0.0]])
    true = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0], [2.0, 2.0, 6.0]])
    r = mae_report(pred, true)
    assert (r["n"], r["unanswered"]) == (2, 1)
    assert r["yaw"] == pytest.approx(1.5) and r["pitch"] == pytest.approx(2.0) and r["roll"] == pytest.approx(4.5)
    assert r["mean"] == pytest.approx((1.5 + 2.0 + 4.5) / 3)
    assert "1.50" in format_mae_table({"x": r})


@pytest.mark.slow
def test_train_resume_export_evaluate(tiny_pose_dataset, tmp_path, monkeypatch):
    runs, models = tmp_path / "runs", tmp_path / "models"
    monkeypatch.setenv("GAZENET_RUNS_DIR", str(runs))
    common = ["--input-size", "32", "--pack-size", "40", "--batch-size", "8", "--max-batches", "2",
              "--lr", "3e-4", "--freeze-blocks", "4", "--no-progress"]
    assert main(["train", "--data", str(tiny_pose_dataset), "--name", "tiny", "--epochs", "1"] + common) == 0
    assert main(["train", "--resume", "--epochs", "2", "--no-progress"]) == 0  # the newest run, one more epoch
    hist = (runs / "tiny" / "history.jsonl").read_text().splitlines()
    assert [json.loads(h)["epoch"] for h in hist] == [1, 2]
    assert main(["train", "--export", "--name", "tiny", "--model-name", "tiny_test", "--export-dir",
                 str(models)]) == 0
    card_path = models / "tiny_test.json"
    card = json.loads(card_path.read_text())
    assert card["input_size"] == 32 and card["crop"] == "gazenet" and card["training"]["epochs"] == 2
    assert "research use" in card["training"]["license"]
    assert card["training"]["init"].startswith("torchvision ImageNet MobileNetV2")

    out = tmp_path / "eval.json"
    rc = main(["evaluate", str(tiny_pose_dataset), "--model", str(card_path), "--dataset", "labels",
               "--data-dir", str(tiny_pose_dataset), "--json", str(out), "--update-card"])
    assert rc == 0
    rep = json.loads(out.read_text())
    mae = rep["mae"]["labels (tiny_pose)"]
    assert mae["n"] == 48

    # the reported number is what the model predicts on the given boxes
    from gazenet_app.model_zoo.pose import load_pose_model
    from gazenet_app.training.model_eval import predict_table
    from gazenet_app.training.readers import read_labels_csv

    table = read_labels_csv(tiny_pose_dataset)
    pred = predict_table(load_pose_model(str(card_path)), table)
    assert mae["mean"] == pytest.approx(float(np.abs(pred - table.poses).mean()), abs=1e-4)
    updated = json.loads(card_path.read_text())
    entry = updated["eval"]["labels"]["mae_mean"]
    assert entry["n"] == 48 and entry["value"] == pytest.approx(mae["mean"], abs=1e-3)
    assert entry["command"].startswith("gazenet evaluate") and "--model" in entry["command"]
    # the card still matches its weights
    from gazenet_app.model_zoo.store import resolve_model

    assert resolve_model(str(card_path)).name == "tiny_test"
    assert card.get("flip_average") is False and load_pose_model(str(card_path)).flip_average is False
    assert main(["train", "--export", "--name", "tiny", "--model-name", "tiny_flip", "--export-dir",
                 str(models), "--flip-average"]) == 0
    assert load_pose_model(str(models / "tiny_flip.json")).flip_average is True


def test_cli_errors_are_user_facing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAZENET_RUNS_DIR", str(tmp_path / "none"))
    assert main(["train", "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert main(["train", "--name", "x", "--no-progress"]) == 2
    assert "no training data" in capsys.readouterr().err
    assert main(["train", "--export", "--name", "missing"]) == 2
    assert main(["train", "--data", str(tmp_path), "--launch-local", "2"]) == 2
    assert "dist_sync" in capsys.readouterr().err
