"""Production settings refuse a missing secret and pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_keycare(*args, env_extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **env_extra})
    return subprocess.run(
        [sys.executable, "-m", "keycare", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_a_real_secret_key(tmp_path):
    result = run_keycare("check", env_extra={"KEYCARE_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    weak = run_keycare("check", env_extra={"SECRET_KEY": "short", "KEYCARE_VAR_DIR": str(tmp_path)})
    assert weak.returncode != 0


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = run_keycare(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "SECRET_KEY": "k" * 20 + "Zx9-Qw8_Er7%Ty6^Ui5&Op4*As3(Df2)Gh1!Jk0@Lz" + "m" * 10,
            "ALLOWED_HOSTS": "keycare.example.com",
            "KEYCARE_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
