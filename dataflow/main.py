"""The Flex Template launcher's entry point (FLEX_TEMPLATE_PYTHON_PY_FILE): template parameters and Beam
options in, a ``cloudaudit run`` submitted to Dataflow out (``pipelines.template``)."""

import sys

from pipelines.template import main

if __name__ == "__main__":
    sys.exit(main())
