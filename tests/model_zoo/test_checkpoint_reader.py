"""The torch-free checkpoint reader: refuses what is not a state dict, never runs pickled code."""

from __future__ import annotations

import collections
import pickle
import zipfile

import numpy as np
import pytest

from gazenet_app.core.errors import ModelLoadError
from gazenet_app.model_zoo.weights_io import hopenet_to_gluon, read_torch_checkpoint, torchvision_to_gluon


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


@pytest.mark.parametrize("payload, message", [
    ({"a": np.zeros(3)}, "numpy"),                    # a pickle of numpy arrays: refuses the class
    ({"weights": [1, 2, 3]}, "not a PyTorch checkpoint"),  # a plain pickle without torch's magic number
    (_Evil(), "posix.system|nt.system|os.system"),        # code in a pickle is never run
])
def test_non_checkpoint_pickles_are_refused(tmp_path, payload, message):
    path = tmp_path / "thing.pkl"
    with open(path, "wb") as f:
        pickle.dump(payload, f, protocol=2)
    with pytest.raises(ModelLoadError, match=message):
        read_torch_checkpoint(path)


def test_garbage_missing_and_foreign_zip(tmp_path):
    (tmp_path / "noise.pkl").write_bytes(np.random.RandomState(0).bytes(1000))
    with pytest.raises(ModelLoadError, match="noise.pkl"):
        read_torch_checkpoint(tmp_path / "noise.pkl")
    with pytest.raises(ModelLoadError, match="does not exist"):
        read_torch_checkpoint(tmp_path / "absent.pkl")
    with zipfile.ZipFile(tmp_path / "other.pth", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ModelLoadError, match="no data.pkl"):
        read_torch_checkpoint(tmp_path / "other.pth")


def test_truncated_legacy_checkpoint_and_torch_formats(tmp_path):
    torch = pytest.importorskip("torch", reason="writing checkpoints needs torch")
    state = collections.OrderedDict(
        w=torch.randn(4, 3).t(),                 # non-contiguous view
        b=torch.arange(10)[2:7],                 # offset into a shared storage
        n=torch.tensor(5),                       # 0-d (like num_batches_tracked)
        h=torch.randn(2, 2).half(), bf=torch.randn(3).bfloat16(), m=torch.tensor([True, False]))
    for zip_format in (False, True):
        path = tmp_path / f"s{int(zip_format)}.pt"
        torch.save(state, path, _use_new_zipfile_serialization=zip_format)
        got = read_torch_checkpoint(path)
        assert list(got) == list(state)
        for k, v in state.items():
            np.testing.assert_array_equal(got[k], (v.float() if k == "bf" else v).numpy(), err_msg=k)
    data = (tmp_path / "s0.pt").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) - 20])
    with pytest.raises(ModelLoadError, match="truncated"):
        read_torch_checkpoint(tmp_path / "cut.pkl")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pkl", _use_new_zipfile_serialization=False)
    with pytest.raises(ModelLoadError, match="torch.nn"):
        read_torch_checkpoint(tmp_path / "module.pkl")


def test_name_maps():
    sd = collections.OrderedDict([
        ("conv1.weight", np.zeros((64, 3, 7, 7))), ("bn1.weight", np.ones(64)), ("bn1.bias", np.zeros(64)),
        ("bn1.running_mean", np.zeros(64)), ("bn1.running_var", np.ones(64)),
        ("bn1.num_batches_tracked", np.array(3)), ("fc_yaw.weight", np.zeros((66, 2048))),
        ("fc_yaw.bias", np.zeros(66)), ("fc_finetune.weight", np.zeros((3, 2051)))])
    out = hopenet_to_gluon(sd)
    assert list(out) == ["backbone.conv1.weight", "backbone.bn1.gamma", "backbone.bn1.beta",
                         "backbone.bn1.running_mean", "backbone.bn1.running_var", "fc_yaw.weight", "fc_yaw.bias"]
    tv = torchvision_to_gluon({"features.0.1.weight": np.ones(3), "features.0.1.running_mean": np.zeros(3),
                               "classifier.1.weight": np.ones((2, 3))})
    assert set(tv) == {"features.0.1.gamma", "features.0.1.running_mean", "classifier.1.weight"}
