"""Safe YAML reading that remembers where every field came from.

Errors about a paradigm file must point at a line. PyYAML's composed node tree keeps
source positions; we walk it once and map each dotted field path to its line, then
load the same text with ``yaml.safe_load`` (never the full loader: paradigm files are
data, not code).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from probing._core.errors import SpecError


class Located(dict):
    """Mapping from field path (``"slots.verb.number"``) to 1-based line number."""

    def line(self, field):
        """Line of ``field`` or of its nearest recorded ancestor (None if unknown)."""
        while field:
            if field in self:
                return self[field]
            field = field.rpartition(".")[0]
        return None


def read_yaml(path):
    """Read a YAML mapping from ``path`` with a safe loader.

    Parameters
    ----------
    path : str or path-like
        The file to read.

    Returns
    -------
    data : dict
        The parsed mapping.
    lines : Located
        Field path -> line number, for error messages.

    Raises
    ------
    SpecError
        If the file is missing, not valid YAML, or not a mapping at the top level.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:  # bounded: /dev/zero or a huge file must not hang
            raw = fh.read(4 * MAX_CHARS + 1)
    except FileNotFoundError:
        raise SpecError("no such file", file=path) from None
    except OSError as err:
        raise SpecError(f"cannot read file ({err.__class__.__name__})", file=path) from None
    if len(raw) > 4 * MAX_CHARS:
        raise SpecError(f"file is larger than {MAX_CHARS // 2**10} KiB", file=path)
    try:
        text = raw.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError as err:
        raise SpecError(f"cannot read file ({err.__class__.__name__})", file=path) from None
    return parse_yaml(text, file=path)


def parse_yaml(text, *, file=None):
    """Parse YAML ``text``; see :func:`read_yaml`.

    Examples
    --------
    >>> data, lines = parse_yaml("name: x\\nslots:\\n  verb: {pos: verb}\\n")
    >>> data["slots"]["verb"]["pos"], lines.line("slots.verb.pos")
    ('verb', 3)
    """
    try:
        _check_shape(text, file)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SpecError(f"invalid YAML: {problem}", file=file,
                        line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise SpecError("a paradigm file must be a YAML mapping (key: value lines)", file=file, line=1)
    lines = Located()
    _record_lines(node, "", lines, file)
    return data, lines


MAX_CHARS, MAX_DEPTH = 2**20, 50


def _check_shape(text, file):
    """Bound what the recursive composer and validators see: size, nesting, no aliases.

    PyYAML's composer recurses once per nesting level (deep files raise RecursionError)
    and aliases share one node many times (a "billion laughs" file makes any walk of
    the tree exponential). Parsing to events is iterative, so it checks both cheaply.
    """
    if len(text) > MAX_CHARS:
        raise SpecError(f"file is larger than {MAX_CHARS // 2**10} KiB; a paradigm file "
                        "describes a design (put stimuli in a source file)", file=file)
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise SpecError("YAML aliases (*name) are not allowed in paradigm files; write "
                            "the value out", file=file, line=line)
        depth += isinstance(event, yaml.CollectionStartEvent)
        depth -= isinstance(event, yaml.CollectionEndEvent)
        if depth > MAX_DEPTH:
            raise SpecError(f"nested deeper than {MAX_DEPTH} levels", file=file, line=line)


def _record_lines(node, prefix, lines, file):
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            field = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            if field in lines:  # safe_load would silently keep only the last one
                raise SpecError(f"duplicate key (first on line {lines[field]})", file=file,
                                field=field, line=key_node.start_mark.line + 1)
            lines[field] = key_node.start_mark.line + 1
            _record_lines(value_node, field, lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            field = f"{prefix}.{index}"
            lines[field] = item.start_mark.line + 1
            _record_lines(item, field, lines, file)


def dump_yaml(data):
    """Dump ``data`` as block-style YAML with keys in insertion order."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
