"""Packaging and the data directory: what `pip install .` gives, and which content is read.

The wheel test does what a deployer does from a clean clone: the repository's
files (tracked and new, nothing ignored) are copied to a temporary folder, an
sdist is built there, a wheel is built from that sdist by pip, and the wheel is
installed into a folder of its own. `podruga check` and `podruga chat` then run
from yet another folder, with no checkout on the path, and must find the
shipped flows, catalogs and directory inside the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.cli import main
from bot.content.world import (
    DATA_ENV,
    SOURCE_ROOT,
    copy_shipped,
    data_root,
    data_source,
    load_world,
)
from bot.errors import OptionError
from tests.conftest import ROOT, TODAY

CONTENT = ("flows", "locales", "directory")


def _repo_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    return [name for name in listed if name and (ROOT / name).is_file()]


def _clean_clone(target: Path) -> Path:
    for name in _repo_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


def _shipped(prefix: str = "") -> set[str]:
    """Every content file the repository holds, as paths below ``prefix``."""
    return {prefix + name for name in _repo_files() if name.split("/", 1)[0] in CONTENT}


def _env_without_data(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (DATA_ENV, "PYTHONPATH")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """sdist -> wheel -> installed into a folder: what `pip install .` puts on a server."""
    base = tmp_path_factory.mktemp("pkg")
    src = _clean_clone(base / "src")
    dist = base / "dist"
    sdist = subprocess.run(
        [sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
         "print(b.build_sdist(sys.argv[1]))", str(dist)],
        cwd=src, capture_output=True, text=True)
    assert sdist.returncode == 0, sdist.stderr[-3000:]
    tarball = dist / sdist.stdout.strip().splitlines()[-1]
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(dist), str(tarball)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(dist.glob("podruga-*.whl"))
    site = base / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--no-index", "--target", str(site), str(wheel)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return {"sdist": tarball, "wheel": wheel, "site": site, "cwd": elsewhere}


def _podruga(installed: dict[str, Path], *args: str, stdin: str = "",
             **env: str) -> subprocess.CompletedProcess[str]:
    site = installed["site"]
    return subprocess.run([str(site / "bin" / "podruga"), *args], input=stdin,
                          cwd=installed["cwd"], capture_output=True, text=True, timeout=120,
                          env=_env_without_data(PYTHONPATH=str(site), **env))


def test_the_sdist_and_the_wheel_carry_the_shipped_content(installed: dict[str, Path]) -> None:
    import tarfile

    with tarfile.open(installed["sdist"]) as tar:
        top = tar.getnames()[0].split("/", 1)[0]
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert _shipped() <= in_sdist, sorted(_shipped() - in_sdist)[:5]
    assert top.startswith("podruga-")
    with zipfile.ZipFile(installed["wheel"]) as wheel:
        in_wheel = set(wheel.namelist())
    packaged = _shipped("bot/content/shipped/")
    assert packaged <= in_wheel, sorted(packaged - in_wheel)[:5]
    assert not any(name.startswith(("tests/", "bench/", "flows/")) for name in in_wheel)


def test_the_installed_program_runs_from_any_folder(installed: dict[str, Path]) -> None:
    where = subprocess.run([sys.executable, "-c", "import bot; print(bot.__file__)"],
                           cwd=installed["cwd"], capture_output=True, text=True,
                           env=_env_without_data(PYTHONPATH=str(installed["site"])))
    assert where.stdout.startswith(str(installed["site"])), "the installed copy, not the checkout"
    check = _podruga(installed, "check")
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
    content = installed["site"] / "bot" / "content" / "shipped"
    assert f"content: {content} (shipped with the program)" in check.stdout
    assert "ok: " in check.stdout
    chat = _podruga(installed, "chat", "--lang", "en", "--country", "UA", stdin="/menu\n2\n")
    assert chat.returncode == 0, chat.stderr[-2000:]
    assert "OST" in chat.stdout and "Pregnancy" in chat.stdout


def test_the_installed_program_reads_staffs_copy(installed: dict[str, Path],
                                                 tmp_path: Path) -> None:
    mine = tmp_path / "our-content"
    made = _podruga(installed, "data", "copy", str(mine))
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in mine.iterdir()) == sorted(CONTENT)
    label = 'msgstr "💊 ЗПТ: метадон, бупренорфін"'  # a button label: every catalog has it
    for catalog in (mine / "locales" / "uk" / "LC_MESSAGES").glob("*.po"):
        text = catalog.read_text(encoding="utf-8")
        catalog.write_text(text.replace(label, 'msgstr "💊 ЗПТ (наша правка)"'),
                           encoding="utf-8")
    for how in ({DATA_ENV: str(mine)}, {}):
        args = ("chat", "--lang", "uk", "--country", "UA")
        args += () if how else ("--data", str(mine))
        chat = _podruga(installed, *args, stdin="/menu\n", **how)
        assert chat.returncode == 0, chat.stderr[-2000:]
        assert "ЗПТ (наша правка)" in chat.stdout
    where = _podruga(installed, "data", **{DATA_ENV: str(mine)})
    assert where.stdout.strip() == f"{mine} (from {DATA_ENV})"


# -- the data directory setting, in process ----------------------------------------------


def test_the_data_folder_comes_from_the_option_then_the_environment(tmp_path: Path) -> None:
    (tmp_path / "a" / "flows").mkdir(parents=True)
    (tmp_path / "b" / "flows").mkdir(parents=True)
    env = {DATA_ENV: str(tmp_path / "b")}
    assert data_source(str(tmp_path / "a"), env) == (tmp_path / "a", "--data")
    assert data_source(None, env) == (tmp_path / "b", DATA_ENV)
    assert data_source(None, {})[1] == "shipped"
    assert data_root(None, {}) == SOURCE_ROOT, "a checkout reads its own folders"


def test_a_data_folder_without_flows_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match=f"{DATA_ENV}=.*nowhere has no flows/ folder"):
        data_root(None, {DATA_ENV: str(tmp_path / "nowhere")})
    with pytest.raises(OptionError, match="--data: .* has no flows/"):
        data_root(str(tmp_path))


def test_commands_refuse_a_missing_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "gone"))
    assert main(["chat", "--lang", "en"]) == 2
    assert "gone has no flows/ folder" in capsys.readouterr().err
    assert main(["check", "--data", str(tmp_path)]) == 2
    assert main(["run"]) == 2  # the settings are checked first, then the folder


def test_copy_shipped_makes_a_folder_that_loads_and_refuses_to_overwrite(tmp_path: Path) -> None:
    made = copy_shipped(tmp_path / "data")
    assert [p.name for p in made] == list(CONTENT)
    world, errors, _ = load_world(tmp_path / "data", TODAY)
    assert world is not None, errors[:3]
    with pytest.raises(OptionError, match="already exists"):
        copy_shipped(tmp_path / "data")


def test_check_says_which_content_it_read(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    copy_shipped(tmp_path)
    assert main(["check", "--data", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith(f"content: {tmp_path} (from --data)")
