"""Binding against Caffe's schema: values, defaults, and the problems Caffe's parser refuses."""

from __future__ import annotations

import math

import pytest
from google.protobuf import text_format

from caffelint.schema import caffe_pb2
from caffelint.schema.binder import bind
from caffelint.schema.descriptors import default_schema
from caffelint.schema.message import to_message
from caffelint.schema.suggest import close_matches
from caffelint.syntax.parser import parse

SCHEMA = default_schema()


def bind_net(text):
    return bind(parse(text), SCHEMA.net)


def test_values_and_defaults():
    bound, problems = bind_net('layer { name: "d" type: "Data" data_param { source: "x" batch_size: 4 } }')
    assert problems == []
    layer = bound.all("layer")[0]
    assert layer.get("name") == "d"
    assert layer.path("data_param.backend") == "LEVELDB"  # Caffe's surprising default
    assert layer.path("transform_param.scale") == 1.0
    assert layer.path("data_param.batch_size") == 4
    assert bound.get("force_backward") is False


@pytest.mark.parametrize(("text", "rule", "fragment"), [
    ('layer { nmae: "x" }', "unknown-field", "did you mean 'name'"),
    ('layer { convolution_param { num_output: 1.5 } }', "invalid-value", "expected an integer"),
    ('layer { convolution_param { num_output: -1 } }', "invalid-value", "out of range"),
    ('layer { pooling_param { pool: AVG } }', "invalid-value", "did you mean AVE"),
    ('layer { pooling_param { pool: "MAX" } }', "invalid-value", "not a value"),
    ('layer { name: x }', "invalid-value", "quoted string"),
    ('layer { name "x" }', "syntax-error", "expected ':'"),
    ('layer { name: "a" name: "b" }', "duplicate-field", "set twice"),
    ('layer { transform_param: 3 }', "invalid-value", "is a message"),
    ('layer { name: { } }', "invalid-value", "not a message"),
    ('layer { name: ["a"] }', "invalid-value", "not repeated"),
    ('force_backward: yes', "invalid-value", "true or false"),
    ('layer { name: "\\xff" }', "invalid-value", "UTF-8"),
    ('layer { name: "open }', "invalid-value", "closing quote"),
])
def test_problems(text, rule, fragment):
    _, problems = bind_net(text)
    assert [p.rule for p in problems] == [rule]
    assert fragment in problems[0].message
    # text_format refuses the same file
    with pytest.raises(text_format.ParseError):
        text_format.Parse(text, caffe_pb2.NetParameter())


def test_did_you_mean_fix_when_one_candidate():
    _, problems = bind_net('layer { nmae: "x" }')
    fix = problems[0].fix
    assert fix.applicability == "safe" and fix.edits[0].text == "name"


def test_enum_by_number_and_float_spellings_match_text_format():
    text = ('layer { pooling_param { pool: 1 } convolution_param { weight_filler { std: 1f } '
            'bias_filler { value: -inf } } }')
    bound, problems = bind_net(text)
    assert problems == []
    layer = bound.all("layer")[0]
    assert layer.path("pooling_param.pool") == "AVE"
    assert math.isinf(layer.path("convolution_param.bias_filler.value"))
    ours = to_message(bound, caffe_pb2.NetParameter())
    assert ours == text_format.Parse(text, caffe_pb2.NetParameter())


def test_suggestions_come_from_schema_names():
    fields = list(SCHEMA.message("caffe.SolverParameter").fields)
    assert close_matches("momemtum", fields) == ["momentum"]
    assert close_matches("BASE_LR", fields) == ["base_lr"]
    assert close_matches("zzzzzz", fields) == []
