"""Guards on the layout: every domain app is under the import-linter contract, and every
environment variable the settings read is documented in .env.example."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
INTERFACES = {"api", "web"}


def test_every_domain_app_is_in_the_import_contract():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = config["tool"]["importlinter"]["contracts"][0]
    assert set(contract["forbidden_modules"]) == {"keycare.api", "keycare.web"}
    apps = {
        f"keycare.{p.name}"
        for p in (ROOT / "keycare").iterdir()
        if (p / "apps.py").exists() and p.name not in INTERFACES
    }
    assert apps <= set(contract["source_modules"])


def test_every_setting_variable_is_documented():
    used = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        used |= set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', path.read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used, "no variables found: the scan is broken"
    assert used - documented == set()
