"""The needs a woman can filter services by: shared by the flows' "find a service"
buttons (``find:ost+women_only``), the directory and its validation.

The English labels are msgids in the ``bot`` catalog domain.
"""

from __future__ import annotations


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
