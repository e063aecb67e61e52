"""Azure Resource Manager resource ids, parsed case-insensitively.

Shapes handled (Azure logs them in any letter case, e.g. ``/SUBSCRIPTIONS/.../RESOURCEGROUPS/...``):

- ``/subscriptions/S``                                              -> Microsoft.Resources/subscriptions
- ``/subscriptions/S/resourceGroups/RG``                           -> Microsoft.Resources/resourceGroups
- ``/subscriptions/S/resourceGroups/RG/providers/NS/t1/n1/t2/n2``  -> NS/t1/t2, name n2 (nested types)
- ``/subscriptions/S/providers/NS/t/n`` (subscription-level, e.g. role assignments)
- ``.../providers/NS1/t/n/providers/NS2/t2/n2`` (extension resources: locks, diagnostic settings,
  role assignments on a resource) -> the extension, NS2/t2, name n2
- ``/providers/Microsoft.Management/managementGroups/MG`` and resources under it
- ``/tenants/T/providers/NS`` and ``/providers/NS`` (tenant-level provider operations)

A namespace with no type after it (``/providers/Microsoft.Authorization``) gives the namespace as the
type and no name; a trailing type without a name (a collection) gives the type and no name.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple


class ResourceId(NamedTuple):
    subscription: str | None  # lower-case, as Azure compares them
    resource_group: str | None
    namespace: str | None  # the provider namespace of the (last) resource, as written
    type: str | None  # "Namespace/type/subtype", as written
    name: str | None
    tenant: str | None


_EMPTY = ResourceId(None, None, None, None, None, None)


@lru_cache(maxsize=65536)
def parse_resource_id(rid: str) -> ResourceId:
    parts = [p for p in rid.strip().split("/") if p]
    if not parts:
        return _EMPTY
    low = [p.lower() for p in parts]
    n = len(parts)
    i = 0
    sub = rg = tenant = None
    if low[0] == "subscriptions" and n > 1:
        sub = parts[1].strip().lower()
        i = 2
        if i + 1 < n and low[i] == "resourcegroups":
            rg = parts[i + 1]
            i += 2
    elif low[0] == "tenants" and n > 1:
        tenant = parts[1].strip().lower()
        i = 2
    last = -1
    for j in range(i, n):
        if low[j] == "providers":
            last = j
    if last >= 0 and last + 1 < n:
        ns = parts[last + 1]
        rest = parts[last + 2 :]
        types = rest[0::2]
        names = rest[1::2]
        rtype = "/".join([ns, *types]) if types else ns
        name = names[-1] if names and len(names) == len(types) else None
        return ResourceId(sub, rg, ns, rtype, name, tenant)
    if i < n:
        # Not an ARM id we understand: keep what we know (the subscription) and nothing else.
        return ResourceId(sub, rg, None, None, None, tenant)
    if rg is not None:
        return ResourceId(sub, rg, "Microsoft.Resources", "Microsoft.Resources/resourceGroups", rg, tenant)
    if sub is not None:
        return ResourceId(sub, None, "Microsoft.Resources", "Microsoft.Resources/subscriptions", sub, tenant)
    return ResourceId(None, None, None, None, None, tenant)
