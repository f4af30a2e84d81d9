"""Build hook: the shipped content goes into the wheel as package data.

``flows/``, ``locales/`` and ``directory/`` sit at the top of the repository,
where staff and translators edit them, not inside the ``bot`` package. A wheel
(``pip install .``) gets a copy of them in ``bot/content/shipped/``; ``bot.content.world``
reads that copy when no ``PODRUGA_DATA`` or ``--data`` names another folder.
An editable install (``pip install -e .``) copies nothing: it reads the
checkout's own folders. The sdist carries the folders through MANIFEST.in.
Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CONTENT = ("flows", "locales", "directory")  # bot.content.world.CONTENT
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", ".*")


class BuildWithContent(build_py):
    """``build_py`` that also copies the content folders into ``bot/content/shipped``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "bot" / "content" / "shipped"
        for name in CONTENT:
            source = here / name
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing: build from a full checkout")
            if (target / name).exists():
                shutil.rmtree(target / name)
            shutil.copytree(source, target / name, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithContent})
