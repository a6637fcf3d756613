"""python -m emulator --host 127.0.0.1 --port N --data-dir DIR [--https-port 443 --tls-dir DIR --hosts-file FILE]"""
from __future__ import annotations

import argparse
import json

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
    a = p.parse_args(argv)
    if a.https_port and not a.tls_dir:
        p.error("--https-port needs --tls-dir")
    hosts = None
    if a.hosts_file:
        with open(a.hosts_file) as fh:
            hosts = json.load(fh)
    serve(a.host, a.port, a.data_dir, https_port=a.https_port, tls_dir=a.tls_dir, hosts=hosts)


if __name__ == "__main__":
    main()
