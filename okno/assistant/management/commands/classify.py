"""``okno classify``: one appeal text per line on stdin, one JSON object per line on stdout.

``okno classify --evaluate FILE.tsv`` (columns type, topic, text; a header row is optional) prints the
accuracy and macro-F1 of the type and of the topic and their confusion tables, as one JSON line
followed by readable tables.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

log = logging.getLogger(__name__)

ERROR_MESSAGES = {
    "empty": "Please describe your question: the line is empty.",
    "not_russian": "Please describe your question in Russian.",
}
BATCH = 256
_warned: list[bool] = []  # the database warning is given once per process


def _extractor() -> Callable[..., Any] | None:
    try:
        from okno.assistant.extract import extract
    except ImportError:
        return None
    return extract


def _entities(extract: Callable[..., Any], text: str) -> dict[str, Any]:
    """The extractor's entities; {} when it fails (a database without tables, a bug): the line stays."""
    from django.db import DatabaseError

    try:
        try:
            return dict(extract(text).as_dict())
        except DatabaseError:
            return dict(extract(text, resolve_addresses=False).as_dict())
    except DatabaseError as exc:
        if not _warned:
            _warned.append(True)
            log.warning("entity extraction needs the database (%s); entities left empty", exc)
    except Exception:  # an extractor bug must not drop the line
        log.exception("entity extraction failed")
    return {}


def answer_lines(texts: Sequence[str], extract: Callable[..., Any] | None = None) -> list[dict[str, Any]]:
    """The JSON objects for a batch of input lines, in order (bad lines answer an error object)."""
    from okno.assistant import nlu

    answers: list[dict[str, Any] | None] = [None] * len(texts)
    good: list[int] = []
    for i, text in enumerate(texts):
        problem = nlu.usable(text)
        if problem:
            answers[i] = {
                "error": ERROR_MESSAGES[problem],
                "reason": problem,
                "type": None,
                "topic": None,
                "confidence": None,
                "entities": {},
            }
        else:
            good.append(i)
    results = nlu.classify_many([texts[i] for i in good])
    for i, result in zip(good, results, strict=True):
        entities: dict[str, Any] = {}
        if extract is not None:
            entities = _entities(extract, texts[i])
        answers[i] = {
            "type": result.type,
            "topic": result.topic,
            "confidence": round(result.confidence, 4),
            "type_confidence": round(result.type_confidence, 4),
            "topic_confidence": round(result.topic_confidence, 4),
            "reasons": result.reasons,
            "entities": entities,
        }
    return [a for a in answers if a is not None]


def read_labelled(path: Path) -> list[tuple[str, str, str]]:
    """(type, topic, text) rows of an evaluation TSV; the first row is skipped when it is a header."""
    rows: list[tuple[str, str, str]] = []
    with path.open(encoding="utf-8", newline="") as f:
        for n, r in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
            if not r or not any(c.strip() for c in r):
                continue
            if n == 0 and r[0].strip().lower() == "type":
                continue
            if len(r) < 3:
                raise CommandError(f"{path}:{n + 1}: expected the columns type, topic, text")
            rows.append((r[0].strip(), r[1].strip(), r[2]))
    return rows


def scores(gold: Sequence[str], predicted: Sequence[str | None]) -> dict[str, Any]:
    """Accuracy, macro-F1 (over the labels seen in either column) and the confusion table."""
    labels = sorted(set(gold) | {p for p in predicted if p is not None})
    n = len(gold)
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    per_label: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}
    columns = [*labels, "none"] if any(p is None for p in predicted) else labels
    confusion = {
        g: {
            c: sum(gg == g and (pp or "none") == c for gg, pp in zip(gold, predicted, strict=True))
            for c in columns
        }
        for g in labels
    }
    macro = sum(v["f1"] for v in per_label.values()) / len(labels) if labels else 0.0
    return {
        "n": n,
        "accuracy": round(correct / n, 4) if n else 0.0,
        "macro_f1": round(macro, 4),
        "per_label": per_label,
        "confusion": confusion,
    }


def evaluate(rows: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    from okno.assistant import nlu

    texts = [r[2] for r in rows]
    predicted_type: list[str | None] = [None] * len(rows)
    predicted_topic: list[str | None] = [None] * len(rows)
    good = [i for i, t in enumerate(texts) if nlu.usable(t) is None]
    for i, result in zip(good, nlu.classify_many([texts[i] for i in good]), strict=True):
        predicted_type[i] = result.type
        predicted_topic[i] = result.topic
    return {
        "type": scores([r[0] for r in rows], predicted_type),
        "topic": scores([r[1] for r in rows], predicted_topic),
    }


def format_table(name: str, result: dict[str, Any]) -> str:
    confusion: dict[str, dict[str, int]] = result["confusion"]
    labels = list(confusion)
    columns = list(next(iter(confusion.values()))) if confusion else []
    width = max([len(x) for x in [*labels, "gold \\ predicted"]] + [5])
    cw = max([len(c) for c in columns] + [5])
    lines = [
        f"{name}: accuracy {result['accuracy'] * 100:.1f} %, macro-F1 {result['macro_f1'] * 100:.1f} % (n = {result['n']})",
        "gold \\ predicted".ljust(width) + "".join(f" {c:>{cw}}" for c in columns) + f" {'F1':>6}",
    ]
    for g in labels:
        cells = "".join(f" {confusion[g][c]:>{cw}}" for c in columns)
        lines.append(g.ljust(width) + cells + f" {result['per_label'][g]['f1'] * 100:>5.1f}%")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Classify appeal texts (one per line on stdin, JSON lines out), or --evaluate a labelled TSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--evaluate", metavar="FILE.tsv", help="Score the model on a TSV: type, topic, text"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts.get("evaluate"):
            path = Path(opts["evaluate"])
            if not path.exists():
                raise CommandError(f"{path}: no such file")
            rows = read_labelled(path)
            if not rows:
                raise CommandError(f"{path}: no labelled rows")
            result = evaluate(rows)
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            self.stdout.write("")
            self.stdout.write(format_table("type", result["type"]))
            self.stdout.write("")
            self.stdout.write(format_table("topic", result["topic"]))
            return
        self.stream(sys.stdin, interactive=sys.stdin.isatty())

    def stream(self, source: TextIO | Iterable[str], interactive: bool = False) -> None:
        extract = _extractor()
        batch: list[str] = []
        for line in source:
            batch.append(line.rstrip("\r\n"))
            if interactive or len(batch) >= BATCH:
                self._emit(batch, extract)
                batch = []
        if batch:
            self._emit(batch, extract)

    def _emit(self, batch: list[str], extract: Callable[..., Any] | None) -> None:
        for answer in answer_lines(batch, extract):
            self.stdout.write(json.dumps(answer, ensure_ascii=False))
        self.stdout.flush()
