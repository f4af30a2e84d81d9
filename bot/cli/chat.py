"""``podruga chat``: the console adapter on this terminal's standard input and output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence

from bot.cli.options import add_data_option, content_root, world_or_exit
from bot.errors import OptionError
from bot.vocabulary import LANGS


def command(argv: Sequence[str]) -> int:
    """Talk to the bot in this terminal: no token, no network."""
    parser = argparse.ArgumentParser(prog="podruga chat", description=command.__doc__)
    parser.add_argument("--lang", choices=LANGS, default="")
    parser.add_argument("--country", default="", type=str.upper,
                        help="two letters, e.g. UA, RU; XX for another country")
    add_data_option(parser)
    args = parser.parse_args(argv)
    from bot.adapters.console import run_chat

    world = world_or_exit(content_root(args.data))
    interactive = sys.stdin.isatty()
    if interactive:
        print("Podruga chat. Type a number to tap a button, /menu, /exit, or a question. "
              "Ctrl-D ends.\n")
    try:
        run_chat(world, _typed("> ") if interactive else sys.stdin, sys.stdout,
                 lang=args.lang, country=args.country)
    except KeyboardInterrupt:  # Ctrl-C ends the chat as Ctrl-D does, without a traceback
        print()
        return 130
    except ValueError as exc:
        raise OptionError(str(exc)) from exc
    return 0


def _typed(prompt: str) -> Iterator[str]:
    """Lines typed at a terminal, read by input(): the prompt comes before each, and
    readline (where Python has it) gives line editing and the arrow-key history."""
    try:
        import readline  # noqa: F401 - imported for its effect on input()
    except ImportError:
        pass  # no readline (Windows): input() still works, without line editing
    while True:
        try:
            yield input(prompt) + "\n"
        except EOFError:
            print()
            return
