"""NET021 missing-layer-param (catalogue: rules/NET021.yaml).

Every CHECK a layer's constructor, LayerSetUp or filler makes on its own
parameters (model/layer_setup.py), and those that also need the shape of the
layer's input, such as group against the input channels (model/shapes.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource
from caffelint.model.layer_setup import setup_issues
from caffelint.model.net import NetView
from caffelint.model.shape_step import PARAM
from caffelint.model.shapes import data_problems, net_problems


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    for layer in net.layers:
        for where, message in setup_issues(layer):
            yield ctx.finding(where, f"{layer.type} '{layer.name}': {message}")
    for problem, scope in net_problems(net, PARAM):
        layer = problem.layer
        yield ctx.finding(problem.where, f"{layer.type} '{layer.name}'{scope}: {problem.message}")


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    """What the record shapes of the net's data sources add (not run with --no-data)."""
    for problem, scope in data_problems(source, ctx.run, PARAM):
        layer = problem.layer
        yield ctx.finding(problem.where, f"{layer.type} '{layer.name}'{scope}: {problem.message}"
                                         f"; shapes from the records of {source.written!r}")
