"""The process that holds a sandbox's namespace: bridges Unix sockets to loopback ports and records DNS look-ups.

Runs INSIDE the namespace (started by worker.sandbox). Every DNS query is an egress attempt: it is logged to
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


def _query_name(packet: bytes) -> str:
    labels, i = [], 12
    while i < len(packet) and packet[i]:
        length = packet[i]
        labels.append(packet[i + 1 : i + 1 + length].decode("ascii", "replace"))
        i += 1 + length
    return ".".join(labels)


class DnsRecorder(asyncio.DatagramProtocol):
    def __init__(self, log_path: Path):
        self.log_path = log_path

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        if len(data) < 12:
            return
        name = _query_name(data)
        with open(self.log_path, "a") as log:
            log.write(json.dumps({"ts": time.time(), "name": name}) + "\n")
        # Same id and question, QR=1, RCODE=5 (REFUSED), no answers.
        flags = bytes([0x80 | (data[2] & 0x01), 0x05])
        reply = data[:2] + flags + data[4:6] + b"\x00\x00\x00\x00\x00\x00" + data[12:]
        self.transport.sendto(reply, addr)


async def main(directory: Path, forwards: list[str]) -> None:
    loop = asyncio.get_running_loop()
    servers = []
    for item in forwards:
        name, port = item.rsplit(":", 1)
        path = directory / name
        path.unlink(missing_ok=True)
        servers.append(await asyncio.start_unix_server(_bridge(int(port)), path=str(path)))
    for host in ("127.0.0.1", "::1"):
        try:
            await loop.create_datagram_endpoint(lambda: DnsRecorder(directory / "egress.jsonl"), local_addr=(host, 53))
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
    args = parser.parse_args()
    asyncio.run(main(args.dir, args.forward))
