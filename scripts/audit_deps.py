"""Known-vulnerable dependencies (``make audit``): pip-audit on the virtualenv, npm audit on the lockfile.

Exit status:
  0  every package was checked against the advisory databases and none has a known vulnerability;
  1  a package has a known vulnerability (pip-audit) or one of moderate severity or worse (npm audit);
  3  the audit could not be done: an advisory database did not answer, or packages could not be looked
     up. This is never reported as a pass: nobody knows whether the dependencies are safe.

Run with the virtualenv's interpreter: ``.venv/bin/python scripts/audit_deps.py [--requirements FILE]`` (the
virtualenv, or a pinned requirements export). pip-audit asks the PyPI
JSON API (``/pypi/<name>/<version>/json``); npm audit asks the npm registry's advisory endpoint.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLEAN, VULNERABLE, NOT_AUDITED = 0, 1, 3
NPM_LEVELS = ("moderate", "high", "critical")


def pip_audit(requirements: str | None = None) -> tuple[int, list[str]]:
    command = [str(Path(sys.executable).parent / "pip-audit")]
    if requirements:  # a pinned requirements export instead of the virtualenv
        command += ["--requirement", requirements, "--no-deps", "--disable-pip"]
    command += [
        "--skip-editable",  # pingan itself is not on PyPI
        "--format",
        "json",
        "--progress-spinner",
        "off",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
    try:
        report = json.loads(result.stdout)
    except ValueError:
        return NOT_AUDITED, [f"pip-audit failed (exit {result.returncode}): {result.stderr.strip()[-500:]}"]
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    lines = [
        f"pip-audit: {d['name']} {d['version']}: "
        + ", ".join(
            f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or ['no release'])})" for v in d["vulns"]
        )
        for d in vulnerable
    ]
    if vulnerable:
        return VULNERABLE, lines
    if skipped or not dependencies:
        sample = "; ".join(f"{d['name']}: {d['skip_reason']}" for d in skipped[:3])
        return NOT_AUDITED, [
            f"pip-audit could not check {len(skipped)} of {len(dependencies)} packages against the PyPI "
            f"advisory data (is https://pypi.org/pypi/<name>/<version>/json reachable?): {sample}"
        ]
    return CLEAN, [f"pip-audit: {len(dependencies)} packages, no known vulnerability"]


def npm_audit() -> tuple[int, list[str]]:
    result = subprocess.run(
        ["npm", "audit", "--json", "--package-lock-only"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        report = {}
    if "error" in report or "vulnerabilities" not in report:
        detail = report.get("error", {}).get("summary") or result.stderr.strip()[-300:] or "no answer"
        return NOT_AUDITED, [f"npm audit could not reach the registry's advisory endpoint: {detail}"]
    found = {
        name: entry
        for name, entry in report["vulnerabilities"].items()
        if entry.get("severity") in NPM_LEVELS
    }
    if found:
        return VULNERABLE, [
            f"npm audit: {name} ({entry['severity']}, {entry.get('range', '')})"
            for name, entry in sorted(found.items())
        ]
    total = report.get("metadata", {}).get("dependencies", {}).get("total", "?")
    return CLEAN, [f"npm audit: {total} packages, nothing of moderate severity or worse"]


def main(argv: list[str]) -> int:
    requirements = argv[argv.index("--requirements") + 1] if "--requirements" in argv else None
    outcomes = [pip_audit(requirements), npm_audit()]
    for _, lines in outcomes:
        for line in lines:
            print(line)
    codes = {code for code, _ in outcomes}
    # a known vulnerability fails even when the other audit could not be done (exit 3 only warns in CI)
    status = VULNERABLE if VULNERABLE in codes else max(codes)
    if status == VULNERABLE:
        print(
            "dependency audit FAILED: upgrade the packages above (pyproject.toml / package.json)",
            file=sys.stderr,
        )
    elif status == NOT_AUDITED:
        print(
            "dependency audit NOT DONE: an advisory database could not be reached, so nothing is known about "
            "known vulnerabilities. This is not a pass.",
            file=sys.stderr,
        )
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
