"""Finding models: sha256 checks, clear messages for missing or wrong files, search order, default model."""

from __future__ import annotations

import json
import os

import pytest

from fixtures.models import make_tiny_pose_model
from gazenet_app.core.errors import CardError, ModelLoadError, ModelNotFoundError
from gazenet_app.model_zoo import store
from gazenet_app.model_zoo.pose import load_pose_model
from gazenet_app.model_zoo.weights_io import file_sha256




@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A folder with one tiny model, copied per test."""
    d = tmp_path_factory.mktemp("tiny")
    make_tiny_pose_model(d, name="tiny")
    return d


def _install(model_dir, dest, name="tiny"):
    for f in model_dir.iterdir():
        (dest / f.name).write_bytes(f.read_bytes())
    return dest / f"{name}.json"


def _rewrite_card(path, **changes):
    card = json.loads(path.read_text())
    card.update(changes)
    path.write_text(json.dumps(card))


def test_missing_model_says_where_it_looked_and_how_to_get_one(user_dir):
    with pytest.raises(ModelNotFoundError) as info:
        store.resolve_model("hopenet_robust")
    msg = str(info.value)
    assert "hopenet_robust" in msg and str(user_dir) in msg
    assert "gazenet convert" in msg and "gazenet train" in msg
    with pytest.raises(ModelNotFoundError, match="no pose model is installed.*gazenet convert"):
        load_pose_model(None)
    assert store.default_model_name() is None and store.list_models() == []


def test_resolve_by_name_and_path_and_default(user_dir, model_dir):
    card = _install(model_dir, user_dir)
    info = store.resolve_model("tiny")
    assert info.sha_ok and info.location == "user" and info.params_path == user_dir / "tiny.params"
    assert store.resolve_model(card).name == "tiny"
    assert store.resolve_model(str(user_dir / "tiny.params")).card_path == card
    assert store.resolve_model(str(user_dir)).name == "tiny"
    assert [m.name for m in store.list_models(kind="pose", verify=True)] == ["tiny"]
    assert store.list_models(kind="detector") == []
    assert store.default_model_name() == "tiny"
    assert load_pose_model(None).name == "tiny"


def test_shipped_models_come_first(user_dir, model_dir, tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    _install(model_dir, shipped)
    _install(model_dir, user_dir)
    monkeypatch.setattr(store, "package_model_dirs", lambda: [shipped])
    assert store.resolve_model("tiny").location == "package"
    assert [(m.name, m.location) for m in store.list_models()] == [("tiny", "package")]


def test_sha_mismatch_is_refused(user_dir, model_dir):
    _install(model_dir, user_dir)
    params = user_dir / "tiny.params"
    data = bytearray(params.read_bytes())
    data[-5] ^= 0xFF
    params.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="does not match its card.*sha256"):
        load_pose_model("tiny")
    assert [m.sha_ok for m in store.list_models(verify=True)] == [False]


def test_missing_weights_file(user_dir, model_dir):
    _install(model_dir, user_dir)
    os.remove(user_dir / "tiny.params")
    with pytest.raises(ModelNotFoundError, match="tiny.params.*missing"):
        load_pose_model("tiny")


def test_wrong_architecture_names_both_shapes(user_dir, model_dir):
    card = _install(model_dir, user_dir)
    _rewrite_card(card, architecture="hopenet_resnet50", backbone="resnet50")
    with pytest.raises(ModelLoadError) as info:
        load_pose_model("tiny")
    msg = str(info.value)
    assert "(66, 1280)" in msg and "(66, 2048)" in msg and "tiny.params" in msg
    _rewrite_card(card, architecture="hopenet_mobilenetv2", backbone="mobilenetv2", bins=60)
    with pytest.raises(ModelLoadError, match=r"fc_\w+\.\w+ has shape \(66.*\) in the file but the network "
                                             r"expects \(60"):
        load_pose_model("tiny")


def test_truncated_params_file(user_dir, model_dir):
    card = _install(model_dir, user_dir)
    params = user_dir / "tiny.params"
    params.write_bytes(params.read_bytes()[:5000])
    _rewrite_card(card, params_sha256=file_sha256(params))  # the card matches: the file itself is broken
    with pytest.raises(ModelLoadError, match="not a readable MXNet .params file"):
        load_pose_model("tiny")


def test_broken_cards(user_dir, model_dir):
    card = _install(model_dir, user_dir)
    _rewrite_card(card, crop="nonexistent")
    with pytest.raises(CardError, match="crop"):
        load_pose_model("tiny")
    assert store.list_models() == []  # skipped with a warning, not listed as usable
    _rewrite_card(card, crop="gazenet", name="other")
    with pytest.raises(CardError, match="differs from its file name"):
        store.resolve_model("tiny")


def test_checkpoint_paths(user_dir, tmp_path):
    (tmp_path / "hopenet_robust_alpha1.pkl").write_bytes(b"x")
    with pytest.raises(ModelNotFoundError, match="gazenet convert"):  # the store holds converted models only
        store.resolve_model(str(tmp_path / "hopenet_robust_alpha1.pkl"))
    with pytest.raises(ModelLoadError, match="hopenet_robust_alpha1.pkl is not a readable PyTorch checkpoint"):
        load_pose_model(str(tmp_path / "hopenet_robust_alpha1.pkl"))  # converted on the fly when it is one
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_pose_model(str(tmp_path / "absent.pth"))


def test_user_model_dir_platform_default(monkeypatch, tmp_path):
    monkeypatch.delenv(store.ENV_MODELS_DIR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    if os.name == "posix" and not os.uname().sysname == "Darwin":
        assert store.user_model_dir() == tmp_path / "gazenet" / "models"
    monkeypatch.setenv(store.ENV_MODELS_DIR, str(tmp_path / "x"))
    assert store.user_model_dir() == tmp_path / "x"


def test_no_default_among_several_names_every_model(user_dir):
    for name in ("alpha", "beta"):
        make_tiny_pose_model(user_dir, name=name)
    assert store.default_model_name() is None
    with pytest.raises(ModelNotFoundError, match=r"several are installed \(alpha, beta\); choose one with --model"):
        load_pose_model(None)
