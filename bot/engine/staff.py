"""What the bot says outside a woman's conversation: to staff, and in Telegram's command menu.

Pure, like the rest of the engine: the adapter passes in what happened (a
reload's problems, the counters the store read) and a translator, and sends
the text it gets back. Staff read ``PODRUGA_STAFF_LANG`` (msgctxt ``staff``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.engine.translator import Translator

STATS_DAYS = 30  # /stats shows this many days
RELOAD_ERRORS_SHOWN = 40  # a reload's problems listed in one message, at most
RELOAD_WARNINGS_SHOWN = 20


class Counted(Protocol):
    """One counter row (``bot.store.CounterRow``): questions on a topic, no person in it."""

    @property
    def topic(self) -> str: ...

    @property
    def questions(self) -> int: ...

    @property
    def unanswered(self) -> int: ...


def reload_report(tr: Translator, errors: Sequence[str], issues: Sequence[str], steps: int,
                  others_told: bool) -> str:
    """The answer to ``/reload``: refused with the problems, or done with the warnings.

    ``errors`` and ``issues`` are ``file:line: ...`` lines, already in the staff language.
    """
    if errors:
        lines = [tr.pgettext("staff", "Reload refused; still serving the last good content. "
                             "Problems:")]
        return "\n".join(lines + list(errors[:RELOAD_ERRORS_SHOWN]))
    done = tr.npgettext("staff", "Reloaded: {steps} steps, {n} warning.",
                        "Reloaded: {steps} steps, {n} warnings.", len(issues)).format(
        steps=steps, n=len(issues))
    if others_told:
        done += " " + tr.pgettext("staff", "Other instances reload too.")
    return "\n".join([done] + [tr.pgettext("staff", "{problem} (warning)").format(problem=i)
                               for i in issues[:RELOAD_WARNINGS_SHOWN]])


def stats_report(tr: Translator, rows: Sequence[Counted]) -> str:
    """The answer to ``/stats``: questions per topic over STATS_DAYS, most asked first."""
    if not rows:
        return tr.pgettext("staff", "No questions counted yet.")
    totals: dict[str, list[int]] = {}
    for row in rows:
        total = totals.setdefault(row.topic or tr.pgettext("staff", "(not understood)"), [0, 0])
        total[0] += row.questions
        total[1] += row.unanswered
    lines = [tr.npgettext("staff", "Questions in the last {n} day (topic: asked / unanswered):",
                          "Questions in the last {n} days (topic: asked / unanswered):",
                          STATS_DAYS).format(n=STATS_DAYS)]
    lines += [f"{topic}: {q} / {u}" for topic, (q, u) in sorted(
        totals.items(), key=lambda item: -item[1][0])]
    return "\n".join(lines)


def command_menu(tr: Translator) -> list[tuple[str, str]]:
    """Telegram's command menu in one language: (command, description), in menu order.
    Neutral words, safe on a shared phone."""
    return [
        ("start", tr.gettext("Start over")),
        ("menu", tr.gettext("All topics")),
        ("help", tr.gettext("How to use the bot")),
        ("language", tr.gettext("Change the language")),
        ("country", tr.gettext("Change the country")),
        ("privacy", tr.gettext("What the bot keeps and who sees it")),
        ("exit", tr.gettext("Quick exit: delete this chat")),
        ("forget", tr.gettext("Delete what the bot remembers about you")),
    ]
