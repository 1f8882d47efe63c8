"""DAT001 data-source-missing (catalogue: rules/DAT001.yaml).

A data layer's source (or its mean_file) is not where the net says.  Repos
are often linted without their data, so this is info unless --require-data.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    where = _places(source)
    if source.path is None:
        yield ctx.finding(source.item, f"{source.layer.type} layer {source.layer.name!r}: source "
                                       f"{source.written!r} not found {where}; its data is not checked")
    mean = source.mean_file
    if mean is not None and mean[1] is None:
        setting = mean[0]
        yield ctx.finding(setting.item, f"mean_file {setting.value!r} not found {where}; Caffe stops at "
                                        f"start-up when it cannot read it (ReadProtoFromBinaryFileOrDie)")


def _places(source: DataSource) -> str:
    text = "relative to the working directory, the net's folder or its parents"
    return text + (f" or --root {source.root}" if source.root else "")
