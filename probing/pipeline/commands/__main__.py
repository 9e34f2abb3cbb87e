"""``python -m probing.pipeline.commands > docs/options.md``: the options reference."""

from probing.commands import options_markdown
from probing.pipeline.commands import COMMANDS
from probing.pipeline.utilities import UTILITIES

if __name__ == "__main__":
    print(options_markdown((*UTILITIES, *COMMANDS)), end="")
