"""The committed Pub/Sub API stubs are what grpcio-tools makes of the committed proto."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

grpc_tools = pytest.importorskip("grpc_tools")
from grpc_tools import protoc  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
PROTO = Path("worker/sfdc/pubsub/pubsub_api.proto")
STUBS = ("pubsub_api_pb2.py", "pubsub_api_pb2.pyi", "pubsub_api_pb2_grpc.py")


def test_stubs_match_the_proto(tmp_path: Path) -> None:
    (tmp_path / PROTO.parent).mkdir(parents=True)
    shutil.copy(ROOT / PROTO, tmp_path / PROTO)
    include = str(Path(grpc_tools.__file__).parent / "_proto")
    code = protoc.main(
        [
            "protoc", f"-I{tmp_path}", f"-I{include}", f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}", str(tmp_path / PROTO),
        ]
    )  # fmt: skip
    assert code == 0
    stale = [
        name
        for name in STUBS
        if (tmp_path / PROTO.parent / name).read_bytes()
        != (ROOT / PROTO.parent / name).read_bytes()
    ]
    assert not stale, f"out of date with {PROTO}: {stale}; run `make stubs`"


def test_stubs_import_and_name_the_service() -> None:
    from worker.sfdc.pubsub import pubsub_api_pb2, pubsub_api_pb2_grpc

    service = pubsub_api_pb2.DESCRIPTOR.services_by_name["PubSub"]
    assert [m.name for m in service.methods] == [
        "Subscribe", "GetSchema", "GetTopic", "Publish", "PublishStream", "ManagedSubscribe",
    ]  # fmt: skip
    assert pubsub_api_pb2.DESCRIPTOR.package == "eventbus.v1"
    assert hasattr(pubsub_api_pb2_grpc, "PubSubStub")
    fetch = pubsub_api_pb2.FetchRequest.DESCRIPTOR.fields_by_name
    assert {n: f.number for n, f in fetch.items()} == {
        "topic_name": 1, "replay_preset": 2, "replay_id": 3, "num_requested": 4, "auth_refresh": 5,
    }  # fmt: skip
