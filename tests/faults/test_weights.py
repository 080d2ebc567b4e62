"""Wrong weights: a .params of another architecture, a truncated .params, a card that fails the schema or whose
params_sha256 does not match, .pkl files that are not Hopenet checkpoints. The real loader runs in both front
ends: the CLI exits 2 with one `error: ...` line and writes nothing; in the app the previous model stays active
and keeps estimating."""

from __future__ import annotations

import collections
import json
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from faults.support import cli

TINY = "tiny_mobilenetv2_random"


def _copy_model(src_card: Path, dest: Path) -> Path:
    dest.mkdir()
    for f in src_card.parent.glob(TINY + ".*"):
        shutil.copy(f, dest / f.name)
    return dest / src_card.name


def _edit_card(card: Path, **changes) -> None:
    doc = json.loads(card.read_text())
    doc.update(changes)
    card.write_text(json.dumps(doc))


def _other_architecture(card: Path) -> Path:
    import mxnet as mx

    from gazenet_app.model_zoo.weights_io import file_sha256

    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Conv2D(8, 3, in_channels=3), mx.gluon.nn.Dense(66, in_units=8))
    net.initialize()
    params = card.with_suffix(".params")
    net.save_parameters(str(params))
    _edit_card(card, params_sha256=file_sha256(params))  # the card vouches for the file: only its layout is wrong
    return card


def _truncated(card: Path) -> Path:
    from gazenet_app.model_zoo.weights_io import file_sha256

    params = card.with_suffix(".params")
    params.write_bytes(params.read_bytes()[:5000])
    _edit_card(card, params_sha256=file_sha256(params))
    return card


def _bad_schema(card: Path) -> Path:
    _edit_card(card, bins="sixty-six")
    return card


def _sha_mismatch(card: Path) -> Path:
    _edit_card(card, params_sha256="0" * 64)
    return card


def _garbage_pkl(folder: Path) -> Path:
    path = folder / "garbage.pkl"
    path.write_bytes(np.random.RandomState(0).bytes(1000))
    return path


def _plain_pickle(folder: Path) -> Path:
    path = folder / "plain.pkl"
    with open(path, "wb") as fh:
        pickle.dump({"weights": [1, 2, 3]}, fh, protocol=2)
    return path


def _other_network_pkl(folder: Path) -> Path:
    torch = pytest.importorskip("torch", reason="writing a torch checkpoint needs torch")
    path = folder / "resnet_classifier.pkl"
    torch.save(collections.OrderedDict([("conv1.weight", torch.randn(4, 3, 3, 3)), ("fc.weight", torch.randn(10, 4))]),
               path)
    return path


# (id, how to make it, full-line regex of the message; {p} is the file)
CASES = [
    ("other_architecture", _other_architecture,
     r"{p} do not fit the mobilenetv2 network: 266 parameter\(s\) missing from the file, e\.g\. "
     r"backbone\.features\.0\.0\.weight, .*; 4 unexpected parameter\(s\) in the file, e\.g\. 0\.weight, .*"),
    ("truncated_params", _truncated,
     r"{p} is not a readable MXNet \.params file \(truncated or damaged\?\): "
     r"Check failed: fi->Read\(data\): Invalid NDArray file format"),
    ("card_fails_schema", _bad_schema, r"{c}: model card '" + TINY + r"': bins must be a positive integer"),
    ("sha256_mismatch", _sha_mismatch,
     r"model '" + TINY + r"': {p} does not match its card \(sha256 [0-9a-f]{{12}}\.\.\. but the card says "
     r"000000000000\.\.\.\); the file is damaged or belongs to another model: reinstall or reconvert it"),
    ("garbage_pkl", _garbage_pkl,
     r"{f} is not a readable PyTorch checkpoint \(UnpicklingError: invalid load key, .*\.\)"),
    ("plain_pickle", _plain_pickle,
     r"{f} is not a PyTorch checkpoint \(a pickle of dict, not a state dict saved by torch\.save\)"),
    ("other_network_pkl", _other_network_pkl,
     r"the checkpoint is neither a ResNet \(layer1\.\*\) nor a MobileNetV2 \(features\.\*\) Hopenet; "
     r"its first names are conv1\.weight, fc\.weight"),
]


@pytest.fixture(scope="module")
def bad_weights(tiny_pose_model, tmp_path_factory):
    """{case id: (path to pass as --model, message regex)}."""
    root = tmp_path_factory.mktemp("bad_weights")
    out = {}
    for case, make, pattern in CASES:
        if case.endswith("pkl") or case == "plain_pickle":
            folder = root / case
            folder.mkdir()
            path = make(folder)
            regex = pattern.format(f=re.escape(str(path)))
        else:
            path = make(_copy_model(tiny_pose_model, root / case))
            regex = pattern.format(p=re.escape(str(path.with_suffix(".params"))), c=re.escape(str(path)))
        out[case] = (path, regex)
    return out


IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("case", IDS)
def test_bad_weights_cli(case, bad_weights, fake_detector_cli, synthetic_clip, tmp_path, capsys):
    path, regex = bad_weights[case]
    out = tmp_path / "out"
    code, stdout, err = cli(["annotate", synthetic_clip.path, "-o", out / "o.csv", "--model", path,
                             "--no-progress"], capsys)
    assert code == 2 and stdout == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err
    assert re.fullmatch(regex, err[len("error: "):-1]), err
    assert not out.exists()  # nothing written: the model fails before any output is opened


@pytest.fixture(scope="module")
def tiny_worker_options(tiny_pose_model):
    from gazenet_app.ui.backend import WorkerOptions

    return WorkerOptions(detector="fake", realtime=False, model=str(tiny_pose_model))


@pytest.mark.parametrize("case", IDS)
def test_bad_weights_keep_the_previous_model_worker(case, bad_weights, tiny_worker_options, make_backend,
                                                    start_worker, qtbot, synthetic_clip):
    path, regex = bad_weights[case]
    ctl = start_worker(make_backend(default=None), tiny_worker_options)
    assert ctl.worker._model_name == TINY
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=20000):
        ctl.open_source(str(synthetic_clip.path), play=False)
    with qtbot.waitSignal(ctl.events.failed, timeout=20000) as failed:
        ctl.set_options(model=str(path))
    first, second = failed.args[0].split("\n")
    prefix = f"could not load {path}: "
    assert first.startswith(prefix) and re.fullmatch(regex, first[len(prefix):]), first
    assert second == f"The active model is still {TINY}."
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000) as state:
        ctl.set_options(show_cube=True)
    assert state.args[0].model == TINY
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=20000) as more:
        ctl.step()  # and the previous model still estimates
    assert more.args[0].index == 1 and all(f.pose is not None for f in more.args[0].faces)


# ---- names that resolve to nothing (moved here from tests/cli/test_annotate_cli.py, tests/ui/test_worker.py) --

def test_unknown_model_cli(fake_detector_cli, synthetic_clip, tmp_path, capsys):
    code, stdout, err = cli(["annotate", synthetic_clip.path, "-o", tmp_path / "o.csv", "--model", "no_such_model",
                             "--no-progress"], capsys)
    assert code == 2 and stdout == "" and len(err.splitlines()) == 1
    assert err.startswith("error: ") and "'no_such_model'" in err and "gazenet convert" in err
    assert list(tmp_path.iterdir()) == []


def test_unknown_model_and_detector_keep_the_previous_ones_worker(tiny_worker_options, make_backend, start_worker,
                                                                   qtbot):
    ctl = start_worker(make_backend(default=None), tiny_worker_options)
    with qtbot.waitSignal(ctl.events.failed, timeout=20000) as failed:
        ctl.set_options(model="no_such_model")
    first, second = failed.args[0].split("\n")
    assert first.startswith("could not load no_such_model: ") and "gazenet convert" in first
    assert second == f"The active model is still {TINY}."
    with qtbot.waitSignal(ctl.events.failed, timeout=20000) as failed:
        ctl.set_options(detector="nope")
    from gazenet_app.detect.registry import get_detector_list

    assert failed.args[0] == f"unknown detector 'nope'; valid: {', '.join(get_detector_list())}"
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000) as state:
        ctl.set_options(show_text=False)
    assert (state.args[0].model, state.args[0].detector) == (TINY, "fake")


# ---- the good case beside the bad ones: an original Hopenet checkpoint loads where weights are accepted ----

@pytest.fixture(scope="module")
def hopenet_pkl(tmp_path_factory):
    """An original-layout MobileNetV2 Hopenet checkpoint (random weights), as `torch.save` writes it."""
    torch = pytest.importorskip("torch", reason="writing a torch checkpoint needs torch")
    from gazenet_app.model_zoo import torch_reference as tr

    net = tr.randomize_(tr.TorchHopenet("mobilenetv2"), seed=11).eval()
    path = tmp_path_factory.mktemp("hopenet") / "hopenet mobile.pkl"
    torch.save(net.state_dict(), path)
    return path


def test_original_checkpoint_loads_cli(hopenet_pkl, fake_detector_cli, synthetic_clip, tmp_path, capsys):
    out = tmp_path / "o.csv"
    code, stdout, err = cli(["annotate", synthetic_clip.path, "-o", out, "--model", hopenet_pkl, "--end", "2",
                             "--no-progress"], capsys)
    assert code == 0, err
    assert stdout == f"2 frames, 4 faces, 4 rows -> {out}\n"
    meta = json.loads((tmp_path / "o.meta.json").read_text())
    assert meta["model"]["name"] == "hopenet_mobile" and meta["model"]["input_size"] == 112


def test_original_checkpoint_loads_worker(hopenet_pkl, tiny_worker_options, make_backend, start_worker, qtbot):
    ctl = start_worker(make_backend(default=None), tiny_worker_options)
    with qtbot.waitSignal(ctl.events.state_changed, timeout=60000,
                          check_params_cb=lambda s: s.model == "hopenet_mobile") as state:
        ctl.set_options(model=str(hopenet_pkl))
    assert state.args[0].model_info["input_size"] == 112
