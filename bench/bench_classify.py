"""The appeal classifier (okno.assistant.nlu): held-out accuracy, throughput on one core, load time.

Targets: topic accuracy ≥ 90 %, type accuracy ≥ 85 % on the corpus's held-out split; ≥ 1,000 texts/s on
one core with a warm process; model load < 2 s. Uses the saved model (``okno assistant train``; built
here when missing) and pins itself to one CPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from common import ROOT, setup_django, write_result

ROUNDS = 5
LOAD_PROBE = """
import time
t0 = time.perf_counter()
from okno.assistant import nlu
model = nlu.load()
t1 = time.perf_counter()
model.predict(["нет света на улице"])
t2 = time.perf_counter()
print(t1 - t0, t2 - t0)
"""


def main() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # numpy is imported below, after this
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    setup_django()
    from django.core.management import call_command

    from okno.assistant import corpus, nlu
    from okno.assistant.management.commands.classify import scores

    call_command("assistant", "train", "--if-missing")
    loads, firsts = [], []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", LOAD_PROBE], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.split()
        loads.append(float(out[0]))
        firsts.append(float(out[1]))
    model = nlu.load()
    test = list(corpus.iter_rows(split="test"))
    texts = [r.text for r in test]

    t0 = time.perf_counter()
    results = model.predict(texts)
    cold = len(texts) / (time.perf_counter() - t0)
    batch_rates, single_rates = [], []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        model.predict(texts)
        batch_rates.append(len(texts) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for text in texts[:500]:
            model.predict([text])
        single_rates.append(500 / (time.perf_counter() - t0))
    type_scores = scores([r.type for r in test], [c.type for c in results])
    topic_scores = scores([r.topic for r in test], [c.topic for c in results])
    write_result(
        "classify",
        {
            "corpus": {
                "texts": sum(1 for _ in corpus.iter_rows()),
                "train": model.meta["rows"],
                "test": len(test),
                "situations": len(corpus.read_base()),
            },
            "type_accuracy": type_scores["accuracy"],
            "type_macro_f1": type_scores["macro_f1"],
            "topic_accuracy": topic_scores["accuracy"],
            "topic_macro_f1": topic_scores["macro_f1"],
            "texts_per_s_one_core_batch": round(max(batch_rates)),
            "texts_per_s_one_core_one_by_one": round(max(single_rates)),
            "texts_per_s_first_pass_cold_lemma_cache": round(cold),
            "model_load_s": round(min(loads), 3),
            "load_and_first_answer_s": round(min(firsts), 3),
            "model_file_mb": round(nlu.MODEL_PATH.stat().st_size / 1e6, 1),
            "targets": {"topic_accuracy": 0.90, "type_accuracy": 0.85, "texts_per_s": 1000, "load_s": 2.0},
        },
    )


if __name__ == "__main__":
    main()
