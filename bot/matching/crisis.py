"""The crisis lexicon: words that mean someone may be dying or hurt right now.

Theory of operation: her text is read into *lines*, space-joined word skeletons (see
translit.py), once with Latin words read as transliteration and once as keyboard-layout
slips; English is matched on the plain lowercase text. Each category is a set of regular
expressions over those lines. Patterns match the start of a skeleton so that every
ending of a word is covered (передоз, передозу, передознулась). Recall comes first:
missing a crisis is the worst error the bot can make. Brakes turn a mention into a
question only when nothing says "now": talk of naloxone in advance, signs of an
overdose or one that is over ("где купить налоксон впрок", "її відкачали, зараз все
нормально"); violence or assault long ago, or asked about ("это считается?", a shelter);
a number asked for calmly. A sign of a body in danger (not breathing, blue, cannot be
woken) is never braked. docs/matching.md lists them; tests/test_matching.py has an
example of each.
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
    r"\botehal",
    r"\botkinul",
    r"\bne dise",
    r"\b(znepritom|nepritom|vtratil\w* svidom|otklucil|virubil|vidkluc)",
    r"\bne (vorus|dvihae|dvihaet|sevel|vstae|vstaet|otveca|vidpovid)",
    r"\b(pulsa|pulsu|puls) (net|nema|ne)",
    r"\b(serce|serdce) (ostanov|zupin)",
    r"\b(perebral|perebrala|perebrav|perebor)\w*",
    r"\bsinet\b|\bsinie$|\bsinie (i|ne|vze|uze|ves|vsa)\b",  # синеет, синіє (not "синие таблетки")
    r"\b(zracki|zinic)\w* (tocki|tocka|kroh|malen|kak toc|ak toc)",
    r"\b(ploho|pohano|zle|plohov)\w*( \w+){0,2} (posle|pisla|pisl)\w* (doz|ukol|vmaz|metad|heroin"
    r"|fent|opioi|opiat|sirk|vtork)",
    r"\b(slisk\w* mnoho|zabahato) (prinal|prinala|vzala|vkolol|vzal|uzala|uzal|vkolo)",
]
_OVERDOSE_WORDS = [
    r"\bperedoz",
    r"\b(ot|vid)kac",  # reviving someone; not strong: "її відкачали, зараз все нормально"
    r"\bpere[dt]oz",
    r"\bperedaz",
    r"\bnaloks\w* (srocn|skorei|bistr|ne pomoh|ne dop)",
    r"\b(vkol|ukol|kol|vvel|vved|dal|dat)\w* naloks",
    r"\bnaloks\w*( \w+){0,2} (ne pomoh|ne dia|ne dei|ne spracuv|ne rabot)",
]
_URGENT = [
    r"\b(srocn|terminov|sejcas|seicas|sas|pramo zaraz|zaraz|pomohit|dopomoz|spasit|ratui)",
    r"\b(bistree|skoree|bistro|svidse)\b",
    r"\b(ploho|pohano|zle) (emu|ei|iei|iomu|omu|celovek|ludin|podruz|druh|muz|colov)",
    r"\b(emu|ei|iei|iomu|omu|celoveku|ludini|podruze|druhu) (ploho|pohano|zle)\b",
    r"\b(cto|so|sco|sto|cho) (delat|robit|robiti)",
    r"\bpomoh",
]
_PREVENTION = [
    r"\b(vprok|zarane|zazdaleh|pro zapas|na vsaki|na vsak|hocu znat|hocu znati|vbereh|uberec"
    r"|uberes|zahistit)",
    r"\b(ak|kak) (kolot|koloti|vvodit|vvesti|vikoristov|ispolz|zrozumit|ponat|uznat|vpiznat)",
    r"\b(kudi|kuda|v ake|v kakoe|v aku|v kakuu) (mesto |misce )?(kolot|koloti|vkolot|vvodit|kolut)",
    r"\b(kupit|kupiti|kupl|priobr|zakaz|zamovi|de vzat|hde vzat|dostat|vzat)",
    r"\b(izbez|unikn|poperedi|predotvrat|profilak|rizik|risk|ne dopust)",
    r"\b(priznak|oznak|simptom)",
    r"\b(skilk|skolk|skoko|skiki)\w*( \w+){0,2} naloks",  # how much naloxone
    r"\b(esli|aksco|akso|iakso) (sorv|zirv|znov|snova|nacn|pocn)",
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
    r"\bpo (kruhu|kolu)\b",
    r"\b(zastav|prinud|zmus|primus|prinuz)\w*( \w+){0,3} (perespa|perespi|spat|pererah)",
    r"\bbez (sohlas|zhod)\w*( \w+){0,3} (seks|trah)",
    r"\b(seks|trah)\w*( \w+){0,3} bez (sohlas|zhod)",
    r"\b(vzal|vzali|vzav|vzala|zrobiv|zrobil|sdelal)\w* (siloi|silou)",
    r"\b(siloi|silou) (vzal|vzav|zrobiv|sdelal|zastav|zmusiv)",
    r"\b(zastav|prinud|zmus|primus|prinuz)\w* (mena|mene) (s|z|zi) (nim|nimi|nei|nimi)\b",
    r"\b(znav|snal|snial|zdernul|stanul)\w* (prezerv|hondon|handon|rezink)",
    r"\b(nadruh|domoh|zdomoh)\w*",
    r"\b(poka|kohda|koli|poki) (a|ia|ja)? ?(bula|bila) (bez soznan|neprit|v otrub|bez svidom)",
    # "мент заставил меня" (not "заставляют подписать протокол": that is a police question)
    r"\b(ment|musor|polic|kop)\w*( \w+){0,2} (zastav|zmus|prinud|primus)\w* (mena|mene)\b"
    r"(?! (pidpis|podpis|napis|pisat|plat|zaplat|priznat|priznav|vidda|otda))",
]
_VIOLENCE = [
    r"\b(izbi|izbiv|pobil|pobiv|udaril|udari|vdari|udar|b[ie]t me|b[ie]ut|bet mena|be mene)",
    r"\b(b|be|bet|biot) (mena|mene|meni|nas|ditin|rebenk)",
    r"\b(mena|mene) (b|be|bet|bu|bot|biot|bjot)\b",
    r"\b(bot|biot|bjot) (mena|mene)\b",
    r"\b(uhroz|pohroz|hroz)\w*( \w+){0,2} (nozom|nozem|noz|pistolet|rusn|sokir|toporom)",
    r"\b(zakril|zaperl|zacinil|sprah|shoval|hovaus|hovau)\w* (v|u|vo) (van|tualet|kimn|komnat|sus)",
    r"\b(zadus|dusit|dusil|dusiv|dusat)",
    r"\b(ubet|ubu|vbe|vbiu|ub[iu]et|vbie) (mena|mene|meni|nas)",
    r"\b(mena|mene|nas) (ubet|ubiet|ubiut|ubut|vbe|vbie|zarize|zareze)\b",
    r"\b(uhroz|pohroz|hroz)\w* (ubit|vbit|ubiv|zarez)",
    r"\b(hoce|hocet) (ubit|vbit|mena ubit)",
    r"\b(nozom|nozem|noz) (uhroz|pohroz|kinu|kida)",
    r"\bpoboi\b",
    r"\bpoboi (vid|ot)",
    r"\bzapr\w* (v kvart|doma|v kimn|v komnat)",
    r"\bne vipus\w* (z|iz) (domu|kvart|doma)",
    r"\b(napal|napav|napali|kinul\w* na mena|kinuv\w* na mene|kidaets\w* na)",
    r"\b(lupit|lupcu|lupcue|metelit|kolotit|izbivaut|bijut|bjut|buut)",
    r"\b(hoce|hocet|hoce mene|hocet mena|sobiraets|zbiraets)\w* (ubit|vbit|zadus)",
    r"\b(bous|boius|boiusa|boiusia|straso)\w*( \w+){0,5} "
    r"(ubet|vbe|ub[iu]et|vbie|za (svou|svoiu|sv) (zizn|ziti))",
    r"\b(a|ia|ja|mi) v (opasnost|nebezpec)",
    r"\b(lomits|lomit|lomae|lomau|vilamu|vlamu|vibiv|vibiva|vinos)\w*( \w+){0,2} "
    r"(dver|dveri|kvart)",
    r"\b(skazav|skazal|obesa|obica|pohroz|uhroz)\w*( \w+){0,2} (so|cto|sto|ce)? ?"
    r"(ube|ubie|ubet|vbe|vbie|ubiu|vbiu|zarize|zareze)\b",
    r"\b(opat|znovu|snova|znov|zavtra|sas|sejcas) (bit|biti|lupit|bu) (bude|budet)",
    r"\b(s|z) (nozom|nozem|pistolet|rusn)",
    # "муж бьет": who is hitting, with no object ("бьет" is b-e-t in the skeleton)
    r"\b(muz|colov|paren|hlop|sozit|sozhit|bivs|otcim|vitcim|partner|sput)\w* "
    r"(b|be|bet|biot|bie|bjot|lupit)\b",
]
# Calling for help is a crisis whatever else she says.
_CALLING = [
    r"\b(vizv|viziv|viklik|vikli|poklic|zvon|dzvon|nabr|vizov)\w* "
    r"(skor|svidk|neotl|103|112|911|102)",
    r"\b(skor|svidk)\w* (skorei|srocn|terminov|bistr|pozal|pomoh|dopom)",
    r"\b(pomohite|dopomozit|ratuite|spasite) (srocn|terminov|pozal|pozalui|bud|mene|mena)",
    r"^(pomohite|dopomozit|ratuite|spasite|pomoh)( \w+)?$",
    r"\b(kuda|kudi|de|hde) (zvonit|dzvoniti|dzvonit)\w*( \w+){0,2} "
    r"(srocn|terminov|sejcas|zaraz)",
]
# Naming the service or its number is a crisis only with a sign of hurry.
_EMERGENCY = [
    r"\b(skor(a|u|oi)|svidk(a|u|oi|ui)\b|neotloz)",
    r"\b(103|112|911|102|101)\b",
    r"\b(ekstrenn|ekstren)\w* (nomer|sluzb|dopom|pomos)",
]
# Time words that move an assault or violence out of "now": long ago, as a child.
_PAST = [
    r"\b(let|rokiv|hodi|hod|roku|rik|misaci|misaciv|mesaca|mesacev) (nazad|tomu)\b",
    r"\b(v proslom|u minulomu|minuloho|proslim|v tom) (hodu|roci|roku|hodi)",
    r"\b(piv|pol|pivroku|polhoda)( roku| hoda)?( vze| uze)? (proislo|proslo|minulo)",
    r"\b(v|u) (detstv|ditinstv)",
    r"\bdavno\b",
    r"\b(kohda-to|kohdato|kolis|ranse|ranise)\b",
    r"\b(kohda|koli) (mne|meni) bilo",
]
# "It is over now": she was revived and is fine; a mention of an overdose, not one happening.
_SETTLED = [
    r"\b(teper|zaraz|sejcas|sas|uze|vze) (vse |uze |vze )?(normal|dobre|v poradk|horoso|ok)\b",
    r"\b(otkacal|vidkacal)\w*",
]
_RECENT = [
    r"\b(vcera|ucora|sehodn|sohodn|tolko cto|tilki so|sojno|soino|nocu|vnoci|utrom|vranci)",
]
# Asking whether something counts, or planning ahead: a question, not an emergency.
_ASKING = [
    r"\b(sitaets|vvazaets|ce nasil|eto nasil|eto normal|ce normal|ce z ne norm|eto z ne norm"
    r"|ce ne norm|eto ne norm|scitaets|citaets)",
    r"\b(selter|pritul|ubezis|prihut|krizov|krizisn)",
    r"\b(plan bezpek|plan bezopasn|pidhotuv|podhotov|uiti vid|uiti ot|pokinut|pitis)",
    r"\b(obovazk|obazat)",  # "do I have to go to the police"
]
_EN = {
    "overdose": [
        r"\boverdos",
        r"\bo\.?d(ed|ing|'d|d|s)?\b",
        r"\b(not|isn'?t|stopped|can'?t|cant|no) breath",
        r"\b(can'?t|cant|won'?t|wont|doesn'?t|don'?t|dont|didn'?t|not) (wake|waking|respond)",
        r"\bunconscious",
        r"\bunresponsive",
        r"\bturn\w* (blue|grey|gray)",
        r"\b(blue|grey|gray) lips",
        r"\blips (are |turned |went )?(blue|grey|gray)",
        r"\bpassed out",
        r"\bdying\b",
        r"\b(give|gave|inject|used) (her |him |them )?(the )?(naloxone|narcan)",
        r"\b(took|taken|used|had|injected|shot) (way )?too much\b",
        r"\b(no pulse|not moving|gasping|snoring and|won'?t come round|not waking)",
        r"\b(naloxone|narcan) (is(n'?t| not)|does(n'?t| not)|not) work",
    ],
    "assault": [
        r"\brap(e|ed|ist)\b",
        r"\bsexual(ly)? assault",
        r"\bforced (me |her )?(to have )?sex",
        r"\bsex without (my |her )?consent",
        r"\b(assaulted|molested|forced) (me|her)\b",
        r"\bmade (me|her) have sex",
        r"\bdrugged (me|her) and",
    ],
    "violence": [
        r"\b(hits|hit|hitting|beats|beat|beating|hurts|hurting|kick\w*|punch\w*|slap\w*"
        r"|chok\w+|strangl\w+|attack\w*) (me|her|us|my)\b",
        r"\b(scared|afraid|fear)\w* (for my life|he will kill|he'?ll kill|he is going to)",
        r"\bi'?m in danger\b|\bim in danger\b",
        r"\b(has|with|got) a (knife|gun)\b",
        r"\b(breaking|kicking|banging) (down )?(the |my )?door",
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
    ],
}
_EN_CALLING = re.compile(
    r"\bcall(ing)? (an |the )?(ambulance|911|112|103|police|cops)\b|\bsos\b|\bhelp me now\b"
    r"|\burgent help\b|\bsend (an )?ambulance|^(help|help me|help please|please help)$"
)
_EN_PAST = re.compile(
    r"\b(years ago|months ago|last year|as a (child|kid|teen)|long ago|when i was|used to)\b"
)
_EN_RECENT = re.compile(r"\b(last night|yesterday|today|tonight|just now|this morning|an hour)\b")
_EN_ASKING = re.compile(
    r"\b(is (it|this|that) (abuse|violence|normal|rape)|does (it|this) count|shelter|safety plan"
    r"|plan to leave|leave him|leaving him|where can i go)\b"
)
_EN_URGENT = re.compile(
    r"\b(now|urgent|help|right now|asap|what (do|should) i do|hurry|fast|quick"
    r"|need (an )?ambulance)\b"
)
_EN_PREVENTION = re.compile(
    r"\b(buy|get|stock|in advance|just in case|prevent|avoid|risk|where (can|do) i (get|buy)"
    r"|what is|training|learn|carry|signs?|symptoms?"
    r"|how (to|do i|can i) (tell|know|recogni[sz]e)"
    r"|where (do|to|should|can) (i |you )?(inject|put|give|stick))\b"
)

_SKELETON = {
    "overdose_strong": _any(_NOT_BREATHING),
    "overdose": _any(_OVERDOSE_WORDS),
    "assault": _any(_ASSAULT),
    "violence": _any(_VIOLENCE),
    "emergency_numbers": _any(_EMERGENCY),
}
_URGENT_RE = _any(_URGENT)
_CALLING_RE = _any(_CALLING)
_PAST_RE = _any(_PAST)
_RECENT_RE = _any(_RECENT)
_SETTLED_RE = _any(_SETTLED)
_ASKING_RE = _any(_ASKING)
_PREVENTION_RE = _any(_PREVENTION)
_ENGLISH = {name: _any(patterns) for name, patterns in _EN.items()}
# Strong signs with the spaces gone ("shesnotbreathing", "nedyshit"), on squashed text.
_SQUASHED = re.compile(
    r"(notbreath|stoppedbreath|cantbreath|cantwake|wontwake|notwaking|unconscious|unresponsive"
    r"|overdos|nedis|nediha|peredoz|bezsoznan|bezsvidom|neprosipa|neprokida|izbil|iznasil"
    r"|zhvaltu|zghvaltu|hvaltuv|rapedme|beatsme|hitsme|hittingme|beatingme"
    r"|nomerskor|nomersvidk|vizvatskor|viklikatsvidk|viklicitsvidk|skorusrocn|svidkuterminov"
    r"|lomitsavdver|lomitsadver|lomitsvdver|znozem|snozom)"
)
_SQUASHED_HURRY = re.compile(r"(srocn|terminov|bistr|sejcas|zaraz|skoree|skorei)")
_SPACED = (
    "nomer",
    "vizv",
    "viklik",
    "not",
    "stopped",
    "cant",
    "wont",
    "ne",
    "bez",
    "raped",
    "beats",
    "hits",
    "hitting",
    "beating",
)
_EN_STRONG = _any(_EN["overdose"][2:9])


def planned(lines: list[str], english: str) -> bool:
    """True when she talks of the future (in advance, avoiding) and of nothing urgent now."""
    ahead = _any_line(_PREVENTION_RE, lines) or bool(_EN_PREVENTION.search(english))
    return ahead and not _urgent(lines, english)


def hurried(lines: list[str], english: str) -> bool:
    """True when she asks for help in a hurry or to call someone now, not what a number is."""
    return _urgent(lines, english) or _calling(lines, english)


def _urgent(lines: list[str], english: str) -> bool:
    return _any_line(_URGENT_RE, lines) or bool(_EN_URGENT.search(english))


def _calling(lines: list[str], english: str) -> bool:
    return _any_line(_CALLING_RE, lines) or bool(_EN_CALLING.search(english))


def _any_line(pattern: re.Pattern[str], lines: list[str]) -> bool:
    return any(pattern.search(line) for line in lines)


def _fires(name: str, lines: list[str], english: str) -> bool:
    urgent = _urgent(lines, english)
    if name == "overdose":
        if _any_line(_SKELETON["overdose_strong"], lines) or _EN_STRONG.search(english):
            return True
        mentioned = _any_line(_SKELETON["overdose"], lines) or bool(
            _ENGLISH["overdose"].search(english)
        )
        return mentioned and not planned(lines, english) and not _any_line(_SETTLED_RE, lines)
    if name == "emergency_numbers":
        if _calling(lines, english):
            return True
        named = _any_line(_SKELETON[name], lines) or bool(_ENGLISH[name].search(english))
        return named and urgent
    if not (_any_line(_SKELETON[name], lines) or _ENGLISH[name].search(english)):
        return False
    recent = _any_line(_RECENT_RE, lines) or bool(_EN_RECENT.search(english))
    past = _any_line(_PAST_RE, lines) or bool(_EN_PAST.search(english))
    if past and not recent:
        return False
    if name in ("violence", "assault"):
        asking = _any_line(_ASKING_RE, lines) or bool(_EN_ASKING.search(english))
        return not asking or urgent or recent
    return True


def detect(lines: list[str], english: str) -> str | None:
    """The crisis category her text signals, or None; `lines` are skeleton readings."""
    for name in CATEGORIES:
        if _fires(name, lines, english):
            return name
    # Words stuck together: only a sign inside a longer word, so that a braked mention
    # ("передознуться" in a question about the future) stays braked.
    for word in {w for line in (*lines, english) for w in line.split()}:
        found = _SQUASHED.search(word)
        if found and (found.start() > 0 or found.group(1).startswith(_SPACED)):
            word = found.group(1)
            if word in ("izbil", "beatsme", "hitsme", "hittingme", "beatingme") or \
                    word.startswith(("lomits", "znoz", "snoz")):
                return "violence"
            if word in ("iznasil", "zhvaltu", "zghvaltu", "hvaltuv", "rapedme"):
                return "assault"
            if word.startswith(("nomer", "vizv", "viklik", "skor", "svidk")):
                if _SQUASHED_HURRY.search(found.string):
                    return "emergency_numbers"
                continue  # the number, asked for calmly: a question
            return "overdose"
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
