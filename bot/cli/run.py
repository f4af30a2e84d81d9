"""``podruga run``: serve the Telegram bot (the adapter's own runner does the work)."""

from __future__ import annotations

from collections.abc import Sequence


def command(argv: Sequence[str]) -> int:
    """Run the Telegram bot (long polling, or --webhook URL)."""
    from bot.adapters.telegram.run import run_main  # PTB is imported only for this command

    return run_main(list(argv))
