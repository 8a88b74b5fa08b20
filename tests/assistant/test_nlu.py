"""The appeal classifier: corpus coverage and split, held-out accuracy, reasons, loading."""

from __future__ import annotations

import functools
from collections import Counter

import pytest

from okno.appeals.choices import AppealType, Topic
from okno.assistant import corpus, nlu


@functools.cache
def _trained() -> nlu.Model:
    """One model per test process, trained on the corpus's train split (shared with the command tests)."""
    return nlu.train()


@pytest.fixture(scope="session")
def trained_model() -> nlu.Model:
    return _trained()


@pytest.fixture
def model(trained_model, monkeypatch):
    """The session's model as the process model (no file needed)."""
    monkeypatch.setattr(nlu, "_model", trained_model)
    return trained_model


def test_corpus_covers_every_type_and_topic_on_both_sides():
    rows = list(corpus.iter_rows())
    assert len(rows) >= 3000
    for split in ("train", "test"):
        side = [r for r in rows if r.split == split]
        assert {r.type for r in side} == set(AppealType.values)
        assert {r.topic for r in side} == set(Topic.values)
    test_share = sum(r.split == "test" for r in rows) / len(rows)
    assert 0.15 <= test_share <= 0.25


def test_corpus_groups_never_straddle_the_split():
    sides: dict[str, set[str]] = {}
    for r in corpus.iter_rows():
        sides.setdefault(r.group, set()).add(r.split)
    assert all(len(s) == 1 for s in sides.values())
    assert len(sides) >= 500  # hand-written situations


def test_corpus_has_many_distinct_base_texts_and_is_deterministic():
    base = corpus.read_base()
    assert len({t for _, _, t in base}) == len(base) >= 500
    rows = corpus.build()
    assert rows == corpus.build()
    assert rows == list(corpus.iter_rows())  # the committed file is what the generator makes
    texts = Counter(r.text for r in rows)
    assert max(texts.values()) == 1


def test_noisy_variants_keep_the_meaning_but_change_the_text():
    import random

    rng = random.Random("x")  # noqa: S311
    text = "Прошу заменить вышедший из строя счётчик электроэнергии."
    variants = {corpus.noisy(text, rng) for _ in range(20)}
    assert len(variants - {text}) > 10
    words = {"прошу", "заменить", "вышедший", "из", "строя", "счётчик", "счетчик", "электроэнергии"}
    for v in variants:
        assert len(words & set(v.lower().replace(".", "").split())) >= 3, v


def test_held_out_accuracy_meets_the_targets(trained_model):
    test = list(corpus.iter_rows(split="test"))
    results = trained_model.predict([r.text for r in test], reasons=0)
    type_acc = sum(r.type == c.type for r, c in zip(test, results, strict=True)) / len(test)
    topic_acc = sum(r.topic == c.topic for r, c in zip(test, results, strict=True)) / len(test)
    assert type_acc >= 0.85, type_acc
    assert topic_acc >= 0.90, topic_acc


@pytest.mark.parametrize(
    ("text", "type_", "topic"),
    [
        ("Третью неделю нет света на улице Садовой, примите меры!", "complaint", "outage"),
        ("Прошу заменить неисправный счётчик", "application", "metering"),
        ("Спасибо бригаде, быстро починили оборванный провод", "feedback", "equipment"),
        ("сосед ворует электричество мимо счетчика", "report", "theft"),
        ("Какие документы нужны для подключения дома к электросетям?", "info_request", "grid_connection"),
        ("Предлагаю добавить оплату по QR-коду в квитанции", "suggestion", "billing"),
    ],
)
def test_classify_typical_appeals(model, text, type_, topic):
    result = nlu.classify(text)
    assert (result.type, result.topic) == (type_, topic)
    assert result.confidence == min(result.type_confidence, result.topic_confidence)
    assert 0 < result.confidence <= 1


def test_reasons_are_the_lemmas_behind_the_topic(model):
    result = nlu.classify("Счётчик сломался, показания не видно")
    assert result.topic == "metering"
    assert "счетчик" in result.reasons
    assert 1 <= len(result.reasons) <= 3
    assert all(" " not in r and r not in nlu.REASON_STOPWORDS for r in result.reasons)


def test_classification_as_dict(model):
    d = nlu.classify("Прошу сделать перерасчёт за август").as_dict()
    assert set(d) == {"type", "topic", "type_confidence", "topic_confidence", "confidence", "reasons"}
    assert d["topic"] == "billing"


def test_normalize_expands_abbreviations():
    assert nlu.normalize("Оплатил Э/Э по Л/С") == "оплатил электроэнергия по лицевой счет"
    assert nlu.lemmas(nlu.normalize("Счётчики сгорели 12 числа")) == ["счетчик", "сгореть", "<num>", "число"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("hello, my meter is broken", "not_russian"),
        ("12345 !!!", "not_russian"),
    ],
)
def test_usable_rejects_empty_and_non_russian(text, problem):
    assert nlu.usable(text) == problem


def test_usable_accepts_russian_with_latin_words():
    assert nlu.usable("не работает личный кабинет на сайте okno") is None


def test_save_and_load_round_trip(trained_model, tmp_path):
    path = nlu.save(trained_model, tmp_path / "m.joblib")
    loaded = nlu.load(path)
    text = "Напряжение 170 вольт, техника не работает"
    assert loaded.predict([text])[0] == trained_model.predict([text])[0]


def test_missing_model_is_trained_on_the_fly_with_a_warning(trained_model, monkeypatch, tmp_path):
    monkeypatch.setattr(nlu, "_model", None)
    monkeypatch.setattr(nlu, "MODEL_PATH", tmp_path / "absent.joblib")

    def missing(path=None):
        raise FileNotFoundError(path)

    monkeypatch.setattr(nlu, "load", missing)
    monkeypatch.setattr(nlu, "train", lambda rows=None, groups=None: trained_model)
    monkeypatch.setattr(nlu, "save", lambda model, path=None: path)
    with pytest.warns(RuntimeWarning, match="training it now"):
        assert nlu.get_model() is trained_model
    assert nlu.get_model() is trained_model  # once per process


def test_the_fast_small_batch_features_equal_the_vectorisers(trained_model):
    texts = ["Нет света на улице Ленина", "", "hello", "Счётчик сгорел 12.10.2026, л/с 0000012344"]
    small_w, small = trained_model._features(texts)
    big_w, big = trained_model._features(texts * 20)  # ≥ 64 texts: sklearn's transform
    assert abs(small - big[: len(texts)]).max() < 1e-6
    assert abs(small_w - big_w[: len(texts)]).max() < 1e-6
