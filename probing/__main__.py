"""Allow ``python -m probing``."""

from probing.cli.main import main

raise SystemExit(main())
