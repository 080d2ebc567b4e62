"""The architecture registry and the Gluon Hopenet's interface."""

from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

from gazenet_app.core.transforms import normalize
from gazenet_app.model_zoo.hopenet import Hopenet, get_hopenet
from gazenet_app.model_zoo.registry import get_model, get_model_list


def test_unknown_name_lists_valid_names_sorted():
    with pytest.raises(ValueError) as info:
        get_model("hopenet_vgg16")
    msg = str(info.value)
    assert "hopenet_vgg16" in msg
    assert ", ".join(get_model_list()) in msg
    assert get_model_list() == sorted(get_model_list())
    assert {"hopenet_resnet50", "hopenet_mobilenetv2"} <= set(get_model_list())


def test_names_are_case_insensitive_and_input_size_is_a_property():
    net = get_model("Hopenet_MobileNetV2", initialize=False)
    assert isinstance(net, Hopenet) and net.input_size == 112
    assert get_model("hopenet_resnet50", initialize=False).input_size == 224
    assert get_model("hopenet_mobilenetv2", initialize=False, input_size=96).input_size == 96
    with pytest.raises(ValueError, match="mobilenetv2, resnet50"):
        Hopenet("vgg16")


def test_forward_shape_and_in_graph_normalization_equivalence():
    mx.random.seed(0)
    plain = get_hopenet("mobilenetv2", input_size=64)
    in_graph = get_hopenet("mobilenetv2", input_size=64, normalization_in_graph=True, initialize=False)
    params = {k: v.data() for k, v in plain._collect_params_with_prefix().items()}
    for k, p in in_graph._collect_params_with_prefix().items():
        if k in params:
            p.initialize(ctx=mx.cpu())
            p.set_data(params[k])
        else:
            p.initialize(ctx=mx.cpu())
    rgb = np.random.RandomState(0).randint(0, 256, (3, 64, 64, 3)).astype(np.uint8)
    a = plain(mx.nd.array(normalize(rgb))).asnumpy()
    in_graph.hybridize(static_alloc=True, static_shape=True)
    b = in_graph(mx.nd.array(rgb, dtype="uint8")).asnumpy()
    assert a.shape == (3, 3, 66)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
