"""`caffelint log` output: a run summary and the findings (text, json), or parse_log.py tables (csv)."""

from __future__ import annotations

import json
import math
import os

from caffelint.errors import UsageError
from caffelint.findings import Finding, Severity
from caffelint.model.log import Curve, Run, TrainingLog
from caffelint.model.log_curves import fmt, signals

ENDINGS = {"done": "Optimization Done", "stopped": "stopped early", "fatal": "a fatal error",
           "signal": "a signal (killed or crashed)", "truncated": "no end line (cut off or still running)"}


def render_log(report, fmt_name: str, output_dir: str | None = None) -> str:
    """Render a LogReport as text or json, or write csv tables and say where."""
    if fmt_name == "json":
        return json.dumps(log_dict(report), indent=2, allow_nan=False, default=_json_number) + "\n"
    if fmt_name == "csv":
        from caffelint.report.logtables import write_tables

        written = write_tables(report.log, output_dir or os.path.dirname(os.path.abspath(report.path)))
        if not written:
            return "no train or test outputs to tabulate; nothing written\n"
        return "".join(f"wrote {path} ({rows} rows)\n" for path, rows in written)
    if fmt_name != "text":
        raise UsageError(f"unknown log format {fmt_name!r} (use text, json or csv)")
    return render_text(report)


# -- text ------------------------------------------------------------------------


def render_text(report) -> str:
    from caffelint.report.text import format_finding

    log: TrainingLog = report.log
    solved = [r for r in log.runs if r.has_data or r.fatal]
    lines = [f"{report.path}: {len(solved)} run{'s' if len(solved) != 1 else ''}, {log.line_count} lines"]
    for number, run in enumerate(solved, 1):
        lines += _run_summary(run, number)
    lines.append("")
    lines += [format_finding(f) for f in report.findings]
    lines.append(_tally(report.findings))
    return "\n".join(lines) + "\n"


def _run_summary(run: Run, number: int) -> list[str]:
    sig = signals(run)
    head = f"run {number} (lines {run.line}-{run.end_line or '?'}"
    head += f", net {run.net_name}" if run.net_name else ""
    head += f", resumed from {run.resumed_from}" if run.resumed_from else ""
    out = [head + f"): ended with {ENDINGS.get(run.end, run.end)}"]
    if run.solver:
        out.append("  solver: " + _solver_line(run))
    if run.has_data:
        out.append(f"  iterations {run.first_iteration}-{run.last_iteration}: {len(run.train_loss)} displays, "
                   f"{len(run.test_passes)} test passes" + _duration(run))
    if run.lr:
        out.append("  lr: " + _lr_schedule(run))
    if len(sig.displayed):
        average = run.param("average_loss")
        label = f"displayed loss (mean of {average} iterations)" if average and average != "1" else "displayed loss"
        out.append("  " + _curve_line(label, run.train_loss, best="min"))
    if sig.display_broken:
        out.append("  the displayed loss left the outputs it averages (Caffe's running sum lost precision "
                   "after a huge spike); the diagnosis reads the sum of the train loss outputs")
    for curve in run.train.values():
        out.append("  " + _curve_line(f"train output {curve.name}", curve, best="min" if curve.is_loss else "max"))
    for net, outputs in sorted(run.tests.items()):
        for curve in outputs.values():
            out.append("  " + _curve_line(f"test#{net} {curve.name}", curve, best="min" if curve.is_loss else "max"))
    for label, curve in sorted(run.debug_norms.items()):
        out.append("  " + _curve_line(f"debug_info {label}", curve, best=None))
    flow = run.debug.gradients
    if flow:
        out.append(f"  debug_info weight gradient (mean |diff|), lowest layer {flow.lowest} / highest {flow.highest}: "
                   f"{fmt(flow.low[0])} / {fmt(flow.high[0])} first, {fmt(flow.low[-1])} / {fmt(flow.high[-1])} last")
    if run.clipping:
        out.append(f"  gradient clipping (threshold {fmt(run.clip_threshold or 0)}) acted {len(run.clipping)} times")
    return out


def _solver_line(run: Run) -> str:
    keys = ("type", "base_lr", "lr_policy", "gamma", "power", "stepsize", "stepvalue", "max_iter", "momentum",
            "weight_decay", "test_iter", "test_interval", "display", "average_loss", "iter_size", "clip_gradients")
    parts = [f"{k} {', '.join(run.params(k))}" for k in keys if run.params(k)]
    train = run.train_net
    if train is not None and train.batch_size:
        parts.append(f"train batch {train.batch_size}")
    for (role, index), net in sorted(run.nets.items()):
        if role == "test" and net.batch_size:
            parts.append(f"test#{index} batch {net.batch_size}")
    return "; ".join(parts)


def _duration(run: Run) -> str:
    secs = [s for s in (run.train_loss.secs[0] if run.train_loss else math.nan,
                        run.train_loss.secs[-1] if run.train_loss else math.nan) if math.isfinite(s)]
    if len(secs) < 2 or secs[1] <= secs[0]:
        return ""
    took = secs[1] - secs[0]
    iters = run.train_loss.iters[-1] - run.train_loss.iters[0]
    hours, rest = divmod(int(took), 3600)
    length = f"{took:.1f} s" if took < 60 else f"{hours}h{rest // 60:02d}m"
    return f", {length} ({iters / took:.3g} iter/s)"


def _lr_schedule(run: Run) -> str:
    sig = signals(run)
    stretches = sig.lr_segments
    policy = f" ({run.policy})" if run.policy else ""
    if len(stretches) > 6 or run.policy in ("inv", "poly", "exp", "sigmoid"):
        return f"{fmt(run.lr.values[0])} → {fmt(run.lr.values[-1])}{policy}, changing all the time"
    text = ", ".join(f"{fmt(lr)} at {a}-{b}" for a, b, lr in stretches)
    nonfinite = run.lr.first_nonfinite()
    if nonfinite is not None:
        text += f", {fmt(run.lr.values[nonfinite])} from {run.lr.iters[nonfinite]}"
    return text + policy


def _curve_line(label: str, curve: Curve, best: str | None) -> str:
    values = list(curve.values)
    finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
    text = f"{label}: first {fmt(values[0])}, final {fmt(values[-1])}"
    if finite and best:
        value, i = min(finite) if best == "min" else max(finite)
        text += f", best {fmt(value)} at iteration {curve.iters[i]}"
    bad = len(values) - len(finite)
    if bad:
        text += f" ({bad} of {len(values)} values nan or inf)"
    return text


def _tally(findings: list[Finding]) -> str:
    if not findings:
        return "No problems found in the training log."
    counts = {s: sum(1 for f in findings if f.severity == s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    parts = [f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n]
    return f"Found {', '.join(parts)}."


# -- json ------------------------------------------------------------------------


def log_dict(report) -> dict:
    from caffelint.report.json import finding_dict

    log: TrainingLog = report.log
    return {
        "path": report.path,
        "lines": log.line_count,
        "runs": [_run_dict(run, i) for i, run in enumerate(r for r in log.runs if r.has_data or r.fatal)],
        "findings": [dict(finding_dict(f, {}), iteration=report.iteration_of(f)) for f in report.findings],
    }


def _run_dict(run: Run, index: int) -> dict:
    sig = signals(run)
    return {
        "index": index,
        "line": run.line,
        "end_line": run.end_line,
        "end": run.end,
        "net": run.net_name,
        "resumed_from": run.resumed_from or None,
        "solver": {k: v if len(v) > 1 else v[0] for k, v in run.solver.items()},
        "iterations": [run.first_iteration, run.last_iteration] if run.has_data else None,
        "test_passes": len(run.test_passes),
        "display_broken": sig.display_broken,
        "lr": [[a, b, _number(lr)] for a, b, lr in sig.lr_segments[:50]],
        "train": {"loss": _curve_dict(run.train_loss), **{n: _curve_dict(c) for n, c in run.train.items()}},
        "test": {str(net): {n: _curve_dict(c) for n, c in outputs.items()} for net, outputs in sorted(run.tests.items())},
        "fatal": [{"line": e.line, "message": e.text} for e in run.fatal],
    }


def _curve_dict(curve: Curve) -> dict:
    values = list(curve.values)
    return {"points": len(values), "loss_weight": curve.weight,
            "first": _number(values[0]) if values else None, "final": _number(values[-1]) if values else None,
            "nonfinite": sum(1 for v in values if not math.isfinite(v))}


def _number(value: float) -> float | str:
    """JSON has no nan or inf: those become the strings Caffe prints."""
    return value if math.isfinite(value) else fmt(value)


def _json_number(value):
    raise TypeError(f"not JSON serialisable: {value!r}")
