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


def _write_old_style_checkpoint(path, root, views):
    """A torch 0.3-era legacy file as the 2018 Hopenet .pkl files are: GPU storages (`torch.cuda.FloatStorage`),
    `torch._utils._rebuild_tensor`, 6-tuple persistent ids with view metadata. Written without torch: the
    classes are pickled under placeholder modules and renamed in the bytes (GLOBAL opcodes are plain text)."""
    import io
    import struct
    import sys
    import types

    class FloatStorage:  # noqa: D401 - stands in for torch.cuda.FloatStorage
        pass

    def _rebuild_tensor(*args):
        raise AssertionError("never called while writing")

    class Tensor:
        def __init__(self, storage, offset, size, stride):
            self.args = (storage, offset, size, stride)

        def __reduce__(self):
            return (_rebuild_tensor, self.args)

    class StorageRef:
        def __init__(self, key, numel, view=None):
            self.key, self.numel, self.view = key, numel, view

    fake = types.ModuleType("gzfakecuda")
    fake.FloatStorage, fake._rebuild_tensor = FloatStorage, _rebuild_tensor
    FloatStorage.__module__ = _rebuild_tensor.__module__ = "gzfakecuda"
    FloatStorage.__qualname__, _rebuild_tensor.__qualname__ = "FloatStorage", "_rebuild_tensor"
    sys.modules["gzfakecuda"] = fake

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, StorageRef):
                return ("storage", FloatStorage, obj.key, "cuda:0", obj.numel, obj.view)
            return None

    def dump(obj):
        buf = io.BytesIO()
        P(buf, protocol=2).dump(obj)
        return buf.getvalue()

    root_ref = StorageRef("140", root.size)
    state = collections.OrderedDict()
    for name, (offset, size, shape) in views.items():
        view = StorageRef("140", root.size, (f"v{name}", offset, size))  # root key + (view key, offset, size)
        state[name] = Tensor(view, 0, shape, tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape))))
    state["whole"] = Tensor(root_ref, 0, (root.size,), (1,))
    try:
        body = dump(state)
    finally:
        del sys.modules["gzfakecuda"]
    body = body.replace(b"gzfakecuda\nFloatStorage", b"torch.cuda\nFloatStorage")
    body = body.replace(b"gzfakecuda\n_rebuild_tensor", b"torch._utils\n_rebuild_tensor")
    with open(path, "wb") as f:
        f.write(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2))
        f.write(pickle.dumps(1001, protocol=2))
        f.write(pickle.dumps({"protocol_version": 1001, "little_endian": True,
                              "type_sizes": {"short": 2, "int": 4, "long": 8}}, protocol=2))
        f.write(body)
        f.write(pickle.dumps(["140"], protocol=2))
        f.write(struct.pack("<q", root.size) + root.astype("<f4").tobytes())


def test_old_gpu_checkpoint_with_storage_views(tmp_path):
    root = np.arange(20, dtype=np.float32)
    path = tmp_path / "hopenet_2018_style.pkl"
    _write_old_style_checkpoint(path, root, {"fc_yaw.weight": (2, 6, (2, 3)), "fc_yaw.bias": (10, 4, (4,))})
    got = read_torch_checkpoint(path)
    np.testing.assert_array_equal(got["fc_yaw.weight"], root[2:8].reshape(2, 3))
    np.testing.assert_array_equal(got["fc_yaw.bias"], root[10:14])
    np.testing.assert_array_equal(got["whole"], root)
    assert got["fc_yaw.weight"].dtype == np.float32
