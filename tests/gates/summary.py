"""The end-of-run summary of the quality gates (docs/testing.md), printed after the test results and
written to ``var/gates/`` (``summary.txt``, ``matrix.txt``, ``api-fuzz.txt``).

Loaded as a plugin (``-p tests.gates.summary`` in pyproject) rather than from tests/gates/conftest.py: under
pytest-xdist (``make test`` runs two workers) the controller process collects nothing, so only a plugin's
hooks run there, and one gate's tests may run on both workers. The gates ``record`` what each test checked
(keyed by persona, direction or operation); each worker sends its records through xdist's ``workeroutput``
channel; the controller merges them and writes the reports. In a single process the same hooks simply
write what was recorded.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

_LINES: list[str] = []
# gate → key (persona, direction, operation) → what that test checked (JSON-able)
_PARTS: dict[str, dict[str, Any]] = {}


def report(line: str) -> None:
    """A line for the summary of the gates."""
    _LINES.append(line)


def record(gate: str, key: str, value: Any) -> None:
    """What one test of a gate checked; the reports add every worker's records up (see FORMATS)."""
    _PARTS.setdefault(gate, {})[key] = value


def gates_dir() -> Path:
    from django.conf import settings

    path = Path(settings.BASE_DIR) / "var" / "gates"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_sessionfinish(session: Any) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the lines to the controller
        workeroutput["pingan_gates"] = json.dumps({"lines": _LINES, "parts": _PARTS})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: a worker finished; keep what its gates reported."""
    data = getattr(node, "workeroutput", {}).get("pingan_gates")
    if not data:
        return
    received = json.loads(data)
    _LINES.extend(received["lines"])
    for gate, parts in received["parts"].items():
        _PARTS.setdefault(gate, {}).update(parts)


def pages_report(parts: dict[str, Any]) -> str:
    """tests/gates/test_pages.py: {persona: {"pages", "detail"}}."""
    details = sorted({part["detail"] for part in parts.values()})
    return f"pages: {len(parts)} personas, {sum(p['pages'] for p in parts.values())} pages × " + "; ".join(
        details
    )


def matrix_report(parts: dict[str, Any]) -> str:
    """tests/gates/test_matrix.py: {"<a>-vs-<b>": {"a", "b", "d", "pairs", "requests", "lines", "problems",
    "refused"}}; writes var/gates/matrix.txt."""
    directions = [parts[key] for key in sorted(parts)]
    pairs = {tuple(pair) for part in directions for pair in part["pairs"]}
    problems = [problem for part in directions for problem in part["problems"]]
    pairs_of_personas = sorted({" ↔ ".join(sorted((part["a"], part["b"]))) for part in directions})
    summary = (
        f"cross-jurisdiction matrix ({', '.join(pairs_of_personas)}, department {directions[0]['d']}): "
        f"{len(pairs)} (operation × persona) pairs, {sum(p['requests'] for p in directions)} requests, "
        f"{len(problems)} problems"
    )
    lines = [summary]
    for part in directions:
        lines += ["", f"## objects of {part['a']}, requested as {part['b']} and {part['d']}", *part["lines"]]
        if part["refused"]:
            lines += ["refused before the object lookup (same answer as for a missing id):"]
            lines += [f"  {entry}" for entry in sorted(part["refused"])]
    lines += ["", "pairs:", *(f"  {op} × {persona}" for op, persona in sorted(pairs))]
    if problems:
        lines += ["", "problems:", *(f"  {problem}" for problem in problems)]
    (gates_dir() / "matrix.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return summary + " — details in var/gates/matrix.txt"


def fuzz_report(parts: dict[str, Any]) -> str:
    """tests/gates/test_api_fuzz.py: {"": {"personas", "max_examples"}, "<operation>": {persona: [status]}};
    writes var/gates/api-fuzz.txt."""
    meta = parts[""]
    operations = {label: statuses for label, statuses in parts.items() if label}
    lines = []
    never_ok = []
    for label in sorted(operations):
        by_persona = operations[label]
        lines.append(
            f"{label}: " + "; ".join(f"{p} {sorted(codes)}" for p, codes in sorted(by_persona.items()))
        )
        if not any(200 <= code < 300 for codes in by_persona.values() for code in codes):
            never_ok.append(label)
    lines += ["", "never answered 2xx (only refusals were exercised):", *(f"  {label}" for label in never_ok)]
    (gates_dir() / "api-fuzz.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return (
        f"API fuzzing: {len(operations)} operations × {len(meta['personas'])} personas "
        f"({', '.join(meta['personas'])}), up to {meta['max_examples']} generated requests each, fixed seed; "
        f"{len(never_ok)} operations never answered 2xx — var/gates/api-fuzz.txt"
    )


FORMATS = {"api-fuzz": fuzz_report, "matrix": matrix_report, "pages": pages_report}


def summary_lines() -> list[str]:
    lines = list(_LINES)
    for gate, format_report in FORMATS.items():
        if _PARTS.get(gate):
            with contextlib.suppress(OSError):  # a read-only checkout still shows the summary
                lines.append(format_report(_PARTS[gate]))
    return lines


def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    if getattr(config, "workeroutput", None) is not None:
        return
    lines = summary_lines()
    if not lines:
        return
    terminalreporter.section("quality gates")
    for line in lines:
        terminalreporter.write_line(line)
    with contextlib.suppress(OSError, ImportError):  # a read-only checkout still shows the summary
        (gates_dir() / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
