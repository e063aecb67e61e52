"""Write the derived schema files: ``python -m schemas.export`` (a test fails when they are stale)."""

from __future__ import annotations

from pathlib import Path

from schemas.arrow import schema_text
from schemas.jsonschema import json_schema_text

GENERATED = Path(__file__).resolve().parent / "generated"
FILES = {
    "event.schema.json": json_schema_text,
    "event.arrow.txt": schema_text,
}


def main() -> None:
    GENERATED.mkdir(exist_ok=True)
    for name, render in FILES.items():
        (GENERATED / name).write_text(render())
        print(f"wrote {GENERATED / name}")
    from schemas.projections import reference  # docs/schema.md: the field reference

    reference.DOC.parent.mkdir(exist_ok=True)
    reference.DOC.write_text(reference.render())
    print(f"wrote {reference.DOC}")


if __name__ == "__main__":
    main()
