"""Keyboard-layout slips: text typed on the Latin layout while meaning Cyrillic, and back."""

from __future__ import annotations

# One physical key per position, ЙЦУКЕН over QWERTY (Russian; Ukrainian differs in і ї є ґ).
_QWERTY = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_RU = "йцукенгшщзхъфывапролджэячсмитьбюё"
_UK = "йцукенгшщзхїфівапролджєячсмитьбю'"

_TO_RU = str.maketrans(_QWERTY, _RU)
_TO_UK = str.maketrans(_QWERTY, _UK)
_FROM_CYR = str.maketrans(_RU + "іїєґ", _QWERTY + "s]'`")


def latin_to_cyrillic(chunk: str, ukrainian: bool = False) -> str:
    """What she meant when the Latin layout was on ("ghbdtn" -> "привет")."""
    return chunk.translate(_TO_UK if ukrainian else _TO_RU)


def cyrillic_to_latin(chunk: str) -> str:
    """What she meant when the Cyrillic layout was on ("ьуерфвщту" -> "methadone")."""
    return chunk.translate(_FROM_CYR)
