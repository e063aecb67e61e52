"""``python -m pipelines`` is the ``cloudaudit`` command."""

from pipelines.cli import main

raise SystemExit(main())
