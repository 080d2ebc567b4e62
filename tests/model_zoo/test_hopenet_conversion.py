"""Original-layout torch Hopenet (every parameter and BN buffer random) -> checkpoint -> Gluon: same logits."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch equivalence tests need the convert extra")

import mxnet as mx  # noqa: E402

from gazenet_app.core.geometry import decode_bins  # noqa: E402
from gazenet_app.core.transforms import normalize  # noqa: E402
from gazenet_app.model_zoo import torch_reference as tr  # noqa: E402
from gazenet_app.model_zoo.conversion import convert_hopenet_checkpoint, guess_backbone  # noqa: E402
from gazenet_app.model_zoo.pose import PoseEstimator, load_hopenet_checkpoint, load_pose_model  # noqa: E402
from gazenet_app.model_zoo.weights_io import read_torch_checkpoint, save_model  # noqa: E402

SIZE = 64


@pytest.fixture(scope="module")
def torch_hopenet():
    """ResNet-50 Hopenet in the original layout with every parameter and BatchNorm buffer randomised."""
    torch.set_num_threads(2)
    return tr.randomize_(tr.TorchHopenet("resnet50"), seed=7).eval()


@pytest.fixture(scope="module")
def crops():
    """Four uint8 RGB crops and the same crops as the normalised float input both frameworks see."""
    rgb = np.random.RandomState(3).randint(0, 256, (4, SIZE, SIZE, 3)).astype(np.uint8)
    return rgb, normalize(rgb)


def _check_close(gluon_logits, torch_logits):
    assert gluon_logits.shape == torch_logits.shape == (len(torch_logits), 3, 66)
    assert np.abs(torch_logits).max() > 1.0  # a real spread of logits, not a near-constant output
    rel = np.abs(gluon_logits - torch_logits).max() / np.abs(torch_logits).max()
    assert rel < 1e-4
    np.testing.assert_allclose(decode_bins(gluon_logits), decode_bins(torch_logits), rtol=0, atol=1e-3)


def test_randomize_touches_every_parameter_and_buffer():
    net = tr.randomize_(tr.TorchHopenet("mobilenetv2"), seed=1)
    for name, value in net.state_dict().items():
        v = value.double()
        if name.endswith("num_batches_tracked"):
            assert int(v) > 0
        elif name.endswith(("running_var", "weight")) and value.dim() == 1:
            assert not torch.allclose(v, torch.ones_like(v)), name
        else:
            assert not torch.allclose(v, torch.zeros_like(v)), name


@pytest.mark.parametrize("zipfile_format", [False, True], ids=["legacy", "zip"])
def test_converted_resnet50_hopenet_matches_torch(tmp_path, torch_hopenet, crops, zipfile_format):
    ckpt = tmp_path / "hopenet_random.pkl"
    torch.save(torch_hopenet.state_dict(), ckpt, _use_new_zipfile_serialization=zipfile_format)
    assert zipfile_format == __import__("zipfile").is_zipfile(ckpt)
    rgb, x = crops
    ref = tr.run_numpy(torch_hopenet, x)

    net, card = convert_hopenet_checkpoint(ckpt, input_size=SIZE)
    assert card.backbone == "resnet50" and card.input_size == SIZE
    net.hybridize(static_alloc=True, static_shape=True)
    _check_close(net(mx.nd.array(x)).asnumpy(), ref)

    # The whole way: write the model, load it through the store, run uint8 crops with the card's preprocessing.
    card_path = save_model(net, card, tmp_path / "models")
    model = load_pose_model(card_path)
    _check_close(model.predict_logits(rgb), ref)
    np.testing.assert_allclose(model.predict_crops(rgb), decode_bins(ref), rtol=0, atol=1e-3)


def test_mobilenetv2_hopenet_checkpoint_loads_on_the_fly(tmp_path, crops):
    tnet = tr.randomize_(tr.TorchHopenet("mobilenetv2"), seed=11).eval()
    ckpt = tmp_path / "mobile hopenet.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in tnet.state_dict().items()}}, ckpt)
    state = read_torch_checkpoint(ckpt)
    assert guess_backbone(state) == "mobilenetv2" and not any(k.startswith("module.") for k in state)
    rgb, x = crops
    model = load_hopenet_checkpoint(ckpt, input_size=SIZE)
    assert isinstance(model, PoseEstimator) and model.name == "mobile_hopenet"
    _check_close(model.predict_logits(rgb), tr.run_numpy(tnet, x))
    # load_pose_model takes a checkpoint path too (the app's Load weights...), at the backbone's own size.
    assert load_pose_model(str(ckpt)).input_size == 112
