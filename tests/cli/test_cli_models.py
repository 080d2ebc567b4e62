"""`gazenet models`: lists installed models with their cards and sha256 state; JSON report."""

from __future__ import annotations

import json

from fixtures.models import make_tiny_pose_model
from gazenet_app.cli.main import main




def test_no_models_says_how_to_get_one(user_dir, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "no models installed" in out and str(user_dir) in out and "gazenet convert" in out


def test_lists_models_with_sha_state_and_json(user_dir, tmp_path, capsys):
    make_tiny_pose_model(user_dir, name="tiny_a")
    report = tmp_path / "models.json"
    assert main(["models", "--json", str(report)]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("tiny_a"))
    assert "pose" in line and "mobilenetv2" in line and " 64 " in line and " ok " in line
    assert "default pose model" in out
    doc = json.loads(report.read_text())
    assert doc["default"] == "tiny_a"
    assert doc["models"][0]["card"]["source"] == "test fixture: random weights"
    assert doc["models"][0]["sha_ok"] is True

    params = user_dir / "tiny_a.params"
    params.write_bytes(params.read_bytes()[:-8] + b"\0" * 8)
    assert main(["models"]) == 1
    captured = capsys.readouterr()
    assert "BAD" in captured.out and "tiny_a" in captured.err
    assert main(["models", "--kind", "detector"]) == 0
    assert "no models installed" in capsys.readouterr().out
