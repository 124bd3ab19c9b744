#!/usr/bin/env python3
"""Refuse secrets in the repository: private keys, key files, production keys or passwords written into a
file, database URLs with a password, demo passwords and the demo accounts file.

Scans every file git tracks or would add (``git ls-files --cached --others --exclude-standard``), so a new
file is checked before it is committed. Exit status 1 and one line per finding (``path:line: rule``).

A line that must contain such text on purpose (a documented example that is not a real secret) carries the
marker ``secrets-check: allow`` in a comment on the same line; use it sparingly, a reviewer sees it.

    python3 scripts/check_secrets.py            # the repository this script is in
    python3 scripts/check_secrets.py PATH...    # only these files
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOW = "secrets-check: allow"
MAX_BYTES = 2_000_000  # larger files are data, not configuration

# Values that stand for a secret without being one: shell substitutions, placeholders, empty values.
_PLACEHOLDER = re.compile(
    r"""^(\$|<|\{|%|\.\.\.|…|changeme|change-me|example|xxx+|\*+|your[-_ ])""", re.IGNORECASE
)

# Code, not a value: a constant or a dotted name (settings.X), or a call (b64(key)).
_CODE = re.compile(r"^([A-Z_][A-Z0-9_]*|[A-Za-z_]\w*(\.[A-Za-z_]\w*)+)[,)}\]]*$|\(")
# Test code sets these settings to made-up values on purpose; the other rules still apply there.
_SETTING_RULE_EXEMPT = ("tests/",)

SETTING_RULE = "secret value in a PINGAN_* setting"

RULES: list[tuple[str, re.Pattern[str]]] = [
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    # PINGAN_SECRET_KEY=..., PINGAN_FIELD_KEYS: ..., PINGAN_DEMO_PASSWORD="..." (shell, .env, YAML, INI)
    (
        SETTING_RULE,
        re.compile(
            r"""(?<![A-Za-z0-9_])(PINGAN_[A-Z_]*(?:SECRET|KEY|KEYS|PASSWORD|TOKEN))["']?\s*[=:]\s*["']?(?P<value>[^\s"']{6,})"""
        ),
    ),
    (
        "database URL with a password",
        re.compile(r"\b(?:postgres(?:ql)?|mysql|redis)://[^\s:/@]+:(?P<value>[^\s@/]+)@"),
    ),
    # the shape of the demo's generated passwords (accounts/demo.py: "Pa-" + 12 letters and digits)
    (
        "demo password",
        re.compile(
            r"(?<![A-Za-z0-9])Pa-(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{12}(?![A-Za-z0-9])"
        ),
    ),
]

# Files that must never be committed, whatever they contain.
FORBIDDEN_PATHS: list[tuple[str, re.Pattern[str]]] = [
    ("environment file", re.compile(r"(^|/)\.env(\.[A-Za-z0-9_-]+)?$")),
    ("demo accounts file (TOTP secrets)", re.compile(r"(^|/)demo-accounts\.txt$")),
    ("runtime data under var/", re.compile(r"^var/")),
    ("private key file", re.compile(r"\.(pem|key|p12|pfx)$")),
]


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}"


def _not_a_value(value: str) -> bool:
    """A placeholder (<...>, example), computed when it runs ($(...), ${...}) or code."""
    return bool(
        _PLACEHOLDER.match(value) or "$" in value or ("<" in value and ">" in value) or _CODE.search(value)
    )


def _is_key_file(text: str) -> bool:
    """The JSON of ``pingan keys generate``: {"active", "keys", "index_key", "mac_key"}."""
    if '"index_key"' not in text and '"mac_key"' not in text:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return True  # key-file fields in something that is not even valid JSON: look at it
    return isinstance(data, dict) and bool({"index_key", "mac_key", "keys"} & set(data))


def scan_text(path: str, text: str) -> list[Finding]:
    findings: list[Finding] = []
    for rule, pattern in FORBIDDEN_PATHS:
        if pattern.search(path):
            findings.append(Finding(path, 0, rule))
    if path.endswith(".json") and _is_key_file(text):
        findings.append(Finding(path, 0, "key file (pingan keys generate)"))
    for number, line in enumerate(text.splitlines(), start=1):
        if ALLOW in line:
            continue
        for rule, pattern in RULES:
            for match in pattern.finditer(line):
                value = match.groupdict().get("value")
                if value is not None and _not_a_value(value):
                    continue
                if rule == SETTING_RULE and path.startswith(_SETTING_RULE_EXEMPT):
                    continue
                findings.append(Finding(path, number, rule))
    return findings


def repository_files(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    return sorted({name for name in out.decode().split("\0") if name})


def scan_files(root: Path, names: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    for name in names:
        path = root / name
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()[:MAX_BYTES]
        if b"\0" in data[:8192]:
            findings += [f for f in scan_text(name, "") if f.line == 0]  # binary: the path rules only
            continue
        findings += scan_text(name, data.decode("utf-8", errors="replace"))
    return findings


def main(argv: list[str]) -> int:
    names = argv or repository_files(ROOT)
    findings = scan_files(ROOT, names)
    for finding in findings:
        print(finding)
    if findings:
        print(
            f"secrets check: {len(findings)} finding(s) in {len(names)} files. Remove the secret (and rotate "
            f"it if it was real); for a harmless example add a '{ALLOW}' comment on the line.",
            file=sys.stderr,
        )
        return 1
    print(f"secrets check: {len(names)} files, nothing found")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
