"""The verdict of the dependency audit (scripts/audit_deps.py, ``make audit``), given what pip-audit and
npm audit answer. The advisory services are not reachable from this project's machines (docs/testing.md),
so these tests feed the script the answers the tools give: a vulnerable version must fail (exit 1), an
audit that could look nothing up must never pass (exit 3), and only a complete clean answer passes (0)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.gates

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"

PIP_CLEAN = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}]}
PIP_VULNERABLE = {
    "dependencies": [
        {"name": "django", "version": "5.2.19", "vulns": []},
        {
            "name": "urllib3",
            "version": "1.26.4",
            "vulns": [{"id": "PYSEC-2023-192", "fix_versions": ["1.26.17"]}],
        },
    ]
}
PIP_UNREACHABLE = {
    "dependencies": [
        {
            "name": "django",
            "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2.19)",
        }
    ]
}
NPM_CLEAN = {"vulnerabilities": {}, "metadata": {"dependencies": {"total": 12}}}
NPM_VULNERABLE = {"vulnerabilities": {"lodash": {"severity": "high", "range": "<4.17.21"}}}
NPM_LOW_ONLY = {"vulnerabilities": {"debug": {"severity": "low", "range": "<2.6.9"}}}
NPM_UNREACHABLE = {"error": {"summary": "audit endpoint returned an error"}}


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_with(monkeypatch: pytest.MonkeyPatch, pip: dict[str, Any], npm: dict[str, Any]) -> int:
    module = load_script()

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        answer = npm if command[0] == "npm" else pip
        return subprocess.CompletedProcess(command, 0, stdout=json.dumps(answer), stderr="")

    monkeypatch.setattr(module.subprocess, "run", fake_run)
    return int(module.main([]))


@pytest.mark.parametrize(
    ("pip", "npm", "expected"),
    [
        (PIP_CLEAN, NPM_CLEAN, 0),
        (PIP_CLEAN, NPM_LOW_ONLY, 0),
        (PIP_VULNERABLE, NPM_CLEAN, 1),
        (PIP_CLEAN, NPM_VULNERABLE, 1),
        (PIP_VULNERABLE, NPM_UNREACHABLE, 1),  # a known vulnerability fails even when npm could not be asked
        (PIP_UNREACHABLE, NPM_CLEAN, 3),
        (PIP_CLEAN, NPM_UNREACHABLE, 3),
        ({"dependencies": []}, NPM_CLEAN, 3),  # nothing looked up is not a pass
    ],
    ids=[
        "clean",
        "npm-low-only",
        "pip-vulnerable",
        "npm-vulnerable",
        "vulnerable-beats-unreachable",
        "pip-unreachable",
        "npm-unreachable",
        "pip-empty",
    ],
)
def test_verdict(monkeypatch: pytest.MonkeyPatch, capsys: Any, pip: Any, npm: Any, expected: int) -> None:
    assert run_with(monkeypatch, pip, npm) == expected
    out = capsys.readouterr()
    if expected == 1:
        assert "FAILED" in out.err
        assert "urllib3 1.26.4: PYSEC-2023-192 (fixed in 1.26.17)" in out.out or "lodash (high" in out.out
    if expected == 3:
        assert "NOT DONE" in out.err and "not a pass" in out.err
