"""The actions table: every slot exists on the window, and the README's shortcut list is the table's."""

from __future__ import annotations

from pathlib import Path

from gazenet_app.ui.actions import ACTIONS, MENUS, _resolve, shortcut_rows

ROOT = Path(__file__).resolve().parents[2]


def test_every_action_resolves_and_sits_in_a_menu(make_window):
    window = make_window()
    in_menus = {name for names in MENUS.values() for name in names}
    for spec in ACTIONS:
        assert spec.option or callable(_resolve(window, spec.slot)), spec.name
        assert spec.name in in_menus, f"{spec.name} is in no menu"
        assert getattr(window, f"act_{spec.name}") is window.actions_by_name[spec.name]


def test_readme_lists_every_shortcut():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [f"| {k} | {v} |" for k, v in shortcut_rows() if f"| {k} | {v} |" not in readme]
    assert not missing, "README's app section lacks: " + "; ".join(missing)
