"""``podruga check``: check flows, catalogs and directory and print every problem."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date

from bot.cli.options import add_data_option, content_root, why
from bot.errors import OptionError


def command(argv: Sequence[str]) -> int:
    """Check flows, catalogs and directory; print every problem as file:line."""
    parser = argparse.ArgumentParser(prog="podruga check", description=command.__doc__)
    parser.add_argument("dir", nargs="?", help="content folder (same as --data)")
    add_data_option(parser)
    parser.add_argument("--strict", action="store_true",
                        help="also fail on warnings (stale reviews, unverified entries)")
    args = parser.parse_args(argv)
    from bot.content.world import check_all

    if args.dir and args.data:
        raise OptionError("give the content folder once: as DIR or as --data")
    root = content_root(args.dir or args.data)
    print(f"content: {root} ({why(args.dir or args.data)})")
    world, errors, issues = check_all(root, date.today())
    for error in errors:
        print(error)
    for issue in issues:
        print(f"{issue} (warning)")
    if errors or (args.strict and issues):
        print(f"{len(errors)} error(s), {len(issues)} warning(s)", file=sys.stderr)
        return 1
    assert world is not None
    print(f"ok: {len(world.flows.steps)} steps in {len(world.flows.flows)} flows, "
          f"{len(issues)} warning(s)")
    return 0
