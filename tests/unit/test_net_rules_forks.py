"""Fork facts: unknown fields and layer types name the fork that defines them."""

from __future__ import annotations

import pytest

from caffelint.model import forks
from caffelint.schema.descriptors import default_schema, schema_from_proto
from tests.conftest import shared_dir


def test_a_fork_field_names_its_fork():
    hint = forks.unknown_field_hint(default_schema().message("caffe.LayerParameter"), "prior_box_param")
    assert "SSD = weiliu89/caffe branch ssd" in hint and "--proto" in hint


def test_a_field_several_forks_share_names_them_all():
    names = [fork.name for fork in forks.field_forks("LayerParameter", "bn_param")]
    assert names == ["SegNet", "ENet", "PSPNet"]


def test_v1_layers_carry_the_same_fork_fields():
    assert forks.field_forks("V1LayerParameter", "roi_pooling_param")


@pytest.mark.parametrize(("message", "field"), [("LayerParameter", "num_ouput"), ("PoolingParameter", "pool")])
def test_other_fields_get_no_hint(message, field):
    assert forks.unknown_field_hint(default_schema().message(f"caffe.{message}"), field) is None


def test_every_fork_of_the_data_files_is_described():
    from caffelint.model import layer_types

    keys = set(forks.all_forks())
    assert set(layer_types.facts()["forks"]) <= keys
    assert {key for fields in forks._facts()["fields"].values() for keys_ in fields.values() for key in keys_} <= keys


def test_fork_fields_really_are_missing_from_bvlc():
    bvlc = default_schema()
    for message, fields in forks._facts()["fields"].items():
        present = set(bvlc.message(f"caffe.{message}").fields) & set(fields)
        assert present == set(), f"{message} of BVLC Caffe has {present}"


def test_fork_types_are_not_bvlc_types():
    from caffelint.model import layer_types

    for fork, types in layer_types.facts()["forks"].items():
        assert not set(types) & layer_types.bvlc_types(), fork


def test_the_ssd_schema_provides_the_ssd_fork_only():
    ssd = schema_from_proto(str(shared_dir() / "reference" / "ssd_caffe.proto"))
    provided = {key for key, fork in forks.all_forks().items() if forks.schema_has_fork(ssd, fork)}
    assert "ssd" in provided and "segnet" not in provided
    assert not any(forks.schema_has_fork(default_schema(), fork) for fork in forks.all_forks().values())
