"""What validating a mapped event costs, and what the alternatives to ``Event.model_validate`` cost.

    python benchmarks/bench_validate.py [--records 3000] [--corpus ../shared/corpus]

Maps the shared corpus records of each cloud once, then times (best of 7 passes, CPU of this process):

- ``model_validate``: what the normalizer does (pydantic-core checks and builds the nested models);
- ``typed-dict``: the fast path (``schemas.fastpath``, what ``Normalizer(documents=True)`` uses): a
  pydantic-core ``SchemaValidator`` derived from ``Event``'s own core schema, every model replaced by the
  equivalent typed dict: the same checks, plain dicts out, no model instances;
- ``typed-dict + build``: the same, then the model instances made from the checked dicts in Python
  (``__new__`` and the four slots ``model_construct`` sets), which is what keeping ``Event`` objects as the
  normalizer's output would need;
- ``orjson``: ``schemas.fastpath.dumps`` of the typed-dict documents next to pydantic's ``to_json`` of the
  models (the same bytes).

It also checks that the third gives events equal to ``model_validate``'s (same JSON, same fields set),
and the fast path the documents ``model_dump`` gives.
Measured on the shared 2-core machine (issue 16), per cloud: typed-dict 0.63-0.83 of model_validate, typed-dict
+ build 1.3-2.0 of it.
So checking dicts pays only when the pipeline carries dicts or bytes instead of models (serialize once);
while the normalizer hands out ``Event`` objects, ``model_validate`` stays the fastest way to make them.
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import BaseModel
from pydantic_core import SchemaValidator

from benchmarks._common import ROOT
from schemas.event import Event
from schemas.fastpath import dumps, event_validator

_setattr = object.__setattr__

# Builds the model instance for one validated value: (validated, mapper's input) -> value.
Build = Callable[[Any, Any], Any]


def _wrapped_model(schema: dict[str, Any]) -> tuple[list[str], dict[str, Any] | None]:
    """The wrappers (default, nullable, list) around a model schema, outermost first, and the model."""
    path: list[str] = []
    s = schema
    while True:
        t = s.get("type")
        if t == "model":
            return path, s
        if t in ("default", "nullable"):
            path.append(t)
            s = s["schema"]
        elif t == "list":
            path.append(t)
            s = s["items_schema"]
        else:
            return path, None


def _builder(model: dict[str, Any]) -> Build:
    cls: type[BaseModel] = model["cls"]
    nested: list[tuple[str, Build]] = []
    for name, field in model["schema"]["fields"].items():
        path, sub = _wrapped_model(field["schema"])
        if sub is None:
            continue
        build = _builder(sub)
        if "list" in path:
            nested.append((name, _list_of(build)))
        else:
            nested.append((name, build))

    def build_model(value: Any, given: Any) -> Any:
        if value is None:
            return None
        given_d = given if type(given) is dict else None
        for name, sub_build in nested:
            v = value.get(name)
            if v is not None:
                value[name] = sub_build(v, given_d.get(name) if given_d is not None else None)
        obj = cls.__new__(cls)
        _setattr(obj, "__dict__", value)
        _setattr(obj, "__pydantic_fields_set__", set(given_d) if given_d is not None else set(value))
        _setattr(obj, "__pydantic_extra__", None)
        _setattr(obj, "__pydantic_private__", None)
        return obj

    return build_model


def _list_of(build: Build) -> Build:
    def build_list(value: Any, given: Any) -> Any:
        if value is None:
            return None
        given_l = given if type(given) is list and len(given) == len(value) else None
        return [build(v, given_l[i] if given_l is not None else None) for i, v in enumerate(value)]

    return build_list


def compiled() -> tuple[SchemaValidator, Build]:
    core = Event.__pydantic_core_schema__
    _, model = _wrapped_model(dict(core))
    assert model is not None
    return event_validator(), _builder(model)


def mapped(corpus: Path, limit: int) -> dict[str, list[dict[str, Any]]]:
    """Up to ``limit`` mapped event dicts per cloud (records that do not map or validate are left out)."""
    import orjson

    from benchmarks.bench_corpus import CLOUDS, corpus_records
    from connectors.base import MapContext
    from connectors.normalize import Normalizer

    norm = Normalizer()
    now = datetime.now(UTC)
    out: dict[str, list[dict[str, Any]]] = {}
    for cloud in CLOUDS:
        dicts = out.setdefault(cloud, [])
        for i, rec in enumerate(corpus_records(corpus, cloud)[:limit]):
            conn = norm.detect(rec)
            if conn is None:
                continue
            try:
                d = conn.map(rec, MapContext(f"c#{i}", orjson.dumps(rec).decode(), None, now))
                if isinstance(d, dict):
                    Event.model_validate(d)
                    dicts.append(d)
            except Exception:
                continue
    return out


def best(f: Callable[[Any], Any], items: list[Any]) -> float:
    return min(timeit.repeat(lambda: [f(x) for x in items], number=1, repeat=7)) / max(len(items), 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=3000, help="corpus records per cloud (default 3000)")
    p.add_argument("--corpus", default=os.environ.get("CLOUDAUDIT_CORPUS", str(ROOT.parent / "shared" / "corpus")))
    args = p.parse_args(argv)
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"sample corpus not found at {corpus}: nothing to measure (give --corpus)")
        return 2
    validator, build = compiled()

    def fast(d: dict[str, Any]) -> Any:
        return build(validator.validate_python(d), d)

    print(f"{'cloud':6} {'events':>7} {'model_validate':>15} {'typed-dict':>16} {'typed-dict+build':>22} "
          f"{'orjson':>9} {'to_json':>8}  agree")
    for cloud, dicts in mapped(corpus, args.records).items():
        agree = all(
            (a := Event.model_validate(d)).model_dump_json() == (b := fast(d)).model_dump_json()
            and a == b and a.model_fields_set == b.model_fields_set
            for d in dicts
        )
        full = best(Event.model_validate, dicts)
        td = best(validator.validate_python, dicts)
        both = best(fast, dicts)
        agree = agree and all(validator.validate_python(d) == Event.model_validate(d).model_dump() for d in dicts)
        docs = [validator.validate_python(d) for d in dicts]
        events = [Event.model_validate(d) for d in dicts]
        oj = best(dumps, docs)
        tj = best(Event.__pydantic_serializer__.to_json, events)
        print(f"{cloud:6} {len(dicts):>7} {full * 1e6:>12.1f} us {td * 1e6:>7.1f} us {td / full:>5.2f}x "
              f"{both * 1e6:>7.1f} us {both / full:>5.2f}x {oj * 1e6:>6.1f} us {tj * 1e6:>5.1f} us  {agree}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
