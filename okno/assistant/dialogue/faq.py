"""Answers from the utility's FAQ (``okno.content.models.FaqEntry``, published ones) by retrieval.

Each entry is a bag of lemmas (pymorphy3 through :func:`okno.assistant.nlu.lemmas`) of its question
(counted twice: the question says what the entry is about) and its answer, in each language the entry
has (Russian always, English when filled in). A message is scored against every entry by BM25; the
score is divided by the score the entry's own question would get, so the figure is comparable between
entries and messages (1.0 ≈ the question itself). Above :data:`THRESHOLD`, and when at least half of
the message's content words are in the entry, the entry answers.

The index is built once per process and rebuilt when an entry is saved or deleted: the signal drops it
in this process and bumps a version in the shared cache, which the other processes check (one cache
read per lookup); it is also rebuilt after :data:`MAX_AGE_S` whatever happens.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from okno.assistant import nlu
from okno.content import markup
from okno.content.models import FaqEntry

THRESHOLD = 0.45
MIN_COVERAGE = 0.5
MAX_AGE_S = 600.0
K1 = 1.2
B = 0.75
VERSION_KEY = "assistant:faq-index-version"
log = logging.getLogger(__name__)

STOP = frozenset(
    """и в во на не что как а но да ли же бы по с со к ко у о об от до из за для при без над под про
    я мы вы ты он она оно они мой наш ваш свой этот тот то это быть есть мочь хотеть подсказать
    сказать скажите пожалуйста здравствуйте добрый день можно нужно надо если или ещё уже где когда
    какой кто чем зачем почему куда сколько <num> the a an is are do does i my how what when where why
    to of in on for can you""".split()  # noqa: SIM905 (a word list reads better as text)
)


def terms(text: str) -> list[str]:
    return [w for w in nlu.lemmas(nlu.normalize(text)) if w not in STOP and len(w) > 1]


@dataclass
class Doc:
    entry_id: int
    language: str
    tf: Counter[str]
    length: int
    question_terms: list[str]


@dataclass
class Index:
    docs: list[Doc] = field(default_factory=list)
    df: Counter[str] = field(default_factory=Counter)
    avg_len: float = 1.0
    built_at: float = 0.0
    version: int = 0

    def idf(self, term: str) -> float:
        n = len(self.docs)
        d = self.df.get(term, 0)
        return math.log(1 + (n - d + 0.5) / (d + 0.5))

    def bm25(self, query: list[str], doc: Doc) -> float:
        score = 0.0
        for term in set(query):
            f = doc.tf.get(term, 0)
            if not f:
                continue
            norm = f * (K1 + 1) / (f + K1 * (1 - B + B * doc.length / self.avg_len))
            score += self.idf(term) * norm
        return score


@dataclass(frozen=True)
class Hit:
    entry: FaqEntry
    score: float


def _docs_of(entry: FaqEntry) -> list[Doc]:
    out = []
    for language, question, answer in (
        ("ru", entry.question, entry.answer),
        ("en", entry.question_en, entry.answer_en),
    ):
        if not question.strip():
            continue
        q = terms(question)
        bag = q + q + terms(markup.plain(answer))
        out.append(Doc(entry.pk, language, Counter(bag), max(1, len(bag)), q))
    return out


def build() -> Index:
    index = Index(built_at=time.monotonic(), version=_shared_version())
    for entry in FaqEntry.objects.filter(published=True).order_by("pk"):
        for doc in _docs_of(entry):
            index.docs.append(doc)
            index.df.update(set(doc.tf))
    if index.docs:
        index.avg_len = sum(d.length for d in index.docs) / len(index.docs)
    return index


_lock = threading.Lock()
_index: Index | None = None


def _shared_version() -> int:
    try:
        return int(cache.get(VERSION_KEY) or 0)
    except Exception:  # noqa: BLE001 — a cache outage must not break the chat: rely on the max age
        return 0


def get_index() -> Index:
    global _index
    index = _index
    if index is None or time.monotonic() - index.built_at > MAX_AGE_S or index.version != _shared_version():
        with _lock:
            index = _index = build()
    return index


def invalidate(**kwargs: object) -> None:
    """Drop the index here and tell the other processes (signals of FaqEntry)."""
    global _index
    with _lock:
        _index = None
    try:
        cache.set(VERSION_KEY, _shared_version() + 1, timeout=None)
    except Exception:  # noqa: BLE001 — see _shared_version
        log.warning("assistant FAQ: the index version could not be bumped in the cache", exc_info=True)


post_save.connect(invalidate, sender=FaqEntry, dispatch_uid="assistant-faq-saved")
post_delete.connect(invalidate, sender=FaqEntry, dispatch_uid="assistant-faq-deleted")


def search(text: str, *, language: str = "ru", limit: int = 3) -> list[Hit]:
    """Entries answering ``text``, best first, above the threshold only."""
    query = terms(text)
    if not query:
        return []
    index = get_index()
    lang = "en" if language.startswith("en") else "ru"
    best: dict[int, float] = {}
    wanted = set(query)
    for doc in index.docs:
        if lang == "ru" and doc.language != "ru":
            continue
        covered = len(wanted & set(doc.tf)) / len(wanted)
        if covered < MIN_COVERAGE:
            continue
        own = index.bm25(doc.question_terms, doc) or 1.0
        score = index.bm25(query, doc) / own
        if score >= THRESHOLD and score > best.get(doc.entry_id, 0.0):
            best[doc.entry_id] = score
    if not best:
        return []
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    entries = FaqEntry.objects.in_bulk([pk for pk, _ in ranked])
    return [Hit(entries[pk], round(score, 3)) for pk, score in ranked if pk in entries]


def best(text: str, *, language: str = "ru") -> Hit | None:
    hits = search(text, language=language, limit=1)
    return hits[0] if hits else None
