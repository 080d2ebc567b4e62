"""Packed data: decoding once into a memmap, boxes/landmarks in the pack frame, the threaded loader."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gazenet_app.training.augment import AugmentConfig, eval_crop
from gazenet_app.training.pack import BatchLoader, PackedDataset, ensure_pack, measure_loader
from gazenet_app.training.readers import read_labels_csv


def test_pack_keeps_the_face_crop(tiny_pose_dataset):
    pack = ensure_pack(tiny_pose_dataset, size=48, context=2.0, progress=False)
    meta = json.loads((pack / "pack.json").read_text())
    assert meta["n"] == 48 and meta["size"] == 48
    ds = PackedDataset(pack)
    table = read_labels_csv(tiny_pose_dataset)
    assert len(ds) == 48
    np.testing.assert_allclose(ds.poses, table.poses)
    # the packed context image holds the box at its centre, half its side
    side = ds.boxes[:, 2] - ds.boxes[:, 0]
    np.testing.assert_allclose(side, 24.0, atol=0.05)  # csv boxes are rounded to 0.01 px
    # the test crop from the pack matches the test crop from the original image
    i = 5
    from_pack = eval_crop(ds.image(i), ds.boxes[i], 24).astype(int)
    from_img = eval_crop(table.load_image(i), table.boxes[i], 24).astype(int)
    assert np.abs(from_pack - from_img).mean() < 12


def test_pack_is_reused_until_labels_change(tiny_pose_dataset):
    pack = ensure_pack(tiny_pose_dataset, size=32, progress=False)
    mtime = (pack / "images.npy").stat().st_mtime_ns
    assert ensure_pack(tiny_pose_dataset, size=32, progress=False) == pack
    assert (pack / "images.npy").stat().st_mtime_ns == mtime
    labels = tiny_pose_dataset / "labels.csv"
    labels.write_text(labels.read_text())  # touched: re-packed
    lines = labels.read_text().splitlines()
    labels.write_text("\n".join(lines[:-1]) + "\n")
    ensure_pack(tiny_pose_dataset, size=32, progress=False)
    assert len(PackedDataset(pack)) == 47


def test_loader_batches_splits_shards_and_resume(tiny_pose_dataset):
    pack = ensure_pack(tiny_pose_dataset, size=32, progress=False)
    train = PackedDataset(pack, split="train")
    assert len(train) == 36 and len(PackedDataset(pack, split=["val"])) == 12
    aug = AugmentConfig(size=24)
    full = list(BatchLoader(train, 8, 24, augment=aug, seed=3, epoch=1))
    assert len(full) == 4 and full[0][0].shape == (8, 24, 24, 3) and full[0][0].dtype == np.uint8
    resumed = list(BatchLoader(train, 8, 24, augment=aug, seed=3, epoch=1, start_batch=2))
    assert len(resumed) == 2
    np.testing.assert_array_equal(resumed[0][0], full[2][0])
    other_epoch = list(BatchLoader(train, 8, 24, augment=aug, seed=3, epoch=2))
    assert not np.array_equal(other_epoch[0][1], full[0][1])
    s0 = BatchLoader(train, 8, 24, augment=aug, shard=(0, 2))
    s1 = BatchLoader(train, 8, 24, augment=aug, shard=(1, 2))
    assert len(s0) == len(s1) == 2
    assert not set(map(int, s0._batches[0])) & set(map(int, s1._batches[0]))
    val = list(BatchLoader(PackedDataset(pack, split="val"), 5, 24, augment=None, shuffle=False, drop_last=False))
    assert [len(b[0]) for b in val] == [5, 5, 2]


def test_loader_reraises_worker_errors(tiny_pose_dataset):
    ds = PackedDataset(ensure_pack(tiny_pose_dataset, size=32, progress=False))

    def broken(i):
        raise OSError(f"disk gone at row {i}")

    ds.image = broken
    with pytest.raises(OSError, match="disk gone"):
        list(BatchLoader(ds, 4, 16, augment=AugmentConfig(size=16)))


def test_measure_loader_reports_a_rate(tiny_pose_dataset):
    ds = PackedDataset(ensure_pack(tiny_pose_dataset, size=32, progress=False))
    assert measure_loader(ds, batch_size=8, size=24, batches=2) > 0


def test_loader_carries_the_human_turn_and_flips_it_with_the_crop(tmp_path):
    from fixtures.pose_dataset import make_pose_dataset
    from gazenet_app.training.dataset_format import read_labels, write_labels
    from gazenet_app.training.pack import NO_TURN, turn_from_class

    np.testing.assert_array_equal(turn_from_class(np.array([1, 2, 3, 4, 5, 0])), [2, 1, 0, -1, -2, NO_TURN])
    data = make_pose_dataset(tmp_path / "d", n=16)
    rows = read_labels(data / "labels.csv")
    for i, r in enumerate(rows):  # classes on half the rows
        r["pose_class"] = str(1 + i % 5) if i % 2 == 0 else ""
    write_labels(data / "labels.csv", rows)
    ds = PackedDataset(ensure_pack(data, size=32, progress=False))
    np.testing.assert_array_equal(ds.turn[::2], [3.0 - (1 + i % 5) for i in range(0, 16, 2)])
    assert (ds.turn[1::2] == NO_TURN).all()
    plain = AugmentConfig(size=24, flip_p=0.0)
    flipped = AugmentConfig(size=24, flip_p=1.0)
    (_, a), = BatchLoader(ds, 16, 24, augment=plain, shuffle=False, with_turn=True)
    (_, b), = BatchLoader(ds, 16, 24, augment=flipped, shuffle=False, with_turn=True)
    assert a.shape == (16, 4)
    np.testing.assert_allclose(a[:, 3], ds.turn)
    np.testing.assert_allclose(b[:, 3], -ds.turn)  # mirrored: the human turn changes side with the yaw
    np.testing.assert_allclose(b[:, 0], -a[:, 0], atol=1e-5)
    (_, c), = BatchLoader(ds, 16, 24, augment=plain, shuffle=False)
    assert c.shape == (16, 3)


def test_loader_real_fraction_sets_the_share_of_real_faces(tmp_path):
    from fixtures.pose_dataset import make_pose_dataset
    from gazenet_app.training.dataset_format import read_labels, write_labels
    from gazenet_app.training.readers import DatasetError

    data = make_pose_dataset(tmp_path / "d", n=40)
    rows = read_labels(data / "labels.csv")
    for i, r in enumerate(rows):  # 4 real rows of 40
        r["synthetic"] = "0" if i % 10 == 0 else "1"
    write_labels(data / "labels.csv", rows)
    ds = PackedDataset(ensure_pack(data, size=32, progress=False))
    aug = AugmentConfig(size=16)
    plain = BatchLoader(ds, 40, 16, augment=aug, seed=1)
    assert sorted(map(int, plain._batches[0])) == list(range(40))   # default: a permutation, as before
    share = [np.mean(ds.synthetic[BatchLoader(ds, 40, 16, augment=aug, seed=1, epoch=e,
                                              real_fraction=0.5)._batches[0]] == 0) for e in range(30)]
    assert 0.4 < np.mean(share) < 0.6
    a = BatchLoader(ds, 8, 16, augment=aug, seed=2, epoch=3, real_fraction=0.5)
    b = BatchLoader(ds, 8, 16, augment=aug, seed=2, epoch=3, real_fraction=0.5, start_batch=2)
    assert [list(x) for x in a._batches] == [list(x) for x in b._batches]   # same draw on resume
    for bad in (1.5, -0.1):
        with pytest.raises(DatasetError):
            BatchLoader(ds, 8, 16, augment=aug, real_fraction=bad)
    only_synth = PackedDataset(ensure_pack(data, size=32, progress=False))
    only_synth.synthetic = np.ones(len(only_synth), dtype=only_synth.synthetic.dtype)
    with pytest.raises(DatasetError, match="real rows"):
        BatchLoader(only_synth, 8, 16, augment=aug, real_fraction=0.3)


def test_loader_carries_landmarks_in_the_crop_and_mirrors_them(tmp_path):
    """With the landmark head on, each label row ends with the five landmarks where they lie in the crop (in
    percent of its side from the centre, x1..x5 then y1..y5) and a mask; a mirrored crop mirrors them and swaps
    left and right, and rows without landmarks are masked out."""
    from fixtures.pose_dataset import make_pose_dataset
    from gazenet_app.training.dataset_format import read_labels, write_labels
    from gazenet_app.training.pack import landmark_targets

    data = make_pose_dataset(tmp_path / "d", n=16, max_angle=20)
    rows = read_labels(data / "labels.csv")
    for k in ("lx1", "ly1"):
        rows[5][k] = "nan"  # one face without landmarks
    write_labels(data / "labels.csv", rows)
    ds = PackedDataset(ensure_pack(data, size=48, progress=False))
    plain = AugmentConfig(size=32, flip_p=0.0, margin_scale=(1.0, 1.0), shift=0.0, blur_p=0.0, downscale_p=0.0)
    flipped = AugmentConfig(size=32, flip_p=1.0, margin_scale=(1.0, 1.0), shift=0.0, blur_p=0.0, downscale_p=0.0)
    (crops, a), = BatchLoader(ds, 16, 32, augment=plain, shuffle=False, with_turn=True, with_landmarks=True)
    (_, b), = BatchLoader(ds, 16, 32, augment=flipped, shuffle=False, with_landmarks=True)
    (_, e), = BatchLoader(ds, 16, 32, augment=None, shuffle=False, with_landmarks=True)
    assert a.shape == (16, 4 + 11) and b.shape == (16, 3 + 11)
    lm_a, lm_b = a[:, 4:], b[:, 3:]
    assert lm_a[5, 10] == 0 and (lm_a[5] == 0).all() and (lm_a[np.arange(16) != 5, 10] == 1).all()
    np.testing.assert_allclose(lm_a, e[:, 3:], atol=1e-3)  # no augmentation: the test crop's landmarks
    keep = np.arange(16) != 5
    # mirrored: x -> -x with image-left/right swapped (eyes 0<->1, mouth corners 3<->4), y unchanged
    perm = [1, 0, 2, 4, 3]
    np.testing.assert_allclose(lm_b[keep][:, :5], -lm_a[keep][:, :5][:, perm], atol=1e-3)
    np.testing.assert_allclose(lm_b[keep][:, 5:10], lm_a[keep][:, 5:10][:, perm], atol=1e-3)
    # the nose target sits on the drawn nose (the reddest pixel of the crop)
    i = 0
    x, y = (lm_a[i, 2] / 100 + 0.5) * 32, (lm_a[i, 7] / 100 + 0.5) * 32
    red = crops[i, :, :, 0].astype(int) - crops[i, :, :, 1].astype(int)
    ry, rx = np.unravel_index(np.argmax(red), red.shape)
    assert abs(rx - x) <= 2 and abs(ry - y) <= 2
    assert (landmark_targets(None, 32) == 0).all()
