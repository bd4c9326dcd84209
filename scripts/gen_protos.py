"""Regenerate the Python protobuf/gRPC code in gen/ from protos/.

The generated code is committed (so `pip install` needs no protoc);
tests/test_generated_code.py fails when it is stale. Run after editing a proto:

    .venv/bin/python scripts/gen_protos.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"


def generate(out_dir: Path) -> None:
    """Write loyalty/v1/*_pb2*.py(i) and the package __init__ files into out_dir."""
    includes = Path(protoc.__file__).parent / "_proto"
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{includes}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for package in {out_dir / Path(s).parent for s in sources} | {out_dir / "loyalty"}:
        (package / "__init__.py").touch()
        (package / "py.typed").touch()


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "gen")
