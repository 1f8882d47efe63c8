"""Caffe's schema, read from protobuf descriptors into fast lookup tables.

Nothing here lists fields by hand: names, numbers, types, defaults and enum
values all come from the descriptors of `proto/caffe.proto` (the generated
`caffe_pb2` module) or, with `--proto`, of a fork's own caffe.proto compiled
at run time.  Tables are built lazily, one message type at a time.
"""

from __future__ import annotations

import functools
import os
from typing import Any

# google.protobuf.descriptor.FieldDescriptor.TYPE_* numbers (wire facts).
TYPE_DOUBLE, TYPE_FLOAT, TYPE_INT64, TYPE_UINT64, TYPE_INT32 = 1, 2, 3, 4, 5
TYPE_FIXED64, TYPE_FIXED32, TYPE_BOOL, TYPE_STRING, TYPE_GROUP = 6, 7, 8, 9, 10
TYPE_MESSAGE, TYPE_BYTES, TYPE_UINT32, TYPE_ENUM = 11, 12, 13, 14
TYPE_SFIXED32, TYPE_SFIXED64, TYPE_SINT32, TYPE_SINT64 = 15, 16, 17, 18

TYPE_NAMES = {
    TYPE_DOUBLE: "double", TYPE_FLOAT: "float", TYPE_INT64: "int64", TYPE_UINT64: "uint64",
    TYPE_INT32: "int32", TYPE_FIXED64: "fixed64", TYPE_FIXED32: "fixed32", TYPE_BOOL: "bool",
    TYPE_STRING: "string", TYPE_GROUP: "group", TYPE_MESSAGE: "message", TYPE_BYTES: "bytes",
    TYPE_UINT32: "uint32", TYPE_ENUM: "enum", TYPE_SFIXED32: "sfixed32",
    TYPE_SFIXED64: "sfixed64", TYPE_SINT32: "sint32", TYPE_SINT64: "sint64",
}


class EnumSchema:
    __slots__ = ("full_name", "by_name", "by_number")

    def __init__(self, descriptor: Any) -> None:
        self.full_name: str = descriptor.full_name
        self.by_name: dict[str, int] = {v.name: v.number for v in descriptor.values}
        self.by_number: dict[int, str] = {}
        for v in descriptor.values:
            self.by_number.setdefault(v.number, v.name)


class FieldSchema:
    __slots__ = ("name", "number", "type", "repeated", "default", "has_default", "is_message",
                 "_descriptor", "_schema", "_enum", "convert", "_message")

    def __init__(self, descriptor: Any, schema: Schema) -> None:
        self.name: str = descriptor.name
        self.number: int = descriptor.number
        self.type: int = descriptor.type
        self.repeated: bool = descriptor.is_repeated
        self.has_default: bool = descriptor.has_default_value
        self.default: Any = None if self.type == TYPE_MESSAGE or self.repeated else descriptor.default_value
        if self.type == TYPE_ENUM and not self.repeated:
            # Keep enum defaults as names: rules compare with names, like the files do.
            self.default = descriptor.enum_type.values_by_number[self.default].name
        self.is_message: bool = self.type == TYPE_MESSAGE or self.type == TYPE_GROUP
        self._descriptor = descriptor
        self._schema = schema
        self._enum: EnumSchema | None = None
        # text -> value for one scalar token, raising ValueError as text format would refuse it;
        # a plain attribute (the binder reads it for every field), made on first use
        self.convert = self._first_convert
        self._message: MessageSchema | None = None

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.type, str(self.type))

    def _first_convert(self, text: str) -> Any:
        from caffelint.schema.values import scalar_converter

        self.convert = scalar_converter(self)
        return self.convert(text)

    @property
    def message(self) -> MessageSchema:
        if self._message is None:
            self._message = self._schema.message(self._descriptor.message_type.full_name)
        return self._message

    @property
    def enum(self) -> EnumSchema:
        if self._enum is None:
            self._enum = EnumSchema(self._descriptor.enum_type)
        return self._enum


class MessageSchema:
    __slots__ = ("full_name", "name", "_descriptor", "_schema", "_fields")

    def __init__(self, descriptor: Any, schema: Schema) -> None:
        self.full_name: str = descriptor.full_name
        self.name: str = descriptor.name
        self._descriptor = descriptor
        self._schema = schema
        self._fields: dict[str, FieldSchema] | None = None

    @property
    def fields(self) -> dict[str, FieldSchema]:
        if self._fields is None:
            self._fields = {f.name: FieldSchema(f, self._schema) for f in self._descriptor.fields}
        return self._fields

    def field(self, name: str) -> FieldSchema | None:
        return self.fields.get(name)

    @property
    def descriptor(self) -> Any:
        return self._descriptor


class Schema:
    """A descriptor pool holding package `caffe`, with cached message tables."""

    def __init__(self, pool: Any, origin: str) -> None:
        self.pool = pool
        self.origin = origin
        self._messages: dict[str, MessageSchema] = {}

    def message(self, full_name: str) -> MessageSchema:
        cached = self._messages.get(full_name)
        if cached is None:
            if "." not in full_name:
                full_name = "caffe." + full_name
            cached = MessageSchema(self.pool.FindMessageTypeByName(full_name), self)
            self._messages[full_name] = cached
        return cached

    def has_message(self, full_name: str) -> bool:
        try:
            self.message(full_name)
        except KeyError:
            return False
        return True

    def message_class(self, full_name: str) -> type:
        from google.protobuf import message_factory

        return message_factory.GetMessageClass(self.message(full_name).descriptor)

    @property
    def net(self) -> MessageSchema:
        return self.message("caffe.NetParameter")

    @property
    def solver(self) -> MessageSchema:
        return self.message("caffe.SolverParameter")


@functools.cache
def default_schema() -> Schema:
    """BVLC Caffe's schema, from the project's own generated module."""
    from caffelint.schema import caffe_pb2

    return Schema(caffe_pb2.DESCRIPTOR.pool, "BVLC caffe.proto")


@functools.cache
def schema_from_proto(path: str) -> Schema:
    """Compile a fork's caffe.proto at run time (needs grpcio-tools) into a fresh pool."""
    from caffelint.schema.compile import compile_proto

    return compile_proto(os.path.abspath(path))
