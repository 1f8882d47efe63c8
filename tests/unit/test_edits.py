"""edits.py: each edit on real-style prototxt text gives exactly the expected text, which
text_format accepts (CRLF files, tabs, one-line blocks and comments included)."""

from __future__ import annotations

import pytest
from google.protobuf import text_format

from caffelint import edits
from caffelint.findings import Edit
from caffelint.schema import caffe_pb2
from caffelint.schema.binder import bind
from caffelint.schema.descriptors import default_schema
from caffelint.source import SourceFile
from caffelint.syntax.parser import parse

LENET = """\
name: "LeNet"
layer {
  name: "mnist"
  type: "Data"
  top: "data"   # images
  data_param {
    source: "mnist_train_lmdb"
    batch_size: 64
  }
}
# the first convolution
layer {
  name: "conv1"
  type: "Convolution"
  bottom: "data"
  top: "conv1"
  convolution_param { num_output: 20 kernel_size: 5 }
}
"""


def load(text: str):
    source = SourceFile("net.prototxt", text)
    doc = parse(text)
    assert doc.error is None
    bound, problems = bind(doc, default_schema().net)
    assert problems == []
    return source, doc, bound


def apply(text: str, *edit_list: Edit) -> str:
    for edit in sorted(edit_list, key=lambda e: e.start, reverse=True):
        text = text[:edit.start] + edit.text + text[edit.end:]
    text_format.Parse(text, caffe_pb2.NetParameter())  # every result is a valid net
    return text


def layer(bound, index: int):
    return bound.entries_of("layer")[index]


def test_insert_last_field_in_a_multi_line_block():
    source, _, bound = load(LENET)
    data_param = layer(bound, 0).value.msg("data_param")
    out = apply(LENET, edits.insert_field(source, data_param, "backend: LMDB"))
    assert "    batch_size: 64\n    backend: LMDB\n  }\n" in out
    assert out.replace("    backend: LMDB\n", "") == LENET


def test_insert_after_a_given_field_keeps_its_trailing_comment():
    source, _, bound = load(LENET)
    data = layer(bound, 0).value
    top = data.entry("top").node
    out = apply(LENET, edits.insert_field(source, data, 'top: "label"', after=top))
    assert '  top: "data"   # images\n  top: "label"\n  data_param {' in out


def test_insert_before_a_field():
    source, _, bound = load(LENET)
    data = layer(bound, 0).value
    out = apply(LENET, edits.insert_field(source, data, "include {\n  phase: TRAIN\n}",
                                          before=data.entry("data_param").node))
    assert '  top: "data"   # images\n  include {\n    phase: TRAIN\n  }\n  data_param {' in out


def test_insert_into_a_one_line_block_joins_the_snippet():
    source, _, bound = load(LENET)
    conv = layer(bound, 1).value.msg("convolution_param")
    out = apply(LENET, edits.insert_field(source, conv, "weight_filler {\n  type: \"xavier\"\n}"))
    assert 'convolution_param { num_output: 20 kernel_size: 5 weight_filler { type: "xavier" } }' in out


def test_insert_into_empty_blocks():
    text = 'layer { name: "a" type: "ReLU" include {} exclude {\n  }\n}\n'
    source, _, bound = load(text)
    lay = layer(bound, 0).value
    out = apply(text, edits.insert_field(source, lay.msg("include"), "phase: TRAIN"),
                edits.insert_field(source, lay.msg("exclude"), "stage: \"x\""))
    assert out == 'layer { name: "a" type: "ReLU" include { phase: TRAIN } exclude {\n  stage: "x"\n  }\n}\n'


def test_insert_at_top_level_of_an_empty_and_a_full_file():
    source, doc, _ = load("")
    assert apply("", edits.insert_field(source, doc, 'name: "x"')) == 'name: "x"\n'
    text = 'name: "x"  # no newline at the end'
    source, doc, _ = load(text)
    assert apply(text, edits.insert_field(source, doc, "force_backward: true")) == \
        'name: "x"  # no newline at the end\nforce_backward: true'


def test_crlf_file_gets_crlf_lines():
    text = LENET.replace("\n", "\r\n")
    source, _, bound = load(text)
    data_param = layer(bound, 0).value.msg("data_param")
    out = apply(text, edits.insert_field(source, data_param, "backend: LMDB"))
    assert "    batch_size: 64\r\n    backend: LMDB\r\n  }\r\n" in out
    assert "\n" not in out.replace("\r\n", "")


def test_tab_indented_file_gets_tabs():
    text = 'layer {\n\tname: "fc"\n\ttype: "InnerProduct"\n\tinner_product_param {\n\t\tnum_output: 10\n\t}\n}\n'
    source, _, bound = load(text)
    lay = layer(bound, 0).value
    snippet = "param {\n  lr_mult: 1\n}\nparam {\n  lr_mult: 2\n}"
    out = apply(text, edits.insert_field(source, lay, snippet, after=lay.entry("type").node))
    assert '\ttype: "InnerProduct"\n\tparam {\n\t\tlr_mult: 1\n\t}\n\tparam {\n\t\tlr_mult: 2\n\t}\n' in out
    assert edits.indent_unit(source) == "\t"


def test_four_space_file_gets_four_spaces():
    text = 'layer {\n    name: "fc"\n    type: "InnerProduct"\n}\n'
    source, _, bound = load(text)
    out = apply(text, edits.insert_field(source, layer(bound, 0).value,
                                         "inner_product_param {\n  num_output: 10\n}"))
    assert out.endswith('    inner_product_param {\n        num_output: 10\n    }\n}\n')


def test_set_field_replaces_or_inserts_the_path():
    source, _, bound = load(LENET)
    data = layer(bound, 0).value
    out = apply(LENET, edits.set_field(source, data, "data_param.batch_size", "32"))
    assert "    batch_size: 32\n" in out and out.count("batch_size") == 1
    out = apply(LENET, edits.set_field(source, data, "transform_param.scale", "0.00390625"))
    assert "  }\n  transform_param {\n    scale: 0.00390625\n  }\n}\n# the first" in out
    conv = layer(bound, 1).value
    out = apply(LENET, edits.set_field(source, conv, "convolution_param.weight_filler.type", '"xavier"'))
    assert 'kernel_size: 5 weight_filler { type: "xavier" } }' in out


def test_set_string_keeps_the_quote_character():
    text = "layer { name: 'conv1' type: 'Convolution' }\n"
    source, _, bound = load(text)
    lay = layer(bound, 0).value
    assert edits.quote_of(lay) == "'"
    out = apply(text, edits.set_string(source, lay.entry("type").node, "Deconvolution"))
    assert out == "layer { name: 'conv1' type: 'Deconvolution' }\n"
    assert edits.quote("it's", "'") == "'it\\'s'"


def test_remove_a_field_alone_on_its_line_keeps_comments_on_other_lines():
    source, _, bound = load(LENET)
    data_param = layer(bound, 0).value.msg("data_param")
    out = apply(LENET, edits.remove_field(source, data_param.entry("batch_size").node))
    assert out == LENET.replace("    batch_size: 64\n", "")
    whole = layer(bound, 1).node
    out = apply(LENET, edits.remove_field(source, whole))
    assert out.endswith("}\n# the first convolution\n")


def test_remove_keeps_a_trailing_comment_on_the_line():
    source, _, bound = load(LENET)
    data = layer(bound, 0).value
    out = apply(LENET, edits.remove_field(source, data.entry("top").node))
    assert '  type: "Data"\n  # images\n  data_param' in out


def test_remove_inline_fields():
    text = 'layer { name: "c" type: "Convolution" convolution_param { num_output: 2 kernel_size: 3 } }\n'
    source, _, bound = load(text)
    conv = layer(bound, 0).value.msg("convolution_param")
    assert apply(text, edits.remove_field(source, conv.entry("num_output").node)) == \
        'layer { name: "c" type: "Convolution" convolution_param { kernel_size: 3 } }\n'
    assert apply(text, edits.remove_field(source, conv.entry("kernel_size").node)) == \
        'layer { name: "c" type: "Convolution" convolution_param { num_output: 2 } }\n'


def test_remove_a_block_between_blank_lines_leaves_one_blank_line():
    text = 'layer {\n  name: "a"\n  type: "ReLU"\n}\n\nlayer {\n  name: "b"\n  type: "ReLU"\n}\n\nname: "n"\n'
    source, _, bound = load(text)
    out = apply(text, edits.remove_field(source, layer(bound, 1).node))
    assert out == 'layer {\n  name: "a"\n  type: "ReLU"\n}\n\nname: "n"\n'


def test_insert_layer_after_keeps_blank_line_separation():
    text = 'layer {\n  name: "a"\n  type: "ReLU"\n}\n\nlayer {\n  name: "b"\n  type: "ReLU"\n}\n'
    source, _, bound = load(text)
    snippet = 'layer {\n  name: "bn"\n  type: "BatchNorm"\n}'
    out = apply(text, edits.insert_layer_after(source, layer(bound, 0).value, snippet))
    assert out == ('layer {\n  name: "a"\n  type: "ReLU"\n}\n\nlayer {\n  name: "bn"\n  type: "BatchNorm"\n}'
                   '\n\nlayer {\n  name: "b"\n  type: "ReLU"\n}\n')


def test_insert_layer_after_a_layer_with_a_comment_after_its_brace():
    source, _, bound = load(LENET.replace("  }\n}\n# the first", "  }\n}  # end of data\n# the first"))
    text = source.text
    out = apply(text, edits.insert_layer_after(source, layer(bound, 0).node, 'layer {\n  name: "x"\n}'))
    assert '}  # end of data\nlayer {\n  name: "x"\n}\n# the first convolution\n' in out


def test_insert_layer_after_on_a_one_line_net():
    text = 'layer { name: "a" type: "ReLU" } layer { name: "b" type: "ReLU" }\n'
    source, _, bound = load(text)
    out = apply(text, edits.insert_layer_after(source, layer(bound, 0).node, 'layer {\n  name: "x"\n}'))
    assert out == 'layer { name: "a" type: "ReLU" } layer { name: "x" } layer { name: "b" type: "ReLU" }\n'


def test_rename_a_token():
    text = 'layers { name: "a" type: RELU }\n'
    source, doc, _ = load(text)
    edit = edits.rename(doc.fields[0], "layer")
    assert edit == Edit(0, 6, "layer")


def test_one_line_refuses_a_snippet_with_a_comment():
    with pytest.raises(ValueError):
        edits.one_line("a: 1  # why\nb: 2")
    assert edits.one_line('name: "#x"\ntype: "y"') == 'name: "#x" type: "y"'


def test_set_value_keeps_an_aligned_comment_column():
    text = ('layer {\n  name: "pool1"\n  type: "Pooling"\n  pooling_param {\n'
            '    pool: STOCHASTIC    # one of MAX, AVE\n    kernel_size: 2      # 2x2 windows\n  }\n}\n')
    source, _, bound = load(text)
    pool = layer(bound, 0).value.msg("pooling_param").entry("pool").item
    out = apply(text, edits.set_value(source, pool, "AVE"))
    assert "    pool: AVE           # one of MAX, AVE\n    kernel_size: 2      # 2x2 windows\n" in out
    lone = 'name: "a"   # alone\n'
    source, doc, _ = load(lone)
    assert apply(lone, edits.set_value(source, doc.fields[0], '"bb"')) == 'name: "bb"   # alone\n'


def test_replace_fields_on_their_own_lines_carries_their_comments():
    text = 'layers {\n  name: "c"\n  blobs_lr: 1   # weights\n  # biases learn faster\n  blobs_lr: 2\n}\n'
    source, _, bound = load(text)
    fields = [e.node for e in bound.entries_of("layers")[0].value.entries_of("blobs_lr")]
    lines = [("param {", None), ("  lr_mult: 1", fields[0]), ("}", None),
             ("param {", None), ("  lr_mult: 2", fields[1]), ("}", None)]
    out = edits.merge_edits(edits.replace_fields(source, fields, lines))
    result = text
    for e in reversed(out):
        result = result[:e.start] + e.text + result[e.end:]
    assert result == ('layers {\n  name: "c"\n  param {\n    lr_mult: 1   # weights\n  }\n  param {\n'
                      '    lr_mult: 2\n  }\n  # biases learn faster\n}\n')


def test_replace_fields_sharing_a_line_stays_on_that_line():
    text = 'input: "data" input_dim: 1 input_dim: 2  # shape\nname: "n"\n'
    source, doc, _ = load(text)
    fields = [f for f in doc.fields if f.key.startswith("input")]
    out = edits.replace_fields(source, fields, [("layer {", None), ('  name: "in"', None), ("}", None)])
    assert apply(text, *out) == 'layer { name: "in" }  # shape\nname: "n"\n'
