"""Precision modes: the fastest export within the accuracy budget, named precisions, stale exports, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from gazenet_app.core.errors import ModelNotFoundError
from gazenet_app.model_zoo import modes, store
from gazenet_app.model_zoo.card import pose_card, validate_card
from gazenet_app.model_zoo.store import ModelInfo


def _info(name, precision, cost=None, ms=None, fp32_ms=None, base=None):
    extra = {}
    if base is not None:
        extra = {"mode_of": base, "base_params_sha256": "a" * 64}
        if cost is not None:
            extra["mae_delta_deg"] = cost
        if ms is not None:
            extra.update(ms_per_face=ms, fp32_ms_per_face=fp32_ms)
    card = validate_card(pose_card(name, "mobilenetv2", 96, training={"data": "none", "license": "none"},
                                   source="test", fmt="params" if precision == "fp32" else "symbol",
                                   precision=precision, params_sha256="a" * 64, extra=extra))
    return ModelInfo(name, "pose", card, Path(f"/m/{name}.json"), Path(f"/m/{name}.params"), None, "user")


def test_auto_takes_the_fastest_within_the_budget():
    m = {"fp32": _info("m", "fp32"), "fused": _info("m_fused", "fused", 0.01, 5.0, 20.0, "m"),
         "int8": _info("m_int8", "int8", 0.25, 2.0, 20.0, "m")}
    assert modes.choose_mode(m).name == "m_int8"
    m["int8"] = _info("m_int8", "int8", 0.31, 2.0, 20.0, "m")  # over 0.3 deg: too costly
    assert modes.choose_mode(m).name == "m_fused"
    assert modes.choose_mode(m, max_mae_delta=0.5).name == "m_int8"
    assert modes.choose_mode(m, max_mae_delta=-1).name == "m"  # nothing fits: the model itself


def test_measured_speed_beats_the_default_order_and_unknown_cost_is_refused():
    m = {"fp32": _info("m", "fp32"), "fused": _info("m_fused", "fused", 0.0, 2.0, 20.0, "m"),
         "int8": _info("m_int8", "int8", 0.0, 3.0, 20.0, "m")}
    assert modes.choose_mode(m).name == "m_fused"  # measured faster on this model
    m["fused"] = _info("m_fused", "fused", None, 2.0, 20.0, "m")  # no accuracy cost recorded: not auto-picked
    assert modes.choose_mode(m).name == "m_int8"


def test_named_precision_gpu_and_missing_export():
    m = {"fp32": _info("m", "fp32"), "int8": _info("m_int8", "int8", 0.9, base="m")}
    assert modes.choose_mode(m, "int8").name == "m_int8"  # the setting overrides the budget
    assert modes.choose_mode(m, "fp32").name == "m"
    assert modes.choose_mode(m, device="gpu:0").name == "m"  # oneDNN exports are CPU-only
    with pytest.raises(ModelNotFoundError, match="build_fast_modes.py"):
        modes.choose_mode(m, "fused")
    with pytest.raises(ValueError, match="valid: auto"):
        modes.choose_mode(m, "fp16")


def test_default_ignores_exports_shipped_beside_the_model(tmp_path, monkeypatch):
    from fixtures.models import make_tiny_pose_model

    monkeypatch.setenv(store.ENV_MODELS_DIR, str(tmp_path))
    monkeypatch.setattr(store, "package_model_dirs", lambda: [])
    make_tiny_pose_model(tmp_path, name="base")
    base = store.resolve_model("base")
    make_tiny_pose_model(tmp_path, name="base_int8", extra={"mode_of": "base",
                                                           "base_params_sha256": base.card.params_sha256})
    assert store.default_model_name() == "base"  # the int8 export is not a candidate by itself
    assert store.resolve_model("base_int8").card.mode_of == "base"
