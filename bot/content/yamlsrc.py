"""YAML reading that keeps 1-based line numbers and refuses duplicate keys.

Staff edit these files by hand, so every value remembers where it came from:
mappings become ``Node`` dicts with ``line`` and ``key_lines``, sequences become
``NodeList`` with ``line`` and ``item_lines``. PyYAML marks are 0-based; the
one ``+ 1`` lives here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

try:
    from yaml import CSafeLoader as _FastBase
except ImportError:  # PyYAML built without libyaml: the same loader, only slower
    from yaml import SafeLoader as _FastBase  # type: ignore[assignment]

from bot.errors import C_, DataError, StaffText

log = logging.getLogger(__name__)


class Node(dict[str, Any]):
    """A mapping from a YAML file, with the line of itself and of each key."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class NodeList(list[Any]):
    """A sequence from a YAML file, with the line of itself and of each item."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


if TYPE_CHECKING:
    _Mixin = yaml.SafeLoader  # what _Lines is mixed into, for the type checker
else:
    _Mixin = object


class _Lines(_Mixin):
    """What both loaders add to PyYAML's safe loading: lines, and duplicate keys collected."""

    def __init__(self, stream: str, path: str) -> None:
        super().__init__(stream)
        self.path = path
        self.problems: list[DataError] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Node:  # type: ignore[override]
        self.flatten_mapping(node)
        result = Node()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            key = str(key) if not isinstance(key, str) else key
            line = key_node.start_mark.line + 1
            if key in result:
                first = result.key_lines[key]
                self.problems.append(DataError(self.path, line, C_(
                    "'{key}' appears twice (first on line {line})", key=key, line=first)))
                continue
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = line
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> NodeList:  # type: ignore[override]
        result = NodeList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


class _Loader(_Lines, yaml.SafeLoader):
    """Pure Python: slow, but its words for a mistake are the ones staff are shown."""


# libyaml reads the content about ten times faster, which a /reload feels; its messages
# differ from PyYAML's, so a file it refuses is read again by _Loader for the message.
class _FastLoader(_Lines, _FastBase):
    """libyaml underneath."""

for _loader in (_Loader, _FastLoader):
    _loader.add_constructor("tag:yaml.org,2002:map", _Lines.construct_mapping)
    _loader.add_constructor("tag:yaml.org,2002:seq", _Lines.construct_sequence)


def read(path: Path, shown_as: str | None = None) -> tuple[Any, list[DataError]]:
    """Read one YAML file; return its data (or None) and every problem found."""
    name = shown_as or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            return None, [DataError(name, 1, C_("the file cannot be opened: it is not UTF-8 text"))]
        return None, [DataError(name, 1, C_("the file cannot be opened: it cannot be read"))]
    return parse(text, name)


def parse(text: str, name: str) -> tuple[Any, list[DataError]]:
    """Parse YAML text shown to staff as ``name``; return its data (or None) and problems."""
    fast = _FastLoader(text, name)
    try:
        return fast.get_single_data(), fast.problems
    except yaml.YAMLError:
        log.debug("%s: libyaml refused it; reading it again for PyYAML's message", name)
    finally:
        fast.dispose()
    loader = _Loader(text, name)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = (exc.problem or "the text is not valid YAML").strip()
        hint: StaffText | str = ""
        if "\t" in text and "'\\t'" in problem:
            hint = C_(" (use spaces, not tabs)")
        return None, [DataError(name, line, C_("this is not valid YAML: {problem}{hint}",
                                               problem=_problem(problem), hint=hint))]
    except yaml.YAMLError as exc:  # not marked: rare
        return None, [DataError(name, 1, C_("this is not valid YAML: {problem}{hint}",
                                            problem=str(exc), hint=""))]
    finally:
        loader.dispose()
    return data, loader.problems


def _problem(problem: str) -> StaffText | str:
    """PyYAML's words for the mistakes staff make most, as staff messages (English unchanged);
    any other problem is shown as PyYAML says it."""
    if problem == "mapping values are not allowed here":
        return C_("mapping values are not allowed here")
    if problem == "could not find expected ':'":
        return C_("could not find expected ':'")
    if problem == "found character '\\t' that cannot start any token":
        return C_("found character '\\t' that cannot start any token")
    if problem.startswith("expected <block end>"):
        return C_("expected <block end>, but found {found}", found=problem.rpartition(" found ")[2])
    return problem
