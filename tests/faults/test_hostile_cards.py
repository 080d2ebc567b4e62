"""Hostile model cards (issue 20, items 4 and 5): a malformed card in the user model folder is skipped with a
warning naming it, and every other command keeps working; only regular files of at most 1 MiB are read (a FIFO
named *.json never blocks); every number in a card is finite and inside its field's range."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from faults.support import cli
from gazenet_app.core.errors import CardError
from gazenet_app.model_zoo.card import load_card, validate_card

TINY = "tiny_mobilenetv2_random"


def _write_raw(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.json"
    path.write_text(text)
    return path


def _card_text(template: dict, **changes) -> str:
    doc = dict(template, **changes)
    return json.dumps(doc)


#: name -> what to write as NAME.json: raw text, or changes to a valid card (json.dumps writes NaN/Infinity).
BAD_CARDS = {
    "digits": lambda t: _card_text(t, name="digits").replace('"bins": 66', '"bins": ' + "9" * 5000),
    "nested": lambda t: "[" * 200000 + "]" * 200000,
    "nested_extra": lambda t: _card_text(t, name="nested_extra").replace(
        '"eval": {}', '"eval": {}, "extra": ' + '{"x": ' * 600 + "1" + "}" * 600),
    "huge": lambda t: _card_text(t, name="huge", description="x" * (2 << 20)),
    "nan_mean": lambda t: _card_text(t, name="nan_mean", mean=[float("nan"), 0.4, 0.4]),
    "inf_std": lambda t: _card_text(t, name="inf_std", std=[float("inf"), 0.2, 0.2]),
    "overflow_mean": lambda t: _card_text(t, name="overflow_mean").replace('"mean": [0.485', '"mean": [1e400'),
    "input_1": lambda t: _card_text(t, name="input_1", input_size=1),
    "input_1e12": lambda t: _card_text(t, name="input_1e12", input_size=10 ** 12),
}


@pytest.fixture
def hostile_user_dir(tiny_pose_model, tmp_path, monkeypatch):
    """A user model folder holding the tiny model, every bad card above and a FIFO named fifo.json."""
    folder = tmp_path / "models"
    folder.mkdir()
    for f in tiny_pose_model.parent.glob(TINY + ".*"):
        shutil.copy(f, folder / f.name)
    template = json.loads(tiny_pose_model.read_text())
    for name, make in BAD_CARDS.items():
        _write_raw(folder, name, make(template))
        shutil.copy(folder / f"{TINY}.params", folder / f"{name}.params")
    os.mkfifo(folder / "fifo.json")
    monkeypatch.setenv("GAZENET_MODELS_DIR", str(folder))
    return folder


def _warned_names(err: str) -> set:
    return {name for name in list(BAD_CARDS) + ["fifo"] if any(
        f"{name}.json" in ln and "warning" in ln.lower() for ln in err.splitlines())}


def test_models_lists_the_good_model_and_names_each_bad_card(hostile_user_dir, capsys):
    code, out, err = cli(["models", "--no-verify"], capsys)
    assert code == 0, err
    assert TINY in out and "hopenet_mnv2_96" in out
    assert not any(name in out for name in BAD_CARDS)
    assert _warned_names(err) == set(BAD_CARDS) | {"fifo"}, err
    assert "Traceback" not in err


def _grey_image(folder: Path) -> Path:
    import cv2

    img = folder / "grey.png"
    cv2.imwrite(str(img), np.full((48, 48, 3), 128, np.uint8))
    return img


def test_predict_with_the_default_model_ignores_the_bad_cards(hostile_user_dir, tmp_path, capsys):
    code, out, err = cli(["predict", _grey_image(tmp_path), "--detector", "cascade"], capsys)
    assert code == 0, err
    assert "no face" in out
    assert "Traceback" not in err


@pytest.mark.parametrize("name, message", [
    ("fifo", r"fifo\.json is a FIFO \(named pipe\), not a regular file"),
    ("digits", r"digits\.json is not valid JSON: Exceeds the limit \(4300 digits\)"),
    ("nested", r"nested\.json is not valid JSON: nested too deeply"),
    ("nested_extra", r"nested_extra\.json is nested more than 32 levels deep"),
    ("huge", r"huge\.json is \d+ bytes, more than the 1048576 read here"),
    ("nan_mean", r"mean\[0\] must be finite"),
    ("inf_std", r"std\[0\] must be finite"),
    ("overflow_mean", r"mean\[0\] must be finite"),
    ("input_1", r"input_size must be within \[32, 2048\]"),
    ("input_1e12", r"input_size must be within \[32, 2048\]"),
])
def test_each_bad_card_is_one_card_error(hostile_user_dir, name, message):
    with pytest.raises(CardError, match=message):
        load_card(hostile_user_dir / f"{name}.json")


def test_naming_a_bad_card_is_one_error_line(hostile_user_dir, tmp_path, capsys):
    code, _, err = cli(["predict", _grey_image(tmp_path), "--model", "input_1e12"], capsys)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: ") and "input_size must be within" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("changes, message", [
    ({"bin_width": 0.0}, r"bin_width must be within"),
    ({"angle_offset": 1e9}, r"angle_offset must be within"),
    ({"bins": 10 ** 7}, r"bins must be within"),
    ({"mean": [0.5, 0.5, 300.0]}, r"mean must be within \[0, 1\]"),
    ({"std": [1e-9, 0.2, 0.2]}, r"std must be within"),
    ({"training": {"data": "d", "license": "l", "epochs": float("inf")}}, r"training\.epochs must be finite"),
    ({"eval": {"d": {"m": {"value": float("nan"), "n": 3, "label_source": "human", "command": "c"}}}},
     r"eval\.d\.m\.value must be finite"),
])
def test_validate_card_bounds_every_number(tiny_pose_model, changes, message):
    card = dict(json.loads(tiny_pose_model.read_text()), **changes)
    with pytest.raises(CardError, match=message):
        validate_card(card)
