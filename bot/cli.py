"""The ``podruga`` command: a table of subcommands, each one small function.

``main(argv)`` only dispatches; each command returns its exit status:
0 fine, 1 problems found (``check``), 2 a bad option (``OptionError``).
``podruga run`` has more (bot/telegram/run.py): 3 broken content, 75 a
dependency is down.

Every command that reads content takes ``--data DIR`` (``--dir`` is the old
name); without it, ``PODRUGA_DATA``; without that, the shipped content
(``bot.world.data_root``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

from bot.errors import OptionError
from bot.world import DATA_ENV, data_root, data_source, load_world

DATA_HELP = (f"content folder with flows/, locales/, directory/ (default: ${DATA_ENV}, "
             "else the content shipped with the program)")


def _root(value: str | None) -> Path:
    return data_root(value)


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """``--data DIR`` (and its old name ``--dir``): which content folder to read."""
    parser.add_argument("--data", "--dir", dest="data", metavar="DIR", help=DATA_HELP)


def cmd_check(argv: Sequence[str]) -> int:
    """Check flows, catalogs and directory; print every problem as file:line."""
    parser = argparse.ArgumentParser(prog="podruga check", description=cmd_check.__doc__)
    parser.add_argument("dir", nargs="?", help="content folder (same as --data)")
    add_data_option(parser)
    parser.add_argument("--strict", action="store_true",
                        help="also fail on warnings (stale reviews, unverified entries)")
    args = parser.parse_args(argv)
    from bot.world import check_all

    if args.dir and args.data:
        raise OptionError("give the content folder once: as DIR or as --data")
    root = _root(args.dir or args.data)
    print(f"content: {root} ({_why(args.dir or args.data)})")
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


def cmd_chat(argv: Sequence[str]) -> int:
    """Talk to the bot in this terminal: no token, no network."""
    parser = argparse.ArgumentParser(prog="podruga chat", description=cmd_chat.__doc__)
    parser.add_argument("--lang", choices=("uk", "ru", "en"), default="")
    parser.add_argument("--country", default="", type=str.upper,
                        help="two letters, e.g. UA, RU; XX for another country")
    add_data_option(parser)
    args = parser.parse_args(argv)
    from bot.console import run_chat

    world = _world_or_exit(_root(args.data))
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
        pass
    while True:
        try:
            yield input(prompt) + "\n"
        except EOFError:
            print()
            return


def _world_or_exit(root: Path):  # type: ignore[no-untyped-def]
    world, errors, _ = load_world(root)
    if world is None:
        for error in errors:
            print(error, file=sys.stderr)
        raise SystemExit(1)
    return world


def cmd_ask(argv: Sequence[str]) -> int:
    """Match questions from stdin, one per line (see docs/matching.md)."""
    from bot.ask_cli import ask_main

    return ask_main(list(argv), sys.stdin, sys.stdout)


def cmd_find(argv: Sequence[str]) -> int:
    """Find services by city or location."""
    from bot.directory_cli import find_main

    return find_main(list(argv))


def cmd_directory(argv: Sequence[str]) -> int:
    """Directory tools: export --hsds DIR."""
    if argv and argv[0] in ("-h", "--help"):
        print("usage: podruga directory export --hsds DIR [--data DIR]\n\n"
              "Write the directory (services and hotlines) as HSDS 3 JSON tables into a "
              "folder;\n'podruga directory export --help' tells more. To search it: "
              "'podruga find --help'.")
        return 0
    if not argv or argv[0] != "export":
        raise OptionError("use 'podruga directory export --hsds DIR' (or 'podruga directory "
                          "--help')")
    from bot.directory_cli import export_main

    return export_main(list(argv[1:]))


def cmd_catalogs(argv: Sequence[str]) -> int:
    """Extract every string and update the PO catalogs of uk, ru and en."""
    from bot.catalogs import catalogs_main

    return catalogs_main(list(argv))


def cmd_graph(argv: Sequence[str]) -> int:
    """Print the flows as a Mermaid diagram, generated from the loaded flows."""
    parser = argparse.ArgumentParser(prog="podruga graph", description=cmd_graph.__doc__)
    add_data_option(parser)
    args = parser.parse_args(argv)
    world = _world_or_exit(_root(args.data))
    print("flowchart LR")
    for step in world.flows.steps.values():
        node = step.id.replace(".", "_")
        for button in step.buttons:
            target = button.go.replace(".", "_").replace(":", "_").replace("+", "_")
            print(f'  {node} -->|"{button.label}"| {target}')
    return 0


def _why(option: str | None) -> str:
    source = data_source(option)[1]
    return {"--data": "from --data", DATA_ENV: f"from {DATA_ENV}"}.get(
        source, "shipped with the program")


def cmd_data(argv: Sequence[str]) -> int:
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
        root = _root(args.data)
        print(f"{root} ({_why(args.data)})")
        return 0
    if not args.target:
        raise OptionError("use 'podruga data copy DIR'")
    from bot.world import copy_shipped

    target = Path(args.target).expanduser().resolve()
    for made in copy_shipped(target):
        print(f"copied {made}")
    print(f"now set {DATA_ENV}={target} (or pass --data {target}) and run "
          f"'podruga check --data {target}'")
    return 0


def cmd_run(argv: Sequence[str]) -> int:
    """Run the Telegram bot (long polling, or --webhook URL)."""
    from bot.telegram.run import run_main

    return run_main(list(argv))


def cmd_bench(argv: Sequence[str]) -> int:
    """Run the benchmarks in bench/ (not part of the tests)."""
    from bot.bench import bench_main

    return bench_main(list(argv))


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "run": cmd_run,
    "chat": cmd_chat,
    "check": cmd_check,
    "ask": cmd_ask,
    "find": cmd_find,
    "directory": cmd_directory,
    "catalogs": cmd_catalogs,
    "graph": cmd_graph,
    "data": cmd_data,
    "bench": cmd_bench,
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


if __name__ == "__main__":
    raise SystemExit(main())
