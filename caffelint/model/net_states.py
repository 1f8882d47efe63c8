"""Which NetStates a net is checked in.

Caffe builds a net once per state: the solver's train_state for the train net
and one test_state per test net (Solver::InitTrainNet, InitTestNets in
BVLC/caffe:src/caffe/solver.cpp).  A net checked without its solver is built in
TRAIN and TEST, except in a phase where it has no data layer at all (a
train-only or test-only file), and with the stage its stage-scoped data layers
need (DIGITS' "train", "val").
"""

from __future__ import annotations

from caffelint.model.net import TEST, TRAIN, Layer, NetState, NetView


def checked_states(net: NetView) -> list[NetState]:
    """The states of `net` worth checking, in Caffe's order, without repeats."""
    from_solvers = solver_states(net)
    if from_solvers:
        return from_solvers
    phases = [TEST] if net.is_deploy else [TRAIN, TEST]
    base = [net.base_state(phase) for phase in phases]
    if not net.inputs and not any(is_source(layer) for layer in net.layers):
        return base  # a fragment: nothing tells which phases it is meant for
    fed: list[NetState] = []
    for state in base:
        if _is_fed(net, state):
            fed.append(state)
            continue
        # Data layers scoped to a stage: the tool that runs the net sets it, so check it so.
        for stage in _source_stages(net):
            staged = NetState(state.phase, state.level, state.stages + (stage,))
            if _stage_fits(stage, state.phase) and _is_fed(net, staged):
                fed.append(staged)
    return fed or base


def solver_states(net: NetView) -> list[NetState]:
    """The states the solvers of the run build `net` in; empty when no solver uses it."""
    found: list[NetState] = []
    for solver in net.solvers:
        train = solver.train_net
        if train is not None and train.view is net:
            found.append(solver.train_state)
        found.extend(state for ref, state in solver.test_nets if ref.view is net)
    return list(dict.fromkeys(found))


def is_source(layer: Layer) -> bool:
    """A layer that feeds the net: tops and no bottoms (Data, Input, DummyData, a Python reader)."""
    return bool(layer.tops) and not layer.bottoms


def _is_fed(net: NetView, state: NetState) -> bool:
    return bool(net.inputs) or any(is_source(layer) for layer in net.graph(state).layers)


def _source_stages(net: NetView) -> list[str]:
    stages = [stage for layer in net.layers if is_source(layer)
              for rule in layer.include for stage in rule.all("stage")]
    return list(dict.fromkeys(stages))


def _stage_fits(stage: str, phase: str) -> bool:
    """Stage names that say their phase ("train"; "val", "test", "deploy") only go with it."""
    lowered = stage.lower()
    if "train" in lowered:
        return phase == TRAIN
    if any(word in lowered for word in ("val", "test", "deploy")):
        return phase == TEST
    return True
