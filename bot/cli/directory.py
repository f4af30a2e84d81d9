"""``podruga directory export --hsds DIR``: write the directory as HSDS 3 JSON tables."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.cli.options import OptionParser, add_data_option
from bot.content.world import data_source
from bot.errors import OptionError


def command(argv: Sequence[str]) -> int:
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
    return export_main(list(argv[1:]))


def export_main(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``podruga directory export --hsds DIR``: write the directory as HSDS 3 JSON."""
    out, err = out or sys.stdout, err or sys.stderr
    if argv and argv[0] == "export":
        argv = argv[1:]
    parser = OptionParser(prog="podruga directory export",
                     description="Write the directory as HSDS 3 JSON tables.")
    parser.add_argument("--hsds", required=True, metavar="DIR", help="folder to write into")
    add_data_option(parser)
    try:
        args = parser.parse_args(argv)
    except OptionError as exc:
        print(f"podruga directory export: {exc}", file=err)
        return 2
    root = data_source(args.data)[0]
    from bot.content.directory import export_hsds, load

    directory, errors, _issues = load(root / "directory")
    if errors:
        for error in errors:
            print(error, file=err)
        print(f"the directory has {len(errors)} error(s): nothing written", file=err)
        return 1
    try:
        written = export_hsds(directory, Path(args.hsds))
    except OSError as exc:
        print(f"podruga directory export: cannot write into {args.hsds}: "
              f"{exc.strerror or exc}", file=err)
        return 2
    print(f"wrote {len(written)} HSDS tables to {args.hsds}: {len(directory.services)} "
          f"services, {len(directory.hotline_list)} hotlines", file=out)
    return 0
