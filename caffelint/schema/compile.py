"""Compile a caffe.proto at run time with grpcio-tools (an optional extra)."""

from __future__ import annotations

import os
import tempfile

from caffelint.errors import UsageError
from caffelint.schema.descriptors import Schema


def compile_proto(path: str) -> Schema:
    """Compile `path` into a private descriptor pool; UsageError when that is impossible."""
    try:
        from grpc_tools import protoc
    except ImportError:
        raise UsageError(f"{path}: --proto needs grpcio-tools (pip install 'caffelint[proto]')") from None
    from google.protobuf import descriptor_pb2, descriptor_pool

    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such proto file")
    include = os.path.dirname(path)
    with tempfile.TemporaryDirectory(prefix="caffelint-proto-") as tmp:
        out = os.path.join(tmp, "set.pb")
        status = protoc.main(["protoc", f"-I{include}", f"--descriptor_set_out={out}",
                              os.path.basename(path)])
        if status != 0 or not os.path.exists(out):
            raise UsageError(f"{path}: protoc could not compile this file")
        with open(out, "rb") as handle:
            files = descriptor_pb2.FileDescriptorSet.FromString(handle.read())
    pool = descriptor_pool.DescriptorPool()
    for file_proto in files.file:
        pool.Add(file_proto)
    schema = Schema(pool, path)
    if not schema.has_message("caffe.NetParameter"):
        raise UsageError(f"{path}: no message caffe.NetParameter in this proto")
    return schema
