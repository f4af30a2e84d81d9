"""The rings of bot/, as README's "How it is built" draws them, checked on every import.

The engine is the pure core; content, understanding and the store sit around it; the
adapters and the command line are the outer ring and may import anything. An import
that points outwards (the engine reading content, content reaching for the Telegram
adapter) fails here, naming the file and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"

# For each ring (a package or module of bot/), the parts of bot it may import. None: any.
MAY_IMPORT: dict[str, tuple[str, ...] | None] = {
    "engine": ("bot.engine", "bot.vocabulary", "bot.limits", "bot.errors"),
    "vocabulary": (),
    "limits": (),
    "errors": (),
    # Understanding: text in, a match out. It neither reads staff files nor keeps anything.
    "matching": ("bot.matching", "bot.limits"),
    # The store keeps the engine's State as it is and knows nothing of content or Telegram.
    "store": ("bot.store", "bot.engine.state", "bot.errors", "bot.limits"),
    # Content builds what the engine reads (the world, with its matcher index), so it may
    # use the core and understanding, never an adapter or a command.
    "content": ("bot.content", "bot.engine", "bot.matching", "bot.vocabulary", "bot.limits",
                "bot.errors"),
    "adapters": None,
    "cli": None,
    "config": None,  # the settings of `podruga run`, read by the Telegram adapter
}


def _ring(path: Path) -> str:
    return path.relative_to(BOT).parts[0].removesuffix(".py")


def _bot_imports(path: Path) -> list[tuple[int, str]]:
    """Every import of a bot module in the file, lazy ones inside functions too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "bot"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "bot":  # from bot import x: x is a module of bot
                found += [(node.lineno, f"bot.{a.name}") for a in node.names]
            elif node.module.startswith("bot."):
                found.append((node.lineno, node.module))
    return found


FILES = sorted(p for p in BOT.rglob("*.py") if p.name != "__init__.py" or p.parent != BOT)


def test_every_module_belongs_to_a_ring() -> None:
    assert {_ring(p) for p in FILES} <= set(MAY_IMPORT), "a new ring: add it to MAY_IMPORT"
    root = {p.stem for p in BOT.glob("*.py")} - {"__init__"}
    assert root == {"config", "errors", "limits", "vocabulary"}, "a handful at the root, no more"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(BOT)))
def test_imports_point_inwards(path: Path) -> None:
    allowed = MAY_IMPORT[_ring(path)]
    if allowed is None:
        return
    wrong = [f"{path.relative_to(BOT.parent)}:{line}: imports {name}"
             for line, name in _bot_imports(path)
             if not any(name == a or name.startswith(a + ".") for a in allowed)]
    assert not wrong, "\n".join(wrong)
