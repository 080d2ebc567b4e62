"""`gazenet bench` at tiny sizes: it runs, prints the table and writes the JSON schema (figures not asserted)."""

from __future__ import annotations

import json

import pytest

from fixtures.models import make_tiny_pose_model
from gazenet_app.cli.main import main

ROW_KEYS = {"mode", "backbone", "input", "batch", "ms_per_face", "faces_per_s", "ratio_to_torch",
            "same_architecture", "mae_delta"}
PIPELINE_KEYS = {"faces", "fps", "mode", "detect_every", "preset"}
TINY = ["bench", "--backbone", "mobilenetv2", "--input-size", "32", "--batches", "1,2", "--rounds", "2",
        "--warmup", "1", "--calib", "4"]


def test_flip_averaged_model_is_timed_on_the_doubled_batch(user_dir):
    import numpy as np

    from gazenet_app.benchmark.networks import model_candidates
    from gazenet_app.model_zoo.store import resolve_model

    make_tiny_pose_model(user_dir, name="tiny_flip", flip_average=True)
    (c,) = model_candidates(resolve_model("tiny_flip"), modes=("fp32",))
    assert c.notes["flip_average"] is True
    x = c.make_input(3)
    out = c.forward(x)
    assert out.shape[0] == 6  # the crops and their mirror images, one forward
    mirrored = c.forward(np.flip(x, axis=3))
    np.testing.assert_allclose(mirrored[:3], out[3:], atol=1e-4)


def test_rows_schema_ratios_and_what_is_not_shipped(user_dir, tmp_path, capsys):
    make_tiny_pose_model(user_dir, name="tiny_default")
    out = tmp_path / "bench.json"
    assert main(TINY + ["--no-pipeline", "--no-memory", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert {"machine", "rows", "pipeline", "memory", "threads"} <= set(doc)
    assert doc["machine"]["usable_cpus"] >= 1 and doc["threads"]["requested"] >= 1
    timed = [r for r in doc["rows"] if not r.get("skipped")]
    assert all(ROW_KEYS <= set(r) for r in doc["rows"])
    same = [r for r in timed if r["same_architecture"]]
    assert {(r["mode"], r["batch"]) for r in same} == {(m, b) for m in ("torch", "fp32", "fused", "int8")
                                                      for b in (1, 2)}
    assert all(r["mae_delta"].startswith("not applicable") for r in same)  # random weights: no accuracy cost
    assert all(r["ratio_to_torch"] == 1.0 for r in same if r["mode"] == "torch")
    assert all(r["ratio_to_torch"] > 0 and r["ms_per_face"] > 0 and r["faces_per_s"] > 0 for r in timed)
    own = [r for r in doc["rows"] if not r["same_architecture"]]
    fp32 = [r for r in own if r["mode"] == "fp32"]
    assert len(fp32) == 2 and all(r["mae_delta"] == 0.0 and r["input"] == 64 for r in fp32)
    skipped = {r["mode"]: r["skipped"] for r in own if r.get("skipped")}
    assert set(skipped) == {"fused", "int8"} and "build_fast_modes.py" in skipped["int8"]
    assert doc["pipeline"] == [] and doc["memory"] == {}
    text = capsys.readouterr().out
    assert "x PyTorch" in text and "default model tiny_default" in text and "same architecture" in text


def test_no_model_and_no_photos_are_said_not_invented(user_dir, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--no-reference", "--faces", str(tmp_path / "none"), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["rows"] == []
    assert any("no default model is installed" in n for n in doc["notes"])
    assert len(doc["pipeline"]) == 4 and all(PIPELINE_KEYS <= set(p) for p in doc["pipeline"])
    assert all(p["fps"] is None and "no clip" in p["skipped"] for p in doc["pipeline"])
    assert {p["detect_every"] for p in doc["pipeline"]} == {1, 5} and {p["faces"] for p in doc["pipeline"]} == {1, 5}
    assert doc["memory"]["annotate"]["skipped"] and doc["memory"]["app"]["skipped"]


def test_bad_modes_and_batches_are_usage_errors(user_dir, capsys):
    assert main(["bench", "--modes", "fp16"]) == 2
    assert "unknown --modes fp16" in capsys.readouterr().err
    assert main(["bench", "--batches", "1,x"]) == 2


@pytest.mark.shared
@pytest.mark.slow
def test_end_to_end_and_memory_rows_with_real_faces(user_dir, faces_dir, tmp_path):
    make_tiny_pose_model(user_dir, name="tiny_default")
    out = tmp_path / "bench.json"
    assert main(["bench", "--no-reference", "--batches", "1", "--rounds", "2", "--faces", str(faces_dir),
                 "--frames", "8", "--warmup-frames", "2", "--detect-every", "3", "--long", "6",
                 "--no-app-memory", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    rows = {(p["faces"], p["detect_every"]): p for p in doc["pipeline"]}
    assert set(rows) == {(1, 1), (1, 3), (5, 1), (5, 3)}
    for (faces, _), p in rows.items():
        assert PIPELINE_KEYS <= set(p) and p["fps"] > 0 and p["preset"] == "live" and p["frames"] == 6
        assert p["model"] == "tiny_default" and p["faces_per_frame_median"] == faces
        assert {"decode", "detect", "pose", "draw"} <= set(p["stage_ms_median"])
    mem = doc["memory"]["annotate"]
    assert mem["returncode"] == 0 and mem["peak_rss_mb"] > 50 and mem["frames"] == 6
    assert doc["memory"]["app"]["skipped"] == "--no-app-memory"


def test_torch_threads_are_restored_after_the_bench():
    torch = pytest.importorskip("torch")
    from gazenet_app.benchmark.networks import torch_threads

    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    with torch_threads(other):
        assert torch.get_num_threads() == other
    assert torch.get_num_threads() == before  # MXNet kernels made under `before` stay valid
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_package_sets_the_openmp_thread_count_before_mxnet_loads():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    code = "import os, gazenet_app; print(os.environ['OMP_NUM_THREADS'], len(os.sched_getaffinity(0)))"
    got, cpus = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                               check=True).stdout.split()
    assert got == cpus
    env["OMP_NUM_THREADS"] = "1"  # the user's setting wins
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.split()[0] == "1"
