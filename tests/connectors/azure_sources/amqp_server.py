"""A minimal Event Hubs service over AMQP 1.0 (python-qpid-proton), for the tests; 127.0.0.1.

There is no Event Hubs emulator we can install here; the SDK's emulator mode
(``UseDevelopmentEmulator=true`` in the connection string: plain AMQP, the port from the endpoint) talks
to this instead; so does the production path (TLS, a bearer token from DefaultAzureCredential on ``$cbs``)
when the server is given a TLS context and the client a custom endpoint address. What it speaks, as the service does:

- SASL ANONYMOUS (or PLAIN) and the ``$cbs`` node: ``put-token`` requests are answered 202 (any token;
  the tokens seen are kept so a test can check none leaked);
- the ``$management`` node: ``READ`` of ``com.microsoft:eventhub`` (name, created_at, partition_ids) and of
  ``com.microsoft:partition`` (sequence numbers, last offset, emptiness);
- receiver links on ``HUB/ConsumerGroups/CG/Partitions/N``, honouring the ``apache.org:selector-filter:string``
  filter (``amqp.annotation.x-opt-offset > 'N'``, ``>=``, ``x-opt-sequence-number``,
  ``x-opt-enqueued-time``, ``'-1'`` and ``'@latest'``), sending each event with the message annotations
  ``x-opt-sequence-number``, ``x-opt-offset`` (a string, as the service sends it) and ``x-opt-enqueued-time``,
  within the link credit the client grants.

Events are published by the test (``publish``), standing in for diagnostic settings.

Frames: proton leaves trailing null fields out of a performative (AMQP allows it), while the SDK's pure
Python AMQP stack reads fields by position and fails on a short BEGIN (proton has no session properties to
force them out). The service itself always sends them, so the server is fronted by ``_FramePadder``, a
TCP relay that pads each performative the server sends to its full field count with nulls. The bytes
are otherwise untouched, and what the client sends goes through verbatim.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from proton import Endpoint, Message, symbol, timestamp
from proton.handlers import MessagingHandler
from proton.reactor import Container

HOST = "127.0.0.1"
_PARTITION_ADDRESS = re.compile(r"([^/]+)/ConsumerGroups/([^/]+)/Partitions/([^/]+)$", re.IGNORECASE)
_SELECTOR = re.compile(r"amqp\.annotation\.(x-opt-[a-z-]+)\s*(>=|>)\s*'([^']*)'")
SELECTOR_FILTER = "apache.org:selector-filter:string"


@dataclass
class StoredEvent:
    body: bytes
    sequence_number: int
    offset: int
    enqueued_ms: int


@dataclass
class Partition:
    events: list[StoredEvent] = field(default_factory=list)
    next_offset: int = 0

    def start_index(self, selector: str | None) -> int:
        """Where a reader with this selector starts (an index into ``events``)."""
        if not selector:
            return 0
        m = _SELECTOR.search(selector)
        if not m:
            raise ValueError(f"unsupported selector {selector!r}")
        name, op, value = m.groups()
        if value == "@latest":
            return len(self.events)
        inclusive = op == ">="
        if name == "x-opt-offset" and value == "-1":
            return 0
        key = {"x-opt-offset": "offset", "x-opt-sequence-number": "sequence_number",
               "x-opt-enqueued-time": "enqueued_ms"}[name]
        bound = int(value)
        for i, e in enumerate(self.events):
            v = getattr(e, key)
            if v > bound or (inclusive and v == bound):
                return i
        return len(self.events)


@dataclass
class _Reader:
    link: Any
    hub: str
    partition: str
    position: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# Field counts of the AMQP 1.0 performatives and SASL frames, by descriptor code.
_FIELDS = {0x10: 10, 0x11: 8, 0x12: 14, 0x13: 11, 0x14: 11, 0x15: 6, 0x16: 3, 0x17: 1, 0x18: 1,
           0x40: 1, 0x41: 3, 0x42: 1, 0x43: 1, 0x44: 2}


def pad_frame(frame: bytes) -> bytes:
    """One whole frame (size, doff, type, channel, body) with its performative's list padded with nulls."""
    doff = frame[4]
    head, body = frame[: doff * 4], frame[doff * 4 :]
    if len(body) < 4 or body[0] != 0x00 or body[1] != 0x53 or body[2] not in _FIELDS:
        return frame  # heartbeat (empty) or a form we leave alone
    want = _FIELDS[body[2]]
    code, rest = body[3], body[4:]
    if code == 0x45:  # list0
        count, items, tail = 0, b"", rest
    elif code == 0xC0:  # list8
        size, count = rest[0], rest[1]
        items, tail = rest[2 : 1 + size], rest[1 + size :]
    elif code == 0xD0:  # list32
        size, count = struct.unpack(">II", rest[:8])
        items, tail = rest[8 : 4 + size], rest[4 + size :]
    else:
        return frame
    if count >= want:
        return frame
    items += b"\x40" * (want - count)
    new_body = body[:3] + b"\xd0" + struct.pack(">II", 4 + len(items), want) + items + tail
    new_head = struct.pack(">I", len(head) + len(new_body)) + head[4:]
    return new_head + new_body


class _FramePadder:
    """TCP relay on a public port in front of the proton server (see the module doc); with ``tls``, it
    also terminates TLS (amqps), as the service does."""

    def __init__(self, inner_port: int, tls: ssl.SSLContext | None = None) -> None:
        self.inner_port = inner_port
        self.tls = tls
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True, name="eventhub-relay").start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            if self.tls is not None:
                client = self.tls.wrap_socket(client, server_side=True)
            server = socket.create_connection((HOST, self.inner_port))
        except OSError:
            client.close()
            return
        self.sockets += [client, server]
        threading.Thread(target=self._copy, args=(client, server), daemon=True).start()
        self._pad(server, client)

    @staticmethod
    def _copy(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    @staticmethod
    def _pad(src: socket.socket, dst: socket.socket) -> None:
        buf = b""
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                buf += data
                out = []
                while True:
                    if buf[:4] == b"AMQP" and len(buf) >= 8:  # protocol header
                        out.append(buf[:8])
                        buf = buf[8:]
                        continue
                    if len(buf) < 8:
                        break
                    size = struct.unpack(">I", buf[:4])[0]
                    if len(buf) < size:
                        break
                    out.append(pad_frame(buf[:size]))
                    buf = buf[size:]
                if out:
                    dst.sendall(b"".join(out))
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept loop; close alone does not
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.close()


class EventHubServer(MessagingHandler):
    """Hubs with partitions, served on ``127.0.0.1:port`` until ``close``."""

    def __init__(self, hubs: dict[str, int], allowed_mechs: str = "ANONYMOUS PLAIN",
                 tls: ssl.SSLContext | None = None) -> None:
        super().__init__(prefetch=100)
        self.allowed_mechs = allowed_mechs
        self.hubs = {name: [Partition() for _ in range(n)] for name, n in hubs.items()}
        self.created_ms = int(time.time() * 1000)
        self.lock = threading.Lock()
        self.readers: list[_Reader] = []
        self.tokens: list[str] = []  # put-token bodies received
        self.audiences: list[str] = []
        self.consumer_groups: set[str] = set()
        self.selectors: list[str] = []
        self.connections = 0
        self._stopping = False
        self._started = threading.Event()
        self.inner_port = _free_port()
        self.container = Container(self)
        self.thread = threading.Thread(target=self.container.run, daemon=True, name="eventhub-server")
        self.thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the AMQP test server did not start")
        self.relay = _FramePadder(self.inner_port, tls)
        self.port = self.relay.port

    # --- test API ------------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"sb://{HOST}:{self.port}"

    def connection_string(self, key: str, hub: str | None = None) -> str:
        text = (f"Endpoint={self.endpoint};SharedAccessKeyName=RootManageSharedAccessKey;"
                f"SharedAccessKey={key};UseDevelopmentEmulator=true;")
        return text + (f"EntityPath={hub};" if hub else "")

    def publish(self, hub: str, partition: int, body: bytes) -> StoredEvent:
        with self.lock:
            p = self.hubs[hub][partition]
            e = StoredEvent(body, len(p.events), p.next_offset, int(time.time() * 1000))
            p.events.append(e)
            p.next_offset += len(body) + 100  # byte-position-like offsets, as the service's
            return e

    def close(self) -> None:
        self.relay.close()
        self._stopping = True
        self.thread.join(10)

    # --- reactor -------------------------------------------------------------------------------------

    def on_start(self, event: Any) -> None:
        self.acceptor = event.container.listen(f"{HOST}:{self.inner_port}")
        event.container.schedule(0.02, self)
        self._started.set()

    def on_timer_task(self, event: Any) -> None:
        if self._stopping:
            self.acceptor.close()
            for r in self.readers:
                if r.link.state & Endpoint.LOCAL_ACTIVE:
                    r.link.close()
            event.container.stop()
            return
        self._pump()
        event.container.schedule(0.02, self)

    def on_connection_bound(self, event: Any) -> None:
        sasl = event.transport.sasl()
        sasl.allow_insecure_mechs = True
        sasl.allowed_mechs(self.allowed_mechs)

    def on_connection_opening(self, event: Any) -> None:
        self.connections += 1
        # pyamqp reads the open frame's fields by position: with properties set, proton encodes them all
        # (the service always sends properties), instead of trimming trailing nulls.
        event.connection.properties = {symbol("product"): "cloudaudit-test-eventhubs"}

    def on_link_opening(self, event: Any) -> None:
        link = event.link
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        link.properties = {symbol("com.microsoft:tracking-id"): "cloudaudit-test"}  # all attach fields
        if not link.is_sender:
            return
        address = link.remote_source.address or ""
        m = _PARTITION_ADDRESS.search(address)
        if not m:
            return  # $cbs / $management reply links
        hub, group, partition = m.group(1), m.group(2), m.group(3)
        selector = None
        filters = None
        data = link.remote_source.filter
        if data is not None:
            data.rewind()
            if data.next() is not None:
                filters = data.get_object()
        if isinstance(filters, dict):
            for k, v in filters.items():
                if str(k) == SELECTOR_FILTER:
                    value = getattr(v, "value", v)
                    selector = value.decode() if isinstance(value, bytes) else str(value)
        with self.lock:
            partitions = self.hubs.get(hub)
            if partitions is None or not partition.isdigit() or int(partition) >= len(partitions):
                link.close()  # not found
                return
            self.consumer_groups.add(group)
            self.selectors.append(selector or "")
            start = partitions[int(partition)].start_index(selector)
            self.readers.append(_Reader(link, hub, partition, start))

    def on_link_closing(self, event: Any) -> None:
        self.readers = [r for r in self.readers if r.link != event.link]

    def on_sendable(self, event: Any) -> None:
        self._pump()

    def _pump(self) -> None:
        with self.lock:
            for r in list(self.readers):
                link = r.link
                if not (link.state & Endpoint.LOCAL_ACTIVE and link.state & Endpoint.REMOTE_ACTIVE):
                    if link.state & Endpoint.REMOTE_CLOSED:
                        self.readers.remove(r)
                    continue
                events = self.hubs[r.hub][int(r.partition)].events
                while link.credit > 0 and r.position < len(events):
                    e = events[r.position]
                    msg = Message(body=e.body, inferred=True)
                    msg.annotations = {
                        symbol("x-opt-sequence-number"): e.sequence_number,
                        symbol("x-opt-offset"): str(e.offset),
                        symbol("x-opt-enqueued-time"): timestamp(e.enqueued_ms),
                    }
                    link.send(msg)
                    r.position += 1

    def on_message(self, event: Any) -> None:
        node = event.link.remote_target.address or ""
        request = event.message
        props = request.properties or {}
        if node == "$cbs":
            self.tokens.append(str(request.body))
            self.audiences.append(str(props.get("name")))
            self._reply(event, "$cbs", request, 202, "Accepted")
        elif node == "$management":
            self._management(event, request, props)

    def _management(self, event: Any, request: Message, props: dict[str, Any]) -> None:
        if props.get("operation") != "READ":
            self._reply(event, "$management", request, 400, "unsupported operation")
            return
        name = str(props.get("name"))
        with self.lock:
            partitions = self.hubs.get(name)
            if partitions is None:
                self._reply(event, "$management", request, 404, f"The messaging entity '{name}' could not be found")
                return
            if props.get("type") == "com.microsoft:eventhub":
                body: dict[str, Any] = {
                    "name": name,
                    "type": "com.microsoft:eventhub",
                    "created_at": timestamp(self.created_ms),
                    "partition_count": len(partitions),
                    "partition_ids": [str(i) for i in range(len(partitions))],
                }
            else:
                pid = str(props.get("partition"))
                p = partitions[int(pid)]
                last = p.events[-1] if p.events else None
                body = {
                    "name": name,
                    "type": "com.microsoft:partition",
                    "partition": pid,
                    "begin_sequence_number": 0,
                    "last_enqueued_sequence_number": last.sequence_number if last else -1,
                    "last_enqueued_offset": str(last.offset) if last else "-1",
                    "last_enqueued_time_utc": timestamp(last.enqueued_ms if last else 0),
                    "is_partition_empty": last is None,
                }
        self._reply(event, "$management", request, 200, "OK", body)

    def _reply(self, event: Any, node: str, request: Message, status: int, description: str,
               body: Any = None) -> None:
        link = event.connection.link_head(Endpoint.LOCAL_ACTIVE)
        while link is not None:
            if link.is_sender and (link.remote_source.address or "") == node:
                reply = Message(body=body, correlation_id=request.id, address=request.reply_to)
                reply.properties = {"status-code": status, "status-description": description,
                                    "statusCode": status, "statusDescription": description}
                link.send(reply)
                return
            link = link.next(Endpoint.LOCAL_ACTIVE)
