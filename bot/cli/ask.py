"""``podruga ask``: match questions from a stream, one per line, for staff and benchmarks.

With ``--json`` each line out is ``{"q", "step", "topics", "score", "crisis",
"suggestions": [{"step", "topics"}]}``, in the order of the questions; without it,
the answer the bot would give is printed, as the console chat renders it. The
questions are read, matched and printed; nothing is written anywhere else.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.cli.options import OptionParser, add_data_option
from bot.errors import OptionError
from bot.vocabulary import LANGS


def _parser() -> OptionParser:
    parser = OptionParser(
        prog="podruga ask",
        description="Match questions from standard input, one per line.",
    )
    parser.add_argument("--lang", required=True, choices=LANGS, help="her chosen language")
    parser.add_argument(
        "--country", default="", type=str.upper, help="two letters, e.g. UA, RU; XX for another"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per question")
    add_data_option(parser)
    return parser


def answer(world: Any, question: str) -> dict[str, Any]:
    """The JSON record for one question: where the matcher lands and what it offers."""
    steps = world.flows.steps
    match = world.index.match(question)

    def topics(step_id: str | None) -> list[str]:
        return list(steps[step_id].topics) if step_id in steps else []

    return {
        "q": question,
        "step": match.step,
        "topics": topics(match.step),
        "score": round(match.score, 3),
        "crisis": match.crisis,
        "suggestions": [{"step": s, "topics": topics(s)} for s in match.suggestions],
    }


def _say(world: Any, lang: str, country: str, question: str, now: datetime) -> str:
    from bot.adapters.console import render
    from bot.engine import step
    from bot.engine.events import Text
    from bot.engine.state import State

    state = State(lang=lang, country=country)
    return render(step(world, state, Text(question), now).replies).text


def command(argv: Sequence[str]) -> int:
    """Match questions from stdin, one per line (see docs/matching.md)."""
    return ask_main(list(argv), sys.stdin, sys.stdout)


def ask_main(argv: Sequence[str], stdin: TextIO, stdout: TextIO) -> int:
    """Read questions from ``stdin`` and write one answer per question to ``stdout``."""
    args = _parser().parse_args(list(argv))
    if args.country and not (len(args.country) == 2 and args.country.isalpha()):
        raise OptionError(f"--country must be two letters, e.g. UA, got {args.country!r}")
    from bot.content.world import data_source, load_world

    root = data_source(args.data)[0]
    world, errors, _ = load_world(root)
    if world is None or world.index is None:
        for error in errors:
            print(error, file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    for line in stdin:
        question = line.rstrip("\r\n")
        if args.json:
            stdout.write(json.dumps(answer(world, question), ensure_ascii=False) + "\n")
        else:
            stdout.write(f"> {question}\n{_say(world, args.lang, args.country, question, now)}\n\n")
        stdout.flush()
    return 0
