"""``podruga graph``: print the flows as a Mermaid diagram."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.cli.options import add_data_option, content_root, world_or_exit
from bot.content.graph import mermaid


def command(argv: Sequence[str]) -> int:
    """Print the flows as a Mermaid diagram, generated from the loaded flows."""
    parser = argparse.ArgumentParser(prog="podruga graph", description=command.__doc__)
    add_data_option(parser)
    args = parser.parse_args(argv)
    world = world_or_exit(content_root(args.data))
    for line in mermaid(world.flows):
        print(line)
    return 0
