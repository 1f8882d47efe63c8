"""Shape inference through one phase of a net, the way Net::Init runs each layer's Reshape.

Shapes start from Input layers, the net's legacy `input` with `input_shape` or
`input_dim`, DummyData, and data layers whose output is knowable (batch size,
crop, an image list's resize, a data source's record shape).  Each layer type's
Reshape is mirrored in model/shape_*.py; what Caffe would refuse becomes a
ShapeProblem and the layer's outputs become unknown, so one mistake is
reported once.  Unknown shapes propagate as unknown: no guess is ever an error.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from caffelint.model.layer_specs import LayerSpec, checkable
from caffelint.model.net import Layer, NetState, NetView, PhaseGraph, scope
from caffelint.model.shape_step import SHAPE, Shape, ShapeProblem, Step, describe, product

MAX_AXES = 32  # kMaxBlobAxes, BVLC/caffe:include/caffe/blob.hpp
INT_MAX = 2**31 - 1  # Blob::Reshape: CHECK_LE(shape[i], INT_MAX / count_) << "blob size exceeds INT_MAX"


@dataclass
class ShapeResult:
    """Blob shapes after the whole net, each layer's outputs and parameter shapes, and problems."""

    blobs: dict[str, Shape | None] = field(default_factory=dict)
    tops: dict[int, list[Shape | None]] = field(default_factory=dict)  # by Layer.index
    params: dict[int, list[Shape | None] | None] = field(default_factory=dict)  # None: unknown
    problems: list[ShapeProblem] = field(default_factory=list)

    def parameter_count(self, layer: Layer) -> int | None:
        """Elements in the layer's parameter blobs; None when a shape is not known."""
        shapes = self.params.get(layer.index)
        if shapes is None:
            return None
        total = 0
        for shape in shapes:
            count = product(shape) if shape is not None else None
            if count is None:
                return None
            total += count
        return total

    @property
    def param_counts(self) -> dict[str, int | None]:
        """Parameter count of each layer that has parameters, by layer name."""
        return {layer.name: self.parameter_count(layer) for layer in self._layers if self.params.get(layer.index) != []}

    _layers: list[Layer] = field(default_factory=list, repr=False)


def infer_shapes(graph: PhaseGraph, input_shapes: dict[str, tuple] | None = None,
                 datum_shapes: dict[str, tuple] | None = None) -> ShapeResult:
    """Shapes of every blob of `graph`.

    input_shapes: blob name -> shape, for net inputs and the outputs of data layers (they win over
    what the layer's parameters say); datum_shapes: data layer name -> (channels, height, width)
    of its records, as a data source reports them.
    """
    from caffelint.model.shape_rules import RESHAPE

    given = dict(input_shapes or {})
    result = ShapeResult(_layers=graph.layers)
    blobs = result.blobs
    for name in graph.inputs:
        blobs[name] = _tuple(given.get(name))
    for layer in graph.layers:
        bottoms = [blobs.get(name) for name in layer.bottoms]
        datum = (datum_shapes or {}).get(layer.name)
        step = Step(layer, bottoms, tuple(datum[:3]) if datum is not None else None)
        spec = checkable(layer)
        tops = _run(layer, spec, step, RESHAPE.get(layer.type))
        if not layer.bottoms:
            tops = [_tuple(given[t]) if t in given else s for t, s in zip(layer.tops, tops)]
        result.problems.extend(step.problems)
        result.tops[layer.index] = tops
        result.params[layer.index] = _params(layer, spec, step)
        for name, shape in zip(layer.tops, tops):
            blobs[name] = shape
    return result


def _run(layer: Layer, spec: LayerSpec | None, step: Step,
         reshape: Callable[[Step], list | None] | None) -> list[Shape | None]:
    count = len(layer.tops)
    if reshape is None or spec is None or not _counts_ok(layer, spec):
        return [None] * count
    tops = reshape(step)
    if step.failed or tops is None:
        return [None] * count
    tops = list(tops[:count]) + [None] * (count - len(tops))
    for i, shape in enumerate(tops):
        if shape is not None and not _valid(step, i, shape):
            return [None] * count
    return tops


def _counts_ok(layer: Layer, spec: LayerSpec) -> bool:
    """Blob counts Caffe accepts (NET020 reports the others; their shapes are not inferred)."""
    bottoms, tops = spec.bottoms(layer), spec.tops(layer)
    return ((bottoms is None or bottoms.accepts(len(layer.bottoms)))
            and (tops is None or tops.accepts(spec.effective_tops(layer))))


def _valid(step: Step, index: int, shape: Shape) -> bool:
    """Blob::Reshape's CHECKs, plus the empty blobs no later layer can use."""
    name = step.layer.tops[index]
    if len(shape) > MAX_AXES:
        step.problem(f"output {name!r} would have {len(shape)} axes; a blob has at most {MAX_AXES}")
        return False
    bad = [d for d in shape if d is not None and d <= 0]
    if bad:
        sign = "negative" if min(bad) < 0 else "zero"
        step.problem(f"output {name!r} would be {describe(shape)}: a {sign} size "
                     f"({_cause(step)})")
        return False
    count = product(shape)
    if count is not None and count > INT_MAX:
        step.problem(f"output {name!r} would be {describe(shape)} ({count} values): blob size exceeds INT_MAX")
        return False
    return True


def _cause(step: Step) -> str:
    inputs = ", ".join(f"{n!r} is {describe(s)}" for n, s in zip(step.layer.bottoms, step.bottoms))
    return f"input {inputs}" if inputs else "as written"


def _params(layer: Layer, spec: LayerSpec | None, step: Step) -> list[Shape | None] | None:
    if spec is None:
        return None
    expected = spec.param_blobs(layer)
    if expected is None:
        return None
    if expected == 0:
        return []
    shapes = list(step.params[:expected])
    return shapes + [None] * (expected - len(shapes))


def _tuple(shape) -> Shape | None:
    return tuple(shape) if shape is not None else None


# -- cached per graph; the net's legacy inputs ------------------------------------------------

_RESULTS: dict[tuple, ShapeResult] = {}


def shapes_of(net: NetView, graph: PhaseGraph, datum_shapes: dict[str, tuple] | None = None) -> ShapeResult:
    """infer_shapes for one of `net`'s graphs, with the net's legacy input shapes, computed once
    (per set of data-source record shapes)."""
    key = (id(graph), tuple(sorted((datum_shapes or {}).items())))
    found = _RESULTS.get(key)
    if found is None:
        found = _RESULTS[key] = infer_shapes(graph, net_input_shapes(net), datum_shapes)
        weakref.finalize(graph, _RESULTS.pop, key, None)
    return found


def net_problems(net: NetView, rule: str, datum_shapes: dict[str, tuple] | None = None
                 ) -> Iterator[tuple[ShapeProblem, str]]:
    """The shape problems of `rule` in every graph of `net`, once per place and message, each
    with the states it occurs in when not all (' in TEST')."""
    found: dict[tuple, tuple[ShapeProblem, list[NetState]]] = {}
    for graph in net.graphs():
        for problem in shapes_of(net, graph, datum_shapes).problems:
            if problem.rule == rule:
                key = (problem.where.start, problem.where.end, problem.message)
                found.setdefault(key, (problem, []))[1].append(graph.state)
    checked = net.states()
    for problem, states in found.values():
        yield problem, scope(states, checked)


def data_problems(source, project, rule: str) -> Iterator[tuple[ShapeProblem, str]]:
    """Problems of `rule` that only the record shapes of the net's data sources reveal.

    `source` is a DataSource (model/datasource.py).  A net is checked once, for its first data
    source, with the record shapes of all of them (a train and a test LMDB, say).
    """
    from caffelint.model.datasource import data_sources

    net = source.net
    if net.file is None:
        return
    siblings = [s for s in data_sources(project, net.file, _Sampling(source.sample)) if s.net is net]
    if not siblings or siblings[0].layer is not source.layer:
        return
    datum = {s.layer.name: shape for s in siblings if (shape := record_shape(s)) is not None}
    if not datum:
        return
    known = {(p.where.start, p.message) for p, _ in net_problems(net, rule)}
    for problem, where in net_problems(net, rule, datum):
        if (problem.where.start, problem.message) not in known:
            yield problem, where


@dataclass(frozen=True)
class _Sampling:
    sample: int | None  # the one option data_sources reads


def record_shape(source) -> tuple[int, int, int] | None:
    """(channels, height, width) of a data source's records when they all share it, else None.

    Encoded images count by their decoded size (when the scan could decode some); mixed sizes
    are datum-shape-mismatch's (DAT009) to report.
    """
    if source.kind not in ("lmdb", "imagelist"):
        return None
    scan = source.scan
    if not scan.usable:
        return None
    if scan.decoded_shapes:
        shapes = {shape[:3] for shape in scan.decoded_shapes}
    else:
        shapes = {shape[:3] for shape in scan.shapes if len(shape) == 5 and shape[3] in ("uint8", "float")}
    return next(iter(shapes)) if len(shapes) == 1 else None


def net_input_shapes(net: NetView) -> dict[str, tuple]:
    """Shapes of the net-level `input:` blobs from `input_shape`, else 4 `input_dim` each
    (UpgradeNetInput in BVLC/caffe:src/caffe/util/upgrade_proto.cpp)."""
    names = net.inputs
    shapes = net.bound.all("input_shape")
    dims = net.bound.all("input_dim")
    out: dict[str, tuple] = {}
    for i, name in enumerate(names):
        if shapes:
            if i < len(shapes):
                out[name] = tuple(shapes[i].all("dim"))
        elif len(dims) >= 4 * (i + 1):
            out[name] = tuple(dims[4 * i:4 * i + 4])
    return out


def count_parameters(net_view: NetView, datum_shapes: dict[str, tuple] | None = None) -> int:
    """Learnable parameters of the net (BatchNorm statistics left out, shared blobs counted once).

    datum_shapes: data layer name -> (channels, height, width) of its records, when a data source
    knows them.  Layers whose parameter shapes stay unknown (an input size no file tells) add
    nothing: `parameters_complete` says whether the count is whole.
    """
    return _parameters(net_view, datum_shapes)[0]


def parameters_complete(net_view: NetView, datum_shapes: dict[str, tuple] | None = None) -> bool:
    """True when every learnable layer's parameter shapes are known."""
    return _parameters(net_view, datum_shapes)[1]


def _parameters(net: NetView, datum_shapes: dict[str, tuple] | None) -> tuple[int, bool]:
    """Counted on the first graph Caffe builds (TRAIN for a training net, TEST for a deploy net)."""
    graphs = net.graphs()
    if not graphs:
        return 0, True
    graph = graphs[0]
    result = shapes_of(net, graph, datum_shapes)
    total, complete, shared = 0, True, set()
    for layer in graph.layers:
        spec = checkable(layer)
        if spec is None or not spec.learns_parameters:
            continue
        shapes = result.params.get(layer.index)
        if shapes is None:
            complete = False
            continue
        names = _param_names(layer)
        for i, shape in enumerate(shapes):
            name = names[i] if i < len(names) else ""
            if name and name in shared:
                continue  # Net::AppendParam: a name seen before shares the owner's blob
            if name:
                shared.add(name)
            count = product(shape) if shape is not None else None
            if count is None:
                complete = False
            else:
                total += count
    return total, complete


def _param_names(layer: Layer) -> list[str]:
    if layer.version >= 2:
        return [spec.get("name") for spec in layer.bound.all("param")]
    return layer.bound.all("param") if layer.version == 1 else []


__all__ = ["SHAPE", "ShapeProblem", "ShapeResult", "count_parameters", "infer_shapes",
           "data_problems", "net_input_shapes", "net_problems", "parameters_complete", "record_shape",
           "shapes_of"]
