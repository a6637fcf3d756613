"""python -m emulator --host 127.0.0.1 --port N --data-dir DIR [--https-port 443 --tls-dir DIR --hosts-file FILE]
[--latency off|realistic|SPEC]"""
from __future__ import annotations

import argparse
import json

from .latency import LatencySpecError, parse_spec
from .server import serve


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m emulator",
                                description="ccmatrix upstream emulator (one dialect per provider)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--data-dir", default=".emulator-data")
    p.add_argument("--https-port", type=int, default=None,
                   help="also serve HTTPS here, with a per-run CA's certificate for the providers' hostnames")
    p.add_argument("--tls-dir", default=None, help="where the per-run CA and server certificate are written")
    p.add_argument("--hosts-file", default=None,
                   help="JSON {hostname: [provider ids]} (default: every provider package's hostnames)")
    p.add_argument("--latency", default="off",
                   help="off | realistic[,seed=N] | ttft=800ms±200,tps=60[,seed=N] (emulator/latency.py)")
    a = p.parse_args(argv)
    try:
        parse_spec(a.latency)
    except LatencySpecError as error:
        p.error(str(error))
    if a.https_port and not a.tls_dir:
        p.error("--https-port needs --tls-dir")
    hosts = None
    if a.hosts_file:
        with open(a.hosts_file) as fh:
            hosts = json.load(fh)
    serve(a.host, a.port, a.data_dir, https_port=a.https_port, tls_dir=a.tls_dir, hosts=hosts, latency=a.latency)


if __name__ == "__main__":
    main()
