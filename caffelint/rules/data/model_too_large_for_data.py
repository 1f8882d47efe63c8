"""DAT011 model-too-large-for-data (catalogue: rules/DAT011.yaml).

Learnable parameters of the TRAIN net against the records of its training
source.  Parameter shapes need the input shape, which the scan supplies to
the net's shape inference.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource
from caffelint.rules.data import record_shapes, scanned


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    scan = scanned(source)
    if "TRAIN" not in source.phases or scan is None or scan.records == 0:
        return
    shapes, _how = record_shapes(source, scan)
    datum = max(shapes, key=shapes.get) if shapes else None
    params, complete = count_parameters(source, datum)
    per_record = params / scan.records
    if per_record <= ctx.options["max_params_per_sample"]:
        return
    least = "" if complete else "at least "
    yield ctx.finding(source.item, f"the TRAIN net has {least}{params:,} learnable parameters for "
                                   f"{scan.records:,} training records in {source.written!r} ({per_record:,.0f} "
                                   f"per record): a net this large memorises small data and diverges "
                                   f"easily; use fewer or narrower layers (num_output), or more data")


def count_parameters(source: DataSource, datum: tuple | None) -> tuple[int, bool]:
    """(parameters, whether every learnable layer's count is known), by the net's shape inference
    started from the records' shape (model/shapes.py)."""
    from caffelint.model import shapes

    datum_shapes = {source.layer.name: datum} if datum is not None else {}
    return shapes.count_parameters(source.net, datum_shapes), shapes.parameters_complete(source.net, datum_shapes)
