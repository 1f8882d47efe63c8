"""NET010 softmax-before-loss (catalogue: rules/NET010.yaml).

SoftmaxWithLoss applies its own softmax, and SigmoidCrossEntropyLoss its own
sigmoid, to bottom 0 (softmax_loss_layer.cpp, sigmoid_cross_entropy_loss_layer.cpp
in BVLC/caffe:src/caffe/layers/): a Softmax or Sigmoid before them is applied twice.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_string
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.net import Layer, NetView

SQUASHED_BY = {"SoftmaxWithLoss": "Softmax", "SigmoidCrossEntropyLoss": "Sigmoid"}


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    reported: set[Layer] = set()
    for graph in net.graphs():
        for loss in graph.layers_of_type(*SQUASHED_BY):
            if loss in reported or not loss.bottoms:
                continue
            squash = graph.producer(loss.bottoms[0], before=loss)
            if squash is None or squash.type != SQUASHED_BY[loss.type] or not squash.bottoms:
                continue
            reported.add(loss)
            logits = squash.bottoms[0]
            fn = squash.type.lower()
            fix = None
            if logits != loss.bottoms[0]:
                advice = f"feed it '{logits}'"
                fix = Fix(f"Feed '{loss.name}' the logits '{logits}'", UNSAFE,
                          (set_string(ctx.source, loss.bottom_item(0), logits),))
            else:  # in place: the logits are overwritten, nothing to re-point to
                advice = f"give '{squash.name}' a top of its own and feed the loss '{logits}'"
            yield ctx.finding(
                loss.bottom_item(0),
                f"'{loss.name}' ({loss.type}) reads '{loss.bottoms[0]}', the output of {squash.type} "
                f"'{squash.name}', and applies {fn} again: the loss and its gradients are those of "
                f"{fn}({fn}(x)); {advice}",
                notes=[(squash.name_node, f"{squash.type} here")], fix=fix)
