"""The words every part of Podruga shares: languages, countries, needs and actions.

Each is defined here once; the engine, the loaders that check staff files, the
adapters and the command line import them from here. Pure data: no imports.
"""

from __future__ import annotations

# Her languages, in the order the language question offers them. They are also the
# catalogs' languages (locales/<lang>/); English is the source language of the msgids.
LANGS = ("uk", "ru", "en")

# The countries of the region, ISO 3166-1 alpha-2. The directory has a file for each
# (directory/<code>.yaml) and bot/content/directory/places.py an outline of each;
# flows may write a variant for any of them (``when: {country: ...}``).
COUNTRIES = ("UA", "RU", "BY", "MD", "GE", "AM", "AZ", "KZ", "KG", "TJ", "UZ", "TM")
# Her answer "another country / skip": flows may write a variant for it too.
OTHER_COUNTRY = "XX"
# The countries the country question offers, in its order (two a row): every country of
# COUNTRIES, so that the variants flows carry for each of them (Turkmenistan's emergency
# numbers, say) reach her.
COUNTRY_CHOICES = ("UA", "RU", "BY", "MD", "KZ", "KG", "GE", "TJ", "UZ", "AM", "AZ", "TM")
# Countries where every step a woman can reach needs an explicit decision (a variant for
# the country, hide, or same_in): in Russia OST is banned and "drug propaganda" is
# prosecuted, so a text written for elsewhere can be false for her and put the NGO at risk.
DECIDED_COUNTRIES = ("RU",)

# What a ``do:<action>`` button asks the engine to do (flows/*.yaml; the engine's ``do``).
ACTIONS = (
    "exit",  # quick exit: delete the chat and forget her
    "forget",  # forget her session and history, keeping only her language
    "human",  # open a case with a peer consultant
    "leave",  # close her case and go back to the menu
    "language",  # ask her language again
    "country",  # ask her country again
    "location",  # ask where she is, for the services she was looking for
)


# The needs a woman can filter services by: the flows' "find a service" buttons
# (``find:ost+women_only``), the directory and its checks. The English labels are
# msgids in the ``bot`` catalog domain.


def N_(message: str) -> str:
    """Mark a string for extraction; translated later, where the language is known."""
    return message


NEEDS: dict[str, str] = {
    "ost": N_("OST on site"),
    "women_only": N_("Women only"),
    "pregnant": N_("Accepts pregnant women"),
    "children": N_("Children welcome"),
    "active_use": N_("Accepts women who use drugs now"),
    "free": N_("Free"),
    "anonymous": N_("Anonymous"),
    "no_documents": N_("No documents needed"),
    "hiv_test": N_("HIV testing"),
    "hcv_test": N_("Hepatitis C testing"),
    "sti_test": N_("STI testing"),
    "tb_test": N_("TB testing"),
    "naloxone": N_("Naloxone"),
    "syringes": N_("Syringes and needles"),
    "pep": N_("PEP after a risk"),
    "prep": N_("PrEP"),
    "gynecology": N_("Gynaecologist"),
    "shelter": N_("Shelter"),
    "violence": N_("Help after violence"),
    "legal": N_("Legal help"),
    "peer": N_("Peer consultant"),
}
