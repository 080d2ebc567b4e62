"""HopenetLoss: values against a NumPy reference, and the gradient through the softmax expectation."""

from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd

from gazenet_app.core.geometry import angle_to_bin, decode_bins, softmax
from gazenet_app.training.losses import HopenetLoss


def _reference(logits: np.ndarray, angles: np.ndarray, alpha: float) -> np.ndarray:
    """Hopenet's loss in NumPy: CE on the bin of each angle + alpha * (expectation - angle)^2, summed."""
    p = softmax(logits, axis=-1)
    bins = angle_to_bin(angles)
    ce = -np.log(np.take_along_axis(p, bins[..., None], axis=-1)[..., 0])
    mse = (decode_bins(logits) - angles) ** 2
    return (ce + alpha * mse).sum(axis=1)


def test_loss_matches_numpy_reference():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 3, 66)) * 2
    angles = rng.uniform(-95, 95, size=(4, 3))
    got = HopenetLoss(alpha=0.7)(mx.nd.array(logits, dtype="float64"), mx.nd.array(angles, dtype="float64"))
    np.testing.assert_allclose(got.asnumpy(), _reference(logits, angles, 0.7), rtol=1e-6)


@pytest.mark.parametrize("kind", ["mse", "shao"])
def test_gradient_flows_through_expectation(kind):
    """Finite differences of the loss match autograd, for the regression term alone (alpha only: the CE part
    is removed by comparing alpha=1 against alpha=0), so the expectation's gradient is really there."""
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 3, 66))
    angles = rng.uniform(-60, 60, size=(2, 3))
    y = mx.nd.array(angles, dtype="float64")

    def grad_and_fn(alpha):
        loss = HopenetLoss(alpha=alpha, kind=kind)
        x = mx.nd.array(logits, dtype="float64")
        x.attach_grad()
        with autograd.record():
            out = loss(x, y).sum()
        out.backward()
        fn = lambda z: float(loss(mx.nd.array(z, dtype="float64"), y).sum().asscalar())  # noqa: E731
        return x.grad.asnumpy(), fn

    g1, f1 = grad_and_fn(1.0)
    g0, f0 = grad_and_fn(0.0)
    reg_grad = g1 - g0
    assert np.abs(reg_grad).max() > 1e-3, "the regression term contributes no gradient"
    eps = 1e-5
    for idx in [(0, 0, 10), (0, 1, 33), (1, 2, 50), (1, 0, 0)]:
        zp, zm = logits.copy(), logits.copy()
        zp[idx] += eps
        zm[idx] -= eps
        fd = ((f1(zp) - f0(zp)) - (f1(zm) - f0(zm))) / (2 * eps)
        assert reg_grad[idx] == pytest.approx(fd, rel=1e-4, abs=1e-6)


def test_angle_weights_and_kind_validation():
    rng = np.random.default_rng(2)
    logits = mx.nd.array(rng.normal(size=(3, 3, 66)))
    angles = mx.nd.array(rng.uniform(-30, 30, size=(3, 3)))
    only_yaw = HopenetLoss(alpha=1.0, angle_weights=(1, 0, 0))(logits, angles).asnumpy()
    ref = _reference(logits.asnumpy()[:, :1], angles.asnumpy()[:, :1], 1.0)
    np.testing.assert_allclose(only_yaw, ref, rtol=1e-4)
    with pytest.raises(ValueError, match="mse"):
        HopenetLoss(kind="l7")


def test_shao_huber_is_linear_for_large_errors():
    logits = mx.nd.zeros((1, 3, 66))  # expectation = 3 * 32.5 - 99 = -1.5 degrees
    a = HopenetLoss(alpha=1.0, kind="shao", huber_delta=3.0, angle_weights=(1, 0, 0))
    l1 = a(logits, mx.nd.array([[48.5, 0, 0]])).asscalar()
    l2 = a(logits, mx.nd.array([[58.5, 0, 0]])).asscalar()
    ce1 = -np.log(1 / 66.0)
    assert l1 - ce1 == pytest.approx(50 - 1.5, rel=1e-4)
    assert l2 - l1 == pytest.approx(10.0, rel=1e-4)


def _logits_for(yaws: np.ndarray) -> np.ndarray:
    """Sharp logits whose yaw expectation sits near `yaws` (pitch, roll near 0)."""
    from gazenet_app.core.geometry import angle_to_bin

    logits = np.full((len(yaws), 3, 66), -20.0)
    for i, y in enumerate(yaws):
        for a, v in enumerate((y, 0.0, 0.0)):
            b = int(angle_to_bin(np.array(v)))
            logits[i, a, b] = 20.0
    return logits


def test_human_turn_hinge_only_outside_the_class_interval():
    from gazenet_app.training.pack import NO_TURN

    yaws = np.array([20.0, 20.0, 20.0, 40.0, -40.0, 20.0])
    # turn 1 (turned left: [12.45, 31)) is satisfied by yaw ~20; turn 0 (frontal) and 2 (profile) are not;
    # 2 at 40 and -2 at -40 are satisfied; a row without a class pays nothing whatever its yaw
    turn = np.array([1.0, 0.0, 2.0, 2.0, -2.0, NO_TURN])
    logits = _logits_for(yaws)
    angles = np.column_stack([yaws, np.zeros((6, 2))])
    x = mx.nd.array(logits, dtype="float64")
    base = HopenetLoss(alpha=1.0)(x, mx.nd.array(angles, dtype="float64")).asnumpy()
    with_turn = HopenetLoss(alpha=1.0, turn_weight=0.5)(
        x, mx.nd.array(np.column_stack([angles, turn]), dtype="float64")).asnumpy()
    extra = with_turn - base
    pred = decode_bins(logits)[:, 0]
    np.testing.assert_allclose(extra[[0, 3, 4, 5]], 0.0, atol=1e-9)
    assert extra[1] == pytest.approx(0.5 * (pred[1] - 12.45) ** 2, rel=1e-6)
    assert extra[2] == pytest.approx(0.5 * (31.0 - pred[2]) ** 2, rel=1e-6)
    with pytest.raises(ValueError, match="turn_bounds"):
        HopenetLoss(turn_weight=1.0, turn_bounds=(30.0, 10.0))


def test_human_turn_hinge_gradient_pulls_yaw_into_the_interval():
    logits = mx.nd.array(np.random.default_rng(2).normal(size=(1, 3, 66)), dtype="float64")
    yaw = float(decode_bins(logits.asnumpy())[0, 0])
    turn = 2.0 if yaw < 31 else -2.0  # a class the current yaw is outside of
    target = mx.nd.array([[yaw, 0.0, 0.0, turn]], dtype="float64")  # no regression pull: yaw is the label
    logits.attach_grad()
    with autograd.record():
        loss = HopenetLoss(alpha=1.0, turn_weight=1.0)(logits, target)
    loss.backward()
    step = logits - 0.5 * logits.grad
    moved = float(decode_bins(step.asnumpy())[0, 0]) - yaw
    assert moved * turn > 0  # toward the profile side the human class names


def test_landmark_loss_is_a_masked_huber_sum():
    from gazenet_app.training.losses import LandmarkLoss

    rng = np.random.default_rng(2)
    pred = rng.normal(scale=3, size=(3, 10))
    tgt = np.concatenate([rng.normal(scale=3, size=(3, 10)), [[1], [0], [1]]], axis=1)
    a = np.abs(pred - tgt[:, :10])
    ref = np.where(a <= 1.5, 0.5 * a ** 2 / 1.5, a - 0.75).sum(axis=1) * tgt[:, 10]
    got = LandmarkLoss(delta=1.5)(mx.nd.array(pred, dtype="float64"), mx.nd.array(tgt, dtype="float64"))
    np.testing.assert_allclose(got.asnumpy(), ref, rtol=1e-6)
    assert got.asnumpy()[1] == 0.0
    with pytest.raises(ValueError):
        LandmarkLoss(delta=0)
