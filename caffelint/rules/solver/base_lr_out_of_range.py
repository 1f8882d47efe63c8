"""SLV003 base-lr-out-of-range (catalogue: rules/SLV003.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_value
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.net import PhaseGraph
from caffelint.model.solver import SolverView
from caffelint.rules.solver import conventional, number, train_graph, value_of

MOMENTUM_SOLVERS = ("SGD", "Nesterov")
NORMALISED_ADAPTIVE = ("Adam", "RMSProp")  # per-weight steps scaled to about base_lr


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    lr = bound.get("base_lr")
    if not bound.has("base_lr") or lr == 0:
        return  # base-lr-missing
    kind = solver.type
    suggested = conventional("base_lr", kind)
    if lr < 0:
        problem = f"base_lr {number(lr)} is negative: the solver climbs the loss instead of descending it"
    elif kind in MOMENTUM_SOLVERS:
        problem, suggested = _momentum_problem(solver, lr, ctx.options, suggested)
    elif kind in NORMALISED_ADAPTIVE or kind == "AdaGrad":
        problem = _adaptive_problem(solver, lr, ctx.options)
    elif kind == "AdaDelta" and lr < ctx.options["adadelta_min"]:
        problem = (f"base_lr {number(lr)} is below {number(ctx.options['adadelta_min'])} for AdaDelta, whose "
                   "method has no learning rate of its own (1.0): training barely moves")
    else:
        problem = None
    if problem is None:
        return
    fix = None
    if suggested is not None:
        fix = Fix(f"Set base_lr: {number(suggested)}", UNSAFE,
                  (set_value(solver.file.source, value_of(solver, "base_lr"), number(suggested)),))
    yield ctx.finding(value_of(solver, "base_lr"), problem, fix=fix)


def _momentum_problem(solver: SolverView, lr: float, opts: dict, usual: float | None):
    """SGD and Nesterov: too high (BatchNorm-aware), too high for the momentum, or too low."""
    graph = train_graph(solver)
    # An unread train net may hold BatchNorm: allow its higher rates rather than guess.
    batchnorm = graph is None or any(graph.layers_of_type("BatchNorm"))
    high = opts["sgd_max_batchnorm"] if batchnorm else opts["sgd_max"]
    momentum = solver.bound.get("momentum")
    if lr > high:
        net = ("the train net was not read, so BatchNorm's limit applies" if graph is None
               else "even with BatchNorm in the train net" if batchnorm else "without BatchNorm in the train net")
        return f"base_lr {number(lr)} is above {number(high)} for {solver.type} ({net}): expect the loss " \
               "to diverge (NaN)", usual
    if opts["high_momentum"] <= momentum < 1 and lr >= opts["high_momentum_max_lr"]:
        return (f"base_lr {number(lr)} with momentum {number(momentum)}: momentum multiplies each step by "
                f"1/(1 - momentum) = {number(round(1 / (1 - momentum)))}, so keep base_lr below "
                f"{number(opts['high_momentum_max_lr'])} (ten times lower than with momentum 0.9)",
                usual / 10 if usual else None)
    if lr < opts["sgd_min"] and _averages_loss(graph):
        return f"base_lr {number(lr)} is below {number(opts['sgd_min'])} for {solver.type}: training barely " \
               "moves", usual
    return None, usual


def _adaptive_problem(solver: SolverView, lr: float, opts: dict) -> str | None:
    """Adam, RMSProp and AdaGrad scale each weight's step themselves."""
    kind = solver.type
    high = opts["adagrad_max"] if kind == "AdaGrad" else opts["adaptive_max"]
    if lr > high:
        return (f"base_lr {number(lr)} is above {number(high)} for {kind}, whose steps are already normalised "
                "per weight: expect the loss to diverge (NaN)")
    if lr < opts["adaptive_min"] and _averages_loss(train_graph(solver)):
        return f"base_lr {number(lr)} is below {number(opts['adaptive_min'])} for {kind}: training barely moves"
    return None


def _averages_loss(graph: PhaseGraph | None) -> bool:
    """The train net's losses are averaged, so the usual rates apply (False when the net is unread).

    A loss summed over pixels instead (FCN's `normalize: false`) needs a far smaller base_lr.
    """
    if graph is None:
        return False
    for layer in graph.losses:
        written = layer.param("loss_param")
        if written is None:
            continue
        # LossParameter: normalize false means BATCH_SIZE, i.e. summed over every pixel of an image.
        if written.has("normalization") and written.get("normalization") in ("NONE", "BATCH_SIZE"):
            return False
        if not written.has("normalization") and written.has("normalize") and not written.get("normalize"):
            return False
    return True
