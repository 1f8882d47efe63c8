"""Shapes through the layers with parameter blobs (besides convolutions): their outputs and weights.

Sources (BVLC/caffe:src/caffe/layers/): inner_product_layer.cpp, embed_layer.cpp,
scale_layer.cpp, bias_layer.cpp, batch_norm_layer.cpp, prelu_layer.cpp,
recurrent_layer.cpp, lstm_layer.cpp, rnn_layer.cpp, lstm_unit_layer.cpp.
"""

from __future__ import annotations

from caffelint.model.shape_step import PARAM, Shape, Step, describe, product, same


def inner_product(step: Step) -> list[Shape | None] | None:
    """InnerProductLayer: axes from `axis` on are flattened into K; top = leading axes x num_output."""
    shape = step.bottom(0)
    outputs = step.layer.get("inner_product_param.num_output")
    if shape is None or outputs <= 0:
        return None
    axis = step.axis(step.layer.get("inner_product_param.axis"), shape, "inner_product_param.axis")
    if axis is None:
        return None
    k = product(shape[axis:])
    weights = (k, outputs) if step.layer.get("inner_product_param.transpose") else (outputs, k)
    step.params = [weights] + ([(outputs,)] if step.layer.get("inner_product_param.bias_term") else [])
    return [tuple(shape[:axis]) + (outputs,)]


def embed(step: Step) -> list[Shape | None] | None:
    """EmbedLayer: one num_output vector per input value; weights input_dim x num_output."""
    shape = step.bottom(0)
    get = step.layer.get
    outputs, vocabulary = get("embed_param.num_output"), get("embed_param.input_dim")
    if outputs <= 0 or vocabulary <= 0:
        return None
    step.params = [(vocabulary, outputs)] + ([(outputs,)] if get("embed_param.bias_term") else [])
    return None if shape is None else [tuple(shape) + (outputs,)]


def scale(step: Step) -> list[Shape | None] | None:
    """ScaleLayer: multiply by a learned blob (one bottom) or by bottom 1, broadcast from `axis`."""
    factor = _broadcast(step, "scale_param")
    if factor is False:
        return None
    own = [] if len(step.bottoms) > 1 else [factor]
    step.params = own + ([factor] if step.layer.get("scale_param.bias_term") else [])
    return [step.bottom(0)]


def bias(step: Step) -> list[Shape | None] | None:
    """BiasLayer: add a learned blob (one bottom) or bottom 1, broadcast from `axis`."""
    addend = _broadcast(step, "bias_param")
    if addend is False:
        return None
    step.params = [] if len(step.bottoms) > 1 else [addend]
    return [step.bottom(0)]


def _broadcast(step: Step, param_name: str):
    """The shape of the scale (bias) blob, None when unknown, False after a problem."""
    shape = step.bottom(0)
    get = step.layer.get
    axis_field, axes_field = f"{param_name}.axis", f"{param_name}.num_axes"
    if len(step.bottoms) > 1:
        other = step.bottom(1)
        if shape is None or other is None:
            return other
        axis = 0 if not other else step.axis(get(axis_field), shape, axis_field)
        if axis is None:
            return False
        if len(shape) < axis + len(other):
            step.problem(f"{step.bottom_name(1)!r} ({describe(other)}) extends past {step.bottom_name()!r} "
                         f"({describe(shape)}) when applied from axis {axis}")
            return False
        for i, d in enumerate(other):
            if not same(shape[axis + i], d):
                step.problem(f"dimension mismatch between {step.bottom_name()!r} axis {axis + i} "
                             f"({describe(shape)}) and {step.bottom_name(1)!r} axis {i} ({describe(other)})")
                return False
        return other
    num_axes = get(axes_field)
    if num_axes < -1:
        step.problem(f"{axes_field} is {num_axes}: num_axes must be non-negative, or -1 to extend to the "
                     f"end of bottom[0]", step.at(axes_field), PARAM)
        return False
    if shape is None:
        return None
    axis = step.axis(get(axis_field), shape, axis_field)
    if axis is None:
        return False
    if num_axes >= 0 and len(shape) < axis + num_axes:
        step.problem(f"the {param_name.split('_')[0]} blob's shape extends past {step.bottom_name()!r} "
                     f"({describe(shape)}) when applied starting with axis {axis} for {num_axes} axes",
                     step.at(axes_field), PARAM)
        return False
    return tuple(shape[axis:] if num_axes == -1 else shape[axis:axis + num_axes])


def batch_norm(step: Step) -> list[Shape | None] | None:
    """BatchNormLayer: mean and variance per channel (axis 1) and the moving-average factor."""
    shape = step.bottom(0)
    if shape is None:
        step.params = [(None,), (None,), (1,)]
        return None
    channels = shape[1] if len(shape) > 1 else 1
    step.params = [(channels,), (channels,), (1,)]
    return [shape]


def prelu(step: Step) -> list[Shape | None] | None:
    """PReLULayer: one slope per channel, or one shared; the input needs 2 axes or more."""
    shape = step.bottom(0)
    shared = step.layer.get("prelu_param.channel_shared")
    if shape is None:
        step.params = [()] if shared else [(None,)]
        return None
    if len(shape) < 2:
        step.problem(f"{step.bottom_name()!r} is {describe(shape)} (Number of axes of bottom blob must be >=2.)")
        return None
    step.params = [()] if shared else [(shape[1],)]
    return [shape]


def recurrent(step: Step) -> list[Shape | None] | None:
    """RecurrentLayer (LSTM, RNN): x is T x N x ..., cont is T x N; h is T x N x num_output."""
    x, cont = step.bottom(0), step.bottom(1)
    hidden = step.layer.get("recurrent_param.num_output")
    lstm = step.layer.type == "LSTM"
    exposed = (2 if lstm else 1) if step.layer.get("recurrent_param.expose_hidden") else 0
    static = step.bottom(2) if len(step.bottoms) > 2 + exposed else None
    if hidden <= 0:
        return None
    if x is not None and len(x) < 2:
        step.problem(f"{step.bottom_name()!r} is {describe(x)}: bottom[0] must have at least 2 axes -- "
                     f"(#timesteps, #streams, ...)")
        return None
    if cont is not None and (len(cont) != 2 or (x is not None and not all(map(same, cont, x[:2])))):
        step.problem(f"{step.bottom_name(1)!r} is {describe(cont)}: bottom[1] must have exactly 2 axes -- "
                     f"(#timesteps, #streams), matching {step.bottom_name()!r} ({describe(x)})")
        return None
    inputs = None if x is None else product(x[2:])
    gates = 4 * hidden if lstm else hidden
    step.params = [(gates, inputs), (gates,), (gates, hidden)]
    if not lstm:
        step.params += [(hidden, hidden), (hidden,)]
    if len(step.bottoms) > 2 + exposed:
        step.params.append((gates, None if static is None else product(static[1:])))
    if x is None:
        return None
    state = (1, x[1], hidden)
    return [(x[0], x[1], hidden)] + [state] * exposed


def lstm_unit(step: Step) -> list[Shape | None] | None:
    """LSTMUnitLayer: c_prev 1 x N x D, gates 1 x N x 4D, cont 1 x N; c and h like c_prev."""
    previous, gates, cont = step.bottom(0), step.bottom(1), step.bottom(2)
    if previous is None:
        return None
    for i, shape, axes in ((0, previous, 3), (1, gates, 3), (2, cont, 2)):
        if shape is not None and (len(shape) != axes or not same(shape[0], 1)
                                  or not same(shape[1], previous[1] if len(previous) > 1 else None)):
            step.problem(f"{step.bottom_name(i)!r} is {describe(shape)}; LSTMUnit expects c_prev 1 x N x D, "
                         f"gates 1 x N x 4D, cont 1 x N")
            return None
    if gates is not None and len(previous) == 3 and previous[2] is not None and gates[2] is not None \
            and gates[2] != 4 * previous[2]:
        step.problem(f"{step.bottom_name(1)!r} is {describe(gates)}: its last axis must be 4 x "
                     f"{previous[2]} (Check failed: 4 * hidden_dim_ == bottom[1]->shape(2))")
        return None
    return [previous, previous]
