"""The spelling front end: from what she typed to the content's own word keys.

Theory of operation. Every `ask` phrase and title is read into *tokens*; a token is a
word's set of keys (morphology.py: stem or lemma, then the spelling skeleton), after
slang and abbreviations are replaced by their canonical words (synonyms.py). Her text
is read the same way, except that each Latin word may be English, transliteration or a
keyboard-layout slip, and the reading that exists in the content wins; words the content
does not know are tried as a stuck-together pair, then by prefix, then by edit distance
over keys of similar length. Besides the tokens, a reading gives *lines*: her words as
spelling skeletons (Latin read as transliteration, and as keyboard-layout slips), for the
character n-grams of the model (model.py).

Nothing she typed is kept: the only caches hold keys of the content's own words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from bot.matching import morphology
from bot.matching.layout import latin_to_cyrillic
from bot.matching.normalise import chunks, clean, is_cyrillic, is_latin, words
from bot.matching.synonyms import SYNONYMS
from bot.matching.translit import skeleton, to_cyrillic

# A key in more than this share of steps carries no signal (checked only with many steps).
STOP_SHARE = 0.5
STOP_MIN_STEPS = 20
# Her words read before, kept (bounded) only when they read as a content word: stemming
# and the Ukrainian dictionary cost most of a question, and women's words repeat.
KNOWN_WORDS_MAX = 20_000
# Her chunks read before, kept (bounded) on the same terms: only a chunk whose every word is
# a content word or a function word, with no digit. A long story is mostly such chunks, and
# reading them is half of its time. About 1.3 kB each: at most some 13 MB.
KNOWN_CHUNKS_MAX = 10_000
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
SHORT_KEY = 5  # a key this short reaches its near misses by one letter more or less
STUCK_UNKNOWN = 2  # pieces of a cut that may be words the content does not have
_FOLD = str.maketrans({"ё": "е", "і": "и", "ї": "и", "є": "е", "ґ": "г"})
_STOPS = frozenset(w.translate(_FOLD) for w in STOPWORDS)


# A token: its keys, each with how sure the reading is (1.0 exact, less for fuzzy).
Token = dict[str, float]


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


def reader_code() -> tuple[str, ...]:
    """What a reader's state depends on besides the phrases: slang, function words and the
    thresholds that cut the content's words (for the cache key of a saved state)."""
    slang = (f"{word}={'|'.join(variants)}" for word, variants in sorted(SYNONYMS.items()))
    return (*slang, *sorted(STOPWORDS), f"{STOP_SHARE}:{STOP_MIN_STEPS}")


@dataclass(frozen=True, slots=True)
class Reading:
    """Her text as the front end reads it (never kept beyond one match)."""

    tokens: tuple[Token, ...]  # content words found, each with its keys and how sure
    unknown: int  # her words the content does not know
    lines: tuple[str, ...]  # her words as skeletons: as transliteration, as layout slips


class Reader:
    """Reads texts into the content's word keys; built once from the content's phrases."""

    __slots__ = (
        "_content_keys",
        "_content_list",
        "_vocab_by_len",
        "_pools",
        "_synonyms",
        "_word_cache",
        "_surface",
        "_vocab",
        "_stop",
        "_lexicon",
        "_known_words",
        "_known_chunks",
    )
    _content_keys: frozenset[str]  # keys of the content's words, function words aside
    _content_list: tuple[str, ...]  # the same, in reading order (for state())
    _vocab_by_len: dict[tuple[str, int], list[str]]  # keys by first letter and length
    _pools: dict[tuple[str, int], tuple[str, ...]]  # _fuzzy's candidates, made once per kind
    _synonyms: dict[str, list[tuple[tuple[frozenset[str], ...], tuple[Token, ...]]]]
    _word_cache: dict[str, tuple[str, ...]]  # "lang:word" of the content -> its keys
    _surface: frozenset[str]
    _vocab: frozenset[str]
    _stop: frozenset[str]
    _lexicon: frozenset[str]
    _known_words: dict[str, tuple[str, ...]]
    _known_chunks: dict[str, tuple[Any, ...]]  # a chunk as typed -> its reading (see read())

    def __init__(self) -> None:
        raise TypeError("use Reader.build(texts)")

    @classmethod
    def build(cls, texts: Iterable[tuple[str, str, str]]) -> Reader:
        """Learn the content's words from (label, lang, text) triples.

        A key found under more than STOP_SHARE of the labels is a function word of the
        content ("можно", "що робити") and never read as a content word.
        """
        morphology.warm()
        self = object.__new__(cls)
        self._synonyms = _synonym_table()
        self._word_cache = {}
        self._known_words = {}
        self._known_chunks = {}
        labels_with: dict[str, set[str]] = defaultdict(set)
        labels: set[str] = set()
        for label, lang, text in texts:
            labels.add(label)
            for token in self._read_content(text, lang):
                for key in token:
                    labels_with[key].add(label)
        n = max(len(labels), 1)
        stop = frozenset(
            key
            for key, found in labels_with.items()
            if n >= STOP_MIN_STEPS and len(found) / n > STOP_SHARE
        )
        self._finish(stop, [key for key in labels_with if key not in stop])  # reading order
        return self

    # A reader's state is the content's words and their keys only (nothing she typed): it
    # is saved with the trained models, so a start with cached models reads no phrase.
    _SEP = "\x1f"

    def state(self) -> dict[str, tuple[str, ...]]:
        """What from_state needs to rebuild this reader, as tuples of strings."""
        sep = self._SEP
        return {
            "words": tuple(sep.join((word, *keys)) for word, keys in self._word_cache.items()),
            "stop": tuple(sorted(self._stop)),
            "content": tuple(self._content_list),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Iterable[str]]) -> Reader:
        """The reader that state() described, without reading the phrases again."""
        morphology.warm()  # her new words are stemmed from the first question on
        self = object.__new__(cls)
        self._synonyms = _synonym_table()
        self._known_words = {}
        self._known_chunks = {}
        self._word_cache = {}
        for row in state["words"]:
            word, *keys = row.split(cls._SEP)
            self._word_cache[word] = tuple(keys)
        self._finish(frozenset(state["stop"]), list(state["content"]))
        return self

    def _finish(self, stop: frozenset[str], content: list[str]) -> None:
        """Everything else the reader keeps, from its words, function words and content keys."""
        self._stop = stop
        self._content_list = tuple(content)
        self._content_keys = frozenset(content)
        by_len: dict[tuple[str, int], list[str]] = defaultdict(list)
        for key in content:
            by_len[key[0], len(key)].append(key)
        self._vocab_by_len = dict(by_len)
        self._pools = {}
        self._surface = frozenset(self._word_cache)
        # Plain words of the content and the function words: what a run of letters typed
        # without spaces is cut into ("гденайтитест" -> где найти тест).
        self._vocab = frozenset(
            {key.split(":", 1)[1] for key in self._surface if len(key.split(":", 1)[1]) > 1}
            | {w for w in STOPWORDS if len(w) > 1 or w in _ONE_LETTER_WORDS}
        )
        # keys she may type that synonyms turn into content keys count as known words
        self._lexicon = (
            self._content_keys
            | self._stop
            | frozenset(
                key
                for options in self._synonyms.values()
                for seq, _ in options
                for keys in seq
                for key in keys
            )
        )

    def read(self, text: str, memo: dict[str, Any] | None = None) -> Reading:
        """Her text (or a content phrase, for training) as tokens and skeleton lines.

        ``memo``: words already read in this message (the whole message, then each of its
        sentences, read the same words). It belongs to one message and dies with it.
        """
        tokens, unknown, lines = self._read_query(text, {} if memo is None else memo)
        return Reading(tuple(tokens[:MAX_QUERY_TOKENS]), unknown, tuple(dict.fromkeys(lines)))

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
            if not word.isdigit() and any(k in self._content_keys or k in self._stop for k in keys):
                if len(self._known_words) >= KNOWN_WORDS_MAX:
                    self._known_words.clear()
                self._known_words[word] = keys
        return keys

    def _known(self, keys: Iterable[str]) -> Token:
        return {k: 1.0 for k in keys if k in self._lexicon}

    def _chunk_tokens(self, chunk_words: list[str], layout_words: list[str] | None,
                      slips_around: bool = False) -> tuple[list[Token], int, bool, bool]:
        """One typed chunk's tokens, its number of unknown words, whether it was read as
        a keyboard-layout slip, and whether every word of it is a content or function word
        read as typed (then its reading may be kept: see KNOWN_CHUNKS_MAX).

        ``slips_around``: other words of her message are slips, so a layout reading the
        content knows (or that is only function words) wins even over a Latin word the
        content knows ("ghb" is "при" there, not the drug GHB)."""
        tokens: list[Token] = []
        unknown = 0
        # (word, its keys, the keys the index knows); layout slips replace the chunk
        read: list[tuple[str, tuple[str, ...], Token]] = []
        for word in chunk_words:
            if not _is_stop(word):
                keys = self._keys(word)
                read.append((word, keys, self._known(keys)))
        misses = sum(1 for _, _, known in read if not known)
        is_slip = False
        if (misses or slips_around) and layout_words:
            slipped = []
            for word in layout_words:
                if not _is_stop(word):
                    keys = self._keys(word)
                    slipped.append((word, keys, self._known(keys)))
            if sum(1 for *_, known in slipped if known) > len(read) - misses or (
                    slips_around and all(known for *_, known in slipped)):
                read, is_slip = slipped, True
            elif misses and len(slipped) == len(read):
                # neither reading is known: let the near-miss search try both
                read = [
                    (word, keys + other_keys, known)
                    for (word, keys, known), (_, other_keys, _) in zip(
                        read, slipped, strict=True
                    )
                ]
        exact = not is_slip and all(known for *_, known in read)
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
                unknown += 1
        return tokens, unknown, is_slip, exact

    def _fuzzy(self, word: str, keys: tuple[str, ...]) -> Token:
        """Keys of the index close to this unknown word: a prefix, then edit distance."""
        found: Token = {}
        for key in keys:
            if len(key) >= 5:
                for size in range(len(key) - 1, 3, -1):
                    if key[:size] in self._content_keys:
                        found[key[:size]] = max(
                            found.get(key[:size], 0.0), 0.7 + 0.25 * size / len(key)
                        )
                        break
            if len(key) < 4:
                continue
            cutoff = 80.0 if len(key) <= 6 else 74.0
            # a slip in the first letter is rare; bucketing by it keeps noise and time down.
            # A short word is one slip from its neighbours, never two: "уметь" is not
            # "умереть", nor "гинуть" "загинути".
            pool = self._pools.get((key[0], len(key)))
            if pool is None:  # gathered once: a long message has dozens of unknown words
                reach = 1 if len(key) <= SHORT_KEY else 2
                pool = self._pools[key[0], len(key)] = tuple(
                    k
                    for size in range(len(key) - reach, len(key) + reach + 1)
                    for k in self._vocab_by_len.get((key[0], size), ())
                )
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
        found = [cut for row in best if (cut := row[n]) is not None]
        if not found:
            return [chunk]
        known, _, cuts = min(found, key=lambda b: b[:2])
        words_found = [chunk[i:j] for i, j in cuts]
        content_words = [w for w in words_found if w in vocab and len(w) > 2 and not _is_stop(w)]
        if len(content_words) < 2 or -known < n / 3:
            return [chunk]
        return words_found

    def _read_query(self, text: str, memo: dict[str, Any]) -> tuple[list[Token], int, list[str]]:
        """Her text as tokens, the number of unknown words, and the skeleton lines."""
        # Apostrophes kept for the layout reader only (the key of э/є), dropped for the rest.
        marked = [c for c in chunks(clean(text, keep_apostrophes=True)) if c.strip("'")]
        typed = [c.replace("'", "") for c in marked]
        pieces = [piece for chunk in typed for piece in self._unstick(chunk)]
        typed_lines: list[str] = []
        if len(pieces) != len(typed):
            # The crisis lexicon reads the text as typed too: a cut must never hide a sign.
            _, _, typed_lines = self._read_query_cut(typed, marked, memo)
            marked = typed = pieces
        tokens, unknown, lines = self._read_query_cut(typed, marked, memo)
        return tokens, unknown, lines + typed_lines

    @staticmethod
    def _chunk_lines(chunk: str, with_marks: str) -> tuple[
            list[str] | None, list[str], list[str], list[str], list[str]]:
        """A chunk's words read on the other keyboard layout (if it is Latin), its words,
        and their skeletons for the transliteration, Latin-j-as-ж and layout lines."""
        layout_words: list[str] | None = None
        layout: list[str] = []
        if chunk.isascii() and any(c.isalpha() for c in chunk):
            layout_words = words(latin_to_cyrillic(with_marks.rstrip("?!")))
            layout = [skeleton(w) for w in layout_words]
        chunk_words = words(chunk)
        translit: list[str] = []
        zh: list[str] = []
        for word in chunk_words:
            translit.append(
                skeleton(to_cyrillic(word) if is_latin(word) else word.translate(_FOLD)))
            zh.append(skeleton(to_cyrillic(word, j_as_zh=True)) if is_latin(word)
                      and "j" in word else translit[-1])
            if layout_words is None:
                layout.append(skeleton(word.translate(_FOLD)))
        return layout_words, chunk_words, translit, zh, layout

    def _read_query_cut(
        self, typed: list[str], marked: list[str], memo: dict[str, Any]
    ) -> tuple[list[Token], int, list[str]]:
        """``_read_query`` once the text is cleaned into chunks and stuck words are cut.

        ``marked`` are the same chunks with their apostrophes, for the layout reader.
        """
        tokens: list[Token] = []
        unknown = 0
        translit_line: list[str] = []
        zh_line: list[str] = []  # Latin j read as ж ("nojom" is ножом), for the crisis lexicon
        layout_line: list[str] = []
        reads = []
        for chunk, with_marks in zip(typed, marked, strict=True):
            # a chunk is read once per message: a story's sentences repeat its words
            read = memo.get(with_marks) or self._known_chunks.get(with_marks)
            if read is None:
                layout_words, chunk_words, *spelt = self._chunk_lines(chunk, with_marks)
                read = memo[with_marks] = (*spelt, layout_words, chunk_words,
                                           *self._chunk_tokens(chunk_words, layout_words))
                if read[-1] and not any(c.isdigit() for c in chunk):
                    # every word of it is the content's (see _chunk_tokens): never a name
                    # or a number of hers
                    if len(self._known_chunks) >= KNOWN_CHUNKS_MAX:
                        self._known_chunks.clear()
                    self._known_chunks[with_marks] = read
            reads.append(read)
        # One word typed on the wrong layout says the words around it may be too.
        slips_around = any(read[-2] for read in reads)
        for read in reads:
            translit, zh, layout, layout_words, chunk_words, found, missed, is_slip, _ = read
            if slips_around and not is_slip and layout_words:
                found, missed, is_slip, _ = self._chunk_tokens(chunk_words, layout_words, True)
            if is_slip:  # its Latin letters are not transliteration: "ghb" is not "гхб"
                translit = zh = layout
            translit_line += translit
            zh_line += zh
            layout_line += layout
            tokens.extend(found)
            unknown += missed
        return (
            _apply_synonyms(tokens, self._synonyms),
            unknown,
            [" ".join(translit_line), " ".join(layout_line)]
            + ([" ".join(zh_line)] if zh_line != translit_line else []),
        )
