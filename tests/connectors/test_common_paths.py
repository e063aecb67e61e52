"""The shared path reader, privilege rules and caller-address splitter on any input (hypothesis)."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.aws_cloudtrail.targets import PRIVILEGES
from connectors.common import compile_path, privilege_changes, source_address, texts_at

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(doc=json_values, path=st.sampled_from(["req:a", "req:a.b", "req:a[].b", "req:Properties.scope"]))
def test_texts_at_never_fails_and_returns_texts(doc: Any, path: str) -> None:
    _, keys = compile_path(path)
    got = texts_at(doc, keys)
    assert all(isinstance(t, str) and t for t in got) and len(got) == len(set(got))


@settings(max_examples=100, deadline=None)
@given(request=json_values, response=json_values)
def test_privilege_rules_never_fail_on_any_request(request: Any, response: Any) -> None:
    roots = {"req": request, "resp": response, "rec": {}, "who": {}}
    for rules in PRIVILEGES.values():
        for change in privilege_changes(rules, roots):
            assert change["op"] in ("add", "remove", "replace")


@settings(max_examples=150, deadline=None)
@given(value=st.one_of(st.text(max_size=40), st.ip_addresses().map(str),
                       st.lists(st.ip_addresses().map(str), min_size=2, max_size=4).map(", ".join)))
def test_source_address_gives_addresses_only_as_ip(value: str) -> None:
    ip, domain, network, forwarded = source_address(value)
    if ip is not None:
        ipaddress.ip_address(ip)
        assert domain is None
    for f in forwarded:
        ipaddress.ip_address(f)
    if network is not None:
        ipaddress.ip_network(network)


def test_forwarded_lists_and_ranges() -> None:
    assert source_address("10.0.0.1, 203.0.113.9, 192.168.1.1") == ("203.0.113.9", None, None, ("10.0.0.1", "192.168.1.1"))
    assert source_address("10.0.0.1, 10.0.0.2") == ("10.0.0.1", None, None, ("10.0.0.2",))
    assert source_address("127.0.0.0/8") == (None, None, "127.0.0.0/8", ())
    assert source_address("198.51.100.7/32") == ("198.51.100.7", None, None, ())
    assert source_address("cloudtrail.amazonaws.com") == (None, "cloudtrail.amazonaws.com", None, ())
