"""PoseEstimator: crops in, degrees out; batching, formats (params, fused and int8 graphs), devices."""

from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

from fixtures.models import TINY_INPUT_SIZE, make_tiny_pose_model
from gazenet_app.core.errors import ModelLoadError
from gazenet_app.core.geometry import decode_bins
from gazenet_app.core.transforms import CROP_PRESETS, normalize
from gazenet_app.model_zoo.card import load_card
from gazenet_app.model_zoo.hopenet import get_hopenet
from gazenet_app.model_zoo.pose import PoseEstimator, load_pose_model
from gazenet_app.model_zoo.precision import optimize_net
from gazenet_app.model_zoo.weights_io import load_params_checked, save_model

S = TINY_INPUT_SIZE


@pytest.fixture(scope="module")
def crops():
    return np.random.RandomState(5).randint(0, 256, (5, S, S, 3)).astype(np.uint8)


def test_fixture_model_loads_by_path_and_name(tiny_pose_model, crops):
    model = load_pose_model(tiny_pose_model)
    assert isinstance(model, PoseEstimator)
    assert model.name == tiny_pose_model.stem and model.input_size == S
    assert model.crop_preset is CROP_PRESETS[model.card.crop]
    assert model.card.source == "test fixture: random weights"
    by_name = load_pose_model(tiny_pose_model.stem)  # the fixture points GAZENET_MODELS_DIR at its folder
    np.testing.assert_array_equal(by_name.predict_crops(crops), model.predict_crops(crops))


def test_batched_equals_one_by_one_and_degrees_from_logits(tiny_pose_model, crops):
    model = load_pose_model(tiny_pose_model)
    batch = model.predict_crops(crops)
    assert batch.shape == (5, 3)
    single = np.concatenate([model.predict_crops(c) for c in crops])  # HWC crops, one at a time
    np.testing.assert_allclose(batch, single, atol=1e-3)
    np.testing.assert_allclose(batch, decode_bins(model.predict_logits(crops)), atol=1e-9)
    assert batch.std() > 0.1  # random weights still give crop-dependent angles
    assert (np.abs(batch) <= 99).all()
    assert model.predict_crops(crops[:0]).shape == (0, 3)
    with pytest.raises(ValueError, match=f"{S} x {S} x 3"):
        model.predict_crops(np.zeros((2, S + 1, S + 1, 3), np.uint8))


def test_card_preprocessing_is_applied(tiny_pose_model, crops):
    model = load_pose_model(tiny_pose_model)
    raw = model.net(mx.nd.array(normalize(crops, model.card.mean, model.card.std))).asnumpy()
    np.testing.assert_allclose(model.predict_logits(crops), raw, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("precision, atol_deg", [("fused", 1e-2), ("int8", None)])
def test_symbol_format_variants_load_back(tmp_path, tiny_pose_model, crops, precision, atol_deg):
    ref_model = load_pose_model(tiny_pose_model)
    card = load_card(tiny_pose_model).to_dict()
    net = get_hopenet("mobilenetv2", initialize=False, input_size=S)
    load_params_checked(net, tiny_pose_model.with_suffix(".params"))
    calib = normalize(crops) if precision == "int8" else None
    net = optimize_net(net, precision, (1, 3, S, S), calib=calib)
    card.update(name=f"tiny_{precision}", format="symbol", precision=precision)
    card_path = save_model(net, card, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {f"tiny_{precision}-symbol.json",
                                                     f"tiny_{precision}-0000.params", f"tiny_{precision}.json"}
    model = load_pose_model(card_path)
    got = model.predict_crops(crops)
    assert got.shape == (5, 3) and np.isfinite(got).all()
    if atol_deg is not None:
        np.testing.assert_allclose(got, ref_model.predict_crops(crops), atol=atol_deg)


def test_normalization_in_graph_model_matches(tmp_path, tiny_pose_model, crops):
    # Same seed, same weights: only where the normalisation happens differs.
    path = make_tiny_pose_model(tmp_path, name="tiny_in_graph", fmt="symbol", normalization_in_graph=True)
    np.testing.assert_allclose(load_pose_model(path).predict_crops(crops),
                               load_pose_model(tiny_pose_model).predict_crops(crops), atol=1e-3)


def test_devices(tiny_pose_model):
    with pytest.raises(ModelLoadError, match="unknown device"):
        load_pose_model(tiny_pose_model, device="tpu")
    if mx.context.num_gpus() == 0:
        with pytest.raises(ModelLoadError, match="gpu:0.*not available"):
            load_pose_model(tiny_pose_model, device="gpu:0")
    else:  # pragma: no cover - only on machines with a CUDA MXNet
        assert load_pose_model(tiny_pose_model, device="gpu:0").device == "gpu:0"
    assert load_pose_model(tiny_pose_model, device="cpu").device == "cpu"


def test_flip_average_is_mirror_antisymmetric_and_follows_the_card(tmp_path, tiny_pose_model, crops):
    plain = load_pose_model(tiny_pose_model)
    assert plain.flip_average is False  # the fixture's card does not ask for it
    flipped = PoseEstimator(plain.net, plain.card, flip_average=True)
    a, m = flipped.predict_crops(crops), flipped.predict_crops(crops[:, :, ::-1])
    # a mirrored head: yaw and roll negate, pitch stays (random weights are far from symmetric on their own)
    np.testing.assert_allclose(m, a * np.array([-1.0, 1.0, -1.0]), atol=1e-3)
    raw_a, raw_m = plain.predict_crops(crops), plain.predict_crops(crops[:, :, ::-1])
    np.testing.assert_allclose(a, 0.5 * (raw_a + raw_m * np.array([-1.0, 1.0, -1.0])), atol=1e-3)
    assert np.abs(raw_m[:, 0] + raw_a[:, 0]).max() > 0.01
    card_path = make_tiny_pose_model(tmp_path, name="tiny_flip", flip_average=True)
    model = load_pose_model(card_path)
    assert model.flip_average is True and model.describe()["flip_average"] is True
    assert "flip-averaged" in repr(model)
    np.testing.assert_allclose(model.predict_crops(crops), a, atol=1e-3)
    assert model.predict_crops(crops[:0]).shape == (0, 3)


def test_resnet_int8_graph_is_fully_fused(tmp_path):
    """Every ReLU of the ResNet folds into its convolution: the INT8 graph holds fused convolutions and one
    quantize of the input, no fp32 ReLU with a dequantize/quantize pair around it (that cost 2x in speed)."""
    import json
    from collections import Counter

    from gazenet_app.model_zoo.precision import quantize_net_int8

    mx.random.seed(0)
    net = get_hopenet("resnet50", input_size=64)
    calib = np.random.RandomState(0).normal(size=(4, 3, 64, 64)).astype(np.float32)
    qnet = quantize_net_int8(net, calib)
    qnet(mx.nd.array(calib[:1])).wait_to_read()
    qnet.export(str(tmp_path / "q"))
    ops = Counter(n["op"] for n in json.loads((tmp_path / "q-symbol.json").read_text())["nodes"])
    assert ops["_sg_mkldnn_conv"] == 53  # 49 convs with a ReLU folded in + 4 shortcut projections
    assert ops["_contrib_quantize_v2"] == 1
    assert not {"relu", "Activation", "_contrib_dequantize"} & set(ops)
