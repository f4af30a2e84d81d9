"""``podruga catalogs``: extract every shipped string and update the PO files."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.cli.options import add_data_option
from bot.content.catalogs import update
from bot.content.world import data_root
from bot.vocabulary import LANGS

DESCRIPTION = (
    "Extract every string the bot shows (flows/*.yaml and the code) and update "
    "locales/{uk,ru,en}/LC_MESSAGES/*.po: one domain per flow file, 'bot' for the "
    "code, and 'check' for what 'podruga check' tells staff. New uk and ru entries are "
    "left empty and changed ones marked fuzzy for translators; en entries get the "
    "English text. The same job as 'pybabel extract' + 'pybabel update' once per domain.")


def command(argv: Sequence[str]) -> int:
    """Extract every string and update the PO catalogs of uk, ru and en."""
    parser = argparse.ArgumentParser(prog="podruga catalogs", description=DESCRIPTION)
    add_data_option(parser)
    parser.add_argument("--lang", action="append", choices=LANGS,
                        help="only this language (repeatable)")
    parser.add_argument("--domain", action="append", default=[],
                        help="only this domain: a flow file's name, 'bot' or 'check' "
                        "(repeatable)")
    args = parser.parse_args(argv)
    root = data_root(args.data)
    for line in update(root, args.lang or LANGS, args.domain):
        print(line)
    return 0
