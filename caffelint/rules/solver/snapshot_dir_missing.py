"""SLV012 snapshot-dir-missing (catalogue: rules/SLV012.yaml)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.solver import SolverView, resolve_path
from caffelint.rules.solver import value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    snapshot = bound.get("snapshot")
    if not bound.has("snapshot_prefix") or (snapshot <= 0 and not bound.get("snapshot_after_train")):
        return
    prefix = bound.get("snapshot_prefix")
    # Caffe writes <prefix>_iter_N.caffemodel: the folder part of the prefix must exist. Like net
    # paths, it is relative to the working directory of `caffe train`.
    folder = os.path.dirname(prefix)
    if not folder:
        return
    root = getattr(ctx.run, "root", None)
    resolved, _ = resolve_path(folder, solver.file.path, root)
    if resolved is not None and os.path.isdir(resolved):
        return
    tilde = " (Caffe does not expand ~)" if prefix.startswith("~") else ""
    when = (f"Caffe stops at start (\"Cannot write to snapshot prefix\"), or, in builds without that check, "
            f"at the first snapshot after {snapshot} iterations" if snapshot > 0 else
            "the snapshot Caffe writes after the last iteration fails and the trained weights are lost")
    yield ctx.finding(value_of(solver, "snapshot_prefix"), f"snapshot_prefix {prefix!r}: folder {folder!r} "
                      f"does not exist relative to the working directory, the solver's folder or its parents"
                      f"{tilde}: {when}")
