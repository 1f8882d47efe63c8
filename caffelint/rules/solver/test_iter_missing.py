"""SLV008 test-iter-missing (catalogue: rules/SLV008.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.net import TEST
from caffelint.model.solver import NetRef, SolverView

EACH = "\"test_iter must be specified for each test network.\""


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    explicit = [r for r in solver.nets if r.role in ("test_net", "test_net_param")]
    generic = next((r for r in solver.nets if r.role in ("net", "net_param")), None)
    iters = bound.entries_of("test_iter")
    interval = bound.get("test_interval")
    # Solver::InitTestNets (BVLC/caffe:src/caffe/solver.cpp): one test_iter per test_net, and with
    # a generic `net` each further test_iter adds a test copy of it.
    if len(iters) < len(explicit):
        ref = explicit[len(iters)]
        yield ctx.finding(ref.entry.item, f"{len(explicit)} test nets but {len(iters)} test_iter: Caffe stops "
                          f"at start ({EACH})")
        return
    if generic is None and len(iters) > len(explicit):
        yield ctx.finding(iters[len(explicit)].item, f"{len(iters)} test_iter but {len(explicit)} test nets, and "
                          f"train_net is never tested: Caffe stops at start ({EACH})")
        return
    instances = len(iters) if generic is not None else len(explicit)
    if instances and interval <= 0:
        where = bound.entry("test_interval").item if bound.has("test_interval") else iters[0].item
        yield ctx.finding(where, f"test_interval is {interval} but the solver has {instances} test "
                          f"net{'s' if instances > 1 else ''}: Caffe stops at start (CHECK_GT(test_interval, 0))")
        return
    if instances or generic is None:
        return
    if interval > 0:
        yield ctx.finding(bound.entry("test_interval").item, f"test_interval {interval} is set but test_iter is "
                          "not: Caffe builds no test net and never tests")
        return
    only_in_test = _test_only_layers(solver, generic)
    if only_in_test:
        yield ctx.finding(generic.entry.item, f"the net has TEST-phase layers ({_names(only_in_test)}) but the "
                          "solver sets no test_iter: Caffe builds no test net, so the log shows no test output",
                          notes=[(only_in_test[0].node, "a TEST-phase layer")])


def _test_only_layers(solver: SolverView, ref: NetRef) -> list:
    view = ref.view
    if view is None:
        return []
    trained = {layer.index for layer in view.graph(solver.train_state).layers}
    return [layer for layer in view.graph(view.base_state(TEST)).layers if layer.index not in trained]


def _names(layers: list) -> str:
    shown = ", ".join(repr(layer.name) for layer in layers[:3])
    return shown + (f" and {len(layers) - 3} more" if len(layers) > 3 else "")
