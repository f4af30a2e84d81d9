"""Folding of what a phone produces into plain lowercase words: case, apostrophes, repeats."""

from __future__ import annotations

import re
import unicodedata

# Every apostrophe-like mark phones produce; Ukrainian uses one inside words (м'ята, п'ю).
APOSTROPHES = "'’ʼ`´‘ʹ′"
_APOS = str.maketrans("", "", APOSTROPHES)
# Three or more of the same letter are emphasis ("пожаааалуйста", "heeelp"), never spelling.
_RUNS = re.compile(r"(\w)\1{2,}")
# Words are letters and digits; layout slips put , . ; [ ] ' ` inside a word, so the raw
# chunks are whitespace-separated and the layout reader sees the punctuation first.
_CHUNK = re.compile(r"\S+")
_WORD = re.compile(r"[^\W_]+")
CYRILLIC = re.compile(r"[а-яёіїєґ]")
LATIN = re.compile(r"[a-z]")


_ONE_APOS = str.maketrans(dict.fromkeys(APOSTROPHES, "'"))


def clean(text: str, keep_apostrophes: bool = False) -> str:
    """Lowercase, compose, drop zero-width marks, squeeze emphasis runs, drop apostrophes.

    ``keep_apostrophes`` writes every apostrophe-like mark as ``'`` instead: on the
    Latin layout that key is э (є in Ukrainian), so the layout reader needs it.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u200b", "").replace("\u00ad", "")
    text = text.translate(_ONE_APOS if keep_apostrophes else _APOS)
    return _RUNS.sub(r"\1", text)


def chunks(text: str) -> list[str]:
    """Split cleaned text at whitespace only (punctuation may be a layout slip)."""
    return _CHUNK.findall(text)


def words(chunk: str) -> list[str]:
    """The letter-and-digit words inside one chunk."""
    return _WORD.findall(chunk)


def is_latin(word: str) -> bool:
    """True when the word has Latin letters and no Cyrillic ones."""
    return bool(LATIN.search(word)) and not CYRILLIC.search(word)


def is_cyrillic(word: str) -> bool:
    """True when the word has Cyrillic letters."""
    return bool(CYRILLIC.search(word))
