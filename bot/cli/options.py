"""What several commands share: the ``--data`` option and loading the content or exiting."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from bot.content.world import DATA_ENV, World, data_root, data_source, load_world
from bot.errors import C_, OptionError, StaffText

DATA_HELP = (f"content folder with flows/, locales/, directory/ (default: ${DATA_ENV}, "
             "else the content shipped with the program)")


class OptionParser(argparse.ArgumentParser):
    """argparse that reports a bad option as an ``OptionError`` instead of exiting, so the
    command (or ``main``) says it in one line and returns 2."""

    def error(self, message: str) -> NoReturn:
        raise OptionError(message)


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """``--data DIR`` (and its old name ``--dir``): which content folder to read."""
    parser.add_argument("--data", "--dir", dest="data", metavar="DIR", help=DATA_HELP)


def content_root(value: str | None) -> Path:
    """The content folder named by ``--data`` (or its default); OptionError if it has no flows."""
    return data_root(value)


def why(option: str | None) -> StaffText:
    """Why this content folder is read, in words for the person at the terminal."""
    source = data_source(option)[1]
    if source == "--data":
        return C_("from --data")
    if source == DATA_ENV:
        return C_("from {setting}", setting=DATA_ENV)
    return C_("shipped with the program")


def world_or_exit(root: Path) -> World:
    """The loaded content; print its errors and exit 1 when it does not load."""
    world, errors, _ = load_world(root)
    if world is None:
        for error in errors:
            print(error, file=sys.stderr)
        raise SystemExit(1)
    return world
