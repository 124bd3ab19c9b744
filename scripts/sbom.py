"""CycloneDX software bills of materials for a deployment review (``make sbom``), written to var/sbom/:

- ``python.cdx.json``: the Python packages Pingan runs on (the dependency closure of the ``pingan``
  distribution installed in the virtualenv, without the dev tools), with versions, licences and hashes
  as the installed metadata records them (cyclonedx-py);
- ``python-dev.cdx.json``: everything in the virtualenv, the test and build tools included;
- ``npm.cdx.json``: the front-end packages served from static/vendor (``npm sbom --omit dev``: axe-core,
  a test-only devDependency, is not part of what is served).

Run with the virtualenv's interpreter: ``.venv/bin/python scripts/sbom.py``. Needs no network.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "sbom"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure(root: str = "pingan") -> set[str]:
    """Canonical names of the distributions ``root`` needs at run time: its requirements without its own
    extras (the dev tools), followed through the extras they ask for (``psycopg[binary]``)."""
    from packaging.requirements import Requirement

    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    todo: list[tuple[str, str]] = [(root, "")]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        names.add(_canonical(name))
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
                continue
            todo.append((_canonical(requirement.name), ""))
            todo += [(_canonical(requirement.name), wanted) for wanted in requirement.extras]
    return names


def python_sboms() -> None:
    full = OUT / "python-dev.cdx.json"
    subprocess.run(  # noqa: S603 (our own command line)
        [
            str(Path(sys.executable).parent / "cyclonedx-py"),
            "environment",
            sys.executable,
            "--pyproject",
            str(ROOT / "pyproject.toml"),
            "--of",
            "JSON",
            "--output-reproducible",
            # the schema validation looks schemas up on the network (40 s of time-outs offline)
            "--no-validate",
            "-o",
            str(full),
        ],
        check=True,
    )
    bom = json.loads(full.read_text())
    keep = runtime_closure() - {"pingan"}
    components = [c for c in bom.get("components", []) if _canonical(c.get("name", "")) in keep]
    refs = {c["bom-ref"] for c in components} | {bom.get("metadata", {}).get("component", {}).get("bom-ref")}
    bom["components"] = components
    bom["dependencies"] = [
        {**d, "dependsOn": [r for r in d.get("dependsOn", []) if r in refs]}
        for d in bom.get("dependencies", [])
        if d.get("ref") in refs
    ]
    (OUT / "python.cdx.json").write_text(json.dumps(bom, indent=2, ensure_ascii=False) + "\n")
    print(f"var/sbom/python.cdx.json: {len(components)} runtime components; python-dev.cdx.json: all")


def npm_sbom() -> None:
    result = subprocess.run(
        ["npm", "sbom", "--sbom-format", "cyclonedx", "--omit", "dev", "--package-lock-only"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    bom = json.loads(result.stdout)
    (OUT / "npm.cdx.json").write_text(json.dumps(bom, indent=2, ensure_ascii=False) + "\n")
    print(f"var/sbom/npm.cdx.json: {len(bom.get('components', []))} components")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    python_sboms()
    npm_sbom()
    return 0


if __name__ == "__main__":
    sys.exit(main())
