"""The detection stage's cheap field extraction: the anchored fast path and the slow path (orjson) give
the same fields, and ``RuleIndex`` gives every rule's ``Prefilter.passes``, on events of every cloud and
on values written to trip the fast path (escapes, quotes, brackets, non-ASCII, nulls)."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from detections.fastkeys import RuleIndex, _fast, _slow, fields, key_of, scan
from detections.helpers import person_key
from detections.lines import strip_raw
from detections.loader import load_pack
from schemas.event import Event
from tests.detections.records import cloudtrail, events, gcp_entry
from tests.detections.test_engine import _all_case_events

RULES = [r for r in load_pack().rules if r.meta.mode != "disabled"]


def _check(e: Event) -> None:
    line = e.model_dump_json().encode()
    f = fields(line)
    assert f == _slow(line)
    assert fields(strip_raw(line)) == f
    assert key_of(f) == person_key(e)
    index = RuleIndex([r.prefilter for r in RULES])
    bits = index.bits(f)
    assert [bool(bits >> n & 1) for n in range(len(RULES))] == [r.prefilter.passes(e) for r in RULES]
    key, scanned, light = scan(line, index)
    assert (key, scanned) == (key_of(f), bits)
    assert orjson.loads(light) == [bits, e.id, orjson.loads(f.time), e.where.provider, e.where.account,
                                   e.what.action, e.what.outcome, list(e.what.risk_tags)]


def test_fast_path_reads_canonical_lines_of_every_case() -> None:
    evs = _all_case_events()
    assert all(_fast(e.model_dump_json().encode()) is not None for e in evs)
    for e in evs:
        _check(e)


_TEXT = st.text(alphabet=st.sampled_from(list('ab"\\],[{}:/ é\n\t\u2028')), max_size=12)


@settings(max_examples=60, deadline=None)
@given(name=_TEXT, tag=_TEXT, action=_TEXT, account=st.one_of(st.none(), _TEXT), person=st.one_of(st.none(), _TEXT))
def test_awkward_values_take_the_slow_path_and_agree(name: str, tag: str, action: str, account: str | None,
                                                     person: str | None) -> None:
    (base,) = events(cloudtrail("StopLogging", "cloudtrail", "2026-04-01T09:00:00Z", user="dana.ops",
                                request={"name": "org"}, n=1))
    who = base.who.model_copy(update={
        "actor": base.who.actor.model_copy(update={"name": name or None, "email": None, "id": None}),
        "person": None if person is None else base.who.person.model_copy(update={"id": person})
        if base.who.person else None,
    })
    what = base.what.model_copy(update={"action": action or "x", "risk_tags": [tag, "logging.disable"]})
    where = base.where.model_copy(update={"account": account})
    _check(base.model_copy(update={"who": who, "what": what, "where": where}))


def test_break_glass_and_root_prefilters_on_the_json() -> None:
    (gcp,) = events(gcp_entry("google.iam.admin.v1.ListServiceAccounts", "iam", "2026-04-01T09:05:00Z",
                              email="breakglass-01@example.com", n=4))
    _check(gcp)
