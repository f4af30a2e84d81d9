"""Everything the engine reads, loaded and checked together, with reload that keeps
the last good version.

``load_world(root)`` reads ``flows/``, ``locales/`` and ``directory/`` below
``root`` and builds the matcher index. Any error means no new world: a running
bot's ``WorldHolder.reload()`` then keeps serving the one it had.

Which folder is ``root`` (``data_root``): the ``--data`` option, else the
``PODRUGA_DATA`` environment variable (staff's own edited copy), else the
content shipped with the program: inside the installed package (the wheel
puts it in ``bot/content/shipped/``, see setup.py), or the checkout's own folders when
running from a checkout or an editable install.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.content import flows as flow_loader
from bot.content import i18n
from bot.content.flows import Flows
from bot.content.i18n import Catalogs
from bot.engine.translator import Translator
from bot.errors import C_, DataError, Issue, OptionError
from bot.vocabulary import LANGS

log = logging.getLogger("podruga.world")

CONTENT = ("flows", "locales", "directory")  # the folders a data directory holds
DATA_ENV = "PODRUGA_DATA"
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # a checkout (or an editable install)
PACKAGED_ROOT = Path(__file__).resolve().parent / "shipped"  # a wheel's copy (setup.py)


def shipped_root() -> Path:
    """The content shipped with the program: the package's copy, or the checkout's."""
    return PACKAGED_ROOT if (PACKAGED_ROOT / "flows").is_dir() else SOURCE_ROOT


DEFAULT_ROOT = shipped_root()


def data_source(option: str | None = None,
                env: Mapping[str, str] | None = None) -> tuple[Path, str]:
    """The content folder to read and why: (path, "--data" | "PODRUGA_DATA" | "shipped")."""
    environ = os.environ if env is None else env
    if option:
        return Path(option).expanduser().resolve(), "--data"
    configured = environ.get(DATA_ENV, "").strip()
    if configured:
        return Path(configured).expanduser().resolve(), DATA_ENV
    return DEFAULT_ROOT, "shipped"


def data_root(option: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The content folder to read; OptionError naming the folder when it holds no flows.

    ``option`` is the ``--data`` option's value; without it ``PODRUGA_DATA``
    names staff's own copy; without either, the shipped content is read.
    """
    root, source = data_source(option, env)
    if not (root / "flows").is_dir():
        where = "--data" if source == "--data" else f"{DATA_ENV}={root}"
        raise OptionError(C_(
            "{where}: {folder} has no flows/ folder; a data folder holds flows/, locales/ and "
            "directory/ (make one with 'podruga data copy {folder}')", where=where, folder=root))
    return root


def copy_shipped(target: Path) -> list[Path]:
    """Copy the shipped flows, locales and directory into ``target`` for staff to edit.

    Refuses (OptionError) to overwrite a folder that is already there.
    """
    source = shipped_root()
    made: list[Path] = []
    for name in CONTENT:
        if (target / name).exists():
            raise OptionError(f"{target / name} already exists; nothing was copied")
    target.mkdir(parents=True, exist_ok=True)
    for name in CONTENT:
        shutil.copytree(source / name, target / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
        made.append(target / name)
    return made


@dataclass(frozen=True)
class World:
    """Loaded content: flows, translations, the directory and the matcher index."""

    root: Path
    flows: Flows
    catalogs: Catalogs
    directory: Any = None  # bot.content.directory.Directory
    index: Any = None  # bot.matching.Index
    handover: bool = True  # the Telegram adapter sets False when no staff chat is configured
    loaded_at: datetime | None = None
    issues: tuple[Issue, ...] = field(default=())

    def tr(self, lang: str) -> Translator:
        return self.catalogs.get(lang)

    def render_card(self, found: Any, lang: str, tr: Translator, now: datetime) -> Any:
        from bot.content.directory import render_card

        return render_card(found, lang, tr, now)

    def render_hotline(self, hotline: Any, lang: str, tr: Translator) -> str:
        from bot.content.directory import render_hotline

        return render_hotline(hotline, lang, tr)

    @property
    def steps(self) -> Any:
        return self.flows.steps


def _load_directory(root: Path, today: date) -> tuple[Any, list[DataError], list[Issue]]:
    from bot.content import directory

    if not (root / "directory").is_dir():
        return None, [], []  # a project without services: the engine says the list is missing
    found, errors, issues = directory.load(root / "directory", today=today)
    return found, list(errors), list(issues)


def build_index(flows: Flows, catalogs: Any = None) -> Any:
    """The matcher index over every step's ``ask`` phrases and the labels that lead to it.

    A button's label ("What is OST?") is how the menu names a step, so it is the
    step's title in each language: a short, generic question ("що таке зпт") then
    lands on the step the menu would have opened.
    """
    from bot.matching import Entry, Index

    entries = []
    for step in flows.steps.values():
        if not step.ask and not step.is_answer:
            continue
        titles: dict[str, str] = {}
        label = flows.label_of(step.id)
        if label is not None and catalogs is not None:
            titles = {lang: _plain(catalogs.get(lang).pgettext("button", label))
                      for lang in LANGS}
        entries.append(Entry(step=step.id, topics=step.topics,
                             phrases={k: tuple(v) for k, v in step.ask.items()},
                             crisis=step.crisis, titles=titles))
    return Index.build(entries)


def _plain(label: str) -> str:
    """A label without its emoji and marks: only the words count for matching."""
    return " ".join("".join(c if c.isalnum() or c in "'’ʼ" else " " for c in label).split())


def staff_language(lang: str, root: Path) -> Translator:
    """What ``podruga check`` and ``/reload`` tell staff, in ``lang``: the ``check``
    catalog of the data folder, else the shipped one, else English."""
    return i18n.staff_language(lang, root / "locales", shipped_root() / "locales")


def check_all(root: Path, today: date) -> tuple[World | None, list[DataError], list[Issue]]:
    """Load everything and check the translations of every shipped string."""
    world, errors, issues = load_world(root, today)
    if world is not None:
        wanted = list(_wanted(root))
        errors += i18n.check(world.catalogs, wanted, root / "locales", root)
    return (world if not errors else None), errors, issues


def _wanted(root: Path) -> Iterator[i18n.Wanted]:
    yield from i18n.wanted_from_flows(root / "flows", root)
    yield from i18n.wanted_from_code(Path(__file__).resolve().parents[1], root)  # bot/


def load_world(root: Path = DEFAULT_ROOT, today: date | None = None,
               now: datetime | None = None) -> tuple[World | None, list[DataError], list[Issue]]:
    """Read flows, catalogs and directory below ``root``; a world only if all are clean."""
    today = today or date.today()
    flows, errors, issues = flow_loader.load(root / "flows", today)
    catalogs, cat_errors = i18n.load(root / "locales", root)
    errors += cat_errors
    directory, dir_errors, dir_issues = _load_directory(root, today)
    errors += dir_errors
    issues += dir_issues
    if errors or flows is None or catalogs is None:
        return None, errors, issues
    world = World(root=root, flows=flows, catalogs=catalogs, directory=directory,
                  index=build_index(flows, catalogs), loaded_at=now, issues=tuple(issues))
    return world, [], issues


def freeze_world() -> None:
    """Leave everything alive now (the world: its models, words and texts) out of the
    garbage collector's walks. A full collection walks every object; over the world it
    took a sixth of a question's time, and once in a while a whole pause mid-answer."""
    gc.collect()
    gc.freeze()


class WorldHolder:
    """Holds the world in use; a reload with errors keeps the last good one."""

    def __init__(self, world: World) -> None:
        self.world = world

    def reload(self, today: date | None = None) -> tuple[list[DataError], list[Issue]]:
        # The same checks as `podruga check`: what it refuses would break her turns.
        new, errors, issues = check_all(self.world.root, today or date.today())
        if new is None:
            log.warning("reload refused: %d problem(s); keeping the last good content",
                        len(errors))
            return errors, issues
        # Whether consultants are connected is the deployment's, not the data's: keep it.
        self.world = replace(new, handover=self.world.handover)
        if gc.get_freeze_count():  # the running bot keeps its world out of the collector's
            gc.unfreeze()          # walks (see freeze_world): let the old one go, keep the new
            freeze_world()
        log.info("reloaded content: %d steps", len(new.flows.steps))
        return [], issues
