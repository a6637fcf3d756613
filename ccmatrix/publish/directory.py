"""The directory publisher: the matrix JSON (one per gateway, plus their index), its JSON Schema and the page, each
written atomically."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ccmatrix.matrix import Matrix, json_schema, to_json

MATRIX_FILE = "compatibility-matrix.json"
SCHEMA_FILE = "compatibility-matrix.schema.json"
PAGE_FILE = "index.html"


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` via a temp file in the same directory and os.replace (never a half file)."""
    write_all([(path, data)])


def write_all(files: list[tuple[Path, str | bytes]]) -> None:
    """Write several files as one: every file to a temp file next to it first, then each os.replace. A write that
    fails (a full disk) fails before any file is replaced, and its temp files are removed: a reader finds the
    previous set whole, never a new matrix next to an old page (drills/disk_full.py)."""
    written: list[tuple[str, Path]] = []
    replaced = 0
    try:
        for path, data in files:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            raw = data.encode("utf-8") if isinstance(data, str) else data
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            written.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
        for tmp, path in written:
            os.replace(tmp, path)
            replaced += 1
    except BaseException:
        for tmp, _ in written[replaced:]:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise


def publish_set(matrices: list[Matrix], out_dir: Path, histories: list[dict | None], index,
                extra: list[tuple[Path, str]] = ()) -> list[str]:
    """A run's matrices, one per gateway (ccmatrix.publish.index: LiteLLM's at MATRIX_FILE, the others next to it),
    the index, the schema and one page with every gateway; returns the paths written. The caller has validated
    them all. The other gateways' files and the index are written before LiteLLM's file and the page, so a reader
    of the index never finds it naming a file of another run."""
    from ccmatrix.publish.index import index_file, index_json, matrix_file
    from ccmatrix.publish.page import render_page

    out_dir = Path(out_dir)
    documents = [to_json(m) for m in matrices]
    parsed = [json.loads(d) for d in documents]
    names = [m.gateway.name if m.gateway else "litellm" for m in matrices]
    files = [(out_dir / SCHEMA_FILE, json.dumps(json_schema(), indent=2) + "\n")]
    files += [(out_dir / matrix_file(n), d) for n, d in zip(names, documents) if n != "litellm"]
    files.append((out_dir / index_file(), index_json(index)))
    files += [(out_dir / MATRIX_FILE, d) for n, d in zip(names, documents) if n == "litellm"]
    if len(matrices) == 1:
        page = render_page(parsed[0], histories[0])
    else:
        page = render_page(parsed[0], histories[0], gateways=[
            {"matrix": doc, "history": history or {}, "file": matrix_file(n)}
            for n, doc, history in zip(names, parsed, histories)])
    files.append((out_dir / PAGE_FILE, page))
    files += list(extra)
    write_all(files)  # all or nothing: a full disk leaves the previous set whole
    return [str(path) for path, _ in files]


def publish(matrix: Matrix, out_dir: Path, history: dict | None = None) -> list[str]:
    """Write the three files into `out_dir`; return their paths. The caller has validated the matrix. `history`: the
    page's cell timelines (ccmatrix.publish.timeline.page_data), or None."""
    from ccmatrix.publish.page import render_page

    out_dir = Path(out_dir)
    document = to_json(matrix)
    files = [
        (out_dir / SCHEMA_FILE, json.dumps(json_schema(), indent=2) + "\n"),
        (out_dir / MATRIX_FILE, document),
        (out_dir / PAGE_FILE, render_page(json.loads(document), history)),
    ]
    write_all(files)
    return [str(path) for path, _ in files]
