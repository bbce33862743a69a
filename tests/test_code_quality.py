"""The code stays ruff- and mypy-clean: checked with the tests, so CI enforces it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=240)


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "bot", "conversations", "storage", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow  # 0.5 s with its cache, 20 s of CPU without (a fresh checkout)
def test_mypy_strict_finds_nothing() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
