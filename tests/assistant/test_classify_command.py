"""``okno classify`` (stdin → JSON lines) and ``okno classify --evaluate`` (a worked example)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from okno.assistant import nlu
from tests.assistant.test_nlu import _trained


@pytest.fixture
def model(monkeypatch):
    model = _trained()
    monkeypatch.setattr(nlu, "_model", model)
    return model


def run_classify(monkeypatch, text: str) -> list[dict]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    out = io.StringIO()
    call_command("classify", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.django_db
def test_one_json_object_per_input_line_in_order(model, monkeypatch):
    answers = run_classify(
        monkeypatch,
        "Нет света на улице Ленина с утра\nПрошу заменить счётчик, л/с 0000012344\nСпасибо за перерасчёт\n",
    )
    assert [(a["type"], a["topic"]) for a in answers] == [
        ("report", "outage"),
        ("application", "metering"),
        ("feedback", "billing"),
    ]
    for a in answers:
        assert 0 < a["confidence"] <= 1
        assert a["confidence"] == min(a["type_confidence"], a["topic_confidence"])
        assert isinstance(a["entities"], dict)
    assert "0000012344" in answers[1]["entities"].get("accounts", [])


@pytest.mark.django_db
def test_bad_lines_answer_an_error_and_are_never_dropped(model, monkeypatch):
    answers = run_classify(monkeypatch, "\n   \nmy meter is broken\nсчётчик сломался\n12345")
    assert len(answers) == 5
    assert [a.get("reason") for a in answers] == ["empty", "empty", "not_russian", None, "not_russian"]
    for a in answers[:3] + answers[4:]:
        assert a["type"] is None and a["topic"] is None
        assert a["error"].startswith("Please describe your question")
    assert answers[3]["topic"] == "metering"


def test_batches_larger_than_one_chunk_keep_the_order(model, monkeypatch):
    monkeypatch.setattr("okno.assistant.management.commands.classify._extractor", lambda: None)
    lines = ["нет света", "", "счётчик сломался"] * 120  # 360 lines: two batches
    answers = run_classify(monkeypatch, "\n".join(lines) + "\n")
    assert len(answers) == 360
    assert [a["topic"] for a in answers[:3]] == ["outage", None, "metering"]
    assert [a["topic"] for a in answers[-3:]] == ["outage", None, "metering"]


# --- evaluation: a worked example with a stub classifier --------------------------------------------

WORKED = """type\ttopic\ttext
complaint\toutage\tt1
complaint\toutage\tt2
report\tbilling\tt3
info_request\tbilling\tt4
report\tmetering\tt5
"""
PREDICTED = {
    "t1": ("complaint", "outage"),
    "t2": ("report", "outage"),
    "t3": ("report", "billing"),
    "t4": ("info_request", "outage"),
    "t5": ("complaint", "metering"),
}


@pytest.fixture
def stub(monkeypatch):
    def classify_many(texts):
        return [nlu.Classification(*PREDICTED[t], 0.9, 0.8, 0.8, []) for t in texts]

    monkeypatch.setattr(nlu, "classify_many", classify_many)
    monkeypatch.setattr(nlu, "usable", lambda text: None if text.strip() else "empty")


def test_evaluate_worked_example(stub, tmp_path):
    # type: 3 of 5 right. complaint: tp 1, fp 1 (t5), fn 1 (t2) → P = R = F1 = 0.5; report: tp 1 (t3),
    # fp 1 (t2), fn 1 (t5) → F1 0.5; info_request: F1 1. Macro-F1 = (0.5 + 0.5 + 1) / 3 = 0.6667.
    # topic: 4 of 5 right. outage: tp 2, fp 1 (t4) → P 2/3, R 1, F1 0.8; billing: tp 1, fn 1 → P 1,
    # R 0.5, F1 2/3; metering: F1 1. Macro-F1 = (0.8 + 0.6667 + 1) / 3 = 0.8222.
    path = tmp_path / "worked.tsv"
    path.write_text(WORKED, encoding="utf-8")
    out = io.StringIO()
    call_command("classify", evaluate=str(path), stdout=out)
    first, _, table = out.getvalue().partition("\n")
    result = json.loads(first)
    assert result["type"]["n"] == 5
    assert result["type"]["accuracy"] == 0.6
    assert result["type"]["macro_f1"] == pytest.approx(0.6667, abs=1e-4)
    assert result["type"]["per_label"]["complaint"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert result["type"]["confusion"]["complaint"] == {"complaint": 1, "info_request": 0, "report": 1}
    assert result["topic"]["accuracy"] == 0.8
    assert result["topic"]["macro_f1"] == pytest.approx(0.8222, abs=1e-4)
    assert result["topic"]["per_label"]["outage"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8}
    assert result["topic"]["confusion"]["billing"] == {"billing": 1, "metering": 0, "outage": 1}
    assert "type: accuracy 60.0 %, macro-F1 66.7 % (n = 5)" in table
    assert "topic: accuracy 80.0 %, macro-F1 82.2 % (n = 5)" in table
    assert "gold \\ predicted" in table


def test_evaluate_without_header_and_with_a_blank_text(stub, tmp_path):
    path = tmp_path / "noheader.tsv"
    path.write_text("complaint\toutage\tt1\nreport\tmetering\t \n", encoding="utf-8")
    out = io.StringIO()
    call_command("classify", evaluate=str(path), stdout=out)
    result = json.loads(out.getvalue().splitlines()[0])
    assert result["type"]["n"] == 2
    assert result["type"]["accuracy"] == 0.5
    assert result["type"]["confusion"]["report"] == {"complaint": 0, "report": 0, "none": 1}


def test_evaluate_rejects_a_missing_or_malformed_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("classify", evaluate=str(tmp_path / "absent.tsv"))
    bad = tmp_path / "bad.tsv"
    bad.write_text("complaint\tonly two columns\n", encoding="utf-8")
    with pytest.raises(CommandError, match="expected the columns"):
        call_command("classify", evaluate=str(bad))


def test_evaluate_on_the_held_out_split(model, tmp_path):
    from okno.assistant import corpus

    path = tmp_path / "test.tsv"
    rows = list(corpus.iter_rows(split="test"))
    path.write_text("".join(f"{r.type}\t{r.topic}\t{r.text}\n" for r in rows), encoding="utf-8")
    out = io.StringIO()
    call_command("classify", evaluate=str(path), stdout=out)
    result = json.loads(out.getvalue().splitlines()[0])
    assert result["topic"]["accuracy"] >= 0.90
    assert result["type"]["accuracy"] >= 0.85
    assert result["topic"]["macro_f1"] >= 0.85


@pytest.mark.skipif(not nlu.MODEL_PATH.exists(), reason="needs the built model (okno assistant train)")
def test_the_real_command_reads_stdin_and_writes_stdout():
    okno = Path(sys.executable).with_name("okno")
    env = {**os.environ, "OKNO_ENV": "test"}
    proc = subprocess.run(
        [str(okno), "classify"],
        input="света нет третий день\n\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert answers[0]["topic"] == "outage"
    assert answers[1]["type"] is None and "error" in answers[1]
