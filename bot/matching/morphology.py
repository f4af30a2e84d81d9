"""Word keys: a language's own stemmer or lemmatiser, then the spelling skeleton.

Russian goes through the Snowball Russian stemmer; Ukrainian words that the Ukrainian
dictionary knows also get their pymorphy3 lemma (the Ukrainian dictionaries ship inside
the pymorphy3-dicts-uk wheel, nothing is downloaded); English goes through Snowball
English. A word can have several keys; two words match when any keys meet.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from bot.matching.layout import cyrillic_to_latin, latin_to_cyrillic
from bot.matching.normalise import is_cyrillic, is_latin
from bot.matching.translit import skeleton, to_cyrillic

_FOLD_RU = str.maketrans({"ё": "е", "і": "и", "ї": "и", "є": "е", "ґ": "г"})
_RUSSIAN_ONLY = frozenset("ыэъё")


@cache
def _stemmers() -> tuple[Any, Any]:
    import snowballstemmer  # imported here so that importing the package stays cheap

    return snowballstemmer.stemmer("russian"), snowballstemmer.stemmer("english")


@cache
def _ukrainian() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="uk")


def warm() -> None:
    """Load the stemmers and the Ukrainian dictionary (done once, at index build)."""
    _stemmers()
    _ukrainian()


def cyrillic_keys(word: str) -> tuple[str, ...]:
    """Keys of a Cyrillic word: the Russian stem, and the Ukrainian lemma when known."""
    ru, _ = _stemmers()
    first = skeleton(ru.stemWord(word.translate(_FOLD_RU)))
    if _RUSSIAN_ONLY.isdisjoint(word) and len(word) > 2:
        morph = _ukrainian()
        if morph.word_is_known(word):
            lemma = skeleton(morph.parse(word)[0].normal_form.translate(_FOLD_RU))
            if lemma != first:
                return (first, lemma)
    return (first,)


def english_key(word: str) -> str:
    """Key of an English word (Snowball English stem)."""
    return _stemmers()[1].stemWord(word)


def translit_keys(word: str) -> tuple[str, ...]:
    """Keys of a Latin word read as transliterated Russian or Ukrainian (both j readings)."""
    keys = list(cyrillic_keys(to_cyrillic(word)))
    if "j" in word:
        for key in cyrillic_keys(to_cyrillic(word, j_as_zh=True)):
            if key not in keys:
                keys.append(key)
    return tuple(keys)


def layout_keys(chunk: str) -> tuple[str, ...]:
    """Keys of a chunk typed on the wrong keyboard layout, read both ways."""
    if is_latin(chunk) or not is_cyrillic(chunk):
        ru, uk = latin_to_cyrillic(chunk), latin_to_cyrillic(chunk, ukrainian=True)
        keys: list[str] = []
        for reading in dict.fromkeys((ru, uk)):
            if is_cyrillic(reading) and reading.isalpha():
                keys.extend(k for k in cyrillic_keys(reading) if k not in keys)
        return tuple(keys)
    latin = cyrillic_to_latin(chunk)
    return (english_key(latin),) if latin.isalpha() and latin.isascii() else ()
