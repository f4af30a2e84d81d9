"""Loading everything together, and reload that keeps the last good version."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from bot.content.world import WorldHolder, freeze_world, load_world
from tests.conftest import ROOT, TODAY


def _copy_project(tmp_path: Path) -> Path:
    for folder in ("flows", "locales", "directory"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_a_broken_reload_keeps_the_last_good_world(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    world, errors, _ = load_world(root, TODAY)
    assert world is not None and errors == []
    holder = WorldHolder(world)
    main = root / "flows" / "main.yaml"
    main.write_text(main.read_text(encoding="utf-8").replace("go: crisis.start", "go: crisis.strat",
                                                             1), encoding="utf-8")
    errors, _ = holder.reload(TODAY)
    assert errors and str(errors[0]).startswith("flows/main.yaml:")
    assert holder.world is world, "the running bot keeps serving what it had"


def test_a_good_reload_keeps_the_deployments_handover_setting(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    world, _, _ = load_world(root, TODAY)
    assert world is not None
    holder = WorldHolder(replace(world, handover=False))
    errors, _ = holder.reload(TODAY)
    assert errors == [] and holder.world is not world
    assert holder.world.handover is False


def test_a_reload_in_a_frozen_bot_lets_the_old_world_go_and_freezes_the_new(
        tmp_path: Path) -> None:
    import gc

    from bot.content.flows import Flows

    root = _copy_project(tmp_path)
    world, _, _ = load_world(root, TODAY)
    assert world is not None
    holder = WorldHolder(world)
    old_flows = id(world.flows)
    del world
    freeze_world()
    try:
        errors, _ = holder.reload(TODAY)
        assert errors == [] and id(holder.world.flows) != old_flows
        assert gc.get_freeze_count() > 0, "the new world is kept out of the collector's walks"
    finally:
        gc.unfreeze()
    assert not any(type(o) is Flows and id(o) == old_flows for o in gc.get_objects()), \
        "the old world is let go, not kept frozen"
