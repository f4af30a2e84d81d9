"""The flows as a Mermaid flowchart, generated from the loaded flows (never drawn by hand)."""

from __future__ import annotations

from collections.abc import Iterator

from bot.content.flows import Flows


def mermaid(flows: Flows) -> Iterator[str]:
    """The lines of a Mermaid ``flowchart``: one edge per button, labelled with its text."""
    yield "flowchart LR"
    for step in flows.steps.values():
        node = step.id.replace(".", "_")
        for button in step.buttons:
            target = button.go.replace(".", "_").replace(":", "_").replace("+", "_")
            yield f'  {node} -->|"{button.label}"| {target}'
