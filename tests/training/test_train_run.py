"""Short training runs on tiny generated data: the loss goes down, checkpoints, Ctrl-C, resume, two contexts."""

from __future__ import annotations

import json

import mxnet as mx
import numpy as np
import pytest

from gazenet_app.training.pack import BatchLoader, PackedDataset
from gazenet_app.training.split_net import SplitNet, backbone_stages
from gazenet_app.training.trainer import PoseTrainer, TrainConfig, TrainError, train_contexts


def _cfg(data, **kw):
    base = dict(data=[str(data)], name="t", input_size=32, pack_size=40, epochs=2, batch_size=8, lr=3e-4,
                pretrained="imagenet", freeze_blocks=4, lr_schedule="const")
    base.update(kw)
    return TrainConfig(**base)


def _fixed_loss(trainer: PoseTrainer, pack) -> float:
    ds = PackedDataset(pack, split="train")
    crops, poses = next(iter(BatchLoader(ds, 32, 32, augment=None, shuffle=False)))
    from gazenet_app.core.transforms import normalize

    logits = trainer.split(mx.nd.array(normalize(crops)))
    return float(trainer.loss_fn(logits, mx.nd.array(poses)).mean().asscalar())


def test_short_run_lowers_the_loss_and_writes_a_run(tiny_pose_dataset, tmp_path):
    run = tmp_path / "run"
    t = PoseTrainer(_cfg(tiny_pose_dataset, epochs=4), run_dir=run, progress=False)
    pack = t.packs[0]
    before = _fixed_loss(t, pack)
    hist = t.fit()
    after = _fixed_loss(t, pack)
    assert after < 0.9 * before
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    assert all("val" in h and h["val"]["n"] == 12 for h in hist)
    for f in ("config.json", "log.txt", "history.jsonl", "epoch-0004.params", "best.params", "best.json",
              "trainer.states", "checkpoint.json"):
        assert (run / f).is_file(), f
    ck = json.loads((run / "checkpoint.json").read_text())
    assert (ck["epoch"], ck["batch"], ck["kind"]) == (4, 0, "epoch")
    assert len((run / "history.jsonl").read_text().splitlines()) == 4


def test_frozen_stages_do_not_change_and_heads_learn_faster(tiny_pose_dataset, tmp_path):
    t = PoseTrainer(_cfg(tiny_pose_dataset, epochs=1, max_batches=2), run_dir=tmp_path / "r", progress=False)
    stages = backbone_stages(t.net)
    frozen = {p.name: p.data().asnumpy().copy() for b in stages[:4] for p in b.collect_params().values()
              if p.name.endswith("weight")}
    trained = {p.name: p.data().asnumpy().copy() for b in stages[4:] for p in b.collect_params().values()
               if p.name.endswith("weight")}
    t.fit()
    for name, val in frozen.items():
        np.testing.assert_array_equal(t.net.collect_params()[name].data().asnumpy(), val)
    assert any(not np.array_equal(t.net.collect_params()[n].data().asnumpy(), v) for n, v in trained.items())
    assert t.split.head_params and all(p.lr_mult == 5.0 for p in t.split.head_params)
    assert all(p.grad_req == "null" for b in stages[:4] for p in b.collect_params().values())


def test_ctrl_c_saves_and_resume_continues(tiny_pose_dataset, tmp_path, monkeypatch):
    run = tmp_path / "run"
    cfg = _cfg(tiny_pose_dataset, epochs=2)
    t = PoseTrainer(cfg, run_dir=run, progress=False)
    calls = {"n": 0}
    real_step = t.train_step

    def step(crops, poses):
        calls["n"] += 1
        if calls["n"] == 7:  # epoch 2, after its first batch (4 batches an epoch)
            raise KeyboardInterrupt
        return real_step(crops, poses)

    monkeypatch.setattr(t, "train_step", step)
    with pytest.raises(KeyboardInterrupt):
        t.fit()
    ck = json.loads((run / "checkpoint.json").read_text())
    assert (ck["epoch"], ck["batch"], ck["kind"]) == (1, 2, "interrupt")
    assert (run / "interrupt.params").is_file()
    saved = mx.nd.load(str(run / "interrupt.params"))
    t2 = PoseTrainer(cfg, run_dir=run, resume=True, progress=False)
    assert (t2.start_epoch, t2.start_batch) == (1, 2)
    for k, v in t2.net._collect_params_with_prefix().items():
        np.testing.assert_array_equal(v.data().asnumpy(), saved[k].asnumpy())
    seen = {"n": 0}
    real2 = t2.train_step
    monkeypatch.setattr(t2, "train_step", lambda c, p: (seen.__setitem__("n", seen["n"] + 1), real2(c, p))[1])
    hist = t2.fit()
    assert seen["n"] == 2  # only the batches the interrupted epoch had left
    assert [h["epoch"] for h in hist] == [1, 2]
    with pytest.raises(TrainError, match="input_size"):
        PoseTrainer(_cfg(tiny_pose_dataset, input_size=48), run_dir=run, resume=True, progress=False)


def test_two_cpu_contexts_share_one_trainer(tiny_pose_dataset, tmp_path):
    t = PoseTrainer(_cfg(tiny_pose_dataset, epochs=1, max_batches=2, devices="cpu:0,cpu:1"),
                    run_dir=tmp_path / "r", progress=False)
    assert len(t.ctx) == 2
    p = t.split.head_params[0]
    before = p.data(mx.cpu(0)).asnumpy().copy()
    t.fit()
    a, b = p.data(mx.cpu(0)).asnumpy(), p.data(mx.cpu(1)).asnumpy()
    np.testing.assert_allclose(a, b)
    assert not np.allclose(a, before)


def test_frozen_bn_keeps_running_stats(tiny_pose_dataset, tmp_path):
    t = PoseTrainer(_cfg(tiny_pose_dataset, epochs=1, max_batches=2, freeze_bn=True), run_dir=tmp_path / "r",
                    progress=False)
    means = {k: v.data().asnumpy().copy() for k, v in t.net._collect_params_with_prefix().items()
             if k.endswith("running_mean")}
    t.fit()
    now = t.net._collect_params_with_prefix()
    for k, v in means.items():
        np.testing.assert_array_equal(now[k].data().asnumpy(), v)


def test_resnet_stages_and_bad_configs(tiny_pose_dataset, tmp_path):
    from gazenet_app.model_zoo.hopenet import get_hopenet

    net = get_hopenet("resnet50")
    st = backbone_stages(net)
    assert len(st) == 1 + 16
    s = SplitNet(net, 1, hybridize=False)
    out = s(mx.nd.zeros((1, 3, 32, 32)))
    assert out.shape == (1, 3, 66)
    np.testing.assert_allclose(out.asnumpy(), net(mx.nd.zeros((1, 3, 32, 32))).asnumpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(TrainError, match="ImageNet"):
        PoseTrainer(_cfg(tiny_pose_dataset, backbone="resnet50"), run_dir=tmp_path / "x", progress=False)
    with pytest.raises(TrainError, match="bad device"):
        PoseTrainer(_cfg(tiny_pose_dataset, devices="tpu:0"), run_dir=tmp_path / "y", progress=False)
    with pytest.raises(TrainError, match="fewer than one batch"):
        PoseTrainer(_cfg(tiny_pose_dataset, batch_size=64), run_dir=tmp_path / "z", progress=False)


def test_human_turn_hinge_trains_on_rows_with_a_class(tmp_path):
    from fixtures.pose_dataset import make_pose_dataset
    from gazenet_app.training.dataset_format import read_labels, write_labels

    data = make_pose_dataset(tmp_path / "d", n=32)
    rows = read_labels(data / "labels.csv")
    for r in rows[::2]:  # the class a person would give the drawn yaw (1: left profile .. 5: right profile)
        y = float(r["yaw"])
        r["pose_class"] = str(1 if y >= 31 else 2 if y >= 12.45 else 3 if y >= -12.45 else 4 if y >= -31 else 5)
    write_labels(data / "labels.csv", rows)
    t = PoseTrainer(_cfg(data, epochs=1, turn_weight=1.0), run_dir=tmp_path / "run", progress=False)
    assert t.loss_fn.turn_weight == 1.0
    hist = t.fit()
    assert np.isfinite(hist[0]["train_loss"]) and hist[0]["val"]["n"] == 8
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["turn_weight"] == 1.0 and saved["turn_bounds"] == [12.45, 31.0]


def test_landmark_head_trains_resumes_and_stays_out_of_the_model(tiny_pose_dataset, tmp_path):
    """--landmark-weight: the auxiliary head learns the landmarks, is checkpointed beside the run (aux.params)
    and restored on resume, and the net's own parameters (what export writes) are exactly the plain Hopenet's."""
    from gazenet_app.model_zoo.hopenet import get_hopenet

    run = tmp_path / "run"
    cfg = _cfg(tiny_pose_dataset, epochs=3, landmark_weight=1.0, turn_weight=0.5)
    t = PoseTrainer(cfg, run_dir=run, progress=False)
    assert t.split.aux is not None and all(p.lr_mult == 5.0 for p in t.split.aux.collect_params().values())
    ds = PackedDataset(t.packs[0], split="train")
    (crops, y), = BatchLoader(ds, 32, 32, augment=None, shuffle=False, max_batches=1, with_turn=True,
                              with_landmarks=True)
    from gazenet_app.core.transforms import normalize

    def lm_err():
        _, lm = t.split.tail(t.split.features(mx.nd.array(normalize(crops))))
        return float(np.abs(lm.asnumpy() - y[:, 4:14]).mean())

    before = lm_err()
    t.fit()
    assert lm_err() < 0.85 * before
    assert (run / "aux.params").is_file()
    plain = {k for k in get_hopenet("mobilenetv2", input_size=32)._collect_params_with_prefix()}
    assert set(mx.nd.load(str(run / "epoch-0003.params"))) == plain
    assert t.predict(crops).shape == (32, 3)
    aux_w = t.split.aux.weight.data().asnumpy().copy()
    t2 = PoseTrainer(TrainConfig(**{**cfg.to_dict(), "epochs": 4}), run_dir=run, resume=True, progress=False)
    np.testing.assert_array_equal(t2.split.aux.weight.data().asnumpy(), aux_w)
    (run / "aux.params").unlink()
    with pytest.raises(TrainError, match="aux.params"):
        PoseTrainer(cfg, run_dir=run, resume=True, progress=False)


def test_train_contexts_are_mxnet_contexts_and_bad_devices_a_train_error():
    assert train_contexts("cpu:0,cpu:1") == [mx.cpu(0), mx.cpu(1)]
    assert train_contexts("gpu:1") == [mx.gpu(1)]
    with pytest.raises(TrainError, match="bad device 'tpu:0'"):
        train_contexts("tpu:0")
