"""The ``podruga`` command: a table of subcommands, one small module each.

``main(argv)`` only dispatches; each command returns its exit status:
0 fine, 1 problems found (``check``), 2 a bad option (``OptionError``).
``podruga run`` has more (bot/adapters/telegram/run.py): 3 broken content, 75 a
dependency is down.

Every command that reads content takes ``--data DIR`` (``--dir`` is the old
name); without it, ``PODRUGA_DATA``; without that, the shipped content
(``bot.content.world.data_root``). Each module imports what only it needs
(the Telegram adapter, the matcher) inside its function, so ``podruga check``
does not pay for them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from bot.cli import ask, bench, catalogs, chat, check, data, directory, find, graph, run
from bot.errors import OptionError

COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "run": run.command,
    "chat": chat.command,
    "check": check.command,
    "ask": ask.command,
    "find": find.command,
    "directory": directory.command,
    "catalogs": catalogs.command,
    "graph": graph.command,
    "data": data.command,
    "bench": bench.command,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``podruga COMMAND ...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print("usage: podruga COMMAND [options]\n\ncommands:")
        for name, func in COMMANDS.items():
            print(f"  {name:<10} {(func.__doc__ or '').splitlines()[0]}")
        print("\n'podruga COMMAND --help' shows a command's options; README.md tells more.")
        return 0 if args else 2
    command = COMMANDS.get(args[0])
    try:
        if command is None:
            raise OptionError(f"unknown command {args[0]!r}; see 'podruga --help'")
        return command(args[1:])
    except OptionError as exc:
        print(f"podruga: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `podruga graph | head`: the reader stopped reading. Python's own recipe: point
        # stdout at /dev/null so the flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
