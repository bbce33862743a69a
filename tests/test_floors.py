"""The floors point down only: bot/ (the edge) over conversations/ (the logic) over storage/.

Every import in every module is read, including those inside functions and under TYPE_CHECKING,
so an import that runs back up fails the build wherever it is written.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What each floor must never import: the floors above it, and Telegram below the edge.
FORBIDDEN: dict[str, frozenset[str]] = {
    "bot": frozenset(),
    "conversations": frozenset({"bot", "telegram"}),
    "storage": frozenset({"bot", "conversations", "telegram"}),
}


def imports_in(source: str, package: str) -> list[tuple[int, str]]:
    """Each module the source imports, with its line; relative imports are resolved from `package`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                target = ".".join([*base, target] if target else base)
            found.append((node.lineno, target))
    return found


def package_of(path: Path) -> str:
    """The package a module's relative imports start from (a package's own, for its __init__.py)."""
    return ".".join(path.relative_to(ROOT).parent.parts)


def violations() -> list[str]:
    found = []
    for floor, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / floor).rglob("*.py")):
            for line, target in imports_in(path.read_text(encoding="utf-8"), package_of(path)):
                if target.split(".")[0] in forbidden:
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return found


def test_every_floor_has_modules_to_read() -> None:
    for floor in FORBIDDEN:
        assert list((ROOT / floor).rglob("*.py")), f"{floor}/ has no modules: the test would read nothing"


def test_imports_point_down_only() -> None:
    found = violations()
    assert not found, f"{len(found)} import(s) run back up a floor:\n" + "\n".join(found)


def test_an_import_is_seen_wherever_it_is_written() -> None:
    source = (
        "import os, telegram.ext\n"
        "from conversations.i18n import escape\n"
        "from . import screens\n"
        "from ..bot import app\n"
        "def f():\n"
        "    import conversations.screens\n"
    )
    assert sorted(imports_in(source, "conversations.survey")) == [
        (1, "os"),
        (1, "telegram.ext"),
        (2, "conversations.i18n"),
        (3, "conversations.survey"),
        (4, "conversations.bot"),
        (6, "conversations.screens"),
    ]
    assert package_of(ROOT / "conversations" / "survey" / "__init__.py") == "conversations.survey"
    assert package_of(ROOT / "conversations" / "survey" / "engine.py") == "conversations.survey"
