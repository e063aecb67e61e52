"""The streaming pipeline on the local runner: N generated events through a local file queue (each file
one delivery, acknowledged by deleting it), or through a TestStream of the same blobs.

    python benchmarks/bench_streaming.py [--events 50000] [--per-file 500] [--mode queue|teststream]
                                         [--window 300] [--shards 2]
    python benchmarks/bench_streaming.py --mode latency [--seconds 90] [--rate 20] [--per-file 10]

Latency mode publishes files of current-time events steadily (``--rate`` files/s for ``--seconds``) to
the local file queue while the stream runs with a local Splunk HEC stand-in as its SIEM sink, and prints
the arrival-to-SIEM latency (publish -> indexed) p50/p99/max over every event.

Prints events/s over the streaming run's own elapsed time (start-up and the idle wait before the stop
are included in the wall time printed beside it), and the run summary. Events are generated fake-shaped
CloudTrail records spread over one hour, with 2% redelivered files (duplicates), so dedup state,
windows and panes all work. It never asserts a time.
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import workdir


def trail(events: int, per_file: int, seed: int) -> list[bytes]:
    import orjson

    rng = random.Random(seed)
    template = {
        "eventVersion": "1.08",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333",
            "userName": "alice",
        },
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
        "readOnly": True,
        "requestParameters": {"bucketName": "b", "key": "k"},
        "responseElements": None,
    }
    files = []
    for start in range(0, events, per_file):
        records = []
        for i in range(start, min(events, start + per_file)):
            r = copy.deepcopy(template)
            r["eventID"] = f"00000000-0000-4000-8000-{i:012d}"
            minute = min(59, i * 60 // events + rng.randint(0, 1))  # nearly in order, a little out of it
            r["eventTime"] = f"2024-05-01T13:{minute:02d}:{rng.randint(0, 59):02d}Z"
            records.append(r)
        files.append(orjson.dumps({"Records": records}))
    # Redeliveries: 2% of the files come again (an SQS message seen twice).
    files += [files[i] for i in rng.sample(range(len(files)), max(1, len(files) // 50))]
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--per-file", type=int, default=500)
    ap.add_argument("--mode", choices=("queue", "teststream", "latency"), default="queue")
    ap.add_argument("--seconds", type=float, default=90.0, help="latency mode: how long to publish")
    ap.add_argument("--rate", type=float, default=20.0, help="latency mode: files published per second")
    ap.add_argument("--window", type=int, default=300)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    import apache_beam as beam
    from apache_beam.testing.test_stream import TestStream

    from pipelines import streaming
    from pipelines.settings import RunConfig, Settings
    from pipelines.summary import format_summary
    from tests.pipelines.test_streaming_support import FileQueue

    if args.mode == "latency":
        return latency(args)
    files = trail(args.events, args.per_file, seed=7)
    with workdir(args.keep, name="cloudaudit-bench-stream-") as work:
        config = RunConfig(
            output=str(work / "out"),
            settings=Settings(dedup_shards=args.shards),
            streaming=True,
            idle_stop_seconds=1.0,
            window_seconds=args.window,
        )
        started = time.monotonic()
        if args.mode == "queue":
            queue = work / "queue"
            queue.mkdir()
            for k, data in enumerate(files):
                (queue / f"m{k:06d}.json").write_bytes(data)
            summary = streaming.run(config, print, sources=[FileQueue(str(queue))])
        else:
            stream = TestStream(coder=beam.coders.PickleCoder())
            for k, data in enumerate(files):
                stream = stream.add_elements([(f"bench://{k}", data)])
            summary = streaming.run(config, print, blobs=stream)
        wall = time.monotonic() - started
    print(format_summary(summary))
    rate = summary.records_read / summary.elapsed_seconds if summary.elapsed_seconds else 0.0
    print(
        f"\nstreaming ({args.mode}): {summary.records_read} records in {summary.elapsed_seconds:.1f}s "
        f"= {rate:,.0f} records/s (wall {wall:.1f}s incl. the 1s idle stop); "
        f"{summary.written_total} written, {summary.duplicates_dropped} duplicates"
    )
    return 0 if summary.invariant_holds else 1


def latency(args: argparse.Namespace) -> int:
    """Publish current-time CloudTrail files steadily; measure publish -> indexed in the HEC stand-in."""
    import os
    import threading
    from datetime import UTC, datetime

    import orjson

    from pipelines import streaming
    from pipelines.settings import RunConfig, Settings
    from pipelines.sinks import parse_sink
    from pipelines.summary import format_summary
    from tests.pipelines.test_streaming_support import FileQueue
    from tests.sinks.servers import HecServer

    class TimedHec(HecServer):
        """Records when each event (by CloudTrail eventID) was indexed."""

        def __init__(self, token: str) -> None:
            super().__init__(token)
            self.arrived: dict[str, float] = {}

        def handle_post(self, h):  # type: ignore[no-untyped-def]
            answer = super().handle_post(h)
            now = time.time()
            with self.lock:
                for envelope in self.events[len(self.arrived):]:
                    self.arrived.setdefault(envelope["event"]["source"]["native_id"], now)
            return answer

    published: dict[str, float] = {}
    token = "bench-latency-token"
    os.environ["SPLUNK_HEC_TOKEN"] = token
    template = orjson.loads(trail(1, 1, seed=7)[0])["Records"][0]
    with workdir(args.keep, name="cloudaudit-bench-latency-") as work, TimedHec(token) as hec:
        queue = work / "queue"
        queue.mkdir()

        def publish() -> None:
            n = 0
            interval = 1.0 / args.rate
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                now = datetime.now(UTC)
                records = []
                for _ in range(args.per_file):
                    r = dict(template, eventID=f"00000000-0000-4000-9000-{n:012d}",
                             eventTime=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
                    records.append(r)
                    n += 1
                tmp = queue / f".m{n:08d}"
                tmp.write_bytes(orjson.dumps({"Records": records}))
                stamp = time.time()
                for r in records:
                    published[r["eventID"]] = stamp
                tmp.rename(queue / f"m{n:08d}.json")  # FileQueue skips dot files: appears whole
                time.sleep(interval)

        publisher = threading.Thread(target=publish, daemon=True)
        config = RunConfig(
            output=str(work / "out"), settings=Settings(dedup_shards=args.shards), streaming=True,
            idle_stop_seconds=3.0, window_seconds=args.window,
            sinks=[parse_sink(f"hec:{hec.url}?batch_events=500")],
        )
        publisher.start()
        summary = streaming.run(config, lambda _m: None, sources=[FileQueue(str(queue))])
        publisher.join()
        lat = sorted(hec.arrived[i] - published[i] for i in published if i in hec.arrived)
    print(format_summary(summary))
    if not lat:
        print("no event reached the SIEM")
        return 1

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))]

    print(
        f"\nstreaming latency: {len(published)} events published over {args.seconds:g}s "
        f"({args.rate:g} files/s x {args.per_file}), {len(lat)} indexed; publish -> SIEM "
        f"p50 {pct(0.50):.2f}s, p99 {pct(0.99):.2f}s, max {lat[-1]:.2f}s "
        f"(cold-storage window {args.window}s)"
    )
    return 0 if summary.invariant_holds and len(lat) == len(published) else 1


if __name__ == "__main__":
    raise SystemExit(main())
