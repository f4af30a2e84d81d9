"""One language's translations and locale, as the engine and renderers use them.

Kept apart from the catalog loader so that the pure engine never imports the
PO-file machinery.
"""

from __future__ import annotations

import gettext as _gettext
from dataclasses import dataclass

from babel import Locale


@dataclass(frozen=True, slots=True)
class Translator:
    """Translations for one language; missing strings fall back to the English msgid."""

    lang: str
    locale: Locale
    catalog: _gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.catalog.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        return self.catalog.pgettext(context, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.catalog.ngettext(singular, plural, n)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self.catalog.npgettext(context, singular, plural, n)

    @classmethod
    def identity(cls, lang: str = "en") -> Translator:
        """English source strings as they are: for tests and for a missing catalog."""
        return cls(lang, Locale.parse(lang), _gettext.NullTranslations())
