"""Where models live: NAME.json cards beside their weights, in the package's models/ and the user model folder.

Search order: the package's shipped models (`gazenet_app.models`, which pyproject maps from the top-level
models/; the source tree's models/ when run from a checkout; `sys._MEIPASS/models` in a PyInstaller bundle),
then the user model folder (`user_model_dir()`: `$GAZENET_MODELS_DIR`, else ~/.local/share/gazenet/models or
the platform's equivalent). Every weights file is checked against its card's sha256 before use; nothing
here ever falls back to random weights.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from gazenet_app.core.errors import CardError, ModelLoadError, ModelNotFoundError
from gazenet_app.model_zoo.card import load_card
from gazenet_app.model_zoo.model_card import ModelCard
from gazenet_app.model_zoo.weights_io import file_sha256, params_file_names

__all__ = [
    "ModelInfo",
    "ENV_MODELS_DIR",
    "CHECKPOINT_SUFFIXES",
    "HOW_TO_GET_A_MODEL",
    "package_model_dirs",
    "user_model_dir",
    "search_dirs",
    "list_models",
    "resolve_model",
    "verify_model",
    "default_model_name",
]

_log = logging.getLogger(__name__)
#: Broken cards already reported (list_models runs several times in one command).
_WARNED: set = set()

ENV_MODELS_DIR = "GAZENET_MODELS_DIR"
HOW_TO_GET_A_MODEL = ("get one with `gazenet convert hopenet_robust_alpha1.pkl -o NAME` (original Hopenet "
                      "weights) or `gazenet train`, or point $GAZENET_MODELS_DIR at a folder of models")
#: Original PyTorch checkpoints (not gazenet models): `pose.load_pose_model` converts them in memory.
CHECKPOINT_SUFFIXES = (".pkl", ".pth", ".pt", ".tar")


@dataclass(frozen=True)
class ModelInfo:
    """A model on disk: its validated card and files; `sha_ok` is None until verified."""

    name: str
    kind: str
    card: ModelCard = field(repr=False)
    card_path: Path
    params_path: Path
    symbol_path: Optional[Path]
    location: str  # "package", "user" or "path"
    sha_ok: Optional[bool] = None


def package_model_dirs() -> List[Path]:
    """Folders holding the shipped models (installed package data, source checkout, PyInstaller bundle)."""
    dirs: List[Path] = []
    try:
        from importlib import resources

        p = Path(str(resources.files("gazenet_app.models")))
        if p.is_dir():
            dirs.append(p)
    except (ImportError, TypeError, ValueError):  # not installed: running from a checkout
        pass
    src = Path(__file__).resolve().parents[2] / "models"
    meipass = getattr(sys, "_MEIPASS", None)
    for p in [src] + ([Path(meipass) / "models", Path(meipass) / "gazenet_app" / "models"] if meipass else []):
        if p.is_dir() and all(p.resolve() != d.resolve() for d in dirs):
            dirs.append(p)
    return dirs


def user_model_dir() -> Path:
    """The user's model folder: $GAZENET_MODELS_DIR, else the platform's per-user data folder + gazenet/models."""
    env = os.environ.get(ENV_MODELS_DIR)
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "gazenet" / "models"


def search_dirs() -> List[Tuple[Path, str]]:
    """(folder, location) pairs in search order: shipped models first, then the user folder."""
    return [(p, "package") for p in package_model_dirs()] + [(user_model_dir(), "user")]


def _info_from_card(card_path: Path, location: str) -> ModelInfo:
    card = load_card(card_path)
    if card.name != card_path.stem:
        raise CardError(f"{card_path}: the card's name {card.name!r} differs from its file name "
                        f"{card_path.stem!r} (the name picks the weights files)")
    params_name, symbol_name = params_file_names(card.name, card.format)
    return ModelInfo(card.name, card.kind, card, card_path, card_path.parent / params_name,
                     card_path.parent / symbol_name if symbol_name else None, location)


def _cards_in(folder: Path) -> List[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.json") if not p.name.endswith("-symbol.json"))


def verify_model(info: ModelInfo) -> ModelInfo:
    """Check the weights (and symbol) files exist and match the card's sha256; returns info with sha_ok=True."""
    files = [(info.params_path, info.card.params_sha256)]
    if info.symbol_path is not None:
        files.append((info.symbol_path, info.card.symbol_sha256))
    for path, want in files:
        if not path.is_file():
            raise ModelNotFoundError(f"model {info.name!r}: its card {info.card_path} needs {path.name}, which is "
                                     f"missing from {path.parent}")
        if want is None:
            continue
        got = file_sha256(path)
        if got != want:
            raise ModelLoadError(f"model {info.name!r}: {path} does not match its card (sha256 {got[:12]}... but "
                                 f"the card says {want[:12]}...); the file is damaged or belongs to another "
                                 "model: reinstall or reconvert it")
    return ModelInfo(info.name, info.kind, info.card, info.card_path, info.params_path, info.symbol_path,
                     info.location, True)


def list_models(kind: Optional[str] = None, verify: bool = False) -> List[ModelInfo]:
    """Models in search order (a name found twice: the first wins); broken cards are logged and skipped.

    With `verify`, each model's files are hashed and `sha_ok` set (False for a missing or mismatched file).
    """
    seen: Dict[str, ModelInfo] = {}
    for folder, location in search_dirs():
        for card_path in _cards_in(folder):
            try:
                info = _info_from_card(card_path, location)
            except CardError as exc:
                if str(exc) not in _WARNED:  # once per process, however often the store is listed
                    _WARNED.add(str(exc))
                    _log.warning("skipping a broken model card: %s", exc)
                continue
            if info.name in seen or (kind is not None and info.kind != kind):
                continue
            if verify:
                try:
                    info = verify_model(info)
                except (ModelLoadError, ModelNotFoundError):
                    info = ModelInfo(info.name, info.kind, info.card, info.card_path, info.params_path,
                                     info.symbol_path, info.location, False)
            seen[info.name] = info
    return list(seen.values())


def _looks_like_path(spec: str) -> bool:
    return bool(os.sep in spec or (os.altsep and os.altsep in spec) or spec.endswith((".json", ".params"))
                or spec.lower().endswith(CHECKPOINT_SUFFIXES))


def _resolve_path(spec: str) -> Path:
    path = Path(spec).expanduser()
    if path.suffix.lower() in CHECKPOINT_SUFFIXES:
        if not path.exists():
            raise ModelNotFoundError(f"{path} does not exist")
        raise ModelNotFoundError(f"{path} is a PyTorch checkpoint, not a gazenet model: convert it first with "
                                 f"`gazenet convert {path} -o NAME` (or use the app's Load weights...)")
    if path.is_dir():
        cards = _cards_in(path)
        if len(cards) != 1:
            raise ModelNotFoundError(f"{path} holds {len(cards)} model cards; name one NAME.json in it")
        return cards[0]
    if path.suffix == ".params":
        stem = path.stem[: -len("-0000")] if path.stem.endswith("-0000") else path.stem
        card = path.with_name(stem + ".json")
        if not card.is_file():
            raise ModelNotFoundError(f"{path} has no model card {card.name} beside it; a weights file needs its "
                                     f"card (write one with `gazenet convert` or `gazenet train`)")
        return card
    if not path.is_file():
        raise ModelNotFoundError(f"model file {path} does not exist")
    return path


def resolve_model(name_or_path: Union[str, Path], verify: bool = True) -> ModelInfo:
    """A model by name (search order of `search_dirs`) or by path (NAME.json, NAME.params or a folder).

    Unknown names raise ModelNotFoundError naming the folders searched and how to get a model; a file that
    does not match its card raises ModelLoadError; a broken card raises CardError.
    """
    spec = str(name_or_path)
    if isinstance(name_or_path, Path) or _looks_like_path(spec):
        info = _info_from_card(_resolve_path(spec), "path")
    else:
        info = None
        for folder, location in search_dirs():
            card_path = folder / f"{spec}.json"
            if card_path.is_file():
                info = _info_from_card(card_path, location)
                break
        if info is None and os.path.exists(spec):  # a bare file or folder name in the working directory
            info = _info_from_card(_resolve_path(spec), "path")
        if info is None:
            installed = [m.name for m in list_models()]
            where = ", ".join(str(p) for p, _ in search_dirs())
            have = f"installed: {', '.join(installed)}" if installed else "no models are installed"
            raise ModelNotFoundError(f"no model named {spec!r} (looked in {where}; {have}); {HOW_TO_GET_A_MODEL}")
    return verify_model(info) if verify else info


def default_model_name(kind: str = "pose") -> Optional[str]:
    """The model used when none is named: a shipped card marked `default`, else the only shipped model of
    `kind`, else the only user model of `kind` (fast-mode exports not counted); None when there is no single
    candidate."""
    # fused/int8 exports of another model are never the default by themselves: model_zoo.modes picks them
    # for their base model.
    models = [m for m in list_models(kind=kind) if m.card.mode_of is None]
    shipped = [m for m in models if m.location == "package"]
    marked = [m for m in shipped if m.card.default]
    for group in (marked, shipped, [m for m in models if m.location == "user"]):
        if len(group) == 1 or (group is marked and group):
            return group[0].name
    return None
