"""Understanding what she types: crisis first, then the step whose `ask` phrases fit best.

`Index.build(entries)` once per loaded world; `index.match(text)` per message. Pure code:
no I/O at match time, nothing she typed is stored.
"""

from bot.matching.index import Entry, Index, Match

__all__ = ["Entry", "Index", "Match"]
