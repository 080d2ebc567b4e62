"""`gazenet` entry point: version, subcommand table, error handling (exit 2, `error: ...`, no traceback)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gazenet_app.cli import main as cli_main
from gazenet_app.cli.common import parse_device
from gazenet_app.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def test_version(capsys):
    from gazenet_app import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gazenet {__version__}"


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "usage: gazenet" in capsys.readouterr().err


def test_predict_and_annotate_are_registered():
    sub = next(a for a in cli_main.build_parser()._actions if a.dest == "command")
    assert {"predict", "annotate"} <= set(sub.choices)
    for name, p in sub.choices.items():
        assert callable(p.get_default("func")), name


def test_missing_subcommand_module_is_skipped_but_broken_one_is_not(monkeypatch):
    real = importlib.import_module

    def fake(name, *a):
        if name == "gazenet_app.cli.bench":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        if name == "gazenet_app.cli.predict":
            raise ModuleNotFoundError("No module named 'somedependency'", name="somedependency")
        return real(name, *a)

    monkeypatch.setattr(cli_main.importlib, "import_module", fake)
    with pytest.raises(ModuleNotFoundError, match="somedependency"):
        cli_main.build_parser()


@pytest.mark.parametrize("text,expect", [("cpu", "cpu"), ("GPU:0", "gpu:0"), ("gpu:0, gpu:1", "gpu:0,gpu:1")])
def test_device_flag(text, expect):
    assert parse_device(text) == expect


@pytest.mark.parametrize("text", ["cuda", "gpu", "gpu:x", "cpu,gpu:0"])
def test_bad_device_flag(text, capsys):
    assert main(["annotate", "x.avi", "-o", "o.csv", "--device", text]) == 2
    assert "invalid device" in capsys.readouterr().err


def test_annotate_needs_an_output(tmp_path, capsys):
    assert main(["annotate", str(tmp_path)]) == 2
    assert "error: give an output: -o OUT.csv" in capsys.readouterr().err


def test_expected_error_in_a_real_process_has_no_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "gazenet_app.cli.main", "predict", str(tmp_path / "missing.png")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == f"error: image not found: {tmp_path / 'missing.png'}\n"
    assert "Traceback" not in proc.stderr and proc.stdout == ""
