import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _clean_env() -> dict[str, str]:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    return {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _okno(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "okno.cli", *args],
        cwd=ROOT,
        env={**_clean_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = _okno(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "OKNO_ENV": "production",
            "SECRET_KEY": "x" * 30 + "-a-long-random-production-secret-value",
            "ALLOWED_HOSTS": "okno.example.ru",
            "OKNO_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in _clean_env().items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE")}
    env.update({"OKNO_ENV": "production", "OKNO_VAR_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "-m", "okno.cli", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_secret_key_file_is_read(tmp_path):
    key = tmp_path / "key"
    key.write_text("file-secret-" + "y" * 50)
    result = _okno(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        env={"SECRET_KEY_FILE": str(key), "OKNO_VAR_DIR": str(tmp_path)},
    )
    assert result.stdout.strip().endswith("file-secret-" + "y" * 50)


def test_development_generates_a_persistent_secret_key(tmp_path):
    env = {k: v for k, v in _clean_env().items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE")}
    env["OKNO_VAR_DIR"] = str(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "okno.cli",
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    ]
    first = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120).stdout.strip()
    second = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    ).stdout.strip()
    assert len(first) > 40 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_bad_env_value_fails_loudly(tmp_path):
    result = _okno("check", env={"OKNO_ENV": "staging", "OKNO_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "OKNO_ENV" in result.stderr


@pytest.mark.parametrize("command", ["migrate", "serve", "seed", "worker", "rebuild_stats"])
def test_the_console_script_wraps_the_management_commands(command):
    result = _okno("help", command)
    assert result.returncode == 0, result.stderr
    assert "usage: okno" in result.stdout
