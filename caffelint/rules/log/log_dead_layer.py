"""LOG019 log-dead-layer (catalogue: rules/LOG019.yaml).

Reads the top blobs' mean |x| that debug_info prints on display iterations
(log_debug): a layer whose output is exactly 0 in the last displays puts out
nothing for any sample.  Only the first such layer of a chain is reported:
the layers fed by it are dead because it is.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TrainingLog
from caffelint.model.log_curves import run_prefix
from caffelint.model.log_debug import Output
from caffelint.model.log_net import LoggedLayer, NetSetup


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    displays = ctx.options["displays"]
    for run in log.runs:
        net, outputs = run.train_net, run.debug.outputs
        if net is None:
            continue
        dead = {key: out for key, out in outputs.items() if out.zeros >= displays}
        for (name, blob), out in sorted(dead.items(), key=lambda item: item[1].since_line):
            layer = net.layers.get(name)
            if layer is None or not layer.bottoms or _reports_no_activation(layer):
                continue
            inputs = [(bottom, _writer(net, layer, bottom)) for bottom in layer.bottoms]
            if any(writer is not None and (writer.name, bottom) in dead for bottom, writer in inputs):
                continue  # fed nothing: the layer below is the dead one
            iteration = run.display_after(out.since_line)
            yield ctx.finding(log.span(out.since_line), (
                f"{run_prefix(log.runs, run)}{layer.name} ({layer.type or 'layer'}) outputs only zeros: its top "
                f"{blob} has mean |x| = 0 in {_span(out, iteration)}; the layers above it get no "
                f"input and those below it no gradient; {_cause(layer, inputs)}"))


def _reports_no_activation(layer: LoggedLayer) -> bool:
    """Accuracy and losses put out scores, not activations; Python layers often targets and weights
    (R-CNN's proposal and anchor target layers), which may well be all zero."""
    return layer.type in ("Accuracy", "Silence", "Python") or layer.type.endswith("Loss") or bool(layer.loss_weights)


def _writer(net: NetSetup, reader: LoggedLayer, blob: str) -> LoggedLayer | None:
    """The layer that last wrote `blob` before `reader` (in-place layers rewrite their bottom)."""
    found = None
    for layer in net.layers.values():
        if layer is reader:
            return found
        if blob in layer.tops:
            found = layer
    return found


def _span(out: Output, iteration: int | None) -> str:
    since = f" (since iteration {iteration})" if iteration is not None else ""
    every = "all" if out.zeros == out.passes else "each of the last"
    return f"{every} {out.zeros} debug_info display{'s' if out.zeros > 1 else ''}{since}"


def _cause(layer: LoggedLayer, inputs: list) -> str:
    below = next((writer.name for _, writer in inputs if writer is not None), "the layer below")
    if layer.type in ("ReLU", "ReLU6"):
        return (f"a dead ReLU: every input from {below} is negative, for every sample (a large negative "
                f"bias, or a learning rate that pushed the weights there): check {below}'s fillers, lower "
                "base_lr, or give the ReLU a negative_slope or BatchNorm before it")
    return (f"an all-zero weight initialisation (without a weight_filler Caffe fills constant 0) or inputs from "
            f"{below} that cancel out")
