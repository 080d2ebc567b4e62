"""Hopenet's multi-loss: per angle, cross-entropy on the bins + alpha * a regression loss on the expectation.

The expectation E = width * sum_i softmax(z)_i * i - offset is computed *inside* the graph, so the
regression term's gradient flows through the softmax into every logit (Ruiz et al. 2018, eq. 1; a public
Gluon port computes E in NumPy and silently trains on cross-entropy alone). `kind="shao"` swaps the MSE for
a Huber (smooth L1) term on the same expectation: our reading of Shao et al. 2019's combined
classification + regression loss, which is less dominated by the few samples with large errors.

With `turn_weight` > 0 the targets carry a 4th column, MTFL's human 5-class pose as a signed turn (2 = left
profile .. -2 = right profile, `pack.NO_TURN` for rows without one), and the yaw expectation pays a squared
hinge for leaving the class's yaw interval (`turn_bounds`: the inner and outer class boundaries, symmetric): the
teacher labels give the metric, the human class corrects their order where the teacher disagrees with people.

`LandmarkLoss` is the training-only auxiliary term of `gazenet train --landmark-weight`: a small head on the
pooled features regresses the five landmarks in the crop, so the backbone learns the face geometry a yaw label
fitted to landmarks is made of; the head is dropped on export (the shipped net still reads no keypoints).
"""

from __future__ import annotations

from typing import Sequence

from mxnet.gluon import HybridBlock

from gazenet_app.core.geometry import ANGLE_OFFSET, BIN_WIDTH, NUM_BINS

__all__ = ["HopenetLoss", "LandmarkLoss", "LOSS_KINDS", "expectation", "TURN_BOUNDS", "LANDMARK_COLUMNS"]

#: Yaw boundaries (deg) between MTFL's frontal / turned / profile classes: the teacher-yaw boundaries fitted on
#: the train split (`training.evaluate.fit_class_boundaries`: 33.7 / 12.7 / -12.2 / -28.3), made symmetric.
TURN_BOUNDS = (12.45, 31.0)
#: Regression terms the loss knows: "mse" (Hopenet) and "shao" (Huber on the expectation).
LOSS_KINDS = ("mse", "shao")
#: Target columns of the landmark term: x1..x5, y1..y5 in percent of the crop side from its centre, then a mask.
LANDMARK_COLUMNS = 11


def expectation(F, logits, bins: int = NUM_BINS, width: float = BIN_WIDTH, offset: float = ANGLE_OFFSET):
    """Differentiable softmax expectation in degrees over the last axis: (..., bins) -> (...)."""
    prob = F.softmax(logits, axis=-1)
    idx = F.contrib.arange_like(logits, axis=-1)  # 0..bins-1, in the logits dtype
    return F.broadcast_mul(prob, idx).sum(axis=-1) * width - offset


class HopenetLoss(HybridBlock):
    """Loss of logits (N, 3, bins) against angles (N, 3) in degrees; returns the per-sample loss (N,).

    Per angle a: CE(z_a, bin(t_a)) + alpha * R(E(z_a) - t_a), summed over yaw, pitch, roll with
    `angle_weights`. Bin labels are computed in the graph (floor((t + offset) / width), clipped), so the
    caller passes only degrees. R is d^2 (MSE, Hopenet) or Huber with `huber_delta` degrees (kind="shao").
    A NaN angle is unlabelled: its term is masked out (a dataset without roll labels trains yaw and pitch only).
    """

    def __init__(self, alpha: float = 1.0, kind: str = "mse", bins: int = NUM_BINS, width: float = BIN_WIDTH,
                 offset: float = ANGLE_OFFSET, angle_weights: Sequence[float] = (1.0, 1.0, 1.0),
                 huber_delta: float = 3.0, turn_weight: float = 0.0,
                 turn_bounds: Sequence[float] = TURN_BOUNDS, **kwargs):
        super().__init__(**kwargs)
        if kind not in LOSS_KINDS:
            raise ValueError(f"unknown loss kind {kind!r}; valid: {', '.join(LOSS_KINDS)}")
        if len(angle_weights) != 3:
            raise ValueError("angle_weights needs 3 values (yaw, pitch, roll)")
        self.alpha = float(alpha)
        self.kind = kind
        self.bins = int(bins)
        self.width = float(width)
        self.offset = float(offset)
        self.angle_weights = tuple(float(w) for w in angle_weights)
        self.huber_delta = float(huber_delta)
        self.turn_weight = float(turn_weight)
        inner, outer = (float(b) for b in turn_bounds)
        if not 0 < inner < outer:
            raise ValueError(f"turn_bounds must be 0 < inner < outer, got {tuple(turn_bounds)}")
        self.turn_bounds = (inner, outer)

    def hybrid_forward(self, F, logits, angles):
        turn = None
        if self.turn_weight > 0:  # targets (N, 4): angles and the signed human turn class
            turn = F.slice_axis(angles, axis=1, begin=3, end=4).reshape((-1,))
            angles = F.slice_axis(angles, axis=1, begin=0, end=3)
        known = angles == angles  # NaN marks an angle the dataset does not label (Pointing'04's roll): it pays nothing
        angles = F.where(known, angles, F.zeros_like(angles))
        labels = F.clip(F.floor((angles + self.offset) / self.width), 0, self.bins - 1)
        logp = F.log_softmax(logits, axis=-1)
        ce = -F.pick(logp, labels, axis=-1)  # (N, 3)
        pred = expectation(F, logits, self.bins, self.width, self.offset)  # (N, 3)
        diff = pred - angles
        if self.kind == "mse":
            reg = F.square(diff)
        else:
            d = self.huber_delta
            a = F.abs(diff)
            reg = F.where(a <= d, 0.5 * F.square(diff) / d, a - 0.5 * d)
        per_angle = (ce + self.alpha * reg) * known
        yaw, pitch, roll = F.split(per_angle, num_outputs=3, axis=1)
        wy, wp, wr = self.angle_weights
        total = (wy * yaw + wp * pitch + wr * roll).reshape((-1,))
        if turn is None:
            return total
        # the class's yaw interval [edge(t - 0.5), edge(t + 0.5)): 2 -> [outer, far), 1 -> [inner, outer),
        # 0 -> [-inner, inner), ...; the edge between two classes is symmetric in the turn
        inner, outer, far = self.turn_bounds[0], self.turn_bounds[1], 1e4

        def edge(u):
            a, one = F.abs(u), F.ones_like(u)
            return F.sign(u) * F.where(a < 1, one * inner, F.where(a < 2, one * outer, one * far))

        lo, hi = edge(turn - 0.5), edge(turn + 0.5)
        has = F.abs(turn) < 2.5
        yaw_pred = F.slice_axis(pred, axis=1, begin=0, end=1).reshape((-1,))
        hinge = F.square(F.relu(lo - yaw_pred)) + F.square(F.relu(yaw_pred - hi))
        return total + self.turn_weight * has * hinge


class LandmarkLoss(HybridBlock):
    """Auxiliary loss of predicted landmarks (N, 10) against targets (N, 11): x1..x5, y1..y5 in percent of the
    crop side measured from its centre, then a 0/1 mask (rows without landmarks pay nothing). Huber with
    `delta` percent per coordinate, summed over the ten; returns (N,)."""

    def __init__(self, delta: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if delta <= 0:
            raise ValueError(f"delta must be > 0, got {delta}")
        self.delta = float(delta)

    def hybrid_forward(self, F, pred, targets):
        coords = F.slice_axis(targets, axis=1, begin=0, end=10)
        mask = F.slice_axis(targets, axis=1, begin=10, end=11).reshape((-1,))
        a = F.abs(pred - coords)
        d = self.delta
        huber = F.where(a <= d, 0.5 * F.square(a) / d, a - 0.5 * d)
        return huber.sum(axis=1) * mask
