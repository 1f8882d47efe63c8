"""Generate caffelint/schema/caffe_pb2.py from proto/caffe.proto.

Usage:
    python proto/generate.py           write the module if it changed
    python proto/generate.py --check   exit 1 if the committed module is stale
    (--output PATH writes or checks another file instead)

The module is produced by grpc_tools.protoc (the protoc bundled with
grpcio-tools), so its bytes depend only on caffe.proto and the grpcio-tools
version: regenerating with the same version gives the same file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROTO = REPO / "proto" / "caffe.proto"
OUTPUT = REPO / "caffelint" / "schema" / "caffe_pb2.py"
MODULE = "caffelint.schema.caffe_pb2"


class GenerateError(Exception):
    """protoc failed or its output did not have the expected shape."""


def run_protoc(proto: Path, out_option: str, out_path: Path) -> None:
    """Run the bundled protoc on `proto` with one output option (e.g. --python_out)."""
    from grpc_tools import protoc

    args = ["protoc", f"--proto_path={proto.parent}", f"{out_option}={out_path}", str(proto)]
    status = protoc.main(args)
    if status != 0:
        raise GenerateError(f"protoc exited with status {status} for {proto}")


def render(proto: Path = PROTO, module: str = MODULE) -> bytes:
    """Return the bytes of the generated Python module for `proto`, named `module`."""
    with tempfile.TemporaryDirectory(prefix="caffelint-protoc-") as tmp:
        run_protoc(proto, "--python_out", Path(tmp))
        code = (Path(tmp) / f"{proto.stem}_pb2.py").read_bytes()
    return _set_module_name(code, f"{proto.stem}_pb2", module)


def _set_module_name(code: bytes, generated: str, wanted: str) -> bytes:
    # protoc names the module after the .proto file alone ('caffe_pb2'); the
    # builder stamps that name into each class's __module__, which pickling
    # and repr use, so point it at the real import path.
    old = f"BuildTopDescriptorsAndMessages(DESCRIPTOR, '{generated}', _globals)".encode()
    new = f"BuildTopDescriptorsAndMessages(DESCRIPTOR, '{wanted}', _globals)".encode()
    if code.count(old) != 1:
        raise GenerateError(f"expected one {old.decode()!r} in the protoc output")
    return code.replace(old, new)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """Write or check the generated module; return 0, 1 (stale with --check) or 2 (protoc failed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the generated module is stale")
    parser.add_argument(
        "--output", type=Path, default=OUTPUT, help="module to write or check (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    output: Path = args.output
    shown = _shown(output)

    try:
        code = render()
    except GenerateError as exc:
        print(f"generate.py: error: {exc}", file=sys.stderr)
        return 2
    current = output.read_bytes() if output.is_file() else None

    if args.check:
        if current != code:
            print(f"{shown} is stale: run python proto/generate.py", file=sys.stderr)
            return 1
        print(f"{shown} is up to date")
        return 0

    if current == code:
        print(f"{shown} unchanged")
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_bytes(code)
        os.replace(tmp, output)
        print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
