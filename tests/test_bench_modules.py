"""Every benchmark in bench/ at least imports and parses its --help: a refactor that breaks one is
seen here, not months later by whoever runs it (bench/ is not imported by the product)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bench

MODULES = sorted(name for _, name, _ in pkgutil.iter_modules(bench.__path__))


def test_the_benchmarks_are_all_found():
    assert {"crawl", "distributed", "extraction", "polls", "storage", "writes"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_a_benchmark_imports_and_answers_help(name, capsys):
    module = importlib.import_module(f"bench.{name}")
    main = getattr(module, "main", None)
    if main is None:  # a helper module of the benchmarks
        return
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    assert "usage" in capsys.readouterr().out.lower()
