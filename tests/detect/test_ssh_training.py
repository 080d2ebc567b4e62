"""SSH training learns: on a tiny synthetic set a tiny-trunk SSH drives its loss down and its AP up;
checkpoints resume; the evaluation counts hits, misses and false positives."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gazenet_app.detect.ssh import SshDetector
from gazenet_app.training.ssh_evaluation import average_precision, evaluate_detector, match_detections
from gazenet_app.training.ssh_train import SshTrainConfig, SshTrainer


class _Blobs:
    """64x64 noise images with 1-2 synthetic 'faces' (a bright disk with dark eyes and mouth), boxes known."""

    def __init__(self, n: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.items = []
        for _ in range(n):
            img = rng.integers(0, 120, size=(64, 64, 3)).astype(np.uint8)
            boxes = []
            for _ in range(int(rng.integers(1, 3))):
                s = float(rng.uniform(14, 30))
                cx, cy = rng.uniform(s / 2, 64 - s / 2, size=2)
                if any(abs(cx - (b[0] + b[2]) / 2) < s and abs(cy - (b[1] + b[3]) / 2) < s for b in boxes):
                    continue
                c = (int(cx), int(cy))
                cv2.circle(img, c, int(s / 2), (230, 200, 170), -1)
                for ex in (-s / 5, s / 5):
                    cv2.circle(img, (int(cx + ex), int(cy - s / 8)), max(1, int(s / 12)), (20, 20, 20), -1)
                cv2.line(img, (int(cx - s / 6), int(cy + s / 5)), (int(cx + s / 6), int(cy + s / 5)), (60, 0, 0), 1)
                boxes.append((cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2))
            self.items.append((img, np.array(boxes).reshape(-1, 4), np.zeros(len(boxes), bool)))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def _ap(net, data):
    det = SshDetector(net=net, max_side=64, min_face=8, score_threshold=0.0)
    return evaluate_detector(det, data)["ap"]


def test_tiny_ssh_learns_and_resumes(tmp_path):
    train, val = _Blobs(200, 0), _Blobs(30, 1)
    cfg = SshTrainConfig(trunk="tiny", pretrained="none", sizes=(64,), batch_size=8, steps=250, lr=0.02,
                         warmup=20, checkpoint_every=125, frozen_blocks=0, seed=0)
    tr = SshTrainer(cfg, train, tmp_path)
    ap_before = _ap(tr.net, val)
    hist = tr.run()
    first = np.mean([h["cls"] + h["box"] for h in hist[:20]])
    last = np.mean([h["cls"] + h["box"] for h in hist[-20:]])
    ap_after = _ap(tr.net, val)
    assert last < 0.6 * first
    assert ap_after > ap_before + 0.3 and ap_after > 0.5
    assert sorted(p.name for p in tmp_path.glob("ssh-*.params")) == ["ssh-000125.params", "ssh-000250.params"]
    # resume continues from step 250
    cfg2 = SshTrainConfig(**{**cfg.__dict__, "steps": 252})
    tr2 = SshTrainer(cfg2, train, tmp_path, resume=True)
    assert tr2.step == 250
    assert len(tr2.run()) == 252


def test_matching_counts_and_ap():
    truth = [(0, 0, 10, 10), (20, 20, 30, 30)]
    r = match_detections([(0, 0, 10, 10), (1, 1, 10, 10), (50, 50, 60, 60), (100, 100, 110, 110)],
                         [0.9, 0.8, 0.7, 0.6], truth, ignore=[(95, 95, 120, 120)], iou_threshold=0.5)
    assert (r.found, r.misses, r.false_positives) == (1, 1, 2)  # the duplicate and (50,50) are false; (100,100) ignored
    assert average_precision([r]) == pytest.approx(0.5)
    perfect = match_detections(truth, [0.9, 0.8], truth)
    assert average_precision([perfect]) == pytest.approx(1.0)
