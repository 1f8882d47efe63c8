"""`caffelint log --plot`: loss and accuracy against iterations, lr on a second axis, findings marked.

matplotlib is an optional extra (`pip install 'caffelint[plot]'`); it is
imported here only, and drawn through a bare Figure (no pyplot, no global
backend).  Long curves are reduced to at most MAX_POINTS medians, with a light
band from each bucket's lowest to highest value so the curve's width (the noise
of small batches) still shows.
"""

from __future__ import annotations

import html
import io
import math
import os

from caffelint.errors import UsageError
from caffelint.findings import Severity
from caffelint.model.log import TEST, TRAIN, Curve, Run
from caffelint.model.log_curves import signals

MAX_POINTS = 2000
FORMATS = (".png", ".svg", ".html")
SEVERITY_COLOURS = {Severity.ERROR: "#c0392b", Severity.WARNING: "#d68910", Severity.INFO: "#2e86c1"}


def plot_log(report, out_path: str) -> None:
    """Draw `report`'s curves into out_path (.png, .svg or .html)."""
    ext = os.path.splitext(out_path)[1].lower()
    if ext not in FORMATS:
        raise UsageError(f"--plot {out_path}: use a .png, .svg or .html file name")
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'caffelint[plot]'") from None
    figure = _draw(report, Figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png" if ext == ".png" else "svg", dpi=110, bbox_inches="tight")
    data = buffer.getvalue()
    if ext == ".html":
        data = _page(report, data.decode("utf-8")).encode("utf-8")
    from caffelint.report.logtables import write_new

    write_new(out_path, data)


def _draw(report, figure_class):
    numbered = [r for r in report.log.runs if r.has_data or r.fatal]  # as the text report counts them
    runs = [r for r in numbered if r.has_data]
    has_accuracy = any(signals(r).accuracies(TEST, n) for r in runs for n in r.tests) or any(
        signals(r).accuracies(TRAIN) for r in runs)
    figure = figure_class(figsize=(11, 7.5 if has_accuracy else 4.8))
    axes = figure.subplots(2 if has_accuracy else 1, 1, sharex=True, squeeze=False)[:, 0]
    loss_ax = axes[0]
    lr_ax = loss_ax.twinx()
    for i, run in enumerate(runs):
        _draw_losses(loss_ax, run, first=i == 0)
        _draw_lr(lr_ax, run, first=i == 0)
        if has_accuracy:
            _draw_accuracies(axes[1], run, first=i == 0)
        if i > 0:
            for ax in axes:
                ax.axvline(run.first_iteration, color="#555555", linestyle="--", linewidth=0.8)
            loss_ax.annotate(f"run {numbered.index(run) + 1}" + (" (resumed)" if run.resumed_from else ""),
                             (run.first_iteration, 1.0), xycoords=("data", "axes fraction"),
                             fontsize=7, color="#555555", va="bottom")
    _scale(loss_ax)
    loss_ax.set_ylabel("loss")
    lr_ax.set_ylabel("learning rate", color="#7d3c98")
    lr_ax.tick_params(axis="y", colors="#7d3c98")
    if lr_ax.lines:
        _scale(lr_ax, decades=1)
        rates = [float(v) for line in lr_ax.lines for v in line.get_ydata() if math.isfinite(float(v))]
        if rates and max(rates) == min(rates) and max(rates) > 0:
            lr_ax.set_ylim(0, 1.6 * max(rates))  # a constant rate: a flat line a third of the way down
    _mark_findings(report, axes)
    handles, labels = loss_ax.get_legend_handles_labels()
    more, more_labels = lr_ax.get_legend_handles_labels()
    if handles or more:
        loss_ax.legend(handles + more, labels + more_labels, loc="best", fontsize=8, framealpha=0.85)
    if has_accuracy:
        axes[1].set_ylabel("accuracy")
        axes[1].set_ylim(-0.02, 1.02)
        axes[1].legend(loc="best", fontsize=8, framealpha=0.85, ncol=2)
    axes[-1].set_xlabel("iteration")
    for ax in axes:
        ax.grid(True, alpha=0.25)
    name = next((r.net_name for r in runs if r.net_name), "")
    figure.suptitle(f"{os.path.basename(report.path)}" + (f" ({name})" if name else ""), fontsize=11)
    return figure


def _xy(curve: Curve):
    """Finite points, reduced to MAX_POINTS bucket medians with their low and high."""
    import numpy as np

    iters = np.frombuffer(curve.iters, dtype=np.int64).astype(float)
    values = np.frombuffer(curve.values, dtype=np.float64)
    keep = np.isfinite(values)
    iters, values = iters[keep], values[keep]
    if len(values) <= MAX_POINTS:
        return iters, values, None, None
    edges = np.linspace(0, len(values), MAX_POINTS + 1).astype(int)
    pieces = [values[a:b] for a, b in zip(edges[:-1], edges[1:])]
    return (iters[edges[:-1]], np.array([np.median(p) for p in pieces]),
            np.array([p.min() for p in pieces]), np.array([p.max() for p in pieces]))


def _line(ax, curve: Curve, label: str | None, **style) -> None:
    x, y, low, high = _xy(curve)
    if not len(x):
        return
    if low is not None:
        ax.fill_between(x, low, high, color=style.get("color"), alpha=0.12, linewidth=0)
    ax.plot(x, y, label=label, **style)
    bad = [i for i, v in enumerate(curve.values) if not math.isfinite(v)]
    if bad:
        ax.axvline(curve.iters[bad[0]], color="#c0392b", linewidth=1.5, alpha=0.6)
        ax.annotate("nan", (curve.iters[bad[0]], 0.97), xycoords=("data", "axes fraction"),
                    color="#c0392b", fontsize=8, ha="left", va="top")


def _draw_losses(ax, run: Run, first: bool) -> None:
    sig = signals(run)
    if run.train_loss:
        ax_label = "train loss (displayed)" if first else None
        _line(ax, run.train_loss, ax_label, color="#1f77b4", linewidth=1.0)
    if sig.display_broken and sig.output_sum is not None:
        for curve in run.train.values():
            if curve.is_loss:
                _line(ax, curve, f"train {curve.name}" if first else None, color="#17becf", linewidth=0.8)
    colours = ["#d62728", "#ff7f0e", "#8c564b"]
    for net, outputs in sorted(run.tests.items()):
        for k, curve in enumerate(c for c in outputs.values() if c.is_loss):
            label = f"test#{net} {curve.name}" if first else None
            _line(ax, curve, label, color=colours[(net + k) % len(colours)], marker="o", markersize=2.5,
                  linewidth=1.2)


def _draw_lr(ax, run: Run, first: bool) -> None:
    if run.lr:
        x, y, _, _ = _xy(run.lr)
        ax.step(x, y, where="post", color="#7d3c98", alpha=0.6, linewidth=1.0, label="lr" if first else None)


def _draw_accuracies(ax, run: Run, first: bool) -> None:
    sig = signals(run)
    colours = ["#2ca02c", "#9467bd", "#bcbd22", "#e377c2", "#8c564b", "#17becf", "#ff7f0e", "#7f7f7f", "#1f77b4"]
    k = 0
    for net in sorted(run.tests):
        for out in sig.accuracies(TEST, net):
            _line(ax, out.curve, f"test#{net} {out.name}" if first else None, color=colours[k % len(colours)],
                  marker="o", markersize=2.5, linewidth=1.2)
            if out.chance_accuracy and first and k == 0:
                ax.axhline(out.chance_accuracy, color="#888888", linestyle=":", linewidth=0.9,
                           label=f"chance {out.chance_accuracy:.3g}")
            k += 1
    for out in sig.accuracies(TRAIN):
        _line(ax, out.curve, f"train {out.name}" if first else None, color="#17becf", linewidth=0.8, alpha=0.7)


def _scale(ax, decades: int = 2) -> None:
    """Log scale when the values span more than `decades` decades (a loss from 87 down to 0.01)."""
    values = [float(v) for line in ax.lines for v in line.get_ydata() if float(v) > 0]
    if values and max(values) / min(values) >= 10 ** decades:
        ax.set_yscale("log")


def _mark_findings(report, axes) -> None:
    seen: set[tuple[str, int]] = set()
    for finding in report.findings:
        iteration = report.iteration_of(finding)
        if iteration is None or (finding.code, iteration) in seen:
            continue
        seen.add((finding.code, iteration))
        colour = SEVERITY_COLOURS.get(finding.severity, "#555555")
        for ax in axes:
            ax.axvline(iteration, color=colour, linewidth=1.0, alpha=0.5, linestyle="-.")
        axes[0].annotate(f"{finding.code} {finding.name}", (iteration, 0.02 + 0.07 * (len(seen) % 6)),
                         xycoords=("data", "axes fraction"), rotation=0, fontsize=7, color=colour,
                         ha="left", va="bottom",
                         bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour, "alpha": 0.8})


def _page(report, svg: str) -> str:
    """A self-contained page: the SVG inline, the run summary and findings below it."""
    from caffelint.report.logreport import render_text

    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    title = html.escape(os.path.basename(report.path))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>caffelint: {title}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em;max-width:75em}"
        "pre{white-space:pre-wrap;font-size:0.85em;background:#f6f6f6;padding:1em}</style></head><body>\n"
        f"<h1>{title}</h1>\n{body}\n<pre>{html.escape(render_text(report))}</pre>\n</body></html>\n"
    )
