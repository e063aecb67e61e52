"""Loading a rule pack: one folder per rule (``<id>/rule.py``, ``<id>/runbook.md``, ``<id>/tests/``).

``load_pack`` never raises for a bad rule: it returns the rules that loaded and one line per problem
(import error, incomplete metadata, folder name not the id, missing runbook, duplicate id), so
``cloudaudit detect test`` can list them all and ``run``/``hunt`` can refuse to start with them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field

from pydantic import ValidationError

from detections.rule import Rule

BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules")


@dataclass
class Pack:
    root: str
    rules: list[Rule] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def rule_folders(root: str) -> list[str]:
    if os.path.isfile(os.path.join(root, "rule.py")):
        return [root]
    return sorted(
        os.path.join(root, d) for d in os.listdir(root)
        if not d.startswith(("_", ".")) and os.path.isfile(os.path.join(root, d, "rule.py"))
    )


def _import(path: str) -> object:
    name = "detections_pack_" + os.path.basename(os.path.dirname(path)) + f"_{abs(hash(path)):x}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pickling the rule functions for Beam workers needs the module
    spec.loader.exec_module(module)
    return module


def load_rule(folder: str) -> Rule:
    module = _import(os.path.join(folder, "rule.py"))
    found = [v for v in vars(module).values() if isinstance(v, Rule)]
    if len(found) != 1:
        raise ValueError(f"defines {len(found)} rules (@rule functions); expected exactly one")
    r = found[0]
    r.path = folder
    runbook = os.path.join(folder, "runbook.md")
    if os.path.isfile(runbook):
        with open(runbook, encoding="utf-8") as f:
            r.runbook = f.read().strip()
    return r


def load_pack(root: str | None = None) -> Pack:
    root = root or BUNDLED
    pack = Pack(root)
    if not os.path.isdir(root):
        pack.problems.append(f"{root}: not a folder of rules")
        return pack
    seen: dict[str, str] = {}
    for folder in rule_folders(root):
        name = os.path.basename(folder)
        try:
            r = load_rule(folder)
        except ValidationError as exc:
            errs = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'metadata'}: {e['msg']}" for e in exc.errors()[:5])
            pack.problems.append(f"{name}: incomplete or invalid metadata: {errs}")
            continue
        except Exception as exc:
            pack.problems.append(f"{name}: cannot load rule.py: {type(exc).__name__}: {exc}")
            continue
        if r.id in seen:
            pack.problems.append(f"{name}: duplicate rule id {r.id!r} (also in {seen[r.id]})")
            continue
        seen[r.id] = name
        if r.id != name and folder != root:
            pack.problems.append(f"{name}: the folder must be named after the rule id {r.id!r}")
        if not r.runbook:
            pack.problems.append(f"{name}: no runbook.md beside rule.py (or it is empty)")
        pack.rules.append(r)
    if not pack.rules and not pack.problems:
        pack.problems.append(f"{root}: no rules (folders with rule.py)")
    return pack
