"""The benchmarks are not run by the suite (their figures are read by people, from one run), but each of them
must still start: a helper renamed in one module once left `bench.on_sale` failing at its first import."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("module", sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__"))
def test_each_benchmark_module_imports(module: str) -> None:
    importlib.import_module(f"bench.{module}")
