"""The Dataflow Flex Template's entry point: Beam pipeline options in, a ``cloudaudit run`` out.

The launcher starts ``python -m pipelines.template --config=gs://.../run.yaml --output=gs://... ...
--runner=DataflowRunner --project=... --region=... --temp_location=... --sdk_container_image=...``. The
run's parameters (``pipelines.options.CloudauditOptions``, listed in ``dataflow/metadata.json``) become
``cloudaudit run`` options; every other argument is a Beam option and passes through.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pipelines.config import PARAMETERS, template_argv


def run_argv(argv: Sequence[str]) -> list[str]:
    """Template arguments -> ``cloudaudit run`` arguments."""
    from pipelines.options import CloudauditOptions

    ours = {f"--{p.name}" for p in PARAMETERS}
    args = [a for a in argv if not a.startswith("--streaming")]
    values = CloudauditOptions(args).get_all_options(retain_unknown_options=False)
    rest: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        if name in ours:
            i += 1 if "=" in arg else 2  # --name=value or --name value
            continue
        if name == "--streaming":  # the launcher may say --streaming=true
            value = arg.split("=", 1)[1].lower() if "=" in arg else "true"
            if value in ("true", "1", "yes"):
                rest.append("--streaming")
            i += 1
            continue
        rest.append(arg)
        i += 1
    return ["run", *template_argv({p.name: values.get(p.name) for p in PARAMETERS}), *rest]


def main(argv: Sequence[str] | None = None) -> int:
    from pipelines.cli import main as cli_main

    return cli_main(run_argv(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
