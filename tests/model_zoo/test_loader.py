"""The one loader, load_pose_model(name_or_path, device, precision): mode choice, named exports, env, one hash."""

from __future__ import annotations

import pytest

from gazenet_app.model_zoo import modes, pose, store

SHIPPED = "hopenet_mnv2_96"  # shipped with its fused and int8 exports


def _count_hashes(monkeypatch):
    calls = []
    real = store.file_sha256

    def counting(path, *a, **kw):
        calls.append(str(path))
        return real(path, *a, **kw)
    monkeypatch.setattr(store, "file_sha256", counting)
    return calls


def test_named_precision_and_each_file_hashed_once(monkeypatch):
    pytest.importorskip("mxnet")
    calls = _count_hashes(monkeypatch)
    model = pose.load_pose_model(SHIPPED, precision="int8")
    assert model.precision == "int8" and model.describe()["precision"] == "int8"
    assert len(calls) == len(set(calls)) == 2  # its params and symbol, once each


@pytest.mark.slow
def test_auto_env_and_named_export(monkeypatch):
    pytest.importorskip("mxnet")
    monkeypatch.delenv(modes.ENV_PRECISION, raising=False)
    auto = modes.choose_mode(modes.list_modes(store.resolve_model(SHIPPED, verify=False)))
    assert pose.load_pose_model(SHIPPED).name == auto.name  # precision auto by default
    monkeypatch.setenv(modes.ENV_PRECISION, "fp32")
    assert pose.load_pose_model(SHIPPED, precision=None).precision == "fp32"  # None: the environment
    assert pose.load_pose_model(SHIPPED).name == auto.name  # an explicit auto is not overridden
    assert pose.load_pose_model(f"{SHIPPED}_fused", precision="int8").precision == "fused"  # a named export as is


def test_missing_checkpoint_is_one_line(tmp_path):
    from gazenet_app.core.errors import ModelNotFoundError

    for suffix in store.CHECKPOINT_SUFFIXES:
        with pytest.raises(ModelNotFoundError, match="does not exist"):
            pose.load_pose_model(tmp_path / f"missing{suffix}")
