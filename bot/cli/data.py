"""``podruga data``: which content folder is read, and a copy of the shipped one for staff."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from bot.cli.options import add_data_option, content_root, why
from bot.content.world import DATA_ENV
from bot.errors import OptionError


def command(argv: Sequence[str]) -> int:
    """Show which content folder is read, or copy the shipped one: data [copy DIR]."""
    parser = argparse.ArgumentParser(prog="podruga data", description=(
        "Without arguments: print the content folder the bot reads and why. "
        "'copy DIR': copy the shipped flows/, locales/ and directory/ into DIR, "
        f"for staff to edit; then point {DATA_ENV} (or --data) at DIR."))
    parser.add_argument("action", nargs="?", choices=("copy",))
    parser.add_argument("target", nargs="?", metavar="DIR")
    add_data_option(parser)
    args = parser.parse_args(argv)
    if args.action is None:
        root = content_root(args.data)
        print(f"{root} ({why(args.data)})")
        return 0
    if not args.target:
        raise OptionError("use 'podruga data copy DIR'")
    from bot.content.world import copy_shipped

    target = Path(args.target).expanduser().resolve()
    for made in copy_shipped(target):
        print(f"copied {made}")
    print(f"now set {DATA_ENV}={target} (or pass --data {target}) and run "
          f"'podruga check --data {target}'")
    return 0
