"""Lexer and parser: lossless, positioned, and faithful to text format's grammar."""

from __future__ import annotations

import pytest

from caffelint.source import SourceFile
from caffelint.syntax.cst import ListValue, Message, Scalar, walk_fields
from caffelint.syntax.lexer import EOF, NAME, NUMBER, PUNCT, STRING, tokenize
from caffelint.syntax.parser import parse

GRAMMAR = [
    'a: 1\n',
    'a { b: 2 }\n',
    'a: { b: 2 }\n',
    'a < b: 2 >\n',
    'a: < b: 2 >\n',
    'top: "x" top: "y"\n',
    'dim: [1, 2, 3]\n',
    'm: [{ x: 1 }, < y: 2 >]\n',
    'm: []\n',
    "s: 'single' t: \"double\"\n",
    's: "a\\"b\\n\\x41\\101"\n',
    's: "con" "cat" \'enated\'\n',
    'i: 0x1F j: -017 k: +5 l: -3\n',
    'f: 1e-4 g: .5 h: 5. i: 1f j: inf k: -inf l: nan m: -Infinity\n',
    'e: MAX e2: 1\n',
    'a: 1; b: 2, c { d: 3; };\n',
    '# only a comment\n',
    'a: 1 # trailing\n# tail',
    'a: 1\r\nb {\r\n\tc: 2\r\n}\r\n',
    '\ufeffa: 1\n',
    'a: 1',
    '',
    '   \n\n  ',
    'a{b{c{d:1}}}',
]


@pytest.mark.parametrize("text", GRAMMAR)
def test_round_trip_and_clean_parse(text):
    doc = parse(text)
    assert str(doc) == text
    assert doc.error is None


@pytest.mark.parametrize("text", ["a {", "a: }", "}", "a: [1,", "a {{", "a: [1 2]", "a: :", "{ }",
                                  "a: [1, ]", "a <  }"])
def test_syntax_errors_are_reported_and_bytes_kept(text):
    doc = parse(text)
    assert doc.error is not None
    assert str(doc) == text


def test_tokens_carry_prefix_trivia_and_kinds():
    tokens = tokenize('a: "s" # c\n  b { c: -1.5e3 }')
    assert [(t.kind, t.text) for t in tokens] == [
        (NAME, "a"), (PUNCT, ":"), (STRING, '"s"'), (NAME, "b"), (PUNCT, "{"), (NAME, "c"),
        (PUNCT, ":"), (NUMBER, "-1.5e3"), (PUNCT, "}"), (EOF, ""),
    ]
    assert tokens[3].prefix == " # c\n  "


def test_identifiers_may_hold_plus_and_minus_like_text_format():
    # text_format's tokenizer treats `a-b+c` as one identifier token.
    assert [t.text for t in tokenize("type: a-b+c")][:3] == ["type", ":", "a-b+c"]


def test_unterminated_string_ends_at_the_line():
    tokens = tokenize('s: "abc\nt: 1')
    assert tokens[2].text == '"abc'


POSITIONS = [
    # text, field path, expected (line, column) of the field name
    ("a: 1\nb: 2\n", ["b"], (2, 1)),
    ("layer {\n  name: \"x\"\n}\n", ["layer", "name"], (2, 3)),
    ("\ufeffa: 1\n", ["a"], (1, 2)),
    ("a: 1\r\n  b: 2\r\n", ["b"], (2, 3)),
    ("x {\n\ty { z: 1 }\n}", ["x", "y", "z"], (2, 6)),
    ("s: \"é\" t: 1", ["t"], (1, 8)),
]


@pytest.mark.parametrize(("text", "path", "expected"), POSITIONS)
def test_positions_are_one_based_code_points(text, path, expected):
    doc = parse(text)
    fields = doc.fields
    node = None
    for name in path:
        node = next(f for f in fields if f.key == name)
        if isinstance(node.value, Message):
            fields = node.value.fields
    pos = SourceFile("t", text).pos(node.start)
    assert (pos.line, pos.column) == expected


def test_node_kinds_and_spans():
    text = 'a: [1, 2] m { x: "s" "t" } n < >'
    doc = parse(text)
    a, m, n = doc.fields
    assert isinstance(a.value, ListValue) and [i.text for i in a.value.items] == ["1", "2"]
    assert isinstance(m.value, Message) and m.value.open.text == "{"
    inner = m.value.fields[0].value
    assert isinstance(inner, Scalar) and len(inner.tokens) == 2
    assert text[inner.start:inner.end] == '"s" "t"'
    assert isinstance(n.value, Message) and n.value.open.text == "<" and n.value.close.text == ">"
    assert [f.key for f in walk_fields(doc.fields)] == ["a", "m", "x", "n"]


def test_partial_tree_is_kept_before_a_syntax_error():
    doc = parse('name: "n"\nlayer { name: "a" }\nlayer { name: "b"\n')
    assert [f.key for f in doc.fields] == ["name", "layer", "layer"]
    assert doc.fields[2].value.close is None
    assert doc.error.message.startswith("expected '}'")


def test_deep_nesting_does_not_recurse():
    text = "a {" * 5000 + "}" * 5000
    doc = parse(text)
    assert doc.error is None
    assert str(doc) == text


def _shape(fields):
    out = []
    for f in fields:
        value = f.value
        if isinstance(value, Message):
            out.append((f.key, _shape(value.fields)))
        elif isinstance(value, ListValue):
            out.append((f.key, [i.text if isinstance(i, Scalar) else _shape(i.fields) for i in value.items]))
        else:
            out.append((f.key, [t.text for t in value.tokens], f.separator.text if f.separator else None))
    return out


@pytest.mark.parametrize(("one_line", "spread"), [
    ('a: 1, b: "x" c { d: e; }', 'a\n:\n1\n,\nb\n:\n"x"\nc\n{\nd\n:\ne\n;\n}'),
    ('s: "x" "y" t: 2', 's:\n"x"\n"y"\nt:\n2'),
    ('m: [1, 2] n: ["a" "b", "c"]', 'm\n:\n[\n1\n,\n2\n]\nn:[\n"a"\n"b"\n,"c"]'),
])
def test_one_line_fields_and_spread_fields_give_the_same_tree(one_line, spread):
    # `name: value` on one line takes the parser's fast path; spread over lines it takes the general one
    assert _shape(parse(one_line).fields) == _shape(parse(spread).fields)
