"""From a training log's diagnosis to solver changes: `caffelint fix solver.prototxt --from-log train.log`.

Each change is an UNSAFE fix (it changes training) on a finding stamped with
the LOG rule whose diagnosis implies it, at the solver field it edits, with the
log evidence in its message.  Only the last run of the log that trained is
read: it is the one the solver in front of us produced.  Changes are relative
to the values the log echoes (base_lr ÷ 10 of the run that diverged), and a
change the solver already holds is not proposed again.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

from caffelint.config import Options, effective
from caffelint.engine import enabled_rules, severity_of
from caffelint.findings import UNSAFE, Edit, Finding, Fix
from caffelint.logdiag import LogReport, diagnose_log
from caffelint.model.log import Run
from caffelint.model.log_smoothing import round_iterations
from caffelint.model.solver import SolverView

# BVLC/caffe:examples/coco_caption/lrcn_solver.prototxt (the recurrent nets' solver) clips at 10.
DEFAULT_CLIP = 10.0


def solver_findings_from_log(log_path: str, solver_view: SolverView, context) -> list[Finding]:
    """Findings on the solver file whose unsafe fixes apply what the log's diagnosis suggests."""
    options: Options = context.options
    report = diagnose_log(log_path, options, debug=getattr(context, "debug", False))
    run = _last_trained(report)
    if run is None:
        return []
    by_name = {f.name: f for f in report.findings if report.run_of(f) is run}
    planner = _Planner(report, run, by_name, solver_view, context.catalogue, effective(options, solver_view.file.path))
    return list(planner.findings())


def _last_trained(report: LogReport) -> Run | None:
    trained = [r for r in report.log.runs if r.has_data]
    return trained[-1] if trained else None


class _Planner:
    def __init__(self, report: LogReport, run: Run, by_name: dict[str, Finding], solver: SolverView,
                 catalogue, options: Options) -> None:
        self.report, self.run, self.by_name, self.solver = report, run, by_name, solver
        self.catalogue, self.options = catalogue, options
        self.enabled = {s.code for s in enabled_rules(catalogue, options, report.path)}
        self.source = solver.file.source
        self.bound = solver.bound

    def findings(self) -> Iterator[Finding]:
        if "log-nan" in self.by_name and not self._on("debug_info"):
            yield from self._maybe(self._finding(
                "log-nan", "debug_info", "debug_info: true for a short diagnostic run",
                "Set debug_info: true (turn it off again after the diagnostic run)", [self._set("debug_info", "true")]))
        lowered = False
        for name in ("log-nan", "log-diverging", "log-saturated-softmax", "log-lr-too-high"):
            if name in self.by_name and not lowered:
                found = self._lower_lr(name)
                if found is not None:
                    lowered = True
                    yield found
        if "log-lr-too-low" in self.by_name and not lowered:
            yield from self._maybe(self._raise_lr())
        if "log-loss-spikes" in self.by_name:
            yield from self._maybe(self._clip())
        if "log-plateau" in self.by_name:
            yield from self._maybe(self._step())
        if "log-lr-schedule" in self.by_name:
            yield from self._maybe(self._gamma())

    @staticmethod
    def _maybe(found: Finding | None) -> Iterator[Finding]:
        if found is not None:
            yield found

    # -- the changes
    def _logged_base_lr(self) -> float | None:
        """base_lr as the log echoes it, or its first lr line (at iteration 0 the rate is base_lr)."""
        echoed = self.run.number("base_lr")
        if echoed is not None:
            return echoed
        if self.run.lr and self.run.lr.iters[0] == 0 and math.isfinite(self.run.lr.values[0]):
            return self.run.lr.values[0]
        return None

    def _lower_lr(self, name: str) -> Finding | None:
        factor = 3.0 if name == "log-lr-too-high" else 10.0
        logged = self._logged_base_lr()
        current = self._current("base_lr")
        start = logged if logged is not None else current
        if start is None or start <= 0:
            return None
        target = start / factor
        if current is not None and current <= target * 1.0001:
            return None  # already lowered since this log was written
        return self._finding(name, "base_lr", f"base_lr {_number(start)} → {_number(target)}",
                             f"Set base_lr: {_number(target)}", [self._set("base_lr", _number(target))])

    def _raise_lr(self) -> Finding | None:
        logged = self._logged_base_lr()
        current = self._current("base_lr")
        start = logged if logged is not None else current
        if start is None or start <= 0 or (current is not None and current >= 3 * start * 0.9999):
            return None
        target = 3 * start
        return self._finding("log-lr-too-low", "base_lr", f"base_lr {_number(start)} → {_number(target)}",
                             f"Set base_lr: {_number(target)}", [self._set("base_lr", _number(target))])

    def _clip(self) -> Finding | None:
        if self.solver.bound.has("clip_gradients") and (self._current("clip_gradients") or -1) > 0:
            return None  # clipping is on already; its frequency is in the finding
        value = _clip_value(self.run)
        return self._finding("log-loss-spikes", "clip_gradients", f"clip_gradients {_number(value)}",
                             f"Set clip_gradients: {_number(value)}", [self._set("clip_gradients", _number(value))])

    def _step(self) -> Finding | None:
        finding = self.by_name["log-plateau"]
        iteration = self.report.iteration_of(finding)
        if iteration is None:
            return None
        start = self.run.first_iteration
        policy = self.run.policy or (self.bound.get("lr_policy") if self.bound.has("lr_policy") else "fixed")
        if policy == "multistep":
            value = str(round_iterations(iteration))
            if value in {_text(v) for v in self.bound.all("stepvalue")}:
                return None
            edit = self._insert_stepvalue(int(value))
            return self._finding("log-plateau", "stepvalue", f"a step at iteration {value}",
                                 f"Add stepvalue: {value}", [edit])
        stepsize = round_iterations(iteration - start)
        if stepsize <= 0 or self._current("stepsize") == stepsize:
            return None
        fields = {"stepsize": str(stepsize)}
        if policy != "step":
            fields = {"lr_policy": '"step"', **fields}
            if not self.bound.has("gamma"):
                fields["gamma"] = "0.1"  # caffe.proto gives gamma no default: 0 would zero the rate
        title = "Set " + ", ".join(f"{k}: {v}" for k, v in fields.items())
        return self._finding("log-plateau", "stepsize", f"stepsize {stepsize}", title, self._set_many(fields))

    def _gamma(self) -> Finding | None:
        if self.bound.has("gamma") or self.run.policy not in ("step", "multistep", "exp", "sigmoid"):
            return None
        return self._finding("log-lr-schedule", "gamma", "gamma 0.1", "Set gamma: 0.1", [self._set("gamma", "0.1")])

    # -- helpers
    def _finding(self, name: str, field: str, change: str, title: str, edits: list[Edit]) -> Finding | None:
        spec = self.catalogue.get(name)
        if spec is None or spec.code not in self.enabled or not edits:
            return None
        evidence = self.by_name[name]
        entry = self.bound.entry(field)
        start, end = (entry.node.start, entry.node.end) if entry is not None else (edits[0].start, edits[0].start)
        where = os.path.basename(self.report.path)
        message = f"{change}, from {where}:{evidence.span.start.line}: {evidence.message}"
        severity = severity_of(spec, self.options, self.catalogue)
        return Finding(spec.code, spec.name, severity, message, self.source.span(start, end),
                       Fix(title, UNSAFE, tuple(edits)))

    def _set(self, field: str, value: str) -> Edit:
        from caffelint.edits import set_field

        return set_field(self.source, self.bound, field, value)

    def _set_many(self, fields: dict[str, str]) -> list[Edit]:
        """Set each field: in place when written, else all missing ones in one inserted block."""
        from caffelint.edits import insert_field

        edits = [self._set(k, v) for k, v in fields.items() if self.bound.has(k)]
        missing = "\n".join(f"{k}: {v}" for k, v in fields.items() if not self.bound.has(k))
        if missing:
            edits.append(insert_field(self.source, self.bound, missing))
        return edits

    def _insert_stepvalue(self, value: int) -> Edit:
        from caffelint.edits import insert_field

        entries = self.bound.entries_of("stepvalue")
        after = [e for e in entries if _as_float(e.value) < value]
        before = [e for e in entries if _as_float(e.value) > value]
        if before:
            return insert_field(self.source, self.bound, f"stepvalue: {value}", before=before[0].node)
        anchor = after[-1].node if after else None
        return insert_field(self.source, self.bound, f"stepvalue: {value}", after=anchor)

    def _current(self, field: str) -> float | None:
        if not self.bound.has(field):
            return None
        return _as_float(self.bound.get(field))

    def _on(self, field: str) -> bool:
        return self.bound.has(field) and bool(self.bound.get(field))


def _clip_value(run: Run) -> float:
    """About twice the usual gradient norm when debug_info logged it (so only spikes are scaled), else 10."""
    norms = run.debug_norms.get("L2 diff")
    if norms is not None and len(norms):
        finite = sorted(v for v in norms.values if math.isfinite(v) and v > 0)
        if finite:
            typical = 2 * finite[len(finite) // 2]
            digits = -int(math.floor(math.log10(typical)))
            return round(typical, digits)
    return DEFAULT_CLIP


def _number(value: float) -> str:
    """A value as a person writes it in a solver, two significant digits: 0.008, 0.027, 1e-05, 10."""
    return f"{float(f'{value:.2g}'):g}"


def _as_float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _text(value) -> str:
    number = _as_float(value)
    return str(int(number)) if math.isfinite(number) and number == int(number) else str(value)
