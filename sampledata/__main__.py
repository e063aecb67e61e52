"""``python -m sampledata``: see ``sampledata.main``."""

from sampledata import main

raise SystemExit(main())
