"""The words around a list of services: the engine's service screens and ``podruga find``
say them from here, so staff checking the directory read what she would read."""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine.translator import Translator


def services_header(tr: Translator, city: str, elsewhere: bool) -> str:
    """The line above services searched in ``city`` ("" when there is no city): the nearest
    ones elsewhere are said to be elsewhere."""
    if not city:
        return ""
    if elsewhere:
        return tr.gettext("There are no services in {city} in my list yet. The nearest:").format(
            city=city)
    return tr.gettext("Services in {city}:").format(city=city)


def nothing_found(tr: Translator, hotlines: Sequence[str]) -> str:
    """What she reads when a search finds nothing: what she can do, then the national
    hotlines of the country, if it has any."""
    text = tr.gettext("I found no services for this search. You can remove a filter, try "
                      "another city, or talk to a person.")
    if hotlines:
        text += "\n\n" + tr.gettext("National hotlines:") + "\n" + "\n".join(hotlines)
    return text
