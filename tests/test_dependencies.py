"""Every third-party package the product code imports is declared in pyproject.toml, so a package
that arrives only through another one's dependencies (htmldate through trafilatura) cannot be
relied on silently: when that other package drops it, the install breaks."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ["crawler", "archive", "newsarchive", "scheduler.py"]
OWN = {"crawler", "archive", "newsarchive", "scheduler"}
# Code that only runs inside another program, with the extra that declares that program.
RUNS_INSIDE = {"newsarchive/datasette_plugin": "datasette"}


def _name(requirement: str) -> str:
    """The normalized distribution name of a requirement ("psycopg[binary]>=3.2" -> "psycopg")."""
    return re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9_.-]+)", requirement).group(1)).lower()


def declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = {extra: {_name(r) for r in reqs} for extra, reqs in project.get("optional-dependencies", {}).items()}
    return {_name(r) for r in project["dependencies"]}, extras


def top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def undeclared(files: list[Path], required: set[str], extras: dict[str, set[str]]) -> dict[str, list[str]]:
    """{module: [files]} of third-party imports no declared distribution provides."""
    providers = packages_distributions()
    missing: dict[str, list[str]] = {}
    for path in files:
        relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        allowed = set(required)
        for folder, extra in RUNS_INSIDE.items():
            if relative.startswith(folder + "/"):
                allowed |= extras.get(extra, set())
        for module in top_level_imports(path):
            if module in sys.stdlib_module_names or module in OWN:
                continue
            dists = {_name(d) for d in providers.get(module, [])}
            if not dists & allowed:
                missing.setdefault(module, []).append(relative)
    return missing


def product_files() -> list[Path]:
    files = []
    for entry in PRODUCT:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def test_every_imported_package_is_declared():
    required, extras = declared()
    assert undeclared(product_files(), required, extras) == {}


def test_an_undeclared_import_is_caught(tmp_path):
    # boilerpy3 is installed (wacz needs it) but newsarchive does not declare it
    module = tmp_path / "uses_transitive.py"
    module.write_text("import json\nfrom boilerpy3 import extractors\nimport archive.urls\n")
    required, extras = declared()
    assert undeclared([module], required, extras) == {"boilerpy3": ["uses_transitive.py"]}
