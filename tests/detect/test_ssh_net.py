"""SSH in Gluon: output shapes for several inputs and trunks, anchors, box coding, targets, OHEM, decoding."""

from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

from gazenet_app.model_zoo.ssh import (decode_boxes, encode_boxes, get_ssh, module_anchors, ssh_anchors)
from gazenet_app.training.ssh_train import anchor_targets, ohem_mask


@pytest.fixture(scope="module")
def nets():
    return {t: get_ssh(t) for t in ("mobilenetv2", "vgg16", "tiny")}


@pytest.mark.parametrize("trunk", ["mobilenetv2", "vgg16", "tiny"])
@pytest.mark.parametrize("hw", [(64, 64), (96, 160), (128, 96)])
def test_output_shapes_match_anchors(nets, trunk, hw):
    h, w = hw
    logits, deltas = nets[trunk](mx.nd.zeros((2, 3, h, w)))
    anchors, counts = ssh_anchors(h, w)
    assert counts == [(h // 8) * (w // 8) * 2, (h // 16) * (w // 16) * 2, (h // 32) * (w // 32) * 2]
    assert logits.shape == (2, len(anchors), 2) and deltas.shape == (2, len(anchors), 4)


def test_hybridized_mobilenet_matches_imperative(nets):
    net = get_ssh("mobilenetv2")
    x = mx.nd.random.uniform(shape=(1, 3, 64, 96))
    a = net(x)[0].asnumpy()
    net.hybridize()
    np.testing.assert_allclose(net(x)[0].asnumpy(), a, rtol=1e-4, atol=1e-4)


def test_mobilenet_trunk_names_are_torchvision():
    names = set(get_ssh("mobilenetv2")._collect_params_with_prefix())
    assert "trunk.features.0.0.weight" in names and "trunk.features.13.conv.3.gamma" in names
    assert not any(n.startswith("trunk.features.14") for n in names)


def test_anchor_layout():
    a = module_anchors(2, 3, 8, (16, 32))
    assert a.shape == (12, 4)
    # (row, column, size) order: first two anchors share cell (0, 0), centred at (4, 4)
    np.testing.assert_allclose(a[0], [-4, -4, 12, 12])
    np.testing.assert_allclose(a[1], [-12, -12, 20, 20])
    np.testing.assert_allclose(a[2], [4, -4, 20, 12])  # next column
    np.testing.assert_allclose(a[6], [-4, 4, 12, 20])  # next row
    with pytest.raises(ValueError, match="multiples of 32"):
        ssh_anchors(100, 64)


def test_box_coding_round_trip():
    rng = np.random.default_rng(0)
    anchors = ssh_anchors(128, 128)[0]
    idx = rng.choice(len(anchors), 50, replace=False)
    a = anchors[idx]
    centre = (a[:, :2] + a[:, 2:]) / 2 + rng.uniform(-5, 5, size=(50, 2))
    wh = (a[:, 2:] - a[:, :2]) * rng.uniform(0.5, 2.0, size=(50, 2))
    boxes = np.hstack([centre - wh / 2, centre + wh / 2])
    np.testing.assert_allclose(decode_boxes(encode_boxes(boxes, a), a), boxes, atol=1e-9)
    assert np.allclose(encode_boxes(a, a), 0)


def test_anchor_targets_and_ohem():
    anchors, counts = ssh_anchors(64, 64)
    boxes = np.array([[10, 10, 26, 26], [20, 30, 50, 60.0], [0, 0, 6, 6]])
    labels, targets = anchor_targets(anchors, boxes, ignore=np.array([False, False, True]))
    pos = labels == 1
    assert pos.sum() >= 2  # every valid box has at least its best anchor
    np.testing.assert_allclose(decode_boxes(targets[pos], anchors[pos]).min(axis=0) >= 9.9, True)
    # the ignored tiny box: nearby anchors are not negatives
    near = (anchors[:, 2] <= 20) & (anchors[:, 3] <= 20) & (anchors[:, 0] >= -10)
    assert not ((labels == 0) & near & (np.abs(anchors[:, 0] + 4) < 1e-6)).all()
    assert set(np.unique(labels)) <= {-1, 0, 1}
    loss = np.random.default_rng(0).uniform(size=(1, len(anchors)))
    lab = labels[None]
    mask = ohem_mask(lab, loss, counts, per_module=20, pos_fraction=0.25)
    start = 0
    for c in counts:
        m = mask[0, start:start + c]
        l = lab[0, start:start + c]
        assert m.sum() <= 20 and (m * (l == 1)).sum() <= 5 and (m * (l == -1)).sum() == 0
        negs = (l == 0)
        chosen = m.astype(bool) & negs
        if chosen.any() and (negs & ~chosen).any():  # the hardest negatives were kept
            assert loss[0, start:start + c][chosen].min() >= loss[0, start:start + c][negs & ~chosen].max()
        start += c


def test_ssh_detector_decodes_and_maps_back_to_frame():
    from gazenet_app.detect.ssh import SshDetector

    class _Fixed(mx.gluon.HybridBlock):
        """A fake net: one confident anchor exactly on a known box."""

        def hybrid_forward(self, F, x):
            h, w = x.shape[2], x.shape[3]
            anchors = ssh_anchors(h, w)[0]
            logits = np.zeros((1, len(anchors), 2), np.float32)
            logits[0, :, 0] = 5.0
            i = int(np.argmin(np.abs(anchors - [104, 40, 168, 104]).sum(axis=1)))  # a 64-px anchor
            logits[0, i] = (-5.0, 5.0)
            d = np.zeros((1, len(anchors), 4), np.float32)
            d[0, i] = encode_boxes(np.array([[100, 40, 160, 110.0]]), anchors[i:i + 1])[0]
            return mx.nd.array(logits), mx.nd.array(d)

    det = SshDetector(net=_Fixed(), max_side=320)
    boxes = det.detect(np.zeros((480, 640, 3), np.uint8))  # downscaled by 2, then padded to 256 x 320
    assert len(boxes) == 1
    assert boxes[0].as_tuple() == pytest.approx((200, 80, 320, 220), abs=1e-3)
    assert det.to_canonical(boxes[0]).as_tuple() == pytest.approx(boxes[0].as_tuple())
