"""SLV007 momentum-out-of-range (catalogue: rules/SLV007.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_value
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import conventional, insert_fields, number, type_anchor, value_of

# What `momentum` means to each solver that reads it (BVLC/caffe:src/caffe/solvers/*.cpp).
# AdaGrad and RMSProp refuse any momentum: that is momentum-not-supported.
ROLE = {
    "SGD": "the weight of the previous update",
    "Nesterov": "the weight of the previous update",
    "AdaDelta": "the decay of its running averages",
    "Adam": "beta1, the decay of its gradient average",
}
NEEDS_MOMENTUM = {
    "AdaDelta": "a decay of 0: AdaDelta keeps no running averages",
    "Adam": "beta1 = 0: Adam keeps no average of the gradient",
}


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    kind = solver.type
    if kind not in ROLE:
        return
    usual = number(conventional("momentum", kind))
    source = solver.file.source
    if not bound.has("momentum"):
        if kind in NEEDS_MOMENTUM:
            after = "base_lr" if bound.has("base_lr") else None
            yield ctx.finding(type_anchor(solver), f"{kind} without momentum: Caffe reads momentum as "
                              f"{ROLE[kind]}, so unset it is {NEEDS_MOMENTUM[kind]} (BVLC's example uses {usual})",
                              fix=Fix(f"Add momentum: {usual}", UNSAFE,
                                      (insert_fields(solver, after, f"momentum: {usual}"),)))
    else:
        momentum = bound.get("momentum")
        problem = _momentum_problem(kind, momentum)
        if problem:
            where = value_of(solver, "momentum")
            yield ctx.finding(where, f"momentum {number(momentum)} for {kind} is {ROLE[kind]}: {problem}",
                              fix=Fix(f"Set momentum: {usual}", UNSAFE, (set_value(source, where, usual),)))
    if kind == "Adam" and bound.has("momentum2") and not 0 <= bound.get("momentum2") < 1:
        beta2 = bound.get("momentum2")
        where = value_of(solver, "momentum2")
        # AdamSolver scales the rate by sqrt(1 - beta2^t) / (1 - beta1^t): 0 for beta2 = 1, NaN above.
        result = "0, so nothing is learnt" if beta2 == 1 else "not a real number (NaN)"
        yield ctx.finding(where, f"momentum2 {number(beta2)} (Adam's beta2) must lie in [0, 1): the rate "
                          f"correction sqrt(1 - beta2^t) is {result}",
                          fix=Fix("Set momentum2: 0.999", UNSAFE, (set_value(source, where, "0.999"),)))


def _momentum_problem(kind: str, momentum: float) -> str | None:
    if momentum < 0:
        return "a negative value makes each step undo part of the previous one"
    if momentum >= 1:
        if kind == "Adam":
            return "beta1 >= 1 makes the bias correction 1 - beta1^t zero or negative (NaN or reversed steps)"
        return "at 1 or above the history never fades, the steps grow without bound and training diverges"
    if momentum == 0 and kind in NEEDS_MOMENTUM:
        return f"0 is {NEEDS_MOMENTUM[kind]}"
    return None
