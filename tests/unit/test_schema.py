"""proto/caffe.proto: generated module freshness and wire parity with BVLC Caffe."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf import descriptor_pb2

REPO = Path(__file__).resolve().parents[2]
GENERATE_PY = REPO / "proto" / "generate.py"

FieldKey = tuple[object, ...]


def _load_generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("caffelint_proto_generate", GENERATE_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _load_generate()


def _shared_dir() -> Path:
    env = os.environ.get("CAFFELINT_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def _reference_proto() -> Path:
    """The BVLC caffe.proto to compare with; a missing file fails the test, never skips it."""
    path = _shared_dir() / "reference" / "bvlc_caffe.proto"
    if not path.is_file():
        pytest.fail(
            f"reference schema not found at {path}: set CAFFELINT_SHARED to the folder "
            "holding reference/bvlc_caffe.proto",
            pytrace=False,
        )
    return path


def _compile(proto: Path, out_dir: Path) -> descriptor_pb2.FileDescriptorProto:
    """Compile one .proto with the bundled protoc and return its FileDescriptorProto."""
    out = out_dir / f"{proto.stem}.pb"
    generate.run_protoc(proto, "--descriptor_set_out", out)
    files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    assert len(files) == 1, f"{proto} compiled to {len(files)} files"
    return files[0]


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> descriptor_pb2.FileDescriptorProto:
    return _compile(generate.PROTO, tmp_path_factory.mktemp("ours"))


# -- flattening descriptors into comparable facts ------------------------------


def _relative(type_name: str, package: str) -> str:
    prefix = f".{package}."
    return type_name[len(prefix) :] if type_name.startswith(prefix) else type_name


def _field_key(field: descriptor_pb2.FieldDescriptorProto, package: str) -> FieldKey:
    fdp = descriptor_pb2.FieldDescriptorProto
    return (
        ("number", field.number),
        ("type", fdp.Type.Name(field.type)),
        ("type_name", _relative(field.type_name, package)),
        ("label", fdp.Label.Name(field.label)),
        ("default", field.default_value if field.HasField("default_value") else None),
        ("packed", field.options.packed if field.options.HasField("packed") else None),
    )


def _flatten(
    file: descriptor_pb2.FileDescriptorProto,
) -> tuple[dict[str, dict[str, FieldKey]], dict[str, dict[str, int]]]:
    """Map every message (nested ones as Outer.Inner) to its fields, every enum to its values."""
    messages: dict[str, dict[str, FieldKey]] = {}
    enums: dict[str, dict[str, int]] = {}

    def add_enum(enum: descriptor_pb2.EnumDescriptorProto, scope: str) -> None:
        enums[scope + enum.name] = {value.name: value.number for value in enum.value}

    def add_message(message: descriptor_pb2.DescriptorProto, scope: str) -> None:
        name = scope + message.name
        messages[name] = {f.name: _field_key(f, file.package) for f in message.field}
        for nested in message.nested_type:
            add_message(nested, name + ".")
        for enum in message.enum_type:
            add_enum(enum, name + ".")

    for message in file.message_type:
        add_message(message, "")
    for enum in file.enum_type:
        add_enum(enum, "")
    return messages, enums


def _diff_names(kind: str, ours: dict, theirs: dict) -> list[str]:
    """`kind` is a label plus scope, e.g. "field DataParameter." or "message "."""
    problems = [f"{kind}{name}: missing" for name in sorted(theirs.keys() - ours.keys())]
    problems += [f"{kind}{name}: not upstream" for name in sorted(ours.keys() - theirs.keys())]
    return problems


def schema_differences(
    ours: descriptor_pb2.FileDescriptorProto, upstream: descriptor_pb2.FileDescriptorProto
) -> list[str]:
    """Every wire-level difference between two caffe.proto descriptors, one line each."""
    problems = []
    for attr in ("package", "syntax"):
        if getattr(ours, attr) != getattr(upstream, attr):
            problems.append(f"file {attr}: {getattr(ours, attr)!r} != {getattr(upstream, attr)!r}")

    our_messages, our_enums = _flatten(ours)
    up_messages, up_enums = _flatten(upstream)
    problems += _diff_names("message ", our_messages, up_messages)
    problems += _diff_names("enum ", our_enums, up_enums)

    for name in sorted(our_messages.keys() & up_messages.keys()):
        mine, theirs = our_messages[name], up_messages[name]
        problems += _diff_names(f"field {name}.", mine, theirs)
        for field in sorted(mine.keys() & theirs.keys()):
            for (attr, got), (_, want) in zip(mine[field], theirs[field], strict=True):
                if got != want:
                    problems.append(f"field {name}.{field}: {attr} is {got!r}, upstream {want!r}")

    for name in sorted(our_enums.keys() & up_enums.keys()):
        mine, theirs = our_enums[name], up_enums[name]
        problems += _diff_names(f"enum value {name}.", mine, theirs)
        for value in sorted(mine.keys() & theirs.keys()):
            if mine[value] != theirs[value]:
                problems.append(
                    f"enum value {name}.{value}: number is {mine[value]}, upstream {theirs[value]}"
                )
    return problems


def _without_defaults(messages: dict[str, dict[str, FieldKey]]) -> dict[str, dict[str, FieldKey]]:
    return {
        message: {field: tuple(item for item in key if item[0] != "default") for field, key in fields.items()}
        for message, fields in messages.items()
    }


# -- tests ---------------------------------------------------------------------


def test_committed_module_is_regenerated_byte_for_byte() -> None:
    assert generate.OUTPUT.is_file(), f"{generate.OUTPUT} is missing: run proto/generate.py"
    assert generate.OUTPUT.read_bytes() == generate.render(), (
        "caffelint/schema/caffe_pb2.py is stale: run python proto/generate.py"
    )


def test_check_option_fails_on_a_stale_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = tmp_path / "caffe_pb2.py"
    assert generate.main(["--output", str(module)]) == 0
    assert module.read_bytes() == generate.OUTPUT.read_bytes()
    assert generate.main(["--check", "--output", str(module)]) == 0

    module.write_bytes(module.read_bytes() + b"# edited\n")
    capsys.readouterr()
    assert generate.main(["--check", "--output", str(module)]) == 1
    assert "stale" in capsys.readouterr().err

    module.unlink()
    assert generate.main(["--check", "--output", str(module)]) == 1


def test_module_imports_under_its_package_path(
    ours: descriptor_pb2.FileDescriptorProto,
) -> None:
    from caffelint.schema import caffe_pb2

    assert caffe_pb2.LayerParameter.__module__ == "caffelint.schema.caffe_pb2"
    loaded = descriptor_pb2.FileDescriptorProto.FromString(caffe_pb2.DESCRIPTOR.serialized_pb)
    # The runtime re-prints float defaults from their float32 value
    # ("0.99000001" for 0.99), so defaults are left out here; the byte-for-byte
    # regeneration test already ties the module to proto/caffe.proto.
    loaded_messages, loaded_enums = _flatten(loaded)
    our_messages, our_enums = _flatten(ours)
    assert _without_defaults(loaded_messages) == _without_defaults(our_messages)
    assert loaded_enums == our_enums


def test_schema_matches_bvlc_caffe(ours: descriptor_pb2.FileDescriptorProto, tmp_path: Path) -> None:
    upstream = _compile(_reference_proto(), tmp_path)
    messages, enums = _flatten(upstream)
    # Guard against a vacuous comparison (e.g. an empty or truncated reference).
    assert len(messages) > 60 and len(enums) > 20, (len(messages), len(enums))
    problems = schema_differences(ours, upstream)
    assert not problems, "proto/caffe.proto differs from BVLC caffe.proto:\n" + "\n".join(problems)


def test_parity_check_reports_differences(ours: descriptor_pb2.FileDescriptorProto, tmp_path: Path) -> None:
    upstream = _compile(_reference_proto(), tmp_path)
    changed = descriptor_pb2.FileDescriptorProto()
    changed.CopyFrom(ours)
    by_name = {m.name: m for m in changed.message_type}
    backend = next(f for f in by_name["DataParameter"].field if f.name == "backend")
    backend.default_value = "LMDB"
    del by_name["ClipParameter"].field[1]
    by_name["FillerParameter"].enum_type[0].value[2].number = 7

    assert schema_differences(changed, upstream) == [
        "field ClipParameter.max: missing",
        "field DataParameter.backend: default is 'LMDB', upstream 'LEVELDB'",
        "enum value FillerParameter.VarianceNorm.AVERAGE: number is 7, upstream 2",
    ]
