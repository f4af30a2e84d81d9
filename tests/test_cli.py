"""The ``podruga`` commands as a newcomer meets them: help, bad options, the terminal chat.

Each bad option is refused with one ``podruga …:`` line and exit status 2, never
a traceback (../shared/reviews/newcomer_review.md, A4 and A5).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.adapters.console import NotSent, Screen, parse_input, run_chat
from bot.cli import main
from bot.content.catalogs import update
from bot.content.world import copy_shipped
from bot.engine.events import Button, Command, Location, Text
from bot.engine.replies import Choice
from tests.conftest import NOW, ROOT


def _podruga(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PODRUGA_DATA", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_podruga_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("run", "chat", "check", "ask", "find", "directory", "catalogs", "graph",
                 "data", "bench"):
        assert f"\n  {name} " in out
    assert "'podruga COMMAND --help'" in out


def test_directory_help_is_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["directory", "--help"]) == 0
    assert "podruga directory export --hsds DIR" in capsys.readouterr().out


def test_export_into_a_folder_it_cannot_make_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["directory", "export", "--hsds", str(blocker / "hsds")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"podruga directory export: cannot write into {blocker / 'hsds'}: ")
    assert err.count("\n") == 1


def test_catalogs_refuses_an_unknown_domain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogs", "--domain", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("podruga: --domain: no domain 'nosuch'") and "crisis" in err
    assert err.count("\n") == 1


def test_catalogs_help_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["catalogs", "--help"])
    assert "``" not in capsys.readouterr().out


def test_catalogs_leaves_an_up_to_date_catalog_as_it_is(tmp_path: Path) -> None:
    for name in ("flows", "locales", "bot"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    update(tmp_path, domains=["crisis"])  # brings it up to date if main's is behind
    po = tmp_path / "locales" / "uk" / "LC_MESSAGES" / "crisis.po"
    before = po.read_bytes()
    report = update(tmp_path, domains=["crisis"])
    assert po.read_bytes() == before  # POT-Creation-Date included
    assert all(line.endswith("(unchanged)") for line in report), report


def test_a_closed_pipe_is_no_traceback() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "graph"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `podruga graph | head -0` does
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(60) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err


SCREEN = Screen("menu", (Choice("OST", "ost.start"), Choice("Share", "do:location")))


@pytest.mark.parametrize("line, event", [
    ("1\n", Button("ost.start")),
    ("/menu", Command("menu")),
    ("/MENU@podruga_bot now", Command("menu")),
    ("/foo", Command("menu")),  # as in Telegram: an unknown command opens the menu
    ("/stats", Command("menu")),  # a staff command is not hers
    ("/", Text("/")),  # not a command in Telegram either: she typed a slash
    ("/помогите он не дышит", Text("/помогите он не дышит")),  # Latin names only
    ("@50.45, 30.52", Location(50.45, 30.52)),
    ("де тест на віл", Text("де тест на віл")),
    ("   ", None),
])
def test_a_typed_line_is_the_event_telegram_would_send(line: str, event: object) -> None:
    assert parse_input(line, SCREEN) == event


@pytest.mark.parametrize("line, said", [
    ("3", "(no button 3 on this screen: type 1 to 2)"),
    ("0", "(no button 0 on this screen: type 1 to 2)"),
    ("2", "(the terminal cannot send a location: type @lat,lon"),
    ("@95,500", "(@95,500 is not a place on Earth: latitude (-90 to 90) comes first"),
])
def test_a_line_the_terminal_cannot_send_says_why(line: str, said: str) -> None:
    with pytest.raises(NotSent) as caught:
        parse_input(line, SCREEN)
    assert str(caught.value).startswith(said)


def test_a_number_on_a_screen_without_buttons() -> None:
    with pytest.raises(NotSent, match="no buttons"):
        parse_input("1", Screen("text", ()))


def test_the_prompt_comes_before_what_she_types(world) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    read: list[str] = []

    def lines():  # type: ignore[no-untyped-def]
        for line in ("/help\n", "99\n", "/foo\n"):
            read.append(out.getvalue())
            yield line

    run_chat(world, lines(), out, lang="en", country="UA", clock=lambda: NOW, prompt="> ")
    assert all(seen.endswith("> ") for seen in read)  # the prompt is out before each read
    text = out.getvalue()
    assert "(no button 99 on this screen" in text
    assert "(/foo is not a command she can send: the bot opens the menu, as in Telegram)" in text
    assert text.endswith("> ")


def test_chat_refuses_a_bad_option_in_one_line() -> None:
    done = _podruga("chat", "--country", "ukraine")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("podruga: ") and done.stderr.count("\n") == 1


# -- the staff commands: check, catalogs, graph ------------------------------------------


def test_check_on_a_broken_copy_names_file_and_line_and_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy_shipped(tmp_path)
    flow = tmp_path / "flows" / "pregnancy.yaml"
    lines = flow.read_text(encoding="utf-8").split("\n")
    line = next(n for n, text in enumerate(lines, 1) if "go: ost.pregnancy}" in text)
    lines[line - 1] = lines[line - 1].replace("go: ost.pregnancy}", "go: ost.pregnacy}")
    flow.write_text("\n".join(lines), encoding="utf-8")
    assert main(["check", "--data", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    errors = [out for out in captured.out.splitlines() if "ost.pregnacy" in out]
    assert errors == [f"flows/pregnancy.yaml:{line}: step 'start': button 1: goes to unknown "
                      "step 'ost.pregnacy'; did you mean 'ost.pregnancy'?"]
    assert captured.err.startswith("1 error, ")  # counted with plural forms


def test_catalogs_updates_the_catalog_whose_flow_changed_and_no_other(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("flows", "locales", "bot"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    domains = ["--domain", "crisis", "--domain", "pregnancy"]
    assert main(["catalogs", "--data", str(tmp_path), *domains]) == 0  # up to date first
    flow = tmp_path / "flows" / "pregnancy.yaml"
    old = "Pregnancy, tests, contraception and your rights as a mother."
    new = "Pregnancy, tests, birth control and your rights as a mother."
    flow.write_text(flow.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    catalogs = tmp_path / "locales" / "uk" / "LC_MESSAGES"
    crisis_before = (catalogs / "crisis.po").read_bytes()
    capsys.readouterr()
    assert main(["catalogs", "--data", str(tmp_path), *domains]) == 0
    report = capsys.readouterr().out
    assert (catalogs / "crisis.po").read_bytes() == crisis_before
    with (catalogs / "pregnancy.po").open("rb") as fp:
        pregnancy = read_po(fp)
    changed = next(m for m in pregnancy if m.id and new in str(m.id))
    assert "fuzzy" in changed.flags  # a translator reviews the old translation
    assert not any(m.id and old in str(m.id) for m in pregnancy)
    assert any("crisis" in line and line.endswith("(unchanged)") for line in report.splitlines())
    assert any("pregnancy" in line and not line.endswith("(unchanged)")
               for line in report.splitlines()), report


def test_graph_draws_every_button_of_every_flow(
        world, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["graph"]) == 0
    first, *edges = capsys.readouterr().out.splitlines()
    assert first == "flowchart LR"
    edge = re.compile(r'^  (\w+) -->\|"[^"]*"\| (\w+)$')
    assert all(edge.match(line) for line in edges), [e for e in edges if not edge.match(e)][:3]
    sources = {edge.match(line).group(1) for line in edges}  # type: ignore[union-attr]
    assert {node.split("_")[0] for node in sources} == set(world.flows.flows)
    assert len(edges) == sum(len(s.buttons) for s in world.flows.steps.values())
