"""FaceTracker: stable ids, following missed faces through profiles, ending gone faces; assignment."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gazenet_app.core.types import FaceBox
from gazenet_app.track.assignment import iou_matrix, linear_assignment, match_by_iou
from gazenet_app.track.follower import FOLLOWERS, get_follower
from gazenet_app.track.tracker import FaceTracker


@pytest.mark.parametrize("seed", range(20))
def test_linear_assignment_is_optimal(seed):
    rng = np.random.default_rng(seed)
    n, m = (int(v) for v in rng.integers(1, 6, size=2))
    cost = rng.uniform(size=(n, m))
    pairs = linear_assignment(cost)
    assert len(pairs) == min(n, m)
    assert len({i for i, _ in pairs}) == len(pairs) == len({j for _, j in pairs})
    if n <= m:
        best = min(sum(cost[i, p[i]] for i in range(n)) for p in itertools.permutations(range(m), n))
    else:
        best = min(sum(cost[p[j], j] for j in range(m)) for p in itertools.permutations(range(n), m))
    assert sum(cost[i, j] for i, j in pairs) == pytest.approx(best)


def test_match_by_iou_prefers_total_overlap_over_greedy():
    # greedy would give row 0 its best (col 0, 0.6) and leave row 1 with nothing above threshold
    iou = np.array([[0.6, 0.5], [0.55, 0.0]])
    assert match_by_iou(iou, 0.3) == [(0, 1), (1, 0)]
    assert match_by_iou(np.array([[0.1]]), 0.3) == []
    assert iou_matrix([[0, 0, 10, 10]], [[5, 0, 15, 10]])[0, 0] == pytest.approx(1 / 3)


def _frame_with_squares(centres, size=(240, 320)):
    rng = np.random.default_rng(1)
    f = (rng.integers(0, 40, size=size + (3,))).astype(np.uint8)
    for k, (cx, cy) in enumerate(centres):
        patch = np.random.default_rng(10 + k).integers(80, 255, size=(40, 40, 3)).astype(np.uint8)
        f[int(cy) - 20:int(cy) + 20, int(cx) - 20:int(cx) + 20] = patch
    return f


def _box(cx, cy, s=0.9):
    return FaceBox(cx - 20, cy - 20, cx + 20, cy + 20, s)


def test_two_faces_keep_their_ids_and_new_face_gets_a_new_id():
    tr = FaceTracker()
    ids = []
    for t in range(10):
        a, b = (60 + 5 * t, 100), (250 - 5 * t, 140)
        tracks = tr.update(_frame_with_squares([a, b]), [_box(*b), _box(*a)])  # order changes nothing
        ids.append({tk.face_id: tk.box.center for tk in tracks})
    assert all(set(d) == {1, 2} for d in ids)
    # id 1 went to the first box given (b, moving left) and stays with it; id 2 follows a
    assert ids[0][1][0] == 250 and ids[-1][1][0] == 205 and ids[-1][2][0] == 105
    tracks = tr.update(_frame_with_squares([(110, 100), (200, 140), (160, 60)]),
                       [_box(110, 100), _box(200, 140), _box(160, 60)])
    assert [t.face_id for t in tracks] == [1, 2, 3]
    tr.reset()
    assert tr.update(_frame_with_squares([(60, 100)]), [_box(60, 100)])[0].face_id == 1


@pytest.mark.parametrize("follower", sorted(FOLLOWERS))
def test_missed_face_is_followed_then_ends_when_gone(follower):
    tr = FaceTracker(follower=follower, max_missed=5, face_check=None)  # squares, not faces: no face check
    tr.update(_frame_with_squares([(100, 120)]), [_box(100, 120)])
    for t in range(1, 4):  # detector misses; the face moves 6 px a frame
        tracks = tr.update(_frame_with_squares([(100 + 6 * t, 120)]), [])
        assert len(tracks) == 1 and tracks[0].tracked_only and tracks[0].face_id == 1
        assert tracks[0].box.center[0] == pytest.approx(100 + 6 * t, abs=8 if follower == "mil" else 3)
        assert tracks[0].det_score == pytest.approx(0.9)
    # the detector finds it again: same id, no longer tracked_only
    tracks = tr.update(_frame_with_squares([(124, 120)]), [_box(124, 120, 0.8)])
    assert [(t.face_id, t.tracked_only, t.det_score) for t in tracks] == [(1, False, 0.8)]
    empty = _frame_with_squares([])
    alive = 0
    while tr.update(empty, []):
        alive += 1
        assert alive <= 5  # bounded by max_missed even when the follower keeps going (MIL does)


def test_no_detection_run_follows_without_counting_misses():
    tr = FaceTracker(max_missed=1)
    tr.update(_frame_with_squares([(100, 120)]), [_box(100, 120)])
    for t in range(1, 6):  # detect-every-N: None means the detector did not run
        tracks = tr.update(_frame_with_squares([(100 + 3 * t, 120)]), None)
        assert len(tracks) == 1 and tracks[0].tracked_only
    assert tr.update(_frame_with_squares([(118, 120)]), [_box(118, 120)])[0].face_id == 1


def test_without_follower_a_missed_box_stays_put_for_max_missed_frames():
    tr = FaceTracker(follower=None, max_missed=2)
    tr.update(None, [_box(100, 120)])
    assert tr.update(None, [])[0].box.center == (100, 120)
    assert len(tr.update(None, [])) == 1
    assert tr.update(None, []) == []


def test_bad_settings():
    with pytest.raises(ValueError, match="unknown follower 'kcf'; valid: flow, mil, template"):
        FaceTracker(follower="kcf")
    with pytest.raises(ValueError):
        FaceTracker(iou_threshold=0.0)
    with pytest.raises(ValueError):
        get_follower("csrt")


@pytest.mark.shared
def test_umist_head_turn_keeps_one_id_with_a_box_in_every_frame(umist_turn):
    from gazenet_app.detect.registry import get_detector

    frames, centres, bg = umist_turn
    # MTCNN alone (the paper's cuts, no second pass, no profile stage), which misses the profiles, so the follower
    # must carry them
    det = get_detector("mtcnn", "accurate", profile=False, second_pass=False, steps_threshold=(0.6, 0.7, 0.7))
    tr = FaceTracker()
    followed = 0
    for f, c in zip(frames, centres):
        boxes = det.detect(f)
        tracks = tr.update(f, boxes)
        assert [t.face_id for t in tracks] == [1]
        followed += tracks[0].tracked_only
        # the box stays on the pasted head (its centre within a third of the head's width)
        assert abs(tracks[0].box.center[0] - c[0]) < 30 and abs(tracks[0].box.center[1] - c[1]) < 40
    assert followed >= 5  # the profiles were carried by following, not detected
    assert tr.update(bg, det.detect(bg)) == []  # the face is gone: its track ends at once


def test_mil_follows_the_same_clip_the_same_way_whatever_ran_before():
    """TrackerMIL samples with the C library's rand(): each follower starts it from a fixed state."""
    import cv2

    def followed():
        tr = FaceTracker(follower="mil", max_missed=5, face_check=None)
        tr.update(_frame_with_squares([(100, 120)]), [_box(100, 120)])
        return [tr.update(_frame_with_squares([(100 + 6 * t, 120)]), [])[0].box.center for t in range(1, 4)]

    first = followed()
    noise = np.random.default_rng(0).integers(0, 255, size=(240, 320, 3), dtype=np.uint8)
    for _ in range(5):  # other boxes followed in between draw from rand()
        other = cv2.TrackerMIL_create()
        other.init(noise, (50, 50, 40, 40))
        other.update(noise)
    assert followed() == first
