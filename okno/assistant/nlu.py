"""Classification of a free-text appeal: its type and topic (codes of okno.appeals.choices).

Features: TF-IDF over word lemmas (pymorphy3, cached; unigrams and bigrams) and over character n-grams
2–5 of the normalised text; two linear SVMs with sigmoid calibration (on folds that keep the
variants of one text together), one for the type and one for the topic. ``reasons`` are the lemmas that added most to the chosen topic's score.

The model lives in ``okno/assistant/model/model.joblib`` (built by ``okno assistant train``), is loaded
once per process on first use, and is trained on the fly (with a warning) when the file is missing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_PATH = MODEL_DIR / "model.joblib"
MODEL_VERSION = 2

log = logging.getLogger(__name__)

_WORD_RE = re.compile(r"[а-яa-z]+|\d+")
_CYRILLIC_RE = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN_RE = re.compile(r"[a-z]", re.IGNORECASE)
# Abbreviations people type, spelt out before lemmatisation (the corpus writes them both ways).
_EXPAND = [
    (re.compile(r"\bэ/э\b"), " электроэнергия "),
    (re.compile(r"\bл/с\b"), " лицевой счет "),
    (re.compile(r"\bтп\b"), " технологический присоединение "),
    (re.compile(r"\bпж(лст|л|)\b"), " пожалуйста "),
    (re.compile(r"\bквт\b"), " киловатт "),
]


# Words too common to explain a topic (they still count as features).
REASON_STOPWORDS = frozenset(
    [
        "наш",
        "мой",
        "ваш",
        "свой",
        "мы",
        "вы",
        "он",
        "она",
        "они",
        "это",
        "этот",
        "тот",
        "который",
        "быть",
        "весь",
        "уже",
        "так",
        "как",
        "что",
        "чо",
        "не",
        "на",
        "по",
        "за",
        "до",
        "из",
        "же",
        "ли",
        "бы",
        "очень",
        "просто",
        "пожалуйста",
        "спасибо",
        "здравствуйте",
        "добрый",
        "день",
        "прошу",
        "хотеть",
        "можно",
        "сколько",
        "почему",
        "когда",
        "где",
        "кто",
        "уважаемый",
        "сотрудник",
        "сообщать",
        "информировать",
    ]
)


@dataclass
class Classification:
    type: str
    topic: str
    type_confidence: float
    topic_confidence: float
    confidence: float
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "topic": self.topic,
            "type_confidence": round(self.type_confidence, 4),
            "topic_confidence": round(self.topic_confidence, 4),
            "confidence": round(self.confidence, 4),
            "reasons": list(self.reasons),
        }


def normalize(text: str) -> str:
    text = (text or "").lower().replace("ё", "е")
    for pattern, replacement in _EXPAND:
        text = pattern.sub(replacement, text)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def _morph() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    if word.isdigit():
        return "<num>"
    if not ("а" <= word[0] <= "я"):
        return word
    return str(_morph().parse(word)[0].normal_form).replace("ё", "е")


def lemmas(text: str) -> list[str]:
    """The lemmas of a text (normalise it first); numbers become ``<num>``."""
    return [lemma(w) for w in _WORD_RE.findall(text) if len(w) > 1 or w.isdigit()]


def _lemma_analyzer(text: str) -> list[str]:
    tokens = lemmas(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def usable(text: str) -> str | None:
    """None when a text can be classified, else why not (empty, no Russian words)."""
    text = (text or "").strip()
    if not text:
        return "empty"
    cyrillic = len(_CYRILLIC_RE.findall(text))
    latin = len(_LATIN_RE.findall(text))
    if cyrillic < 3 or cyrillic < latin:
        return "not_russian"
    return None


def _vectorizers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(analyzer=_lemma_analyzer, sublinear_tf=True, min_df=1, dtype=_float32())
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        sublinear_tf=True,
        min_df=2,
        max_features=120_000,
        dtype=_float32(),
    )
    return words, chars


def _explains(names: Any) -> Any:
    """A mask of the word features that may be named as reasons."""
    import numpy as np

    return np.array([" " not in n and n != "<num>" and n not in REASON_STOPWORDS for n in names], dtype=bool)


def _float32() -> Any:
    import numpy as np

    return np.float32


class Calibrated:
    """A calibrated linear classifier reduced to numpy arrays (the same numbers as sklearn's
    ``CalibratedClassifierCV(LinearSVC, method="sigmoid").predict_proba``, a fraction of the overhead
    per call, and nothing of sklearn's estimators to import when the model is loaded)."""

    def __init__(self, clf: Any):
        import numpy as np

        folds = clf.calibrated_classifiers_
        self.classes_ = np.asarray(clf.classes_)
        self.n_classes = len(self.classes_)
        weights: list[Any] = []
        intercepts: list[Any] = []
        a: list[float] = []
        b: list[float] = []
        for fold in folds:
            if list(fold.estimator.classes_) != list(self.classes_):
                raise ValueError("every calibration fold must see every class")
            weights.append(fold.estimator.coef_)
            intercepts.append(fold.estimator.intercept_)
            a.extend(c.a_ for c in fold.calibrators)
            b.extend(c.b_ for c in fold.calibrators)
        self.n_folds = len(folds)
        self.coef_ = np.mean(weights, axis=0).astype(np.float32)  # per-class weights, for the reasons
        self.weights_t = np.ascontiguousarray(np.vstack(weights).T, dtype=np.float32)
        self.intercept = np.concatenate(intercepts).astype(np.float64)
        self.a = np.asarray(a, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)

    def predict_proba(self, x: Any) -> Any:
        import numpy as np

        decision = np.asarray(x @ self.weights_t, dtype=np.float64) + self.intercept
        proba = 1.0 / (1.0 + np.exp(self.a * decision + self.b))
        proba = proba.reshape(len(decision), self.n_folds, self.n_classes)
        total = proba.sum(axis=2, keepdims=True)
        proba = np.divide(proba, total, out=np.full_like(proba, 1.0 / self.n_classes), where=total != 0)
        return proba.mean(axis=1)


class Model:
    """Two vectorisers and two classifiers; ``predict`` handles a batch of raw texts."""

    def __init__(self, words: Any, chars: Any, type_clf: Any, topic_clf: Any, meta: dict[str, Any]):
        self.words = words
        self.chars = chars
        self.type_clf = type_clf
        self.topic_clf = topic_clf
        self.meta = meta
        self._n_words = len(words.vocabulary_)
        self._word_names = words.get_feature_names_out()
        self._topic_coef = topic_clf.coef_
        self._explains = _explains(self._word_names)

    def _features(self, texts: list[str]) -> tuple[Any, Any]:
        """TF-IDF rows of the texts: the word block alone, and word + character blocks side by side.

        The same numbers as the vectorisers' ``transform`` (sublinear tf × idf, each block L2-normalised),
        computed directly: sklearn's input validation costs more than the arithmetic for a single text."""
        import numpy as np
        from scipy.sparse import csr_matrix, hstack

        if len(texts) >= 64:  # large batches: sklearn's vectorised path wins
            normalised = [normalize(t) for t in texts]
            big = self.words.transform(normalised)
            return big, hstack([big, self.chars.transform(normalised)], format="csr")
        if not hasattr(self, "_char_analyzer"):
            self._char_analyzer = self.chars.build_analyzer()
            self._n_chars = len(self.chars.vocabulary_)
            self._word_idf = self.words.idf_.astype(np.float64)
            self._char_idf = self.chars.idf_.astype(np.float64)
        word_vocab = self.words.vocabulary_
        char_vocab = self.chars.vocabulary_
        w_ind: list[Any] = []
        w_dat: list[Any] = []
        x_ind: list[Any] = []
        x_dat: list[Any] = []
        for text in texts:
            norm = normalize(text)
            wi, wd = _block(_lemma_analyzer(norm), word_vocab, self._word_idf)
            ci, cd = _block(self._char_analyzer(norm), char_vocab, self._char_idf)
            w_ind.append(wi)
            w_dat.append(wd)
            x_ind.append(np.concatenate([wi, ci + self._n_words]))
            x_dat.append(np.concatenate([wd, cd]))
        n = len(texts)
        xw = csr_matrix(
            (_cat(w_dat, np.float32), _cat(w_ind, np.int32), _indptr(w_ind)), shape=(n, self._n_words)
        )
        x = csr_matrix(
            (_cat(x_dat, np.float32), _cat(x_ind, np.int32), _indptr(x_ind)),
            shape=(n, self._n_words + self._n_chars),
        )
        return xw, x

    def predict(self, texts: list[str], reasons: int = 3) -> list[Classification]:
        if not texts:
            return []
        xw, x = self._features(texts)
        type_p = self.type_clf.predict_proba(x)
        topic_p = self.topic_clf.predict_proba(x)
        type_i = type_p.argmax(axis=1)
        topic_i = topic_p.argmax(axis=1)
        out = []
        for i in range(len(texts)):
            tc = float(type_p[i, type_i[i]])
            pc = float(topic_p[i, topic_i[i]])
            out.append(
                Classification(
                    type=str(self.type_clf.classes_[type_i[i]]),
                    topic=str(self.topic_clf.classes_[topic_i[i]]),
                    type_confidence=tc,
                    topic_confidence=pc,
                    confidence=min(tc, pc),
                    reasons=self._reasons(xw, i, int(topic_i[i]), reasons) if reasons else [],
                )
            )
        return out

    def _reasons(self, xw: Any, row: int, cls: int, limit: int) -> list[str]:
        """The lemmas (not bigrams, numbers or stop words) adding most to the chosen topic's score."""
        start, end = xw.indptr[row], xw.indptr[row + 1]
        cols = xw.indices[start:end]
        keep = self._explains[cols]
        cols = cols[keep]
        contribution = xw.data[start:end][keep] * self._topic_coef[cls, cols]
        order = contribution.argsort()[::-1][:limit]
        return [str(self._word_names[cols[j]]) for j in order if contribution[j] > 0]


def _block(tokens: list[str], vocabulary: dict[str, int], idf: Any) -> tuple[Any, Any]:
    """Column indices and L2-normalised sublinear TF-IDF values of one text in one vectoriser."""
    import numpy as np

    counts: dict[int, int] = {}
    for token in tokens:
        col = vocabulary.get(token)
        if col is not None:
            counts[col] = counts.get(col, 0) + 1
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    cols = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
    values = (1.0 + np.log(np.fromiter((counts[c] for c in cols), dtype=np.float64, count=len(cols)))) * idf[
        cols
    ]
    return cols, values / np.sqrt(np.dot(values, values))


def _cat(parts: list[Any], dtype: Any) -> Any:
    import numpy as np

    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _indptr(parts: list[Any]) -> Any:
    import numpy as np

    return np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int32)


def _classifier(x: Any, y: list[str], groups: list[str] | None) -> Any:
    """LinearSVC calibrated by sigmoid on group-aware folds (variants of one text never straddle)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import GroupKFold
    from sklearn.svm import LinearSVC

    svc = LinearSVC(C=0.5)
    if groups is None:
        groups = [str(i) for i in range(len(y))]
    folds = list(GroupKFold(n_splits=3).split(x, y, groups))
    return CalibratedClassifierCV(svc, method="sigmoid", cv=folds).fit(x, y)


def train(rows: list[tuple[str, str, str]] | None = None, groups: list[str] | None = None) -> Model:
    """Fit a model on (type, topic, text) rows; by default the corpus's train split."""
    from scipy.sparse import hstack

    from okno.assistant import corpus

    from_corpus = rows is None
    if rows is None:
        train_rows = list(corpus.iter_rows(split="train"))
        rows = [(r.type, r.topic, r.text) for r in train_rows]
        groups = [r.group for r in train_rows]
    started = time.monotonic()
    norm = [normalize(text) for _, _, text in rows]
    words, chars = _vectorizers()
    x = hstack([words.fit_transform(norm), chars.fit_transform(norm)], format="csr")
    type_clf = Calibrated(_classifier(x, [r[0] for r in rows], groups))
    topic_clf = Calibrated(_classifier(x, [r[1] for r in rows], groups))
    meta = {
        "version": MODEL_VERSION,
        "rows": len(rows),
        "corpus_sha256": corpus_digest() if from_corpus else None,
        "train_seconds": round(time.monotonic() - started, 2),
    }
    return Model(words, chars, type_clf, topic_clf, meta)


def corpus_digest() -> str:
    """The SHA-256 of the corpus file: a saved model trained on another corpus is stale."""
    import hashlib

    from okno.assistant import corpus

    return hashlib.sha256(corpus.CORPUS_PATH.read_bytes()).hexdigest()


def save(model: Model, path: Path = MODEL_PATH) -> Path:
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(model, tmp)  # uncompressed: loads faster
    tmp.replace(path)
    return path


def load(path: Path = MODEL_PATH) -> Model:
    import joblib

    model = joblib.load(path)
    if not isinstance(model, Model) or model.meta.get("version") != MODEL_VERSION:
        raise ValueError(f"{path} is not a current assistant model; run `okno assistant train`")
    return model


_lock = threading.Lock()
_model: Model | None = None


def get_model() -> Model:
    """The process's model: loaded once; trained on the fly (and saved) if the file is missing."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                try:
                    _model = load()
                except (FileNotFoundError, ValueError):
                    warnings.warn(
                        "assistant model missing or outdated: training it now (run `okno assistant train`)",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    model = train()
                    try:
                        save(model)
                    except OSError:  # a read-only installation still classifies
                        log.warning("could not save the assistant model to %s", MODEL_PATH)
                    _model = model
    return _model


def classify(text: str) -> Classification:
    """The type and topic of one appeal text."""
    return get_model().predict([text])[0]


def classify_many(texts: list[str]) -> list[Classification]:
    return get_model().predict(texts)
