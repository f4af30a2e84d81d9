"""The phrase index: from what she typed to the step that answers it.

Theory of operation. Every `ask` phrase and title is read into *tokens*; a token is a
word's set of keys (morphology.py: stem or lemma, then the spelling skeleton), after
slang and abbreviations are replaced by their canonical words (synonyms.py). Her text
is read the same way, except that each Latin word may be English, transliteration or a
keyboard-layout slip, and the reading that exists in the index wins; words the index does
not know are tried as a stuck-together pair, then by prefix, then by edit distance over
keys of similar length. A phrase scores by how much of it her text covers and how much
of her text it covers, each weighted by how rare a key is across steps (idf); a step
scores by its best phrase, plus a little for her words found anywhere in the step.

Before any of that, the crisis lexicon (crisis.py) reads the text; if it fires, the
answer is the crisis step for that category and nothing else is considered.

Nothing she typed is kept: the only caches hold keys of the content's own words.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from rapidfuzz import fuzz, process

from bot.matching import crisis, morphology
from bot.matching.layout import latin_to_cyrillic
from bot.matching.normalise import chunks, clean, is_cyrillic, is_latin, words
from bot.matching.synonyms import SYNONYMS
from bot.matching.translit import skeleton, to_cyrillic

# Score bands. A step at or above CONFIDENT, ahead of the next step (unless both answer a
# topic in common) by MARGIN, is the answer; below SURE it comes with the close
# runners-up ("or maybe ..."). From FAIR up, the best step is still the answer, with its
# runners-up: she reads an answer at once and has a way out if it is the wrong one. From
# SUGGEST up, the best three are offered as "did you mean"; below SUGGEST, nothing is
# close. SURE was set on the fresh tuning sets: on tests/data/tuneset3 0.65 took top-3
# from 0.945 to 0.962 (a third of answers with runners-up, a sixth before); on
# tests/data/tuneset4 0.75 took it from 0.959 to 0.968 (half of answers with runners-up).
CONFIDENT = 0.5
SURE = 0.75  # below this a clear answer still shows close runners-up ("or maybe ...")
MARGIN = 0.06
FAIR = 0.4
SUGGEST = 0.22
# A confident answer that is a crisis step counts as a crisis from this score up.
CRISIS_PHRASE = 0.85
MAX_SUGGESTIONS = 3
RUNNER_UP_SHARE = 0.6  # a runner-up is offered from this share of the best score up
# Her words that the index does not know count this much of an average word against her
# coverage: chit-chat ("привет девочки подскажите") should not sink a good match.
UNKNOWN_WEIGHT = 0.35
# Share of the step score that comes from her words found anywhere in the step.
STEP_BAG_SHARE = 0.25
# A key in more than this share of steps carries no signal (checked only with many steps).
STOP_SHARE = 0.5
STOP_MIN_STEPS = 20
# Her words read before, kept (bounded) only when they read as a content word: stemming
# and the Ukrainian dictionary cost most of a question, and women's words repeat.
KNOWN_WORDS_MAX = 20_000
# Her words beyond this many are not scored (a guard on time; questions are short).
MAX_QUERY_TOKENS = 40

# Function words of the three languages, by folded surface form: they never decide a match.
STOPWORDS = frozenset(
    """
    и й а но в во на с со к ко у о об обо от до из за по при для без под над что чтобы
    как ли же бы то это эта этот эти мне меня мной я ты она он мы вы они её ее его их
    мой моя мое мои твой твоя свой своя ещё еще уже так там тут где когда или если
    то есть был была было были буду будет быть очень просто вот ну да нет пожалуйста
    подскажите скажите подскажи скажи привет здравствуйте добрый день вечер девочки
    хочу хотела хотел могу можу може такое такой такая таке такий така или чи
    і та але в у на з із зі до від за по при для без під над що щоб як чи це ця цей ці
    мені мене я ти вона він ми ви вони її його їх мій моя моє мої твій своя вже так там
    тут де коли або якщо була був було були буду буде бути дуже просто ну так ні будь
    ласка підкажіть скажіть привіт добрий вітаю дівчата
    the a an and or but in on at to of for with without about from by is are was were be
    been am i me my you your she her he his it its we our they their this that these those
    what how can could should would do does did please hi hello there if so just
    """.split()
)
# One-letter words a cut may produce (prepositions and "and"); other single letters may not.
_ONE_LETTER_WORDS = frozenset("вузсиіаяк")
# Runs of letters at least this long that the index does not know are tried as stuck words.
STUCK_MIN = 9
STUCK_UNKNOWN = 2  # pieces of a cut that may be words the content does not have
_FOLD = str.maketrans({"ё": "е", "і": "и", "ї": "и", "є": "е", "ґ": "г"})
_STOPS = frozenset(w.translate(_FOLD) for w in STOPWORDS)


@dataclass(frozen=True, slots=True)
class Entry:
    """A step that can answer typed questions: its id, topics and how women ask for it."""

    step: str
    topics: tuple[str, ...]
    phrases: Mapping[str, tuple[str, ...]]
    crisis: bool = False
    titles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Match:
    """The answer to one typed question: a step, or suggestions, or nothing.

    A step with suggestions is a fair but not certain answer: show the step, and
    the suggestions as other steps she may have meant.
    """

    step: str | None
    score: float
    crisis: bool
    suggestions: tuple[str, ...]
    human: bool = False


# A token: its keys, each with how sure the reading is (1.0 exact, less for fuzzy).
Token = dict[str, float]


@dataclass(frozen=True, slots=True)
class _Phrase:
    step: int
    tokens: tuple[tuple[frozenset[str], float], ...]  # (keys, weight)
    keys: frozenset[str]
    weight: float


@dataclass(frozen=True, slots=True)
class _Arrays:
    """The postings and phrases as numpy arrays, for scoring."""

    postings: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # ids, phrases, weights
    token_phrase: np.ndarray  # phrase token id -> phrase number
    phrase_weight: np.ndarray  # phrase number -> sum of its token weights
    step_starts: np.ndarray  # first phrase number of each step that has phrases
    steps: np.ndarray  # the step number of each of those

    @classmethod
    def of(
        cls,
        phrases: tuple[_Phrase, ...],
        postings: Mapping[str, Sequence[tuple[int, int, float]]],
        token_phrase: tuple[int, ...],
    ) -> _Arrays:
        phrase_steps = [p.step for p in phrases]
        if phrase_steps != sorted(phrase_steps):
            raise AssertionError("phrases must be grouped by step")
        starts = [n for n, step in enumerate(phrase_steps) if n == 0 or phrase_steps[n - 1] != step]
        return cls(
            postings={
                key: (
                    np.array([t for t, _, _ in post], dtype=np.intp),
                    np.array([p for _, p, _ in post], dtype=np.intp),
                    np.array([w for _, _, w in post]),
                )
                for key, post in postings.items()
            },
            token_phrase=np.array(token_phrase, dtype=np.intp),
            phrase_weight=np.array([p.weight for p in phrases] or [1.0]),
            step_starts=np.array(starts or [0], dtype=np.intp),
            steps=np.array([phrase_steps[n] for n in starts] or [0], dtype=np.intp),
        )


def _word_keys(word: str, lang: str | None) -> tuple[str, ...]:
    """All keys of one word; `lang` is the phrase language, None for her text."""
    if word.isdigit():
        return (word,)
    if is_cyrillic(word):
        return morphology.cyrillic_keys(word)
    if is_latin(word):
        if lang == "en":
            return (morphology.english_key(word),)
        keys = list(morphology.translit_keys(word))
        english = morphology.english_key(word)
        if english not in keys:
            keys.append(english)
        return tuple(keys)
    return ()


def _synonym_table() -> dict[str, list[tuple[tuple[frozenset[str], ...], tuple[Token, ...]]]]:
    """Variant key sequences by their first word's keys, with the canonical tokens."""
    table: dict[str, list[tuple[tuple[frozenset[str], ...], tuple[Token, ...]]]] = {}
    for canonical, variants in SYNONYMS.items():
        target = tuple(dict.fromkeys(_word_keys(w, None), 1.0) for w in words(clean(canonical)))
        for variant in (canonical, *variants):
            seq = tuple(frozenset(_word_keys(w, None)) for w in words(clean(variant)))
            if not seq or not all(seq):
                continue
            for key in seq[0]:
                table.setdefault(key, []).append((seq, target))
    for options in table.values():
        options.sort(key=lambda option: -len(option[0]))  # longest variant first
    return table


def _apply_synonyms(
    tokens: list[Token],
    table: Mapping[str, list[tuple[tuple[frozenset[str], ...], tuple[Token, ...]]]],
) -> list[Token]:
    if not any(key in table for token in tokens for key in token):
        return tokens  # most phrases hold no slang: skip the scan
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        found: tuple[int, tuple[Token, ...], float] | None = None
        for key in tokens[i]:
            for seq, target in table.get(key, ()):
                n = len(seq)
                if found is not None and n <= found[0]:
                    break
                if i + n > len(tokens):
                    continue
                sims = [
                    max((tokens[i + j].get(k, 0.0) for k in seq[j]), default=0.0) for j in range(n)
                ]
                if min(sims) > 0:
                    found = (n, target, min(sims))
                    break
        if found is None:
            out.append(tokens[i])
            i += 1
        else:
            n, target, sim = found
            out.extend({k: sim for k in t} for t in target)
            i += n
    return out


def _is_stop(word: str, translit: bool = True) -> bool:
    """A function word; ``translit``: also one typed in Latin letters ("chy", "tse", "4to")."""
    if word.translate(_FOLD) in _STOPS:
        return True
    if not (translit and is_latin(word)):
        return False
    reading = to_cyrillic(word).translate(_FOLD)
    return reading in _STOPS or reading.replace("ы", "и") in _STOPS  # y: и or ы


class Index:
    """Typed-question matcher over the content's `ask` phrases; build once, match often."""

    __slots__ = (
        "_entries",
        "_idf",
        "_vocab_by_len",
        "_step_keys",
        "_synonyms",
        "_word_cache",
        "_surface",
        "_vocab",
        "_crisis_steps",
        "_human_step",
        "_mean_idf",
        "_stop",
        "_lexicon",
        "_arrays",
        "_known_words",
    )

    def __init__(self) -> None:
        raise TypeError("use Index.build(entries)")

    @classmethod
    def build(cls, entries: Iterable[Entry]) -> Index:
        """Read every phrase and title of every entry into the index."""
        morphology.warm()
        self = object.__new__(cls)
        self._entries = tuple(entries)
        self._synonyms = _synonym_table()
        self._word_cache = {}
        self._known_words: dict[str, tuple[str, ...]] = {}
        raw: list[tuple[int, list[Token]]] = []
        for number, entry in enumerate(self._entries):
            texts: list[tuple[str, str]] = [
                (lang, phrase) for lang, phrases in entry.phrases.items() for phrase in phrases
            ]
            texts += [(lang, title) for lang, title in entry.titles.items()]
            for lang, text in texts:
                tokens = self._read_content(text, lang)
                if tokens:
                    raw.append((number, tokens))
        steps_with: dict[str, set[int]] = defaultdict(set)
        for number, tokens in raw:
            for token in tokens:
                for key in token:
                    steps_with[key].add(number)
        n = max(len(self._entries), 1)
        self._stop = frozenset(
            key
            for key, steps in steps_with.items()
            if n >= STOP_MIN_STEPS and len(steps) / n > STOP_SHARE
        )
        self._idf = {
            key: math.log((n + 1) / (len(steps) + 0.5)) + 0.1
            for key, steps in steps_with.items()
            if key not in self._stop
        }
        self._mean_idf = sum(self._idf.values()) / max(len(self._idf), 1)
        phrases: list[_Phrase] = []
        # key -> (phrase token id, phrase number, token weight): scores are summed along
        # these lists, so matching costs the postings of her keys, not the whole index
        postings: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
        token_phrase: list[int] = []
        step_keys: dict[int, set[str]] = defaultdict(set)
        seen: set[tuple[int, tuple[tuple[frozenset[str], float], ...]]] = set()
        for number, tokens in raw:
            weighted = tuple(
                (
                    frozenset(k for k in token if k in self._idf),
                    max((self._idf[k] for k in token if k in self._idf), default=0.0),
                )
                for token in tokens
            )
            weighted = tuple(t for t in weighted if t[0])
            if not weighted or (number, weighted) in seen:
                continue  # a phrase that reads the same as another of its step adds nothing
            seen.add((number, weighted))
            keys = frozenset().union(*(t[0] for t in weighted))
            for token_keys, weight in weighted:
                for key in token_keys:
                    postings[key].append((len(token_phrase), len(phrases), weight))
                token_phrase.append(len(phrases))
            step_keys[number] |= keys
            phrases.append(_Phrase(number, weighted, keys, sum(w for _, w in weighted)))
        self._arrays = _Arrays.of(tuple(phrases), postings, tuple(token_phrase))
        self._step_keys = {k: frozenset(v) for k, v in step_keys.items()}
        by_len: dict[tuple[str, int], list[str]] = defaultdict(list)
        for key in self._idf:
            by_len[key[0], len(key)].append(key)
        self._vocab_by_len = dict(by_len)
        self._surface = frozenset(self._word_cache)
        # Plain words of the content and the function words: what a run of letters typed
        # without spaces is cut into ("гденайтитест" -> где найти тест).
        self._vocab = frozenset(
            {key.split(":", 1)[1] for key in self._surface if len(key.split(":", 1)[1]) > 1}
            | {w for w in STOPWORDS if len(w) > 1 or w in _ONE_LETTER_WORDS}
        )
        # keys she may type that synonyms turn into index keys count as known words
        self._lexicon = (
            frozenset(self._idf)
            | self._stop
            | frozenset(
                key
                for options in self._synonyms.values()
                for seq, _ in options
                for keys in seq
                for key in keys
            )
        )
        self._crisis_steps = {
            topic: number
            for number, entry in reversed(list(enumerate(self._entries)))
            if entry.crisis
            for topic in entry.topics
        }
        self._human_step = next(
            (i for i, e in enumerate(self._entries) if "human" in e.topics and not e.crisis), None
        )
        return self

    # -- reading ---------------------------------------------------------------------

    def _read_content(self, text: str, lang: str) -> list[Token]:
        tokens: list[Token] = []
        for word in words(clean(text)):
            if _is_stop(word, translit=lang != "en"):
                continue
            cache_key = f"{lang}:{word}"
            keys = self._word_cache.get(cache_key)
            if keys is None:
                keys = _word_keys(word, lang)
                self._word_cache[cache_key] = keys
            if keys:
                tokens.append(dict.fromkeys(keys, 1.0))
        return _apply_synonyms(tokens, self._synonyms)

    def _keys(self, word: str) -> tuple[str, ...]:
        for lang in ("ru", "uk", "en"):  # content words already read: no stemming needed
            keys = self._word_cache.get(f"{lang}:{word}")
            if keys is not None:
                return (
                    keys
                    if lang != "en" or not is_latin(word)
                    else (*keys, *morphology.translit_keys(word))
                )
        keys = self._known_words.get(word)
        if keys is None:
            keys = _word_keys(word, None)
            # Kept only if it reads as a word of the content (public), never a name, a
            # number or anything else of hers; cleared, not evicted one by one, when full.
            if not word.isdigit() and any(k in self._idf or k in self._stop for k in keys):
                if len(self._known_words) >= KNOWN_WORDS_MAX:
                    self._known_words.clear()
                self._known_words[word] = keys
        return keys

    def _known(self, keys: Iterable[str]) -> Token:
        return {k: 1.0 for k in keys if k in self._lexicon}

    def _fuzzy(self, word: str, keys: tuple[str, ...]) -> Token:
        """Keys of the index close to this unknown word: a prefix, then edit distance."""
        found: Token = {}
        for key in keys:
            if len(key) >= 5:
                for size in range(len(key) - 1, 3, -1):
                    if key[:size] in self._idf:
                        found[key[:size]] = max(
                            found.get(key[:size], 0.0), 0.7 + 0.25 * size / len(key)
                        )
                        break
            if len(key) < 4:
                continue
            cutoff = 80.0 if len(key) <= 6 else 74.0
            # a slip in the first letter is rare; bucketing by it keeps noise and time down
            pool = [
                k
                for size in range(len(key) - 2, len(key) + 3)
                for k in self._vocab_by_len.get((key[0], size), ())
            ]
            for hit, score, _ in process.extract(
                key, pool, scorer=fuzz.ratio, score_cutoff=cutoff, limit=2
            ):
                found[hit] = max(found.get(hit, 0.0), score / 100 * 0.95)
        return found

    def _split(self, word: str) -> list[Token] | None:
        """A missing space: two content words stuck together ("можнометадон")."""
        if len(word) < 6:
            return None
        for i in range(len(word) - 3, 1, -1):
            left, right = word[:i], word[i:]
            left_known = _is_stop(left) or any(
                f"{lang}:{left}" in self._surface for lang in ("ru", "uk", "en")
            )
            if not left_known:
                continue
            right_token = self._known(self._keys(right))
            if right_token:
                left_token = {} if _is_stop(left) else self._known(self._keys(left))
                return [t for t in (left_token, right_token) if t]
        return None

    def _unstick(self, chunk: str) -> list[str]:
        """A run of words typed without spaces, cut into words ("якийномершвидкої").

        Dynamic programming over the content's own words: the cut with the most
        letters in known words, then the fewest pieces, where every piece is a known
        word but at most two (the near-miss search reads those later). Kept only when
        it finds at least two content words (not function words) and known words cover
        at least a third of the run, so that a long word the content lacks ("считается")
        is not chopped into little ones.
        """
        if len(chunk) < STUCK_MIN or not chunk.isalpha() or self._known(self._keys(chunk)):
            return [chunk]
        n, vocab, longest = len(chunk), self._vocab, 20
        # best[u][i]: (-known letters, pieces, cuts) for chunk[:i] with u unknown pieces
        best: list[list[tuple[int, int, tuple[tuple[int, int], ...]] | None]] = [
            [None] * (n + 1) for _ in range(STUCK_UNKNOWN + 1)
        ]
        best[0][0] = (0, 0, ())
        for i in range(n):
            for u in range(STUCK_UNKNOWN + 1):
                here = best[u][i]
                if here is None:
                    continue
                known, pieces, cuts = here
                for j in range(i + 1, min(n, i + longest) + 1):
                    if chunk[i:j] in vocab:
                        v, option = u, (known - (j - i), pieces + 1, (*cuts, (i, j)))
                    elif u < STUCK_UNKNOWN and j - i >= 3:
                        v, option = u + 1, (known, pieces + 1, (*cuts, (i, j)))
                    else:
                        continue
                    target = best[v][j]
                    if target is None or option[:2] < target[:2]:
                        best[v][j] = option
        found = [row[n] for row in best if row[n] is not None]
        if not found:
            return [chunk]
        known, _, cuts = min(found, key=lambda b: b[:2])
        words_found = [chunk[i:j] for i, j in cuts]
        content_words = [w for w in words_found if w in vocab and len(w) > 2 and not _is_stop(w)]
        if len(content_words) < 2 or -known < n / 3:
            return [chunk]
        return words_found

    def _read_query(self, text: str) -> tuple[list[Token], float, list[str], str]:
        """Her text as tokens, the weight of unknown words, and the crisis readings."""
        # Apostrophes kept for the layout reader only (the key of э/є), dropped for the rest.
        marked = [c for c in chunks(clean(text, keep_apostrophes=True)) if c.strip("'")]
        typed = [c.replace("'", "") for c in marked]
        pieces = [piece for chunk in typed for piece in self._unstick(chunk)]
        typed_lines: list[str] = []
        if len(pieces) != len(typed):
            # The crisis lexicon reads the text as typed too: a cut must never hide a sign.
            _, _, typed_lines, _ = self._read_query_cut(typed, marked)
            marked = typed = pieces
        tokens, unknown, lines, english = self._read_query_cut(typed, marked)
        return tokens, unknown, lines + typed_lines, english

    def _read_query_cut(
        self, typed: list[str], marked: list[str]
    ) -> tuple[list[Token], float, list[str], str]:
        """``_read_query`` once the text is cleaned into chunks and stuck words are cut.

        ``marked`` are the same chunks with their apostrophes, for the layout reader.
        """
        tokens: list[Token] = []
        unknown = 0.0
        translit_line: list[str] = []
        zh_line: list[str] = []  # Latin j read as ж ("nojom" is ножом), for the crisis lexicon
        layout_line: list[str] = []
        for chunk, with_marks in zip(typed, marked, strict=True):
            layout_words: list[str] | None = None
            if chunk.isascii() and any(c.isalpha() for c in chunk):
                reading = latin_to_cyrillic(with_marks.rstrip("?!"))
                layout_words = words(reading)
                layout_line.extend(skeleton(w) for w in layout_words)
            chunk_words = words(chunk)
            for word in chunk_words:
                translit_line.append(
                    skeleton(to_cyrillic(word) if is_latin(word) else word.translate(_FOLD))
                )
                zh_line.append(skeleton(to_cyrillic(word, j_as_zh=True)) if is_latin(word)
                               and "j" in word else translit_line[-1])
                if layout_words is None:
                    layout_line.append(skeleton(word.translate(_FOLD)))
            # (word, its keys, the keys the index knows); layout slips replace the chunk
            read: list[tuple[str, tuple[str, ...], Token]] = []
            for word in chunk_words:
                if not _is_stop(word):
                    keys = self._keys(word)
                    read.append((word, keys, self._known(keys)))
            misses = sum(1 for _, _, known in read if not known)
            if misses and layout_words:
                slipped = []
                for word in layout_words:
                    if not _is_stop(word):
                        keys = self._keys(word)
                        slipped.append((word, keys, self._known(keys)))
                if sum(1 for *_, known in slipped if known) > len(read) - misses:
                    read = slipped
                elif len(slipped) == len(read):
                    # neither reading is known: let the near-miss search try both
                    read = [
                        (word, keys + other_keys, known)
                        for (word, keys, known), (_, other_keys, _) in zip(
                            read, slipped, strict=True
                        )
                    ]
            for word, keys, known in read:
                if known:
                    tokens.append(known)
                    continue
                split = self._split(word)
                if split:
                    tokens.extend(split)
                    continue
                near = self._fuzzy(word, keys) if keys else {}
                if near:
                    tokens.append(near)
                else:
                    unknown += UNKNOWN_WEIGHT * self._mean_idf
        english = " ".join(w for chunk in typed for w in words(chunk))
        return (
            _apply_synonyms(tokens, self._synonyms),
            unknown,
            [" ".join(translit_line), " ".join(layout_line)]
            + ([" ".join(zh_line)] if zh_line != translit_line else []),
            english,
        )

    # -- matching --------------------------------------------------------------------

    def match(self, text: str) -> Match:
        """Find the step that answers her text: crisis first, then the best phrase."""
        tokens, unknown, lines, english = self._read_query(text)
        category = crisis.detect(lines, english)
        if category is not None and self._crisis_steps:
            number = self._crisis_steps.get(category)
            if number is None:
                number = self._crisis_steps.get(
                    "emergency_numbers", next(iter(self._crisis_steps.values()))
                )
            return Match(self._entries[number].step, 1.0, True, ())
        if crisis.wants_human(lines, english) and self._human_step is not None:
            return Match(self._entries[self._human_step].step, 1.0, False, (), human=True)
        ranked = self._rank(tokens, unknown)
        if not ranked or ranked[0][1] < SUGGEST:
            return Match(None, ranked[0][1] if ranked else 0.0, False, ())
        best, score = ranked[0]
        entry = self._entries[best]
        runner_up = ranked[1] if len(ranked) > 1 else None
        clear = (
            runner_up is None
            or score - runner_up[1] >= MARGIN
            or bool(set(entry.topics) & set(self._entries[runner_up[0]].topics))
        )
        if score >= CONFIDENT and clear:
            # A near-exact match to a crisis step's own phrases is a crisis the lexicon
            # missed; a question about the future ("naloxone in advance") is not.
            urgent = entry.crisis and score >= CRISIS_PHRASE and not crisis.planned(lines, english)
            if urgent and "emergency_numbers" in entry.topics:
                # As in the lexicon: which number to call is a question unless she is in a hurry.
                urgent = crisis.hurried(lines, english)
            if urgent or score >= SURE:
                return Match(entry.step, score, urgent, ())
        floor = max(SUGGEST, score * RUNNER_UP_SHARE)
        suggestions = tuple(
            self._entries[number].step for number, s in ranked[:MAX_SUGGESTIONS] if s >= floor
        )
        if score >= FAIR:  # a confident answer below SURE lands here too
            return Match(entry.step, score, False, suggestions[1:])
        return Match(None, score, False, suggestions)

    def _rank(self, tokens: list[Token], unknown: float) -> list[tuple[int, float]]:
        """Steps by score, best first, for her tokens (see the module docstring).

        The sums and maxima run over numpy arrays of the postings of her keys: the
        same arithmetic as a loop over them, a few times faster.
        """
        tokens = tokens[:MAX_QUERY_TOKENS]
        if not tokens:
            return []
        # A word weighs its rarest reading, unless one reading is a word nearly every step
        # has ("mozhno" is можно, however rare the English stem "mozhno" may be).
        weights = [
            0.0 if not self._stop.isdisjoint(token)
            else max((self._idf.get(k, 0.0) for k in token), default=0.0)
            for token in tokens
        ]
        total_q = sum(weights) + unknown
        if total_q <= 0:
            return []
        # key -> which of her words carry it, and her best reading of it
        holders: dict[str, list[int]] = defaultdict(list)
        for i, token in enumerate(tokens):
            for key in token:
                holders[key].append(i)
        arrays = self._arrays
        covered_token = np.zeros(len(arrays.token_phrase))  # phrase token -> weight * sim
        mine = np.zeros((len(tokens), len(arrays.phrase_weight)))  # her word, phrase -> value
        hit = False
        for key, carriers in holders.items():
            post = arrays.postings.get(key)
            if post is None:
                continue
            hit = True
            token_ids, phrase_ids, token_weights = post
            sim = max(tokens[i][key] for i in carriers)
            # Each phrase token holds a key once, so token_ids has no repeats.
            covered_token[token_ids] = np.maximum(covered_token[token_ids], token_weights * sim)
            for i in carriers:
                row = mine[i]
                row[phrase_ids] = np.maximum(row[phrase_ids], weights[i] * tokens[i][key])
        if not hit:
            return []
        covered = np.bincount(
            arrays.token_phrase, weights=covered_token, minlength=len(arrays.phrase_weight)
        )
        found = mine.sum(axis=0)
        # A step's phrases are contiguous: per-step maxima are reductions over slices.
        bag = np.maximum.reduceat(mine, arrays.step_starts, axis=1).sum(axis=0)
        scores = 0.5 * np.minimum(1.0, covered / arrays.phrase_weight) + 0.5 * np.minimum(
            1.0, found / total_q
        )
        scores[covered <= 0] = -1.0
        best = np.maximum.reduceat(scores, arrays.step_starts)
        final = np.minimum(1.0, (1 - STEP_BAG_SHARE) * best + STEP_BAG_SHARE * bag / total_q)
        order = [int(n) for n in np.flatnonzero(best >= 0)]
        ranked = [(int(arrays.steps[n]), float(final[n])) for n in order]
        ranked.sort(key=lambda item: (-item[1], item[0]))  # ties: the earlier step first
        return ranked
