"""SLV004 lr-policy-missing-param (catalogue: rules/SLV004.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import insert_field, quote, quote_of, set_string
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import anchor, conventional, facts, number, value_of
from caffelint.schema.suggest import close_matches

# What each field left unset (0) does under the policies that read it (SGDSolver::GetLearningRate).
CONSEQUENCE = {
    ("step", "stepsize"): "Caffe stops at the first iteration: CHECK_GT(stepsize, 0), or a division by 0",
    ("sigmoid", "stepsize"): "Caffe stops at the first iteration: CHECK_GT(stepsize, 0)",
    ("step", "gamma"): "the rate becomes base_lr * 0 = 0 at the first step and training stalls",
    ("multistep", "gamma"): "the rate becomes base_lr * 0 = 0 at the first stepvalue and training stalls",
    ("exp", "gamma"): "the rate is base_lr * 0^iter = 0 from iteration 1",
    ("inv", "gamma"): "(1 + 0 * iter)^-power is 1: the rate never decays",
    ("inv", "power"): "(1 + gamma * iter)^0 is 1: the rate never decays",
    ("sigmoid", "gamma"): "the rate stays at base_lr / 2",
    ("multistep", "stepvalue"): "the rate never drops",
    ("poly", "max_iter"): "`caffe train` runs no iteration, and solver.step() gets a NaN rate from iter / 0",
    ("poly", "power"): "(1 - iter / max_iter)^0 is 1: the rate never decays",
}


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    policies = facts()["lr_policies"]
    known = list(policies) + list(ctx.options["extra_policies"])
    if not bound.has("lr_policy"):
        yield _missing_policy(solver, ctx)
        return
    policy = bound.get("lr_policy")
    where = value_of(solver, "lr_policy")
    if policy not in known:
        fix = None
        close = close_matches(policy, known) if policy else []
        if len(close) == 1:
            fix = Fix(f"Set lr_policy: {close[0]!r}", UNSAFE, (set_string(solver.file.source, where, close[0]),))
        yield ctx.finding(where, f"lr_policy {policy!r} is not one Caffe knows ({', '.join(known)}): Caffe "
                          f"stops at the first iteration with \"Unknown learning rate policy: {policy}\"", fix=fix)
        return
    missing = [name for name in policies.get(policy, ()) if not bound.has(name)]
    if not missing:
        return
    problems = [f"{name} is not set ({CONSEQUENCE[policy, name]})" for name in missing]
    added = [line for name in missing if (line := _conventional_line(solver, policy, name))]
    fix = None
    if added:
        edit = insert_field(solver.file.source, solver.file.doc, "\n".join(added),
                            after=bound.entry("lr_policy").node)
        fix = Fix(f"Add {', '.join(added)}", UNSAFE, (edit,))
    yield ctx.finding(where, f"lr_policy {policy!r} needs {' and '.join(missing)}: " + "; ".join(problems),
                      fix=fix)


def _conventional_line(solver: SolverView, policy: str, name: str) -> str | None:
    """The conventional value for a missing field, as a line to insert (None: no convention)."""
    if name == "gamma" and policy in ("step", "multistep"):
        return f"gamma: {number(conventional('gamma_step'))}"
    if name == "stepsize" and policy == "step" and solver.bound.get("max_iter") >= 3:
        return f"stepsize: {solver.bound.get('max_iter') // 3}"
    if (policy, name) in (("inv", "gamma"), ("inv", "power"), ("poly", "power")):
        return f"{name}: {number(conventional(f'{name}_{policy}'))}"
    return None


def _missing_policy(solver: SolverView, ctx: RuleContext) -> Finding:
    bound = solver.bound
    # The fix chooses the policy the other fields were written for, else a constant rate.
    policy = "multistep" if bound.has("stepvalue") else "step" if bound.has("stepsize") else "fixed"
    line = f"lr_policy: {quote(policy, quote_of(solver.file.doc))}"
    after = "base_lr" if bound.has("base_lr") else None
    edit = insert_field(solver.file.source, solver.file.doc, line,
                        after=bound.entry(after).node if after else None)
    return ctx.finding(anchor(solver), "lr_policy is not set: Caffe stops at the first iteration with "
                       "\"Unknown learning rate policy: \"", fix=Fix(f"Add {line}", UNSAFE, (edit,)))
