"""Print the README's `## Command line` table from the real `gazenet` parser (one row per subcommand).

    PYTHONPATH=. python scripts/cli_table.py
"""

from __future__ import annotations

import argparse

from gazenet_app.cli.main import SUBCOMMANDS, build_parser


def _flag(action: argparse.Action) -> str:
    name = "/".join(action.option_strings) if action.option_strings else (action.metavar or action.dest)
    if action.option_strings and action.nargs != 0:
        meta = action.metavar or (("{" + ",".join(map(str, action.choices)) + "}") if action.choices
                                  else action.dest.upper())
        name += f" {' '.join(meta) if isinstance(meta, tuple) else meta}"
    return f"`{name}`"


def _subparsers(parser: argparse.ArgumentParser):
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def main() -> None:
    """Print the Markdown table."""
    sub = _subparsers(build_parser())
    helps = {a.dest: a.help for a in sub._choices_actions}
    print("| command | what it does | flags |")
    print("|---|---|---|")
    for command, _ in SUBCOMMANDS:
        p = sub.choices.get(command)
        if p is None:
            continue
        flags = []
        for a in p._actions:
            if isinstance(a, argparse._HelpAction):
                continue
            if isinstance(a, argparse._SubParsersAction):
                flags.append("`" + ", ".join(a.choices) + "` (see `--help` of each)")
                continue
            flags.append(_flag(a))
        print(f"| `gazenet {command}` | {helps.get(command) or ''} | {' '.join(flags)} |")


if __name__ == "__main__":
    main()
