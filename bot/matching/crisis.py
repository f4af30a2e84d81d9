"""The crisis lexicon: words that mean someone may be dying or hurt right now.

Theory of operation: her text is read into *lines*, space-joined word skeletons (see
translit.py), once with Latin words read as transliteration and once as keyboard-layout
slips; English is matched on the plain lowercase text. Each category is a set of regular
expressions over those lines. Patterns match the start of a skeleton so that every
ending of a word is covered (передоз, передозу, передознулась). Recall comes first:
missing a crisis is the worst error the bot can make. Only overdose has a brake: talk of
getting naloxone in advance or avoiding an overdose, with no sign of an emergency now,
is a question, not a crisis ("где купить налоксон впрок").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Order is priority when several fire: an overdose after an assault is still an overdose.
CATEGORIES = ("overdose", "assault", "violence", "emergency_numbers")


def _any(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# Skeleton spelling: г/х -> h, ж/з -> z, ш/щ/с -> s, ц/ч -> c, и/і/ї/й/ы -> i,
# е/є/э/ё -> e, я -> a, ю -> u, ь/ъ dropped, doubles squeezed.
_NOT_BREATHING = [
    r"\bne (disit|disal|disat|disi|dise|diha|dihal|dihaie)",
    r"\bperest\w* (disa|diha)",
    r"\bzadiha",
    r"\bhripit",
    r"\bhrip\w* i ne",
    r"\bne (prosipa|prokida|prosnet|prokinet|otzivaet|vidhuk|reahu|reaguet)",
    r"\bne (moh|moz)\w* (razbud|rozbud|dobud)",
    r"\bne (prihod|pridet)\w* v seba",
    r"\bne (prihod|pridet)\w* do tami",
    r"\bbez (soznan|svidom|pam)",
    r"\b(poter|vtrat)\w* (soznan|svidom)",
    r"\bposin",
    r"\bsin(ie|ii|i|aa|e) (hub|nohti|pal)",
    r"\bhub\w* (sin|posin)",
    r"\b(u|po)?mira(et|e|iet)\b",
    r"\bvmira",
    r"\bumer(la)?\b",
    r"\b(ot|vid)kac",
    r"\botehal",
    r"\botkinul",
    r"\bne dise",
]
_OVERDOSE_WORDS = [
    r"\bperedoz",
    r"\bpere[dt]oz",
    r"\bperedaz",
    r"\bnaloks\w* (srocn|skorei|bistr|ne pomoh|ne dop)",
    r"\b(vkol|ukol|kol|vvel|vved|dal|dat)\w* naloks",
]
_URGENT = [
    r"\b(srocn|terminov|sejcas|seicas|sas|pramo zaraz|zaraz|pomohit|dopomoz|spasit|rat)",
    r"\b(cto|so|sco|sto|cho) (delat|robit|robiti)",
    r"\bpomoh",
]
_PREVENTION = [
    r"\b(vprok|zaranee|zazdaleh|pro zapas|na vsakii|na vsak)",
    r"\b(kupit|kupiti|kupl|priobr|zakaz|zamovi|de vzat|hde vzat|dostat|vzat)",
    r"\b(izbez|unikn|poperedi|predotvrat|profilak|rizik|risk|ne dopust)",
    r"\b(sto take|cto takoe|so take|trenin|nauci|kurs)",
]
_ASSAULT = [
    r"\biznasil",
    r"\bnasil(u|ov)",
    r"\bz?hvaltu",
    r"\bzhvalt",
    r"\bzz?hvalt",
    r"\b(zastav|prinud|zmus|primus|prinuz)\w*( \w+){0,3} (seks|spat|trah|interim)",
    r"\b(trahn|poimel)\w*( \w+){0,2} (bez|siloi|protiv)",
    r"\bpo kruhu",
    r"\bbez (sohlas|zhod)\w*( \w+){0,3} (seks|trah)",
    r"\b(seks|trah)\w*( \w+){0,3} bez (sohlas|zhod)",
]
_VIOLENCE = [
    r"\b(izbi|izbiv|pobil|pobiv|udaril|udari|vdari|udar|b[ie]t me|b[ie]ut|bet mena|be mene)",
    r"\b(b|be|bet|biot) (mena|mene|meni|nas|ditin|rebenk)",
    r"\b(mena|mene) (b|be|bet|bu)\b",
    r"\b(zadus|dusit|dusil|dusiv|dusat)",
    r"\b(ubet|ubu|vbe|vbiu|ub[iu]et|vbie) (mena|mene|meni|nas)",
    r"\b(uhroz|pohroz|hroz)\w* (ubit|vbit|ubiv|zarez)",
    r"\b(hoce|hocet) (ubit|vbit|mena ubit)",
    r"\b(nozom|nozem|noz) (uhroz|pohroz|kinu|kida)",
    r"\bpoboi\b",
    r"\bpoboi (vid|ot)",
    r"\bzapr\w* (v kvart|doma|v kimn|v komnat)",
    r"\bne vipus\w* (z|iz) (domu|kvart|doma)",
]
_EMERGENCY = [
    r"\b(skor(a|u|oi|oi)|svidk(a|u|oi|ui)\b|neotloz)",
    r"\b(103|112|911|102|101)\b",
    r"\bnomer\w* (skor|svidk|polic|policii|ekstren|ekstr)",
    r"\b(ekstrenn|ekstren)\w* (nomer|sluzb|dopom|pomos)",
    r"\bsos\b",
    r"\b(pomohite|dopomozit) (srocn|terminov|pozal)",
]

_EN = {
    "overdose": [
        r"\boverdos",
        r"\bo\.?d(ed|ing|'d|d|s)?\b",
        r"\b(not|isn'?t|stopped|can'?t|cant|no) breath",
        r"\b(can'?t|cant|won'?t|wont|doesn'?t|not) (wake|waking|respond)",
        r"\bunconscious",
        r"\bunresponsive",
        r"\bturn\w* (blue|grey|gray)",
        r"\b(blue|grey|gray) lips",
        r"\blips (are |turned |went )?(blue|grey|gray)",
        r"\bpassed out",
        r"\bdying\b",
        r"\b(give|gave|inject|used) (her |him |them )?(the )?(naloxone|narcan)",
    ],
    "assault": [
        r"\brap(e|ed|ist)\b",
        r"\bsexual(ly)? assault",
        r"\bforced (me |her )?(to have )?sex",
        r"\bsex without (my |her )?consent",
    ],
    "violence": [
        r"\b(hits|hit|beats|beat|beating|hurts|hurting|chok\w+|strangl\w+) (me|her|us)\b",
        r"\bthreat\w* to kill",
        r"\bgoing to kill (me|her)",
        r"\bwill kill (me|her)",
        r"\bbeaten\b",
        r"\block\w* me (in|up)",
    ],
    "emergency_numbers": [
        r"\bambulance",
        r"\bemergency (number|service|line|call)",
        r"\b(103|112|911|102|101)\b",
        r"\bcall (the )?(police|cops)\b",
        r"\bsos\b",
        r"\bhelp me now\b",
        r"\burgent help\b",
    ],
}
_EN_URGENT = re.compile(r"\b(now|urgent|help|right now|asap|what (do|should) i do|hurry)\b")
_EN_PREVENTION = re.compile(
    r"\b(buy|get|stock|in advance|just in case|prevent|avoid|risk|where (can|do) i (get|buy)"
    r"|what is|training|learn|carry)\b"
)

_SKELETON = {
    "overdose_strong": _any(_NOT_BREATHING),
    "overdose": _any(_OVERDOSE_WORDS),
    "assault": _any(_ASSAULT),
    "violence": _any(_VIOLENCE),
    "emergency_numbers": _any(_EMERGENCY),
}
_URGENT_RE = _any(_URGENT)
_PREVENTION_RE = _any(_PREVENTION)
_ENGLISH = {name: _any(patterns) for name, patterns in _EN.items()}
_EN_STRONG = _any(_EN["overdose"][2:9])


def planned(lines: list[str], english: str) -> bool:
    """True when she talks of the future (in advance, avoiding) and of nothing urgent now."""
    urgent = any(_URGENT_RE.search(line) for line in lines) or _EN_URGENT.search(english)
    ahead = any(_PREVENTION_RE.search(line) for line in lines) or _EN_PREVENTION.search(english)
    return bool(ahead and not urgent)


def _fires(name: str, lines: list[str], english: str) -> bool:
    if name == "overdose":
        if any(_SKELETON["overdose_strong"].search(line) for line in lines):
            return True
        if _EN_STRONG.search(english):
            return True
        mentioned = any(_SKELETON["overdose"].search(line) for line in lines) or bool(
            _ENGLISH["overdose"].search(english)
        )
        return mentioned and not planned(lines, english)
    return any(_SKELETON[name].search(line) for line in lines) or bool(
        _ENGLISH[name].search(english)
    )


def detect(lines: list[str], english: str) -> str | None:
    """The crisis category her text signals, or None; `lines` are skeleton readings."""
    for name in CATEGORIES:
        if _fires(name, lines, english):
            return name
    return None


_HUMAN = _any(
    [
        r"\b(ziv|realn|nastoas|spravz|nastoasc)\w* (celovek|ludin|ludm|ludi|operator|konsult)",
        r"\b(s|z|so) (celovekom|ludinou|operatorom|konsultantom|konsultantkoi|operatorkoi)\b",
        r"\b(pozvat|poklic|soedin|zednai|zedna|perekl)\w* (celovek|ludin|operator|konsult)",
        r"\b(ne|ne s) (botom|robotom)\b",
        r"\b(celovek|ludina) (a )?ne bot",
    ]
)
_EN_HUMAN = re.compile(
    r"\b(real|live|actual) (person|human|people)|\b(talk|speak|chat) (to|with) (a |an )?"
    r"(person|human|someone|somebody|operator|consultant|peer)|\bnot a (bot|robot)\b"
)


def wants_human(lines: list[str], english: str) -> bool:
    """True when she asks for a real person rather than the bot."""
    return any(_HUMAN.search(line) for line in lines) or bool(_EN_HUMAN.search(english))
