"""The model card (NAME.json beside the weights): a versioned schema, its validator, load and write.

`validate_card(dict)` checks a card document and returns a `ModelCard` (model_card.py: frozen, typed); code reads
cards through that. A new card is drafted as a dict (`pose_card`), an existing one edited through
`ModelCard.to_dict()`; either becomes a card again only through `validate_card`.

Schema version 1. Fields for every card:
  schema_version (int), kind ("pose" | "detector"), name (file-safe), format ("params" | "symbol"),
  precision ("fp32" | "fused" | "int8"), architecture (str), params_sha256 (64 hex chars, of NAME.params or
  NAME-0000.params), source (str: where the weights come from), training (dict: data, license required;
  teacher, synthesis, epochs, ... optional), eval (dict: dataset -> metric -> {value, n, label_source, command}).
Pose cards (kind "pose") also need: backbone, input_size, bins, bin_width, angle_offset, mean, std, color_order,
  normalization_in_graph, crop (a name in gazenet_app.core.transforms.CROP_PRESETS).
Detector cards (kind "detector") need a `detector` dict for their own settings (anchors, thresholds, ...); the
  pose fields are optional for them and checked when present.
Optional for all: symbol_sha256 (format symbol), default (bool: the shipped default), description, extra (dict).
Optional for pose: flip_average (bool: predictions average each crop with its mirror image, yaw and roll negated;
set where the validation split says it pays, and every `eval` number of the card was measured with it).
`mean`/`std` always describe what the network expects (0..1 scale, per RGB channel); `normalization_in_graph`
says where they are applied: true = inside the graph (feed raw NHWC RGB 0..255), false = by the caller through
`gazenet_app.core.transforms.normalize`. Never both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Mapping, Union

from gazenet_app.core.errors import CardError
from gazenet_app.core.geometry import ANGLE_OFFSET, BIN_WIDTH, NUM_BINS
from gazenet_app.core.input_files import InputFileError, read_json_file
from gazenet_app.core.results import write_sidecar
from gazenet_app.core.transforms import CROP_PRESETS, IMAGENET_MEAN, IMAGENET_STD
from gazenet_app.model_zoo.card_bounds import numeric_problems
from gazenet_app.model_zoo.model_card import ModelCard

__all__ = [
    "SCHEMA_VERSION",
    "KINDS",
    "FORMATS",
    "PRECISIONS",
    "LABEL_SOURCES",
    "COMMON_FIELDS",
    "POSE_FIELDS",
    "OPTIONAL_FIELDS",
    "pose_card",
    "validate_card",
    "with_eval",
    "load_card",
    "write_card",
]

SCHEMA_VERSION = 1
KINDS = ("pose", "detector")
FORMATS = ("params", "symbol")
PRECISIONS = ("fp32", "fused", "int8")
LABEL_SOURCES = ("human", "teacher", "synthetic", "true", "true (nominal)")
COLOR_ORDERS = ("RGB", "BGR")

COMMON_FIELDS = ("schema_version", "kind", "name", "format", "precision", "architecture", "params_sha256",
                 "source", "training", "eval")
POSE_FIELDS = ("backbone", "input_size", "bins", "bin_width", "angle_offset", "mean", "std", "color_order",
               "normalization_in_graph", "crop")
OPTIONAL_FIELDS = ("symbol_sha256", "default", "description", "extra", "detector", "flip_average")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def _where(card: Dict[str, Any]) -> str:
    name = card.get("name") if isinstance(card, dict) else None
    return f"model card {name!r}" if isinstance(name, str) else "model card"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_pose_field(key: str, value: Any) -> str:
    """The problem with one pose field's value, or '' when fine."""
    if key == "backbone" and not (isinstance(value, str) and value):
        return "must be a non-empty string"
    if key in ("input_size", "bins") and not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return "must be a positive integer"
    if key == "bin_width" and not (_is_number(value) and value > 0):
        return "must be a positive number"
    if key == "angle_offset" and not _is_number(value):
        return "must be a number"
    if key in ("mean", "std"):
        if not (isinstance(value, list) and len(value) == 3 and all(_is_number(v) for v in value)):
            return "must be a list of 3 numbers (per RGB channel, 0..1 scale)"
        if key == "std" and any(v <= 0 for v in value):
            return "must be positive"
    if key == "color_order" and value not in COLOR_ORDERS:
        return f"must be one of {', '.join(COLOR_ORDERS)}"
    if key == "normalization_in_graph" and not isinstance(value, bool):
        return "must be true or false"
    if key == "crop" and value not in CROP_PRESETS:
        return f"must name a crop preset ({', '.join(sorted(CROP_PRESETS))})"
    return ""


def _check_training(training: Any) -> str:
    if not isinstance(training, dict):
        return "training must be an object with at least data and license"
    for key in ("data", "license"):
        v = training.get(key)
        if not (isinstance(v, str) and v) and not (isinstance(v, list) and v and all(isinstance(s, str) for s in v)):
            return f"training.{key} must be a non-empty string (or list of strings)"
    epochs = training.get("epochs")
    if epochs is not None and not (_is_number(epochs) and epochs >= 0):
        return "training.epochs must be a non-negative number or null"
    return ""


def _check_eval(ev: Any) -> str:
    if not isinstance(ev, dict):
        return "eval must be an object: dataset -> metric -> {value, n, label_source, command}"
    for dataset, metrics in ev.items():
        if not isinstance(metrics, dict) or not metrics:
            return f"eval.{dataset} must be a non-empty object of metrics"
        for metric, entry in metrics.items():
            where = f"eval.{dataset}.{metric}"
            if not isinstance(entry, dict):
                return f"{where} must be an object {{value, n, label_source, command}}"
            missing = [k for k in ("value", "n", "label_source", "command") if k not in entry]
            if missing:
                return f"{where} lacks {', '.join(missing)}"
            if not _is_number(entry["value"]):
                return f"{where}.value must be a number"
            if not (isinstance(entry["n"], int) and not isinstance(entry["n"], bool) and entry["n"] > 0):
                return f"{where}.n must be a positive integer"
            if entry["label_source"] not in LABEL_SOURCES:
                return f"{where}.label_source must be one of {', '.join(LABEL_SOURCES)}"
            if not (isinstance(entry["command"], str) and entry["command"]):
                return f"{where}.command must be the command line that reproduces the number"
    return ""


def pose_card(name: str, backbone: str, input_size: int, *, training: Dict[str, Any], source: str,
              crop: str = "gazenet", fmt: str = "params", precision: str = "fp32",
              normalization_in_graph: bool = False, **fields: Any) -> Dict[str, Any]:
    """A pose card draft with gazenet's Hopenet conventions filled in (66 x 3-degree bins, ImageNet mean/std, RGB);
    `params_sha256` is a placeholder until `weights_io.save_model` writes the weights. `fields` add or override."""
    card: Dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "kind": "pose", "name": name, "format": fmt, "precision": precision,
        "architecture": f"hopenet_{backbone}", "backbone": backbone, "input_size": int(input_size),
        "bins": NUM_BINS, "bin_width": BIN_WIDTH, "angle_offset": ANGLE_OFFSET,
        "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "color_order": "RGB",
        "normalization_in_graph": bool(normalization_in_graph), "crop": crop, "params_sha256": "0" * 64,
        "training": training, "eval": {}, "source": source,
    }
    card.update(fields)
    return card


def validate_card(card: Dict[str, Any]) -> ModelCard:
    """Check a card document against the schema and return it as a ModelCard (its own copy); any problem raises
    CardError naming the field."""
    if not isinstance(card, dict):
        raise CardError(f"a model card must be a JSON object, got {type(card).__name__}")
    where = _where(card)
    version = card.get("schema_version")
    if not (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
        raise CardError(f"{where}: schema_version must be a positive integer (this gazenet writes "
                        f"{SCHEMA_VERSION})")
    if version > SCHEMA_VERSION:
        raise CardError(f"{where}: schema_version {version} is newer than this gazenet understands "
                        f"({SCHEMA_VERSION}); update gazenet")
    kind = card.get("kind")
    if kind not in KINDS:
        raise CardError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    required = COMMON_FIELDS + (POSE_FIELDS if kind == "pose" else ("detector",))
    missing = [k for k in required if k not in card]
    if missing:
        raise CardError(f"{where}: missing field(s) {', '.join(missing)}")
    allowed = set(COMMON_FIELDS) | set(POSE_FIELDS) | set(OPTIONAL_FIELDS)
    unknown = sorted(set(card) - allowed)
    if unknown:
        raise CardError(f"{where}: unknown field(s) {', '.join(unknown)} (free-form data goes under `extra`)")

    problems = []
    if not (isinstance(card["name"], str) and _NAME_RE.match(card["name"])):
        problems.append("name must be 1-128 characters of letters, digits, '_', '.', '+', '-' "
                        "(it names the files)")
    if card["format"] not in FORMATS:
        problems.append(f"format must be one of {', '.join(FORMATS)}")
    if card["precision"] not in PRECISIONS:
        problems.append(f"precision must be one of {', '.join(PRECISIONS)}")
    if card["format"] == "params" and card["precision"] != "fp32":
        problems.append("precision fused/int8 needs format symbol (an exported graph)")
    if not (isinstance(card["architecture"], str) and card["architecture"]):
        problems.append("architecture must be a non-empty string")
    for key in ("params_sha256", "symbol_sha256"):
        if key in card and not (isinstance(card[key], str) and _SHA_RE.match(card[key])):
            problems.append(f"{key} must be 64 lowercase hex characters")
    if not (isinstance(card["source"], str) and card["source"]):
        problems.append("source must say where the weights come from")
    for key in POSE_FIELDS:
        if key in card:
            why = _check_pose_field(key, card[key])
            if why:
                problems.append(f"{key} {why}")
    for why in (_check_training(card["training"]), _check_eval(card["eval"])):
        if why:
            problems.append(why)
    for key in ("default", "flip_average"):
        if key in card and not isinstance(card[key], bool):
            problems.append(f"{key} must be true or false")
    if "extra" in card and not isinstance(card["extra"], dict):
        problems.append("extra must be an object")
    if "detector" in card and not isinstance(card["detector"], dict):
        problems.append("detector must be an object (the detector's own settings)")
    problems.extend(numeric_problems(card))
    if problems:
        raise CardError(f"{where}: " + "; ".join(problems))
    return ModelCard.from_dict(card)


def with_eval(card: ModelCard, entries: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> ModelCard:
    """The card with `entries` (dataset -> metric -> {value, n, label_source, command}) merged into its eval, a
    metric measured again replacing its old entry; validated."""
    doc = card.to_dict()
    for dataset, metrics in entries.items():
        doc["eval"].setdefault(dataset, {}).update(metrics)
    return validate_card(doc)


def load_card(path: Union[str, Path]) -> ModelCard:
    """Read and validate NAME.json; unreadable JSON or a schema failure raises CardError naming the file.

    Only a regular file of at most 1 MiB is read (`core.input_files`: a FIFO never blocks)."""
    path = Path(path)
    try:
        card = read_json_file(path)
    except InputFileError as exc:
        raise CardError(f"model card {exc}") from None
    try:
        return validate_card(card)
    except CardError as exc:
        raise CardError(f"{path}: {exc}") from None


def write_card(card: ModelCard, path: Union[str, Path]) -> Path:
    """Write a card atomically (`core.results.write_sidecar`: the one JSON writer); returns the path."""
    return write_sidecar(path, card.to_dict())
