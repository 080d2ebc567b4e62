"""The CLI's flags reach the one PipelineConfig: photos vs `--sequence` in annotate and predict, and the same
precision for the same model in annotate, predict, evaluate and the app's backend."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from fixtures.fakes import CarryingTracker, FakeDetector, FakePoseModel
from gazenet_app.cli.main import main
from gazenet_app.core.types import FaceBox
from gazenet_app.core.video import write_image

SHIPPED = "hopenet_mnv2_96"  # shipped with its fused and int8 exports


@pytest.fixture
def photos(tmp_path):
    """Three photos of a folder (the same picture; the fake detector finds a face on its first call only)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    rgb = np.random.RandomState(0).randint(0, 255, (96, 128, 3)).astype(np.uint8)
    for name in ("p1.png", "p2.png", "p3.png"):
        write_image(folder / name, rgb)
    return folder


@pytest.fixture
def carrying_cli(monkeypatch):
    """The CLI with a detector that finds one face on its first call only, a fake pose model, and a tracker that
    carries every face it saw: rows after the first photo can only come from carrying."""
    import gazenet_app.cli.common as common
    import gazenet_app.pipeline as pipeline

    calls = []

    def boxes(rgb):
        calls.append(1)
        return [FaceBox(20, 20, 70, 70, 0.9)] if len(calls) == 1 else []

    monkeypatch.setattr(common, "build_detector", lambda args: FakeDetector(boxes))
    monkeypatch.setattr(pipeline, "_load_model", lambda cfg: FakePoseModel())
    monkeypatch.setattr(pipeline, "_default_tracker", CarryingTracker)


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("sequence", [False, True])
def test_annotate_folder_photos_vs_sequence(carrying_cli, photos, tmp_path, sequence):
    out = tmp_path / "o.csv"
    flags = ["--sequence"] if sequence else []
    assert main(["annotate", str(photos), "-o", str(out), "--no-progress", *flags]) == 0
    rows = _rows(out)
    if sequence:  # frames of one video: the face is carried, and the CSV says so
        assert [(r["source"], r["tracked_only"]) for r in rows] == [("p1.png", "false"), ("p2.png", "true"),
                                                                    ("p3.png", "true")]
    else:  # independent photos: no row where nothing was detected
        assert [(r["source"], r["tracked_only"]) for r in rows] == [("p1.png", "false")]
    meta = json.loads((tmp_path / "o.meta.json").read_text())
    assert meta["sequence"] is sequence and meta["format_version"] == 2


@pytest.mark.parametrize("sequence", [False, True])
def test_predict_photos_vs_sequence(carrying_cli, photos, tmp_path, sequence):
    out = tmp_path / "p.json"
    flags = ["--sequence"] if sequence else []
    assert main(["predict", str(photos), "--json", str(out), *flags]) == 0
    faces = [len(rec["faces"]) for rec in json.loads(out.read_text())["images"]]
    assert faces == ([1, 1, 1] if sequence else [1, 0, 0])


@pytest.mark.slow
def test_annotate_predict_evaluate_and_app_run_the_same_precision(photos, tmp_path, capsys, monkeypatch):
    pytest.importorskip("mxnet")
    from gazenet_app.model_zoo.modes import ENV_PRECISION, choose_mode, list_modes
    from gazenet_app.model_zoo.store import resolve_model
    from gazenet_app.ui.backend import PipelineBackend, WorkerOptions

    monkeypatch.delenv(ENV_PRECISION, raising=False)
    expected = choose_mode(list_modes(resolve_model(SHIPPED, verify=False))).card.precision
    image = str(photos / "p1.png")
    assert main(["annotate", image, "-o", str(tmp_path / "a.csv"), "--model", SHIPPED, "--no-progress"]) == 0
    annotate = json.loads((tmp_path / "a.meta.json").read_text())["model"]["precision"]
    assert main(["predict", image, "--model", SHIPPED, "--json", str(tmp_path / "p.json")]) == 0
    predict = json.loads((tmp_path / "p.json").read_text())["provenance"]["model"]["precision"]
    capsys.readouterr()
    main(["evaluate", "--model", SHIPPED])  # prints the precision it ran, then: nothing to evaluate
    evaluate = capsys.readouterr().out.split("precision ")[1].split(",")[0]
    app = PipelineBackend().build_pipeline(WorkerOptions(model=SHIPPED, detector="cascade")).describe()
    assert annotate == predict == evaluate == app["model"]["precision"] == expected
