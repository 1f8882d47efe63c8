"""SLV019 test-state-count-mismatch (catalogue: rules/SLV019.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.solver import SolverView


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    states = solver.bound.entries_of("test_state")
    if not states:
        return
    generic = any(r.role in ("net", "net_param") for r in solver.nets)
    explicit = sum(1 for r in solver.nets if r.role in ("test_net", "test_net_param"))
    # InitTestNets: test nets = the test_net(s), plus one copy of `net` per further test_iter.
    instances = len(solver.bound.all("test_iter")) if generic else explicit
    if len(states) != instances:
        where = states[instances].node if len(states) > instances else states[-1].node
        yield ctx.finding(where, f"{len(states)} test_state for {instances} test "
                          f"net{'s' if instances != 1 else ''}: Caffe stops at start (\"test_state must be "
                          "unspecified or specified once per test net.\")")
