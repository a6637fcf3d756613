"""The process that holds a sandbox's namespace: bridges Unix sockets to loopback ports and records DNS look-ups.

Runs INSIDE the namespace (started by worker.sandbox). A DNS query for one of the providers' hostnames (`--resolve`,
production-shaped routing) is answered with the emulator's loopback address (A 127.0.0.1; AAAA and any other type:
no records) and logged to <dir>/resolved.jsonl. Every other query is an egress attempt: it is logged to
<dir>/egress.jsonl and answered REFUSED at once, so the asker fails fast instead of waiting.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from pathlib import Path


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def _bridge(port: int):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    return handle


TYPE_A = 1
LOOPBACK = bytes([127, 0, 0, 1])
TTL_S = 60


def _question(packet: bytes) -> tuple[str, int, int]:
    """(name, qtype, offset just past the question) of a query's first question."""
    labels, i = [], 12
    while i < len(packet) and packet[i]:
        length = packet[i]
        labels.append(packet[i + 1 : i + 1 + length].decode("ascii", "replace"))
        i += 1 + length
    end = i + 1 + 4   # the root label, QTYPE, QCLASS
    qtype = int.from_bytes(packet[i + 1 : i + 3], "big") if end <= len(packet) else 0
    return ".".join(labels), qtype, min(end, len(packet))


def answer(packet: bytes, resolve: frozenset[str]) -> tuple[bytes, bool]:
    """The reply to one query, and whether the name was one of `resolve` (answered) or refused (egress)."""
    name, qtype, end = _question(packet)
    if name.lower().rstrip(".") not in resolve:
        # Same id and question, QR=1, RCODE=5 (REFUSED), no answers.
        flags = bytes([0x80 | (packet[2] & 0x01), 0x05])
        return packet[:2] + flags + packet[4:6] + b"\x00\x00\x00\x00\x00\x00" + packet[12:], False
    # QR=1 AA=1 (RD copied), RA=1, NOERROR; the question once, one A record (a pointer to the question's name)
    # or, for AAAA and every other type, no records: the name exists, with an IPv4 address only.
    flags = bytes([0x84 | (packet[2] & 0x01), 0x80])
    records = b""
    if qtype == TYPE_A:
        records = (b"\xc0\x0c" + TYPE_A.to_bytes(2, "big") + b"\x00\x01" + TTL_S.to_bytes(4, "big")
                   + b"\x00\x04" + LOOPBACK)
    counts = b"\x00\x01" + (b"\x00\x01" if records else b"\x00\x00") + b"\x00\x00\x00\x00"
    return packet[:2] + flags + counts + packet[12:end] + records, True


class DnsRecorder(asyncio.DatagramProtocol):
    def __init__(self, directory: Path, resolve: frozenset[str] = frozenset()):
        self.directory = directory
        self.resolve = resolve

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        if len(data) < 12:
            return
        reply, resolved = answer(data, self.resolve)
        name, qtype, _ = _question(data)
        log = self.directory / ("resolved.jsonl" if resolved else "egress.jsonl")
        with open(log, "a") as fh:
            fh.write(json.dumps({"ts": time.time(), "name": name, **({"type": qtype} if resolved else {})}) + "\n")
        self.transport.sendto(reply, addr)


async def main(directory: Path, forwards: list[str], resolve: frozenset[str] = frozenset()) -> None:
    loop = asyncio.get_running_loop()
    servers = []
    for item in forwards:
        name, port = item.rsplit(":", 1)
        path = directory / name
        path.unlink(missing_ok=True)
        servers.append(await asyncio.start_unix_server(_bridge(int(port)), path=str(path)))
    for host in ("127.0.0.1", "::1"):
        try:
            await loop.create_datagram_endpoint(lambda: DnsRecorder(directory, resolve), local_addr=(host, 53))
        except OSError:
            pass
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    (directory / "agent.ready").write_text(str(os.getpid()))
    await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--forward", action="append", default=[])
    parser.add_argument("--resolve", action="append", default=[],
                        help="a hostname answered with 127.0.0.1 (the emulator) instead of refused")
    args = parser.parse_args()
    asyncio.run(main(args.dir, args.forward, frozenset(n.lower().rstrip(".") for n in args.resolve)))
