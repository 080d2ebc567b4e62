"""`gazenet models [--kind pose|detector] [--json PATH]`: the installed models, their cards and checksums."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, List

from gazenet_app.cli.common import add_json_arg, write_json_report
from gazenet_app.model_zoo.model_card import ModelCard

__all__ = ["add_parser", "run", "model_row", "eval_summary"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `models` subcommand."""
    p = subparsers.add_parser(
        "models", help="list installed models (shipped and in the user model folder)",
        description="List the models gazenet finds (the package's models, then the user model folder, "
                    "$GAZENET_MODELS_DIR when set), with their cards, and check each file's sha256.")
    p.add_argument("--kind", choices=("pose", "detector"), default=None, help="only models of this kind")
    p.add_argument("--no-verify", action="store_true", help="skip hashing the weights files (faster)")
    add_json_arg(p, help="write the list (with full cards) as JSON to PATH")
    p.set_defaults(func=run)
    return p


def eval_summary(card: ModelCard, limit: int = 2) -> str:
    """`dataset metric value (n, label source)` of the card's first evaluations, '-' when none."""
    parts = []
    for dataset, metrics in card.eval.items():
        for metric, e in metrics.items():
            parts.append(f"{dataset} {metric} {e['value']:.2f} (n={e['n']}, {e['label_source']})")
    return "; ".join(parts[:limit]) + (" ..." if len(parts) > limit else "") if parts else "-"


def model_row(info) -> Dict[str, Any]:
    """One model as a flat dict (the table's columns)."""
    card = info.card
    return {"name": info.name, "kind": info.kind, "backbone": card.backbone or card.architecture,
            "input": card.input_size, "precision": card.precision, "eval": eval_summary(card),
            "location": info.location, "path": str(info.card_path),
            "sha_ok": info.sha_ok, "default": bool(card.default)}


def _table(rows: List[Dict[str, Any]]) -> str:
    cols = ("name", "kind", "backbone", "input", "precision", "sha", "eval", "path")
    cells = [[str(r["name"]) + (" *" if r["is_default"] else ""), r["kind"], r["backbone"],
              "-" if r["input"] is None else str(r["input"]), r["precision"],
              {True: "ok", False: "BAD", None: "-"}[r["sha_ok"]], r["eval"], r["path"]] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(cols, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the installed models; exit 1 when a weights file does not match its card."""
    from gazenet_app.model_zoo.store import HOW_TO_GET_A_MODEL, default_model_name, list_models, search_dirs

    models = list_models(kind=args.kind, verify=not args.no_verify)
    default = default_model_name() if args.kind in (None, "pose") else None
    rows = [dict(model_row(m), is_default=(m.name == default)) for m in models]
    out = sys.stdout
    if rows:
        out.write(_table(rows) + "\n")
        if default:
            out.write(f"* default pose model (used when --model is not given): {default}\n")
    else:
        where = ", ".join(str(p) for p, _ in search_dirs())
        out.write(f"no models installed (looked in {where}); {HOW_TO_GET_A_MODEL}\n")
    if args.json:
        write_json_report(args.json, {
            "search_dirs": [{"path": str(p), "location": loc} for p, loc in search_dirs()],
            "default": default,
            "models": [dict(model_row(m), card=m.card.to_dict()) for m in models]})
    bad = [r["name"] for r in rows if r["sha_ok"] is False]
    if bad:
        sys.stderr.write(f"error: these models do not match their cards (damaged or replaced files): "
                         f"{', '.join(bad)}\n")
        return 1
    return 0
