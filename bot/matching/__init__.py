"""Understanding what she types: crisis first, then the step that answers it, or "not sure".

`Index.build(entries)` once per loaded world (it trains, or loads from the cache, the
models of model.py over the content's `ask` phrases); `index.match(text)` per message.
No I/O at match time, nothing she typed is stored.
"""

from bot.matching.index import Entry, Examples, Index, Match

__all__ = ["Entry", "Examples", "Index", "Match"]
