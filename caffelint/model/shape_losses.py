"""Shapes through the loss layers and Accuracy: predictions against labels.

Sources (BVLC/caffe:src/caffe/layers/): loss_layer.cpp (Reshape: same first
dimension, a scalar top), softmax_loss_layer.cpp, accuracy_layer.cpp,
infogain_loss_layer.cpp, euclidean_loss_layer.cpp,
sigmoid_cross_entropy_loss_layer.cpp, multinomial_logistic_loss_layer.cpp,
contrastive_loss_layer.cpp.
"""

from __future__ import annotations

from caffelint.model.shape_step import PARAM, Shape, Step, describe, product, same

LABELS = ("Number of labels must match number of predictions; e.g., if {axis} axis == 1 and prediction "
          "shape is (N, C, H, W), label count (number of labels) must be N*H*W")


def _first_dims(step: Step) -> bool:
    """LossLayer::Reshape: CHECK_EQ(bottom[0]->shape(0), bottom[1]->shape(0))."""
    a, b = step.bottom(0), step.bottom(1)
    if a is None or b is None or not a or not b or same(a[0], b[0]):
        return True
    step.problem(f"{step.bottom_name()!r} is {describe(a)}, {step.bottom_name(1)!r} is {describe(b)} "
                 f"(The data and label should have the same first dimension.)", step.bottom_at(1))
    return False


def _scalar(step: Step, extra: list[Shape | None] | None = None) -> list[Shape | None]:
    return [()] + (extra or [])


def plain_loss(step: Step) -> list[Shape | None] | None:
    """HingeLoss and the LossLayer defaults."""
    return _scalar(step) if _first_dims(step) else None


def softmax_loss(step: Step) -> list[Shape | None] | None:
    """SoftmaxWithLoss: one label per prediction outside the softmax axis; top 1 is the softmax."""
    return _classified(step, "softmax_param.axis", "softmax", prob_top=True)


def infogain_loss(step: Step) -> list[Shape | None] | None:
    """InfogainLoss: like SoftmaxWithLoss, and the infogain matrix (bottom 2) is C x C."""
    tops = _classified(step, "infogain_loss_param.axis", "infogain", prob_top=True)
    matrix = step.bottom(2)
    prediction = step.bottom(0)
    if tops is not None and matrix is not None and prediction is not None:
        axis = step.layer.get("infogain_loss_param.axis") % len(prediction)
        classes = prediction[axis]
        count = product(matrix)
        if classes is not None and count is not None and count != classes * classes:
            step.problem(f"the infogain matrix {step.bottom_name(2)!r} is {describe(matrix)}; it must hold "
                         f"{classes} x {classes} values for {classes} classes")
            return None
    return tops


def accuracy(step: Step) -> list[Shape | None] | None:
    """Accuracy: top_k <= classes, one label per prediction; top 1 is the per-class accuracy."""
    prediction, label = step.bottom(0), step.bottom(1)
    top_k = step.layer.get("accuracy_param.top_k")
    count, labels = product(prediction or (None,)), product(label or (None,))
    if count is not None and labels and top_k > count // labels:
        step.problem(f"top_k {top_k} is more than the {count // labels} classes of {step.bottom_name()!r} "
                     f"(top_k must be less than or equal to the number of classes.)",
                     step.at("accuracy_param.top_k"), PARAM)
        return None
    tops = _classified(step, "accuracy_param.axis", "label", prob_top=False, first_dims=False)
    if tops is None or len(step.layer.tops) < 2:
        return tops
    axis = step.layer.get("accuracy_param.axis") % len(prediction) if prediction else 0
    return [(), (prediction[axis],) if prediction else None]


def _classified(step: Step, axis_field: str, axis_label: str, prob_top: bool,
                first_dims: bool = True) -> list[Shape | None] | None:
    prediction, label = step.bottom(0), step.bottom(1)
    if prediction is not None and label is not None and _swapped(prediction, label):
        step.problem(f"{step.bottom_name()!r} ({describe(prediction)}) looks like the labels and "
                     f"{step.bottom_name(1)!r} ({describe(label)}) like the predictions: the predictions "
                     f"come first, then the labels", step.bottom_at(0))
        return None
    if first_dims and not _first_dims(step):
        return None
    if prediction is None:
        return [(), None] if prob_top else _scalar(step)
    axis = step.axis(step.layer.get(axis_field), prediction, axis_field)
    if axis is None:
        return None
    expected = product(prediction[:axis] + prediction[axis + 1:])
    labels = product(label) if label is not None else None
    if expected is not None and labels is not None and expected != labels:
        step.problem(f"{step.bottom_name()!r} is {describe(prediction)} and {step.bottom_name(1)!r} is "
                     f"{describe(label)}: {labels} labels for {expected} predictions ("
                     + LABELS.format(axis=axis_label) + ")", step.bottom_at(1))
        return None
    return [(), prediction] if prob_top else _scalar(step)


def _swapped(prediction: Shape, label: Shape) -> bool:
    """A 1-axis blob where the predictions belong and a bigger one where the labels belong."""
    size, other = product(prediction), product(label)
    return (len(prediction) == 1 and len(label) > 1 and size is not None and other is not None
            and other > size and other % size == 0)


def euclidean_loss(step: Step) -> list[Shape | None] | None:
    """EuclideanLoss: CHECK_EQ(bottom[0]->count(1), bottom[1]->count(1))."""
    if not _first_dims(step):
        return None
    a, b = step.bottom(0), step.bottom(1)
    if a is not None and b is not None:
        left, right = product(a[1:]), product(b[1:])
        if left is not None and right is not None and left != right:
            step.problem(f"{step.bottom_name()!r} is {describe(a)} and {step.bottom_name(1)!r} is "
                         f"{describe(b)}: {left} vs {right} values per item (Inputs must have the same "
                         f"dimension.)")
            return None
    return _scalar(step)


def sigmoid_cross_entropy_loss(step: Step) -> list[Shape | None] | None:
    """SigmoidCrossEntropyLoss: one target per prediction (same count)."""
    if not _first_dims(step):
        return None
    a, b = step.bottom(0), step.bottom(1)
    left, right = product(a or (None,)), product(b or (None,))
    if left is not None and right is not None and left != right:
        step.problem(f"{step.bottom_name()!r} is {describe(a)} and {step.bottom_name(1)!r} is {describe(b)} "
                     f"(SIGMOID_CROSS_ENTROPY_LOSS layer inputs must have the same count.)")
        return None
    return _scalar(step)


def multinomial_logistic_loss(step: Step) -> list[Shape | None] | None:
    """MultinomialLogisticLoss: the labels are N x 1 x 1 x 1 (legacy accessors)."""
    if not _first_dims(step) or not _singleton_label(step, 1, (1, 2, 3)):
        return None
    return _scalar(step)


def contrastive_loss(step: Step) -> list[Shape | None] | None:
    """ContrastiveLoss: two N x C x 1 x 1 features and an N x 1 x 1 x 1 similarity label."""
    a, b = step.bottom(0), step.bottom(1)
    if not _first_dims(step):
        return None
    if a is not None and b is not None and len(a) <= 4 and len(b) <= 4 and not same(_legacy(a, 1), _legacy(b, 1)):
        step.problem(f"{step.bottom_name()!r} is {describe(a)} and {step.bottom_name(1)!r} is {describe(b)}: "
                     f"the two features need the same channels")
        return None
    for i, axes in ((0, (2, 3)), (1, (2, 3)), (2, (1, 2, 3))):
        if not _singleton_label(step, i, axes):
            return None
    return _scalar(step)


def _singleton_label(step: Step, index: int, axes: tuple[int, ...]) -> bool:
    shape = step.bottom(index)
    if shape is None:
        return True
    if len(shape) > 4 or any(not same(_legacy(shape, i), 1) for i in axes):
        names = ("num", "channels", "height", "width")
        step.problem(f"{step.bottom_name(index)!r} is {describe(shape)}; its "
                     f"{', '.join(names[i] for i in axes)} must be 1")
        return False
    return True


def _legacy(shape: Shape, index: int) -> int | None:
    """Blob::LegacyShape: axes past the blob's end count as 1."""
    return shape[index] if index < len(shape) else 1
