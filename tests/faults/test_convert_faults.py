"""`gazenet convert` under faults (issue 20, items 5 and 6): a name that an installed model already answers to is
refused; a write that fails (read-only folder, full disk: MXNet's C++ writer or the card's own write) is one
`error:` line, exit 2, and leaves no file behind, temporary or final; so is a bogus $GAZENET_PRECISION."""

from __future__ import annotations

import errno
import os

import pytest

from faults.crafted import write_hopenet_checkpoint
from faults.support import cli


@pytest.fixture
def good_checkpoint(tiny_pose_model, tmp_path_factory):
    """A sound original-layout Hopenet checkpoint (the tiny model's weights under torch's names)."""
    from gazenet_app.model_zoo.weights_io import read_params_file

    path = tmp_path_factory.mktemp("ckpt") / "good.pth"
    write_hopenet_checkpoint(path, read_params_file(tiny_pose_model.with_suffix(".params")))
    return path


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    folder = tmp_path / "user_models"
    monkeypatch.setenv("GAZENET_MODELS_DIR", str(folder))
    return folder


def test_name_of_the_shipped_model_is_refused(good_checkpoint, user_models, capsys):
    from gazenet_app.model_zoo.store import package_model_dirs

    shipped = [p.stem for d in package_model_dirs() for p in d.glob("*.json") if not p.stem.endswith("-symbol")]
    assert shipped, "needs a shipped model"
    code, _, err = cli(["convert", good_checkpoint, "-o", shipped[0]], capsys)
    assert code == 2
    assert err.strip() == (f"error: a model named {shipped[0]!r} is already installed in "
                           f"{package_model_dirs()[0]}, which is searched first: `--model {shipped[0]}` would go on "
                           "loading that one; choose another -o NAME")
    assert not user_models.exists() or not list(user_models.iterdir())


def test_a_new_name_still_converts(good_checkpoint, user_models, capsys):
    code, _, err = cli(["convert", good_checkpoint, "-o", "mine"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in user_models.iterdir()) == ["mine.json", "mine.params"]
    assert "use it with --model mine" in err


def _mxnet_write_fails(monkeypatch):
    """MXNet's writer on a full disk: half a file, then an MXNetError whose text starts with a C++ traceback."""
    import mxnet as mx

    def save_parameters(self, filename, *args, **kw):
        with open(filename, "wb") as fh:
            fh.write(b"\0" * 4096)
        raise mx.base.MXNetError("Traceback (most recent call last):\n  File \"../3rdparty/dmlc-core/src/io/"
                                 "local_filesys.cc\", line 38\nMXNetError: Check failed: std: :fwrite(ptr, 1, size, "
                                 "fp_) == size: FileStream.Write incomplete")

    monkeypatch.setattr(mx.gluon.Block, "save_parameters", save_parameters)
    return "Check failed: std: :fwrite(ptr, 1, size, fp_) == size: FileStream.Write incomplete"


def _card_write_fails(monkeypatch):
    """The card's rename fails (ENOSPC) after the weights were written."""
    real = os.replace

    def replace(src, dst):
        if str(dst).endswith(".json"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return "no space left on the device"


@pytest.mark.parametrize("fault", [_mxnet_write_fails, _card_write_fails])
def test_failed_write_is_one_line_and_leaves_nothing(fault, good_checkpoint, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    why = fault(monkeypatch)
    code, _, err = cli(["convert", good_checkpoint, "-o", out / "m.json"], capsys)
    assert code == 2
    where = f"the model into {out}" if "Check failed" in why else out / "m.json"
    assert err.strip() == f"error: cannot write {where}: {why}"
    assert list(out.iterdir()) == []


def test_bogus_precision_setting_is_one_line(tmp_path, monkeypatch, capsys):
    import cv2
    import numpy as np

    monkeypatch.setenv("GAZENET_PRECISION", "bogus")
    img = tmp_path / "grey.png"
    cv2.imwrite(str(img), np.full((48, 48, 3), 128, np.uint8))
    code, _, err = cli(["predict", img, "--detector", "cascade"], capsys)
    assert code == 2
    assert err == "error: $GAZENET_PRECISION='bogus' is not a precision; valid: auto, fp32, fused, int8\n"
