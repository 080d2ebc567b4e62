"""Crafted PyTorch checkpoints (issue 20, item 2): every tensor's size, stride and offset are checked against its
storage before anything is read or allocated, so a hostile file gives one `ModelLoadError` line instead of a
segmentation fault, heap bytes under a sha256-vouched card, or a MemoryError traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from faults.crafted import Tensor, write_legacy_checkpoint, write_zip_checkpoint
from gazenet_app.core.errors import ModelLoadError
from gazenet_app.model_zoo.weights_io import MAX_CHECKPOINT_ELEMENTS, read_torch_checkpoint

STORE = {"0": np.arange(66, dtype=np.float32)}

HOSTILE = {
    # stride -1 from offset 0: the old check (last element only) passed it and read 65 floats before the storage
    "negative stride": Tensor("0", 0, (66,), (-1,)),
    # mixed strides whose last element is inside but whose (1, 0) element is not
    "mixed strides": Tensor("0", 2, (2, 33), (64, -1)),
    "offset past the storage": Tensor("0", 66, (1,), (1,)),
    "negative offset": Tensor("0", -5, (3,), (1,)),
    "negative size": Tensor("0", 0, (-3,), (1,)),
    "last element past the storage": Tensor("0", 1, (66,), (1,)),
    # a 3.5 PiB broadcast of one element (stride 0): a MemoryError traceback before
    "absurd broadcast": Tensor("0", 0, (2 ** 25, 2 ** 25), (0, 0)),
}


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_tensor_outside_its_storage_is_refused(tmp_path, fmt, case):
    path = tmp_path / f"crafted.{'pth' if fmt == 'zip' else 'pkl'}"
    write = write_zip_checkpoint if fmt == "zip" else write_legacy_checkpoint
    write(path, {"fc_yaw.bias": HOSTILE[case]}, STORE)
    with pytest.raises(ModelLoadError, match=r"^.*crafted\.(pth|pkl): .*the checkpoint is truncated, corrupt or "
                                             r"crafted$"):
        read_torch_checkpoint(path)


def test_the_same_storage_read_correctly_when_the_tensors_are_sound(tmp_path):
    """The checks refuse only what addresses outside the storage: strided, offset and broadcast views still read."""
    tensors = {"t": Tensor("0", 1, (2, 3), (1, 2)), "o": Tensor("0", 60, (6,), (1,)),
               "b": Tensor("0", 5, (3, 2), (0, 1)), "e": Tensor("0", 66, (0,), (1,))}
    for fmt, write in (("pth", write_zip_checkpoint), ("pkl", write_legacy_checkpoint)):
        write(tmp_path / f"ok.{fmt}", tensors, STORE)
        got = read_torch_checkpoint(tmp_path / f"ok.{fmt}")
        data = STORE["0"]
        np.testing.assert_array_equal(got["t"], [[1, 3, 5], [2, 4, 6]])
        np.testing.assert_array_equal(got["o"], data[60:66])
        np.testing.assert_array_equal(got["b"], [[5, 6], [5, 6], [5, 6]])
        assert got["e"].shape == (0,)


def test_legacy_storage_claiming_2_to_the_40_elements_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.pkl"
    write_legacy_checkpoint(path, {"w": Tensor("0", 0, (4,), (1,))}, STORE, claimed={"0": 2 ** 40})
    with pytest.raises(ModelLoadError, match=r"storage 0 claims 1099511627776 elements"):
        read_torch_checkpoint(path)


def test_legacy_storage_claiming_more_than_the_file_holds_is_truncated(tmp_path):
    path = tmp_path / "short.pkl"
    write_legacy_checkpoint(path, {"w": Tensor("0", 0, (4,), (1,))}, STORE, claimed={"0": 1000})
    with pytest.raises(ModelLoadError, match=r"is truncated: storage 0 has 0 of 4000 bytes"):
        read_torch_checkpoint(path)


def test_many_small_broadcasts_are_capped_together(tmp_path):
    """Each tensor under the cap, all of them together over it: refused before the first is allocated."""
    side = int(np.sqrt(MAX_CHECKPOINT_ELEMENTS // 2)) + 1
    tensors = {f"b{i}": Tensor("0", 0, (side, side), (0, 0)) for i in range(3)}
    write_zip_checkpoint(tmp_path / "many.pth", tensors, STORE)
    with pytest.raises(ModelLoadError, match="its tensors hold more than 268435456 elements together"):
        read_torch_checkpoint(tmp_path / "many.pth")


def test_old_style_view_outside_its_root_storage_is_refused(tmp_path):
    path = tmp_path / "view.pkl"
    write_legacy_checkpoint(path, {"w": Tensor("0", 0, (10,), (1,), view=("v", 60, 10))}, STORE)
    with pytest.raises(ModelLoadError, match=r"storage v is a view \[60, 70\) of storage 0 which has 66 elements"):
        read_torch_checkpoint(path)


@pytest.mark.parametrize("command", [["convert", "{ckpt}", "-o", "{out}/m"],
                                     ["predict", "{img}", "--model", "{ckpt}", "--detector", "cascade"]])
def test_cli_gives_one_line_instead_of_a_segfault(tmp_path, command):
    """A stride of -10**9 made `convert` and `predict --model` die with SIGSEGV (run in a child for that reason)."""
    import cv2

    ckpt = tmp_path / "segv.pth"
    write_zip_checkpoint(ckpt, {"fc_yaw.weight": Tensor("0", 10 ** 9, (2, 3), (-10 ** 9, 1))}, STORE)
    cv2.imwrite(str(tmp_path / "img.png"), np.zeros((32, 32, 3), np.uint8))
    argv = [a.format(ckpt=ckpt, out=tmp_path, img=tmp_path / "img.png") for a in command]
    proc = subprocess.run([sys.executable, "-c", "import sys; from gazenet_app.cli.main import main; "
                           "sys.exit(main(sys.argv[1:]))", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]  # MXNet may log its engine
    assert len(errors) == 1 and errors[0].endswith("crafted") and "Traceback" not in proc.stderr, proc.stderr
    assert not list(tmp_path.glob("m*")), "convert wrote something"
