"""The sandbox's DNS recorder (worker/sandbox_agent.py): the providers' hostnames are answered with the emulator's
loopback address and logged as resolved; every other name is refused at once and logged as an egress attempt."""
from __future__ import annotations

import asyncio
import json
import socket
import struct

import pytest

from worker.sandbox import Sandbox
from worker.sandbox_agent import DnsRecorder, answer

RESOLVE = frozenset({"api.anthropic.com", "bedrock-runtime.us-east-1.amazonaws.com"})
A, AAAA, HTTPS = 1, 28, 65


def query(name: str, qtype: int = A, qid: int = 0x1234, edns: bool = False) -> bytes:
    header = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00" + struct.pack(">HH", qtype, 1)
    opt = b"\x00" + struct.pack(">HHIH", 41, 1232, 0, 0) if edns else b""
    return header + question + opt


def parse(reply: bytes) -> dict:
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", reply[:12])
    i = 12
    while reply[i]:
        i += 1 + reply[i]
    i += 5
    answers = []
    for _ in range(an):
        assert reply[i:i + 2] == b"\xc0\x0c"   # a pointer to the question's name
        rtype, rclass, ttl, length = struct.unpack(">HHIH", reply[i + 2:i + 12])
        answers.append((rtype, rclass, ttl, reply[i + 12:i + 12 + length]))
        i += 12 + length
    assert i == len(reply) or an == 0
    return {"id": qid, "qr": bool(flags & 0x8000), "rcode": flags & 0x000F, "answers": answers, "qd": qd}


@pytest.mark.parametrize("name", ["api.anthropic.com", "API.Anthropic.COM", "bedrock-runtime.us-east-1.amazonaws.com"])
def test_a_providers_hostname_is_answered_with_loopback(name):
    reply, resolved = answer(query(name, qid=0xBEEF), RESOLVE)
    out = parse(reply)
    assert resolved and out["id"] == 0xBEEF and out["qr"] and out["rcode"] == 0 and out["qd"] == 1
    assert out["answers"] == [(A, 1, 60, socket.inet_aton("127.0.0.1"))]


@pytest.mark.parametrize("qtype", [AAAA, HTTPS])
def test_other_record_types_of_a_providers_hostname_have_no_records(qtype):
    reply, resolved = answer(query("api.anthropic.com", qtype, edns=True), RESOLVE)
    out = parse(reply)
    assert resolved and out["rcode"] == 0 and out["answers"] == []


@pytest.mark.parametrize("name", ["example.org", "api.anthropic.com.evil.example", "anthropic.com",
                                  "bedrock-runtime.us-west-2.amazonaws.com"])
def test_any_other_name_is_refused(name):
    reply, resolved = answer(query(name), RESOLVE)
    out = parse(reply)
    assert not resolved and out["rcode"] == 5 and out["answers"] == []


def test_the_recorder_logs_refused_names_as_egress_and_answered_ones_as_resolved(tmp_path):
    async def exchange():
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: DnsRecorder(tmp_path, RESOLVE),
                                                           local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        replies = []
        for name in ("api.anthropic.com", "pypi.org"):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
                client.setblocking(False)
                await loop.sock_sendto(client, query(name), ("127.0.0.1", port))
                replies.append(parse(await asyncio.wait_for(loop.sock_recv(client, 512), 5)))
        transport.close()
        return replies

    # A thread of its own: another test's framework may have left an event loop marked running in this one.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        ok, refused = pool.submit(asyncio.run, exchange()).result(30)
    assert ok["answers"] and refused["rcode"] == 5
    sandbox = Sandbox(tmp_path, isolated=True)
    assert sandbox.egress_attempts() == ["pypi.org"]
    assert sandbox.resolved() == ["api.anthropic.com"]
    assert json.loads((tmp_path / "resolved.jsonl").read_text().splitlines()[0])["type"] == A
