"""Data sources behind a net's data layers (LMDB, image lists, HDF5), each read once per run.

`data_sources` lists the Data, ImageData and HDF5Data layers of every net in a
file.  A `DataSource` resolves its `source` like a solver's net paths (the
working directory, the net's folder and its parents, --root) and is scanned
lazily: only when a rule reads `source.scan`, and once per path and run
however many layers name it (train and test nets often share one), with the
result kept in `Project.data_cache`.  Nothing here writes to a data source.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field

from caffelint.model.datascan import DataScan
from caffelint.model.net import Layer, NetView, PhaseGraph
from caffelint.model.solver import display_path, resolve_path

LIST_CANDIDATES = 1000  # folder entries looked at when looking for an LMDB's image list
DATA_PARAMS = {"Data": "data_param", "ImageData": "image_data_param", "HDF5Data": "hdf5_data_param"}
# Transformation settings and where older syntax keeps them: V1 data params held scale, mean_file,
# crop_size and mirror before transform_param existed (UpgradeNetDataTransformation in
# BVLC/caffe:src/caffe/util/upgrade_proto.cpp); V0 layers spell two of them differently.
V0_NAMES = {"batch_size": "batchsize", "crop_size": "cropsize", "mean_file": "meanfile"}
# Layers that keep the class axis of their input: a classifier's num_output reaches the loss through them.
KEEPS_CLASSES = frozenset({
    "ReLU", "PReLU", "ELU", "Sigmoid", "TanH", "AbsVal", "BNLL", "Power", "Exp", "Log", "Clip", "Swish",
    "Dropout", "BatchNorm", "Scale", "Bias", "Split", "Softmax", "Pooling", "LRN", "MVN",
})
# Losses and metrics that read bottom[1] as a class index in 0..C-1, C the size of bottom[0]'s axis 1.
CLASS_INDEX_LAYERS = frozenset({
    "SoftmaxWithLoss", "Accuracy", "MultinomialLogisticLoss", "InfogainLoss", "HingeLoss",
})


@dataclass(frozen=True)
class Classifier:
    """The layer whose num_output sets how many classes a loss (or Accuracy) expects."""

    consumer: Layer  # the loss or Accuracy layer
    layer: Layer  # InnerProduct, Convolution or Deconvolution
    num_output: int
    ignore_label: int | None


@dataclass(frozen=True)
class Setting:
    """A transformation or batch setting as written, wherever the syntax version keeps it."""

    value: object
    item: object  # the value node, for spans


@dataclass(eq=False)
class DataSource:
    layer: Layer
    net: NetView
    param_name: str
    written: str
    item: object  # the value node of `source`: findings about the data point here
    path: str | None  # resolved; None when no candidate folder holds it
    sample: int | None = None
    root: str | None = None
    cache: dict = field(default_factory=dict)

    @property
    def param(self):
        return self.layer.param(self.param_name)

    @property
    def declared_backend(self) -> str:
        """data_param.backend as Caffe reads it: LEVELDB when not written (caffe.proto's default)."""
        param = self.param
        return param.get("backend") if param is not None else "LEVELDB"

    @property
    def kind(self) -> str:
        """What the path holds: lmdb, leveldb, imagelist, hdf5, missing, or wrong (see `problem`)."""
        return _kind(self.layer.type, self.path)[0]

    @property
    def problem(self) -> str:
        """Why the path cannot be this layer's source (kind "wrong"), else ""."""
        return _kind(self.layer.type, self.path)[1]

    @property
    def scan(self) -> DataScan:
        """The scan of this source, read at most once per path and run."""
        key = (os.path.realpath(self.path) if self.path else None, self.kind, self.sample,
               self._list_settings())
        if key not in self.cache:
            self.cache[key] = self._scan()
        return self.cache[key]

    def _scan(self) -> DataScan:
        from caffelint.model.progress import Progress

        kind = self.kind
        label = os.path.basename(self.path.rstrip(os.sep)) if self.path else self.written
        if kind == "missing":
            return DataScan("missing", not_inspected="the source does not exist")
        if kind == "lmdb":
            from caffelint.model.datascan import scan_lmdb

            return scan_lmdb(self.path, self.sample, Progress(label, 0))  # the scan knows the total
        if kind == "leveldb":
            return DataScan("leveldb", not_inspected="LevelDB databases are not inspected "
                                                     "(convert with convert_imageset --backend lmdb)")
        if kind == "imagelist":
            from caffelint.model.imagelist import scan_image_list

            root_folder, is_color = self._list_settings()
            return scan_image_list(self.path, root_folder, is_color, self._base_file(), self.root)
        if kind == "hdf5":
            from caffelint.model.hdf5 import scan_hdf5_list

            return scan_hdf5_list(self.path, list(self.layer.tops), self._base_file(), self.root)
        return DataScan(kind, error=self.problem or None)

    @property
    def mean_file(self):
        """(Setting, MeanFile or None when the file is missing) for a written mean_file, else None."""
        from caffelint.model.datascan import read_mean_file

        setting = self.setting("mean_file")
        if setting is None or not isinstance(setting.value, str) or not setting.value:
            return None
        path = self.resolve(setting.value)
        if path is None:
            return setting, None
        key = ("mean", os.path.realpath(path))
        if key not in self.cache:
            self.cache[key] = read_mean_file(path)
        return setting, self.cache[key]

    def _list_settings(self) -> tuple:
        """(root_folder, is_color) of an ImageData layer, caffe.proto's defaults when not written."""
        if self.layer.type != "ImageData":
            return ()
        param = self.param
        return (param.get("root_folder"), param.get("is_color")) if param is not None else ("", True)

    def _base_file(self) -> str:
        return self.net.file.path if self.net.file is not None else self.path

    def list_file(self) -> str | None:
        """The image list an LMDB was built from, when one beside it (or beside the net) starts with
        the image its first key names: convert_imageset keys records `%08d_<path>` in list order."""
        scan = self.scan if self.kind == "lmdb" else None
        match = re.match(rb"\d{8}_(.+)", scan.first_key) if scan is not None else None
        if match is None:
            return None
        first = match.group(1).decode("utf-8", "surrogateescape")
        folders = [os.path.dirname(os.path.abspath(self.path))]
        folders += [os.path.dirname(folders[0]), os.path.dirname(os.path.abspath(self._base_file()))]
        for folder in dict.fromkeys(folders):
            for candidate in _text_files(folder):
                if _first_path(candidate) == first:
                    return display_path(candidate)
        return None

    @functools.cached_property
    def graphs(self) -> list[PhaseGraph]:
        """The phase graphs (TRAIN, TEST) in which this layer is instantiated."""
        return [g for g in self.net.graphs() if self.layer in g.layers]

    @property
    def phases(self) -> list[str]:
        return [g.state.phase for g in self.graphs]

    def setting(self, name: str) -> Setting | None:
        """batch_size, crop_size, mean_file, mean_value, scale or mirror as written (None if not)."""
        places = [(self.layer.param("transform_param"), name), (self.param, name)]
        if name == "batch_size":
            places = [(self.param, name)]
        if self.layer.version == 0:
            places = [(self.layer.bound.msg("layer"), V0_NAMES.get(name, name))]
        for bound, field_name in places:
            if bound is not None and field_name in bound.schema.fields and bound.has(field_name):
                entries = bound.entries_of(field_name)
                if entries[0].field.repeated:
                    return Setting([e.value for e in entries], entries[0].item)
                return Setting(entries[-1].value, entries[-1].item)
        return None

    def value(self, name: str, default=None):
        found = self.setting(name)
        return found.value if found is not None else default

    @property
    def batch_size(self) -> int:
        return self.value("batch_size", 0)

    def resolve(self, written: str) -> str | None:
        """A path named in this net (a mean file), resolved like the source."""
        return resolve_path(written, self._base_file(), self.root)[0]

    @property
    def label_top(self) -> str | None:
        tops = self.layer.tops
        return tops[1] if len(tops) > 1 else None

    def classifiers(self) -> list[Classifier]:
        """Each layer whose num_output bounds this source's labels, via the losses reading them."""
        label = self.label_top
        found: dict[tuple, Classifier] = {}
        if label is None:
            return []
        for graph in self.graphs:
            for consumer in graph.layers_of_type(*CLASS_INDEX_LAYERS):
                if len(consumer.bottoms) < 2 or _origin(graph, consumer, 1) is not self.layer:
                    continue
                classifier = _classifier(graph, consumer)
                if classifier is not None:  # the loss and an Accuracy usually share one classifier
                    found.setdefault((classifier.layer.name, classifier.num_output, classifier.ignore_label),
                                     classifier)
        return list(found.values())


def _text_files(folder: str) -> list[str]:
    """*.txt files of `folder`, looking at no more than LIST_CANDIDATES entries (image folders are big)."""
    found = []
    try:
        with os.scandir(folder) as entries:
            for i, entry in enumerate(entries):
                if i >= LIST_CANDIDATES:
                    break
                if entry.name.endswith(".txt") and entry.is_file():
                    found.append(entry.path)
    except OSError:
        return []
    return sorted(found)


def _first_path(list_file: str) -> str | None:
    """The image path on the first line of a `path label` list."""
    try:
        with open(list_file, "rb") as handle:
            line = handle.readline(4096).decode("utf-8", "surrogateescape").rstrip("\r\n")
    except OSError:
        return None
    return line.rpartition(" ")[0] or None


def _origin(graph: PhaseGraph, consumer: Layer, index: int) -> Layer | None:
    """The layer that first produced bottom `index` of `consumer`, through pass-through layers."""
    blob = consumer.bottoms[index]
    layer = graph.producer(blob, before=consumer)
    while layer is not None and layer.type in KEEPS_CLASSES and layer.bottoms:
        layer = graph.producer(layer.bottoms[0], before=layer)
    return layer


def _classifier(graph: PhaseGraph, consumer: Layer) -> Classifier | None:
    layer = _origin(graph, consumer, 0)
    if layer is None:
        return None
    if layer.type == "InnerProduct":
        num_output = layer.get("inner_product_param.num_output")
    elif layer.type in ("Convolution", "Deconvolution"):
        num_output = layer.get("convolution_param.num_output")
    else:
        return None
    if not num_output:
        return None
    # Accuracy reads accuracy_param.ignore_label, the losses loss_param.ignore_label
    param = consumer.param("accuracy_param" if consumer.type == "Accuracy" else "loss_param")
    ignore = param.get("ignore_label") if param is not None and param.has("ignore_label") else None
    return Classifier(consumer, layer, num_output, ignore)


def _kind(layer_type: str, path: str | None) -> tuple[str, str]:
    if path is None:
        return "missing", ""
    if layer_type == "Data":
        if os.path.isdir(path):
            if os.path.isfile(os.path.join(path, "data.mdb")):
                return "lmdb", ""
            if os.path.isfile(os.path.join(path, "CURRENT")):
                return "leveldb", ""
            return "wrong", f"{path} holds neither data.mdb (LMDB) nor CURRENT (LevelDB): Caffe cannot open it"
        if os.path.basename(path) == "data.mdb":
            return "wrong", (f"{path} is LMDB's data file, but Caffe opens the folder that holds it "
                             f"({os.path.dirname(path) or '.'})")
        return "wrong", f"{path} is a file, not a database folder (LMDB or LevelDB): Caffe cannot open it"
    if os.path.isdir(path):
        return "wrong", f"{path} is a folder, but {layer_type} reads a list file"
    return ("imagelist" if layer_type == "ImageData" else "hdf5"), ""


def _source_entry(layer: Layer, param_name: str):
    if layer.version == 0:
        inner = layer.bound.msg("layer")
        return inner.entry("source") if inner is not None else None
    param = layer.param(param_name)
    return param.entry("source") if param is not None else None


def data_sources(project, parsed, options) -> list[DataSource]:
    """The data sources of the nets in `parsed`; each is opened read-only at most once per run."""
    cache = project.data_cache
    out: list[DataSource] = []
    for view in project.views(parsed):
        for layer in view.layers:
            param_name = DATA_PARAMS.get(layer.type)
            entry = _source_entry(layer, param_name) if param_name else None
            if entry is None or not isinstance(entry.value, str) or not entry.value:
                continue
            base = view.file.path if view.file is not None else parsed.path
            path = resolve_path(entry.value, base, project.root)[0]
            out.append(DataSource(layer, view, param_name, entry.value, entry.item, path,
                                  options.sample, project.root, cache))
    return out
