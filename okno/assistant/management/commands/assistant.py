"""``okno assistant train [--if-missing]`` and ``okno assistant corpus``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Assistant: build the appeal classifier model, or regenerate its corpus."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="Train the classifier on the corpus's train split and save it.")
        train.add_argument("--if-missing", action="store_true", help="Do nothing when a current model exists")
        sub.add_parser("corpus", help="Regenerate data/corpus.tsv from data/base_texts.tsv.")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "corpus":
            from okno.assistant import corpus

            rows = corpus.build()
            corpus.write(rows)
            self.stdout.write(f"{len(rows)} texts written to {corpus.CORPUS_PATH}")
            return
        from okno.assistant import nlu

        if opts["if_missing"] and nlu.MODEL_PATH.exists():
            try:
                model = nlu.load()
            except Exception as exc:  # noqa: BLE001 - any unreadable file is rebuilt
                self.stderr.write(f"existing model unusable ({exc}); retraining")
            else:
                if model.meta.get("corpus_sha256") == nlu.corpus_digest():
                    self.stdout.write(f"model present: {nlu.MODEL_PATH}")
                    return
                self.stderr.write("the corpus changed since the model was built; retraining")
        started = time.monotonic()
        model = nlu.train()
        path = nlu.save(model)
        self.stdout.write(
            f"trained on {model.meta['rows']} texts in {time.monotonic() - started:.1f} s; saved {path}"
        )
