"""The card schema: valid pose and detector cards pass, each kind of mistake fails with the field named."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from gazenet_app.core.errors import CardError
from gazenet_app.model_zoo.card import SCHEMA_VERSION, load_card, validate_card, with_eval, write_card

SHA = "ab" * 32
SHIPPED = Path(__file__).resolve().parents[2] / "models"


def pose_card(**overrides):
    card = {
        "schema_version": SCHEMA_VERSION, "kind": "pose", "name": "hopenet_test-1", "format": "params",
        "precision": "fp32", "architecture": "hopenet_mobilenetv2", "backbone": "mobilenetv2",
        "input_size": 112, "bins": 66, "bin_width": 3.0, "angle_offset": 99.0,
        "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "color_order": "RGB",
        "normalization_in_graph": False, "crop": "gazenet", "params_sha256": SHA,
        "training": {"data": ["mtfl_80px train split"], "license": "research use", "teacher": "facemesh",
                     "synthesis": None, "epochs": 12},
        "eval": {"mtfl_aflw_test": {"yaw_mae": {"value": 7.5, "n": 2000, "label_source": "teacher",
                                                "command": "gazenet evaluate --model hopenet_test-1"}}},
        "source": "trained by gazenet train",
    }
    card.update(overrides)
    return card


def detector_card(**overrides):
    card = {
        "schema_version": SCHEMA_VERSION, "kind": "detector", "name": "ssh_mobilenet", "format": "params",
        "precision": "fp32", "architecture": "ssh_mobilenetv2", "params_sha256": SHA,
        "training": {"data": "faces", "license": "research use"}, "eval": {},
        "source": "trained by gazenet train-detector",
        "detector": {"anchors": [[16, 32], [64, 128]], "score_threshold": 0.5}, "input_size": 320,
    }
    card.update(overrides)
    return card


def test_valid_cards_pass_and_come_back_as_copies():
    card = pose_card()
    out = validate_card(card)
    assert out.to_dict() == card and out.training == card["training"] and out.training is not card["training"]
    doc = out.to_dict()
    doc["training"]["epochs"] = 1
    assert out.training["epochs"] == 12  # to_dict is a deep copy too
    assert validate_card(detector_card()).detector["score_threshold"] == 0.5
    assert validate_card(pose_card(format="symbol", precision="int8", symbol_sha256=SHA, default=True))


@pytest.mark.parametrize("change, field", [
    (lambda c: c.pop("crop"), "crop"),
    (lambda c: c.update(kind="segmenter"), "kind"),
    (lambda c: c.update(schema_version=SCHEMA_VERSION + 1), "schema_version"),
    (lambda c: c.update(schema_version="1"), "schema_version"),
    (lambda c: c.update(name="my model/v1"), "name"),
    (lambda c: c.update(format="onnx"), "format"),
    (lambda c: c.update(precision="int8"), "precision"),  # int8 needs format symbol
    (lambda c: c.update(params_sha256="xyz"), "params_sha256"),
    (lambda c: c.update(input_size=0), "input_size"),
    (lambda c: c.update(bins=66.0), "bins"),
    (lambda c: c.update(mean=[0.5, 0.5]), "mean"),
    (lambda c: c.update(std=[0.2, 0.0, 0.2]), "std"),
    (lambda c: c.update(color_order="RGBA"), "color_order"),
    (lambda c: c.update(normalization_in_graph="no"), "normalization_in_graph"),
    (lambda c: c.update(crop="tight"), "crop"),
    (lambda c: c.update(training={"data": "x"}), "training.license"),
    (lambda c: c["eval"]["mtfl_aflw_test"]["yaw_mae"].update(label_source="guess"), "label_source"),
    (lambda c: c["eval"]["mtfl_aflw_test"]["yaw_mae"].pop("command"), "command"),
    (lambda c: c["eval"]["mtfl_aflw_test"]["yaw_mae"].update(n=0), ".n"),
    (lambda c: c.update(notes="typo field"), "notes"),
    (lambda c: c.update(source=""), "source"),
    (lambda c: c.update(flip_average="yes"), "flip_average"),
    (lambda c: c.update(default=1), "default"),
])
def test_pose_card_mistakes_are_rejected_naming_the_field(change, field):
    card = copy.deepcopy(pose_card())
    change(card)
    with pytest.raises(CardError, match=field.replace(".", r"\.")):
        validate_card(card)


def test_detector_card_needs_its_own_section_but_not_pose_fields():
    card = detector_card()
    card.pop("detector")
    with pytest.raises(CardError, match="detector"):
        validate_card(card)
    with pytest.raises(CardError, match="crop"):
        validate_card(detector_card(crop="nope"))  # pose fields, when present, are still checked
    with pytest.raises(CardError, match="missing field.*backbone"):
        validate_card(detector_card(kind="pose"))


def test_not_a_dict_is_rejected():
    with pytest.raises(CardError, match="JSON object"):
        validate_card(["not", "a", "card"])


def test_write_and_load_round_trip(tmp_path):
    path = write_card(validate_card(pose_card()), tmp_path / "m.json")
    assert load_card(path).to_dict() == pose_card()
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CardError, match="bad.json.*not valid JSON"):
        load_card(tmp_path / "bad.json")
    (tmp_path / "old.json").write_text(json.dumps(pose_card(kind=None)), encoding="utf-8")
    with pytest.raises(CardError, match="old.json.*kind"):
        load_card(tmp_path / "old.json")
    with pytest.raises(CardError, match="input_size"):
        write_card(validate_card(pose_card(input_size=-1)), tmp_path / "never.json")
    assert not (tmp_path / "never.json").exists()


def test_typed_fields_and_extra_reads():
    card = validate_card(pose_card(format="symbol", precision="int8", symbol_sha256=SHA, flip_average=True, extra={
        "mode_of": "hopenet_test", "base_params_sha256": SHA, "mae_delta_deg": 0.05, "ms_per_face": 2,
        "fp32_ms_per_face": 4.5, "val_n": 300}))
    assert card.input_size == 112 and card.mean == (0.485, 0.456, 0.406) and card.flip_average is True
    assert card.default is None and card.detector is None  # absent optional fields
    assert (card.mode_of, card.base_params_sha256, card.val_n) == ("hopenet_test", SHA, 300)
    assert (card.mae_delta_deg, card.ms_per_face, card.fp32_ms_per_face) == (0.05, 2.0, 4.5)
    plain = validate_card(pose_card(extra={"mode_of": "", "mae_delta_deg": True, "val_n": 1.5}))
    assert (plain.mode_of, plain.mae_delta_deg, plain.val_n, plain.ms_per_face) == (None, None, None, None)
    with pytest.raises(AttributeError):
        card.name = "other"  # frozen


def test_to_dict_keeps_the_documents_key_order_and_appends_new_fields():
    doc = pose_card()
    reordered = dict(reversed(list(doc.items())))
    assert list(validate_card(reordered).to_dict()) == list(reordered)
    edited = dataclasses.replace(validate_card(doc), default=True, description="x")
    assert list(edited.to_dict())[-2:] == ["default", "description"]
    assert validate_card(edited.to_dict()) == edited


@pytest.mark.parametrize("card_path", sorted(p for p in SHIPPED.glob("*.json") if not p.name.endswith("-symbol.json")),
                         ids=lambda p: p.stem)
def test_shipped_cards_round_trip_byte_for_byte(card_path, tmp_path):
    out = write_card(load_card(card_path), tmp_path / card_path.name)
    assert out.read_bytes() == card_path.read_bytes()


def test_with_eval_merges_metrics_and_validates():
    card = validate_card(pose_card())
    entry = {"value": 6.0, "n": 10, "label_source": "human", "command": "gazenet evaluate"}
    merged = with_eval(card, {"mtfl_aflw_test": {"pitch_mae": entry}, "biwi": {"yaw_mae": entry}})
    assert set(merged.eval["mtfl_aflw_test"]) == {"yaw_mae", "pitch_mae"} and merged.eval["biwi"]["yaw_mae"] == entry
    assert "biwi" not in card.eval  # the original card is untouched
    with pytest.raises(CardError, match="label_source"):
        with_eval(card, {"biwi": {"yaw_mae": {**entry, "label_source": "guess"}}})
