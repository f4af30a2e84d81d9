"""``podruga check``: check flows, catalogs and directory and print every problem."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date

from bot.cli.options import add_data_option, content_root, why
from bot.config import STAFF_LANGS, read_staff_lang
from bot.errors import C_, CN_, OptionError


def command(argv: Sequence[str]) -> int:
    """Check flows, catalogs and directory; print every problem as file:line."""
    parser = argparse.ArgumentParser(prog="podruga check", description=command.__doc__)
    parser.add_argument("dir", nargs="?", help="content folder (same as --data)")
    add_data_option(parser)
    parser.add_argument("--strict", action="store_true",
                        help="also fail on warnings (stale reviews, unverified entries)")
    parser.add_argument("--lang", choices=STAFF_LANGS, type=str.lower,
                        help="the language of the messages: en, uk or ru (default: "
                             "$PODRUGA_STAFF_LANG, else en)")
    args = parser.parse_args(argv)
    from bot.content.world import check_all, shipped_root, staff_language

    lang = args.lang
    if lang is None:
        lang, problem = read_staff_lang(os.environ)
        if problem:
            raise OptionError(problem)
    try:
        if args.dir and args.data:
            raise OptionError(C_("give the content folder once: as DIR or as --data"))
        root = content_root(args.dir or args.data)
    except OptionError as exc:  # said in the staff's language too, from the shipped catalog
        raise OptionError(exc.render(staff_language(lang, shipped_root()))) from None
    staff = staff_language(lang, root)
    print(C_("content: {folder} ({why})", folder=root, why=why(args.dir or args.data))
          .render(staff))
    world, errors, issues = check_all(root, date.today())
    for error in errors:
        print(error.render(staff))
    for issue in issues:
        print(C_("{problem} (warning)", problem=issue.render(staff)).render(staff))
    found_errors = CN_("{n} error", "{n} errors", len(errors))
    found_warnings = CN_("{n} warning", "{n} warnings", len(issues))
    if errors or (args.strict and issues):
        print(C_("{errors}, {warnings}", errors=found_errors, warnings=found_warnings)
              .render(staff), file=sys.stderr)
        return 1
    assert world is not None
    steps = CN_("{n} step", "{n} steps", len(world.flows.steps))
    flows = CN_("in {n} flow", "in {n} flows", len(world.flows.flows))
    print(C_("ok: {steps} {flows}, {warnings}", steps=steps, flows=flows,
             warnings=found_warnings).render(staff))
    return 0
