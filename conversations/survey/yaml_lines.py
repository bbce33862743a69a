"""Read YAML while remembering the line of every value, so problems can name their line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from conversations.i18n import N_

Path = tuple[str | int, ...]


class YamlSyntaxError(Exception):
    """The text is not YAML; `line` is 1-based.

    Where the words are ours rather than the YAML library's, `template` (marked for the catalogs)
    and `params` make the whole problem a loader reports, as a loader Problem's do."""

    def __init__(
        self, message: str, line: int | None, template: str | None = None, params: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.line = line
        self.template = template
        self.params: Mapping[str, str] = params or {}


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML safely; return the value and a map from each path to its 1-based line."""
    try:
        # The reader checks characters as soon as it is made: a control character is a YAML error too.
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as error:
        raise YamlSyntaxError(str(error).splitlines()[0], None) from error
    try:
        node = loader.get_single_node()
        lines: dict[Path, int] = {}
        value = _convert(loader, node, (), lines) if node is not None else None
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error) from error
    except yaml.YAMLError as error:
        raise YamlSyntaxError(str(error), None) from error
    finally:
        loader.dispose()
    return value, lines


def _syntax_error(error: yaml.MarkedYAMLError) -> YamlSyntaxError:
    """Name the line where the trouble starts (an unclosed quote's opening), not where parsing gave up."""
    problem_line = error.problem_mark.line + 1 if error.problem_mark else None
    context_line = error.context_mark.line + 1 if error.context_mark else None
    problem = error.problem or str(error)
    if context_line is not None and error.context and context_line != problem_line:
        where = f" (line {problem_line})" if problem_line else ""
        return YamlSyntaxError(f"{error.context} on line {context_line}, {problem}{where}", context_line)
    return YamlSyntaxError(problem, problem_line or context_line)


def _convert(loader: yaml.SafeLoader, node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        first_lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in first_lines:
                # YAML keeps the last of two equal keys silently; an officer's typo should not vanish.
                line = key_node.start_mark.line + 1
                params = {"key": repr(key), "first": str(first_lines[key])}
                template = N_("not valid YAML: %(key)s appears twice in the same place (first on line %(first)s)")
                raise YamlSyntaxError(template % params, line, template, params)
            first_lines[key] = key_node.start_mark.line + 1
            if isinstance(key, bool | int | float):
                key_for_path: str | int = key if isinstance(key, int) else str(key)
            else:
                key_for_path = str(key)
            child = (*path, key_for_path)
            result[key] = _convert(loader, value_node, child, lines)
            # A field is named on the key's line, which is where an officer looks for it.
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, item, (*path, i), lines) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
