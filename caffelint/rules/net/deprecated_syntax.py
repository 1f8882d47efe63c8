"""UPG001 deprecated-syntax (catalogue: rules/UPG001.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import SAFE, UNSAFE, Finding, Fix
from caffelint.model.net import NetView
from caffelint.model.solver import SolverView
from caffelint.upgrade import Deprecation, plan_net, plan_solver


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    for found in plan_net(net, ctx.source):
        yield _finding(found, ctx)


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    for found in plan_solver(solver, ctx.source):
        yield _finding(found, ctx)


def _finding(found: Deprecation, ctx: RuleContext) -> Finding:
    fix = None
    if found.edits:
        fix = Fix(found.title, UNSAFE if found.unsafe else SAFE, found.edits)
    return ctx.finding(found.where, found.message, fix=fix)
