"""SLV005 lr-never-decays (catalogue: rules/SLV005.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.solver import SolverView
from caffelint.rules.solver import value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    policy = bound.get("lr_policy")
    max_iter = bound.get("max_iter")
    # Fields left unset are lr-policy-missing-param's; here, values written that cancel the decay.
    if policy in ("step", "multistep", "exp") and bound.has("gamma") and bound.get("gamma") == 1:
        yield ctx.finding(value_of(solver, "gamma"), f"gamma 1 with lr_policy {policy!r}: each decay "
                          "multiplies the rate by 1, so it stays at base_lr")
    elif policy == "step" and max_iter > 0 and bound.get("stepsize") >= max_iter:
        yield ctx.finding(value_of(solver, "stepsize"), f"stepsize {bound.get('stepsize')} is not below "
                          f"max_iter {max_iter}: the first drop of the rate would come after training ends")
    elif policy == "multistep" and max_iter > 0 and bound.has("stepvalue") and min(bound.all("stepvalue")) >= max_iter:
        first = bound.entries_of("stepvalue")[0].item
        yield ctx.finding(first, f"every stepvalue ({', '.join(map(str, bound.all('stepvalue')))}) is at or "
                          f"after max_iter {max_iter}: the rate never drops during training")
    elif policy in ("inv", "poly") and bound.has("power") and bound.get("power") == 0:
        yield ctx.finding(value_of(solver, "power"), f"power 0 with lr_policy {policy!r}: the decay factor is "
                          "raised to the power 0, so the rate stays at base_lr")
    elif policy == "inv" and bound.has("gamma") and bound.get("gamma") == 0:
        yield ctx.finding(value_of(solver, "gamma"), "gamma 0 with lr_policy 'inv': (1 + 0 * iter)^-power is 1, "
                          "so the rate stays at base_lr")
