"""The training corpus of the appeal classifier: hand-written situations widened deterministically.

``data/base_texts.tsv`` holds the hand-written situations (type, topic, text), one per line. Each
situation is a *group*: it is framed into several base texts (with a type-typical opening or closing
sentence, a greeting, a signature) and every base text is widened with noisy variants (typos,
abbreviations, lower case, no punctuation, an address, an account number, a date, a phone). All the
texts of one group land on the same side of the held-out split (no leakage): within each (type, topic)
cell every fifth situation goes to ``test``.

``python -m okno.assistant.corpus`` (or ``okno assistant corpus``) rewrites ``data/corpus.tsv`` with the
columns type, topic, text, split, group. The output is the same on every run.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from okno.customers.numbers import make_account_number

DATA_DIR = Path(__file__).resolve().parent / "data"
BASE_PATH = DATA_DIR / "base_texts.tsv"
CORPUS_PATH = DATA_DIR / "corpus.tsv"
TEST_EVERY = 5  # every fifth situation of a (type, topic) cell is held out: ~20 %

GREETINGS = [
    "Здравствуйте!",
    "Добрый день.",
    "Добрый вечер,",
    "Уважаемые сотрудники!",
    "Доброе утро.",
    "Здравствуйте, пишу вам по такому вопросу.",
    "Алло,",
    "Уважаемая администрация!",
]
SIGNATURES = [
    "С уважением, Иванова Т. П.",
    "Петров Сергей",
    "С уважением, жительница дома.",
    "Заранее спасибо.",
    "Абонент Кузнецов.",
    "Смирнова О.",
]
OPENERS = {
    "complaint": [
        "Хочу пожаловаться.",
        "Пишу жалобу.",
        "Это просто безобразие!",
        "Возмущена работой вашей компании.",
        "Сколько можно это терпеть!",
        "Выражаю крайнее недовольство.",
    ],
    "info_request": [
        "У меня вопрос.",
        "Подскажите, пожалуйста.",
        "Хотел бы уточнить.",
        "Прошу разъяснить.",
        "Не могу найти информацию.",
        "Помогите разобраться.",
    ],
    "application": [
        "Прошу рассмотреть моё заявление.",
        "Заявление.",
        "Обращаюсь с заявлением.",
        "Настоящим прошу.",
        "Направляю заявку.",
        "Прошу принять заявку.",
    ],
    "report": [
        "Сообщаю вам.",
        "Информирую.",
        "Хочу сообщить.",
        "Довожу до вашего сведения.",
        "Ставлю в известность.",
        "Срочно!",
    ],
    "feedback": [
        "Хочу выразить благодарность.",
        "Огромное спасибо!",
        "Пишу со словами благодарности.",
        "Хочу сказать спасибо.",
        "Выражаю признательность.",
        "Приятно удивлён.",
    ],
    "suggestion": [
        "У меня есть предложение.",
        "Хочу предложить.",
        "Есть идея.",
        "Предложение по улучшению работы.",
        "Вношу предложение.",
        "Думаю, это будет полезно.",
    ],
}
CLOSERS = {
    "complaint": [
        "Примите меры!",
        "Требую разобраться и наказать виновных.",
        "Буду жаловаться в прокуратуру.",
        "Когда это закончится?",
        "Прошу принять меры по жалобе.",
        "Очень недоволен.",
    ],
    "info_request": [
        "Жду ответа.",
        "Где можно это узнать?",
        "Ответьте, пожалуйста.",
        "Буду благодарен за разъяснение.",
        "Куда мне обратиться?",
        "Заранее спасибо за информацию.",
    ],
    "application": [
        "Прошу сообщить о принятом решении.",
        "Документы прилагаю.",
        "Прошу исполнить в установленный срок.",
        "Копию паспорта прилагаю.",
        "Ответ прошу направить по почте.",
        "Прошу удовлетворить.",
    ],
    "report": [
        "Примите к сведению.",
        "Просто сообщаю, чтобы вы знали.",
        "Передайте ответственным.",
        "Информация для диспетчера.",
        "Сообщаю для сведения.",
        "Имейте в виду.",
    ],
    "feedback": [
        "Спасибо!",
        "Так держать!",
        "Приятно, когда работают так.",
        "Отдельное спасибо всем.",
        "Очень довольна.",
        "Благодарю!",
    ],
    "suggestion": [
        "Думаю, многим будет удобно.",
        "Прошу рассмотреть предложение.",
        "Это сэкономит время всем.",
        "Надеюсь, учтёте.",
        "Было бы здорово.",
        "Подумайте над этим.",
    ],
}
STREETS = ["Ленина", "Садовая", "Мира", "Советская", "Лесная", "Школьная", "Гагарина", "Набережная"]
SETTLEMENTS = ["г. Тверь", "пос. Новый", "с. Берёзовка", "д. Ключи", "СНТ Рассвет", "г. Вологда"]
ABBREVIATIONS = [
    ("электроэнергии", "э/э"),
    ("электроэнергию", "э/э"),
    ("электроэнергия", "э/э"),
    ("лицевой счёт", "л/с"),
    ("лицевому счёту", "л/с"),
    ("пожалуйста", "пжлст"),
    ("Здравствуйте", "Здрасьте"),
    ("киловатт", "квт"),
    ("технологическое присоединение", "ТП"),
    ("технологического присоединения", "ТП"),
    ("квартиры", "кв."),
    ("улице", "ул."),
    ("сегодня", "седня"),
    ("что", "чо"),
    ("счётчик", "счетчик"),
    ("ё", "е"),
]


@dataclass(frozen=True)
class Row:
    type: str
    topic: str
    text: str
    split: str
    group: str


def read_base(path: Path = BASE_PATH) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(r[0], r[1], r[2]) for r in rows[1:] if len(r) >= 3 and r[2].strip()]


def _address(rng: random.Random) -> str:
    street = rng.choice(STREETS)
    house = rng.randint(1, 120)
    forms = [
        f"ул. {street}, д. {house}, кв. {rng.randint(1, 200)}",
        f"{rng.choice(SETTLEMENTS)}, ул. {street} {house}",
        f"адрес: {street} {house}-{rng.randint(1, 90)}",
        f"{rng.choice(SETTLEMENTS)}, {street}, дом {house}",
    ]
    return rng.choice(forms)


def _extras(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return f"Мой адрес {_address(rng)}."
    if kind == 1:
        return f"Лицевой счёт {make_account_number(rng.randint(1, 999_999))}."
    if kind == 2:
        return f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2026"
    if kind == 3:
        return f"тел. +7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
    return f"л/с {make_account_number(rng.randint(1, 999_999))}, {_address(rng)}"


def _typos(text: str, rng: random.Random, count: int) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    for i in rng.sample(candidates, min(count, len(candidates))):
        w = words[i]
        j = rng.randrange(1, len(w) - 1)
        op = rng.randrange(3)
        if op == 0:
            w = w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
        elif op == 1:
            w = w[:j] + w[j + 1 :]
        else:
            w = w[:j] + w[j] + w[j:]
        words[i] = w
    return " ".join(words)


def noisy(text: str, rng: random.Random) -> str:
    """One noisy variant of a text: the same meaning as typed in a hurry."""
    if rng.random() < 0.5:
        for full, short in ABBREVIATIONS:
            if full in text and rng.random() < 0.6:
                text = text.replace(full, short)
    if rng.random() < 0.6:
        text = _typos(text, rng, rng.randint(1, 3))
    if rng.random() < 0.5:
        text = re.sub(r"[.,!?:;]", "", text)
    r = rng.random()
    if r < 0.5:
        text = text.lower()
    elif r < 0.58:
        text = text.upper()
    if rng.random() < 0.5:
        extra = _extras(rng)
        text = f"{extra} {text}" if rng.random() < 0.3 else f"{text} {extra}"
    return re.sub(r"\s+", " ", text).strip()


def frames(type_: str, core: str, rng: random.Random) -> list[str]:
    """The base texts of one situation: alone, with an opener, with a closer, as a full letter."""
    opener = rng.choice(OPENERS[type_])
    closer = rng.choice(CLOSERS[type_])
    letter = " ".join(
        [
            rng.choice(GREETINGS),
            rng.choice(OPENERS[type_]),
            core,
            rng.choice(CLOSERS[type_]),
            rng.choice(SIGNATURES),
        ]
    )
    return [core, f"{opener} {core}", f"{core} {closer}", letter]


def build(base: list[tuple[str, str, str]] | None = None, variants: int = 2) -> list[Row]:
    base = read_base() if base is None else base
    rows: list[Row] = []
    seen: set[str] = set()
    position: dict[tuple[str, str], int] = {}
    for index, (type_, topic, core) in enumerate(base):
        cell = (type_, topic)
        position[cell] = position.get(cell, 0) + 1
        split = "test" if position[cell] % TEST_EVERY == 3 else "train"
        group = f"g{index + 1:04d}"
        rng = random.Random(f"{group}:{core}")  # noqa: S311 - string seeds are stable across runs
        for text in frames(type_, core, rng):
            for candidate in [text, *(noisy(text, rng) for _ in range(variants))]:
                if candidate not in seen:
                    seen.add(candidate)
                    rows.append(Row(type_, topic, candidate, split, group))
    return rows


def iter_rows(path: Path = CORPUS_PATH, split: str | None = None) -> Iterator[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(r) < 5 or r[0] == "type":
                continue
            row = Row(r[0], r[1], r[2], r[3], r[4])
            if split is None or row.split == split:
                yield row


def write(rows: list[Row], path: Path = CORPUS_PATH) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("type\ttopic\ttext\tsplit\tgroup\n")
        for row in rows:
            f.write(f"{row.type}\t{row.topic}\t{row.text}\t{row.split}\t{row.group}\n")


if __name__ == "__main__":  # pragma: no cover
    built = build()
    write(built)
    print(f"{len(built)} texts written to {CORPUS_PATH}")  # noqa: T201
