"""Latin transliteration of Russian and Ukrainian read back into Cyrillic, and the skeleton.

Theory of operation: women write Cyrillic words in Latin letters with whatever scheme
they learned (zh or j for ж, sh or w for ш, ch or 4 for ч, kh, h or x for х, ya, ia or
ja for я). Instead of guessing the scheme, we read Latin back into Cyrillic greedily and
then map every word, Cyrillic or read-back, onto a *skeleton* that merges the letters
the schemes and the two languages disagree on (г/ґ/х, и/і/ї/й/ы, е/є/э/ё, ш/щ/с, ц/ч,
ж/з, ь/ъ dropped, doubled letters squeezed). Two spellings of one word meet in the
skeleton even when neither read-back is exactly right.
"""

from __future__ import annotations

import re

# Longest first: the reader tries 4-, 3-, 2- then 1-letter sequences at each position.
_LATIN_TO_CYR: dict[str, str] = {
    "shch": "щ",
    "sch": "щ",
    "zh": "ж",
    "kh": "х",
    "ch": "ч",
    "sh": "ш",
    "ts": "ц",
    "tz": "ц",
    "ya": "я",
    "ia": "я",
    "ja": "я",
    "yu": "ю",
    "iu": "ю",
    "ju": "ю",
    "yo": "ё",
    "jo": "ё",
    "ye": "е",
    "je": "е",
    "yi": "ї",
    "ji": "ї",
    "ii": "ий",
    "a": "а",
    "b": "б",
    "c": "ц",
    "d": "д",
    "e": "е",
    "f": "ф",
    "g": "г",
    "h": "х",
    "i": "и",
    "j": "й",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "q": "к",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "v": "в",
    "w": "ш",
    "x": "х",
    "y": "ы",
    "z": "з",
    # digits that stand for letters in chat spelling ("4to", "6o", "za3")
    "4": "ч",
    "6": "ш",
    "3": "з",
}
# The "j for ж" scheme ("jenshina", "beremennaja" is the other one): a second reading.
_J_AS_ZH = {"j": "ж", "ja": "жа", "ju": "жу", "je": "же", "jo": "жо", "ji": "жи"}

_SKELETON = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "h",
        "ґ": "h",
        "д": "d",
        "е": "e",
        "ё": "e",
        "є": "e",
        "э": "e",
        "ж": "z",
        "з": "z",
        "и": "i",
        "і": "i",
        "ї": "i",
        "й": "i",
        "ы": "i",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "h",
        "ц": "c",
        "ч": "c",
        "ш": "s",
        "щ": "s",
        "ъ": "",
        "ь": "",
        "ю": "u",
        "я": "a",
    }
)
_DOUBLES = re.compile(r"(.)\1+")
_HAS_LETTER = re.compile(r"[a-z]")


class _Reader:
    """Reads Latin into Cyrillic greedily, as the table says: at each position the longest
    key that matches. Only the letter groups (sh, ya, shch) go through the regex, whose
    alternatives are longest first; the single letters left are one str.translate,
    instead of a Python callback for every letter."""

    def __init__(self, table: dict[str, str]) -> None:
        self.groups = {k: v for k, v in table.items() if len(k) > 1}
        self.pattern = re.compile(
            "|".join(re.escape(k) for k in sorted(self.groups, key=len, reverse=True)))
        self.letters = str.maketrans({k: v for k, v in table.items() if len(k) == 1})

    def read(self, word: str) -> str:
        # a letter group's Cyrillic output holds no Latin letter, so translate leaves it be
        return self.pattern.sub(lambda m: self.groups[m.group()], word).translate(self.letters)


_PLAIN = _Reader(_LATIN_TO_CYR)
_ZH = _Reader({**_LATIN_TO_CYR, **_J_AS_ZH})


def to_cyrillic(word: str, j_as_zh: bool = False) -> str:
    """Read a Latin-letter word as transliterated Russian or Ukrainian."""
    if not _HAS_LETTER.search(word):
        return word  # a number such as 103 stays a number
    return (_ZH if j_as_zh else _PLAIN).read(word)


def skeleton(word: str) -> str:
    """Map a Cyrillic (or already-Latin) word onto the spelling-neutral skeleton."""
    return _DOUBLES.sub(r"\1", word.translate(_SKELETON))
