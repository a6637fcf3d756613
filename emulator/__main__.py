"""python -m emulator --host 127.0.0.1 --port N --data-dir DIR"""
from __future__ import annotations

import argparse

from .server import serve


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m emulator",
                                description="ccmatrix upstream emulator (one dialect per provider)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--data-dir", default=".emulator-data")
    a = p.parse_args(argv)
    serve(a.host, a.port, a.data_dir)


if __name__ == "__main__":
    main()
