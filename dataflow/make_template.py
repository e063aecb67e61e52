"""``make dataflow-template``: write the Flex Template's metadata.json and the image's build context.

    python dataflow/make_template.py [--out build/dataflow-template]

The context holds everything the Dockerfile copies: the Dockerfile, the pinned requirements, the
package's sdist (built from pyproject.toml like Beam's --setup_file staging does), the launcher's
main.py and metadata.json. ``dataflow/metadata.json`` (checked in) is rewritten from
``pipelines.config.PARAMETERS``; tests/pipelines/test_config.py keeps the two in step.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.config import metadata  # noqa: E402 - after the path is set

NAME = "cloudaudit"
DESCRIPTION = (
    "Normalize and enrich AWS CloudTrail, GCP Cloud Audit Logs and Azure Activity Logs into one security "
    "event schema; write cold storage (Parquet + raw archive), SIEM sinks and dead letters. Batch, or "
    "streaming with the parameter streaming=true."
)


def write_metadata(path: Path) -> None:
    data = metadata(NAME, DESCRIPTION)
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "dataflow-template"))
    args = parser.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    write_metadata(ROOT / "dataflow" / "metadata.json")
    shutil.copy(ROOT / "dataflow" / "metadata.json", out / "metadata.json")
    for src, dst in [("Dockerfile", "Dockerfile"), ("dataflow/requirements.txt", "requirements.txt"),
                     ("dataflow/main.py", "main.py")]:
        shutil.copy(ROOT / src, out / dst)
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True, stdout=subprocess.DEVNULL,
    )
    for f in sorted(out.iterdir()):
        print(f"{f.relative_to(ROOT) if f.is_relative_to(ROOT) else f}  {f.stat().st_size:>10,d} bytes")


if __name__ == "__main__":
    main()
