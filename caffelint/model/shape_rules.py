"""Which Reshape mirror each BVLC layer type uses (types missing here produce unknown shapes)."""

from __future__ import annotations

from collections.abc import Callable

from caffelint.model import shape_blobs as blobs
from caffelint.model import shape_learned as learned
from caffelint.model import shape_losses as losses
from caffelint.model import shape_sources as sources
from caffelint.model import shape_spatial as spatial
from caffelint.model.shape_step import Shape, Step

Reshape = Callable[[Step], "list[Shape | None] | None"]

# NeuronLayer subclasses: NeuronLayer::Reshape gives the top the bottom's shape.
_NEURONS = ("AbsVal", "BNLL", "Clip", "Dropout", "ELU", "Exp", "Log", "Power", "ReLU", "Sigmoid",
            "Swish", "TanH", "Threshold")

RESHAPE: dict[str, Reshape] = {
    **{name: blobs.unchanged for name in _NEURONS},
    "Input": sources.input_layer,
    "DummyData": sources.dummy_data,
    "Parameter": sources.parameter,
    "Data": sources.data,
    "ImageData": sources.image_data,
    "WindowData": sources.window_data,
    "MemoryData": sources.memory_data,
    "Convolution": spatial.convolution,
    "Deconvolution": spatial.convolution,
    "Im2col": spatial.im2col,
    "Pooling": spatial.pooling,
    "SPP": spatial.spp,
    "LRN": spatial.lrn,
    "Softmax": blobs.softmax,
    "MVN": blobs.mvn,
    "Concat": blobs.concat,
    "Slice": blobs.slice_layer,
    "Eltwise": blobs.eltwise,
    "Crop": blobs.crop,
    "Reshape": blobs.reshape,
    "Flatten": blobs.flatten,
    "Tile": blobs.tile,
    "Reduction": blobs.reduction,
    "ArgMax": blobs.argmax,
    "BatchReindex": blobs.batch_reindex,
    "Filter": blobs.filter_layer,
    "Split": blobs.split,
    "Silence": blobs.no_tops,
    "HDF5Output": blobs.no_tops,
    "InnerProduct": learned.inner_product,
    "Embed": learned.embed,
    "Scale": learned.scale,
    "Bias": learned.bias,
    "BatchNorm": learned.batch_norm,
    "PReLU": learned.prelu,
    "LSTM": learned.recurrent,
    "RNN": learned.recurrent,
    "LSTMUnit": learned.lstm_unit,
    "SoftmaxWithLoss": losses.softmax_loss,
    "InfogainLoss": losses.infogain_loss,
    "Accuracy": losses.accuracy,
    "EuclideanLoss": losses.euclidean_loss,
    "SigmoidCrossEntropyLoss": losses.sigmoid_cross_entropy_loss,
    "MultinomialLogisticLoss": losses.multinomial_logistic_loss,
    "ContrastiveLoss": losses.contrastive_loss,
    "HingeLoss": losses.plain_loss,
}
