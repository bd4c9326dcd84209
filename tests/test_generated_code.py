"""The committed protobuf code in gen/ must match protos/ (regenerate: scripts/gen_protos.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_protos"] = module
    spec.loader.exec_module(module)
    module.generate(tmp_path)
    committed = {
        p.relative_to(ROOT / "gen"): p.read_bytes()
        for p in (ROOT / "gen").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert sorted(committed) == sorted(fresh)
    stale = [str(name) for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"gen/ is stale, run scripts/gen_protos.py: {stale}"


def test_service_full_name() -> None:
    from loyalty.v1 import loyalty_pb2

    service = loyalty_pb2.DESCRIPTOR.services_by_name["LoyaltyService"]
    assert service.full_name == "loyalty.v1.LoyaltyService"
    # Every multi-word field prints with its snake_case name in JSON (grpcurl).
    for message in loyalty_pb2.DESCRIPTOR.message_types_by_name.values():
        for field in message.fields:
            assert field.json_name == field.name, f"{message.name}.{field.name}"
