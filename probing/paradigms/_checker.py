"""Located validation errors: the helper every paradigm rule raises through."""

from __future__ import annotations

import re
from pathlib import Path

from probing._core.errors import SpecError
from probing._core.paths import check_allowed_path, resolve_data_path

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


class Checker:
    """Carries the file and line map so every rule can raise a located error."""

    def __init__(self, data, lines, path):
        self.data, self.lines, self.path = data, lines, path
        self.folder = Path(path).parent if path else Path.cwd()

    def fail(self, field, message):
        raise SpecError(message, file=self.path, field=field, line=self.lines.line(field))

    def typed(self, field, value, kind, what):
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            self.fail(field, f"must be {what}, got {type(value).__name__} {value!r}")
        return value

    def name(self, field, value):
        self.typed(field, value, str, "a string")
        if not NAME_RE.match(value):
            self.fail(field, f"{value!r} is not a valid name (letters, digits, '_' or '-', "
                      "starting with a letter)")
        return value

    def positive_int(self, field, value, minimum=1):
        self.typed(field, value, int, "an integer")
        if value < minimum:
            self.fail(field, f"must be >= {minimum}, got {value}")
        return value

    def existing_path(self, field, value):
        """``value`` as written, once it is allowed and exists (``probing:NAME``: shipped)."""
        self.typed(field, value, str, "a path (relative to the paradigm file)")
        try:
            check_allowed_path(value, base=self.folder)
        except SpecError as err:
            self.fail(field, err.message)
        path = resolve_data_path(value, base=self.folder)
        if not path.exists():
            self.fail(field, f"{value!r} does not exist (looked in {path})")
        return value


def string_list(ck, field):
    values = ck.typed(field, ck.data[field], list, "a list")
    if not values:
        ck.fail(field, "must not be empty")
    for i, value in enumerate(values):
        ck.typed(f"{field}.{i}", value, str, "a string")
    return values
