"""Scalar conversion with text format's exact rules (what Caffe's parser accepts).

Each converter takes the token text and returns the value or raises ValueError
with a message for the user.  The rules are protobuf's text-format grammar:
integers in decimal, hex (0x) or C octal (leading 0); floats also as `inf`,
`-infinity`, `nan` and with a trailing `f`; booleans true/t/1/True and
false/f/0/False; enums by name or number; strings as quoted C-escaped literals.
"""

from __future__ import annotations

import math
import re

from caffelint.schema import descriptors as d

_C_OCTAL = re.compile(r"(-?)0(\d+)$")
_OCTAL_FLOAT = re.compile(r"-?0[0-9]+")
_INFINITY = re.compile(r"-?inf(?:inity)?f?$", re.IGNORECASE)
_NAN = re.compile(r"nanf?$", re.IGNORECASE)

_INT_RANGES = {
    d.TYPE_INT32: (-(2**31), 2**31 - 1), d.TYPE_SINT32: (-(2**31), 2**31 - 1),
    d.TYPE_SFIXED32: (-(2**31), 2**31 - 1), d.TYPE_INT64: (-(2**63), 2**63 - 1),
    d.TYPE_SINT64: (-(2**63), 2**63 - 1), d.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    d.TYPE_UINT32: (0, 2**32 - 1), d.TYPE_FIXED32: (0, 2**32 - 1),
    d.TYPE_UINT64: (0, 2**64 - 1), d.TYPE_FIXED64: (0, 2**64 - 1),
}
FLOAT32_MAX = 3.4028234663852886e38


def parse_int(text: str, field_type: int) -> int:
    octal = _C_OCTAL.match(text)
    literal = octal.group(1) + "0o" + octal.group(2) if octal else text
    try:
        value = int(literal, 0)
    except ValueError:
        raise ValueError(f"expected an integer, found {text}") from None
    low, high = _INT_RANGES[field_type]
    if not low <= value <= high:
        raise ValueError(f"{text} is out of range for {d.TYPE_NAMES[field_type]} [{low}, {high}]")
    return value


def parse_float(text: str) -> float:
    if _OCTAL_FLOAT.match(text):
        raise ValueError(f"expected a number, found octal-looking {text}")
    try:
        return float(text)
    except ValueError:
        pass
    if _INFINITY.match(text):
        return -math.inf if text[0] == "-" else math.inf
    if _NAN.match(text):
        return math.nan
    try:
        return float(text.rstrip("fF"))
    except ValueError:
        raise ValueError(f"expected a number, found {text}") from None


def parse_bool(text: str) -> bool:
    if text in ("true", "t", "1", "True"):
        return True
    if text in ("false", "f", "0", "False"):
        return False
    raise ValueError(f"expected true or false, found {text}")


def parse_enum(text: str, enum: d.EnumSchema) -> str:
    """Return the value's name (an enum given by number is mapped to its name)."""
    try:
        number = int(text, 0)
    except ValueError:
        if text in enum.by_name:
            return text
        raise ValueError(f"{text} is not a value of {enum.full_name}") from None
    name = enum.by_number.get(number)
    if name is None:
        raise ValueError(f"{number} is not a value of {enum.full_name}")
    return name


def parse_bytes(texts: list[str]) -> bytes:
    """Adjacent quoted literals, concatenated and C-unescaped."""
    from google.protobuf import text_encoding

    parts = []
    for text in texts:
        if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0]:
            if text[:1] in "'\"":
                raise ValueError(f"string missing its closing quote: {text}")
            raise ValueError(f"expected a quoted string, found {text}")
        try:
            parts.append(text_encoding.CUnescape(text[1:-1]))
        except ValueError as exc:
            raise ValueError(f"bad escape in {text}: {exc}") from None
    return b"".join(parts)


def parse_string(texts: list[str]) -> str:
    data = parse_bytes(texts)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("string is not valid UTF-8") from None


def scalar_converter(field: d.FieldSchema):
    """A function converting one token's text for `field` (the binder's hot path)."""
    field_type = field.type
    if field_type == d.TYPE_STRING:
        def string(text: str) -> str:
            if len(text) >= 2 and text[0] == text[-1] and (text[0] == '"' or text[0] == "'") \
                    and "\\" not in text and text.isascii():
                return text[1:-1]  # a plain literal without escapes is its own value
            return parse_string([text])
        return string
    if field_type == d.TYPE_FLOAT or field_type == d.TYPE_DOUBLE:
        def number(text: str) -> float:
            try:
                return float(text) if not _OCTAL_FLOAT.match(text) else parse_float(text)
            except ValueError:
                return parse_float(text)
        return number
    if field_type in _INT_RANGES:
        def integer(text: str) -> int:
            if text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1) and len(text) < 10:
                return int(text)  # plain decimal, in range for every integer type
            return parse_int(text, field_type)
        return integer
    return lambda text: convert([text], field)


def convert(texts: list[str], field: d.FieldSchema) -> object:
    """Convert one scalar (its token texts) for `field`; ValueError if text format would refuse it."""
    field_type = field.type
    if field_type == d.TYPE_STRING:
        if len(texts) == 1:
            text = texts[0]
            # Fast path: a plain ASCII literal without escapes is its own value.
            if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and "\\" not in text \
                    and text.isascii():
                return text[1:-1]
        return parse_string(texts)
    if field_type == d.TYPE_BYTES:
        return parse_bytes(texts)
    if len(texts) > 1:
        raise ValueError(f"expected one {field.type_name}, found several strings")
    text = texts[0]
    if field_type == d.TYPE_FLOAT or field_type == d.TYPE_DOUBLE:
        return parse_float(text)
    if field_type == d.TYPE_ENUM:
        return parse_enum(text, field.enum)
    if field_type == d.TYPE_BOOL:
        return parse_bool(text)
    if field_type in _INT_RANGES:
        if text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1) and len(text) < 10:
            return int(text)  # fast path: plain decimal, in range for every integer type
        return parse_int(text, field_type)
    raise ValueError(f"unsupported field type {field.type_name}")
