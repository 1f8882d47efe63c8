"""SLV027 lr-param-out-of-range (catalogue: rules/SLV027.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.solver import SolverView
from caffelint.rules.solver import number, value_of

GAMMA_CHECKED = ("step", "exp", "inv", "multistep", "sigmoid")  # CHECK_GE(gamma, 0) in GetLearningRate
GAMMA_DECAYS = ("step", "multistep", "exp")  # rate = base_lr * gamma ^ k


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    policy = bound.get("lr_policy")
    if bound.has("gamma") and policy in GAMMA_CHECKED:
        gamma = bound.get("gamma")
        if gamma < 0:
            yield ctx.finding(value_of(solver, "gamma"), f"gamma {number(gamma)} is negative: BVLC Caffe stops at "
                              f"the first iteration (CHECK_GE(gamma, 0) for lr_policy {policy!r}); builds without "
                              "the check train with a rate that flips sign or turns NaN")
        elif gamma == 0 and policy in GAMMA_DECAYS:
            yield ctx.finding(value_of(solver, "gamma"), f"gamma 0 with lr_policy {policy!r}: the rate becomes "
                              "base_lr * 0 = 0 at the first decay and training stalls")
        elif gamma > 1 and policy in GAMMA_DECAYS:
            yield ctx.finding(value_of(solver, "gamma"), f"gamma {number(gamma)} is above 1 with lr_policy "
                              f"{policy!r}: the rate grows at every decay instead of shrinking")
    if policy in ("step", "sigmoid") and bound.has("stepsize") and bound.get("stepsize") <= 0:
        yield ctx.finding(value_of(solver, "stepsize"), f"stepsize {bound.get('stepsize')} is not positive: "
                          f"Caffe stops at the first iteration (CHECK_GT(stepsize, 0) for lr_policy {policy!r})")
    if policy in ("inv", "poly") and bound.has("power") and bound.get("power") < 0:
        grows = "towards infinity at max_iter" if policy == "poly" else "at every iteration"
        yield ctx.finding(value_of(solver, "power"), f"power {number(bound.get('power'))} is negative with "
                          f"lr_policy {policy!r}: the rate grows {grows}")
    if policy == "poly" and bound.has("max_iter") and bound.get("max_iter") <= 0:
        yield ctx.finding(value_of(solver, "max_iter"), f"max_iter {bound.get('max_iter')} with lr_policy 'poly': "
                          "iter / max_iter is not finite and the rate is NaN")
