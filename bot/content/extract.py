"""A Babel extractor for the flow YAML, so ``pybabel extract`` finds flow strings.

Registered as the ``podruga_flows`` entry point in the ``babel.extractors``
group, and usable by path in a mapping file (``[bot.content.extract:extract_flows:
flows/**.yaml]``). It yields 1-based lines and a translator comment naming
the flow, step and topics. Step texts use the step id as ``msgctxt``, so the
same English sentence in two steps can be translated differently; button
labels share the context ``button``; the short names of sources (shown under
answers) the context ``source``, from ``flows/sources.yaml`` (its own domain,
``sources``) and from each flow's ``sources:`` block.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from bot.content import yamlsrc
from bot.content.yamlsrc import Node, NodeList
from bot.engine import SOURCE_CONTEXT

BUTTON_CONTEXT = "button"


def extract_flows(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any] | Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Yield ``(line, "pgettext", (context, text), comments)`` for every string women see."""
    text = fileobj.read().decode(options.get("encoding", "utf-8") if options else "utf-8")
    for line, context, message, comment in flow_messages(text, getattr(fileobj, "name", "flow")):
        yield line, "pgettext", (context, message), [comment]


def flow_messages(text: str, name: str) -> Iterator[tuple[int, str, str, str]]:
    """Yield ``(line, context, msgid, comment)`` for each translatable string of one flow file."""
    data, _ = yamlsrc.parse(text, str(name))
    if not isinstance(data, Node):
        return  # a broken file: nothing to translate
    sources = data.get("sources")
    if isinstance(sources, Node):
        for key, value in sources.items():
            if isinstance(value, Node) and isinstance(value.get("name"), str):
                yield (value.line_of("name"), SOURCE_CONTEXT, value["name"].strip(),
                       f"source {key}: its short name in the 'Sources:' line under answers. "
                       "Use the name she would search for in her language (ВООЗ/ВОЗ for WHO, "
                       "the law's own name); keep years and numbers. Full title: "
                       f"{value.get('title', '')}")
    if not isinstance(data.get("steps"), Node):
        return  # topics.yaml, sources.yaml: no steps
    flow = str(data.get("flow", ""))
    steps: Node = data["steps"]
    for step_name, body in steps.items():
        if not isinstance(body, Node):
            continue
        step_id = f"{flow}.{step_name}"
        topics = body.get("topics") or []
        about = f"flow {flow}, step {step_name}" + (
            f", topics {', '.join(map(str, topics))}" if isinstance(topics, list) and topics else ""
        )
        if isinstance(body.get("note"), str):
            about += f". Note: {body['note']}"
        say = body.get("say")
        if isinstance(say, str) and say.strip():
            yield body.line_of("say"), step_id, say.strip(), about
        elif isinstance(say, NodeList):
            for item in say:
                if isinstance(item, Node) and isinstance(item.get("text"), str):
                    when = item.get("when")
                    shown = ""
                    if isinstance(when, Node):
                        shown = "; when " + ", ".join(f"{k}={v}" for k, v in when.items())
                    yield item.line_of("text"), step_id, item["text"].strip(), about + shown
        buttons = body.get("buttons")
        if isinstance(buttons, NodeList):
            for item in buttons:
                if isinstance(item, Node) and isinstance(item.get("label"), str):
                    yield (item.line_of("label"), BUTTON_CONTEXT, item["label"].strip(),
                           f"button in {about}")
