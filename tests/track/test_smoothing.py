"""One-Euro smoothing: jitter goes down, steps are followed, angles wrap, faces are independent."""

from __future__ import annotations

import numpy as np
import pytest

from gazenet_app.core.types import FaceBox, HeadPose
from gazenet_app.track.smoothing import OneEuroFilter, OneEuroParams, PoseSmoother


def test_first_value_passes_and_constant_stays():
    f = OneEuroFilter(1.0, 0.0)
    assert f(0.0, [3.0, -2.0]) == pytest.approx([3.0, -2.0])
    for k in range(1, 10):
        assert f(k / 30, [3.0, -2.0]) == pytest.approx([3.0, -2.0])


def test_jitter_is_reduced_and_a_step_is_reached():
    rng = np.random.default_rng(0)
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    noisy = 10.0 + rng.normal(0, 2.0, size=300)
    out = np.array([f(k / 30, v) for k, v in enumerate(noisy)]).ravel()
    assert out[60:].std() < 0.5 * noisy[60:].std()
    g = OneEuroFilter(min_cutoff=1.0, beta=0.5)
    ys = [g(k / 30, 0.0 if k < 10 else 40.0) for k in range(60)]
    assert float(ys[-1]) == pytest.approx(40.0, abs=0.5)
    assert 0.0 < float(ys[10]) < 40.0  # lags a little, never overshoots


def test_higher_beta_lags_less_on_fast_motion():
    def lag(beta):
        f = OneEuroFilter(min_cutoff=0.5, beta=beta)
        ys = [float(f(k / 30, 3.0 * k)) for k in range(40)]
        return 3.0 * 39 - ys[-1]
    assert lag(0.5) < lag(0.0)


def test_angles_wrap_around_180():
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0, period=360.0)
    outs = [float(f(k / 30, 179.0 if k % 2 == 0 else -179.0)) for k in range(30)]
    assert all(abs(abs(o) - 180.0) < 2.0 for o in outs)  # never swings through 0
    assert all(-180.0 <= o < 180.0 for o in outs)


def test_repeated_time_and_bad_params():
    f = OneEuroFilter()
    f(1.0, 5.0)
    assert float(f(1.0, 50.0)) == pytest.approx(5.0)
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0.0)
    with pytest.raises(ValueError):
        PoseSmoother(pose=OneEuroParams(beta=-1.0))


def test_pose_smoother_per_face_and_forget():
    sm = PoseSmoother()
    box = FaceBox(0, 0, 10, 10, 0.9, ((2, 3), (8, 3), (5, 5), (3, 8), (7, 8)))
    p, b = sm.smooth(1, 0.0, HeadPose(10, 0, 0), box)
    assert p == HeadPose(10, 0, 0) and b == box
    p1, b1 = sm.smooth(1, 1 / 30, HeadPose(30, 0, 0), FaceBox(10, 0, 20, 10, 0.9, box.landmarks))
    assert 10 < p1.yaw < 30 and 0 < b1.x1 < 10 and b1.score == 0.9
    assert b1.landmarks[0][0] == pytest.approx(2 + (b1.x1 + b1.x2 - 30) / 2)  # landmarks follow the box
    p2, _ = sm.smooth(2, 1 / 30, HeadPose(-50, 5, 5), None)  # another face starts fresh
    assert p2 == HeadPose(-50, 5, 5)
    sm.forget([1])
    p3, _ = sm.smooth(1, 2 / 30, HeadPose(30, 0, 0), None)
    assert p3 == HeadPose(30, 0, 0)
    assert sm.smooth(3, 0.0, None, None) == (None, None)
    assert sm.describe()["pose"]["min_cutoff"] == 1.0
