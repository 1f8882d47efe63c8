"""NET023 shape-mismatch (catalogue: rules/NET023.yaml).

Shape inference through each phase (model/shapes.py) mirrors every layer's
Reshape; what Caffe refuses there, or an output blob with a size of zero or
less, is reported once at the layer that meets it.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource
from caffelint.model.net import NetView
from caffelint.model.shape_step import SHAPE
from caffelint.model.shapes import data_problems, net_problems


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    for problem, scope in net_problems(net, SHAPE):
        layer = problem.layer
        yield ctx.finding(problem.where, f"{layer.type} '{layer.name}'{scope}: {problem.message}")


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    """What the record shapes of the net's data sources add (not run with --no-data)."""
    for problem, scope in data_problems(source, ctx.run, SHAPE):
        layer = problem.layer
        yield ctx.finding(problem.where, f"{layer.type} '{layer.name}'{scope}: {problem.message}"
                                         f"; shapes from the records of {source.written!r}")
