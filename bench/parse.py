"""Parse speed: caffelint (parse + schema binding) against text_format.Merge, measured in one run.

Generates ResNet-like nets of 1k, 10k and 50k layers in two layouts and prints,
for each, the CPU time of caffelint's lossless parse plus binding, of
text_format.Merge alone, their ratio and MB/s.  Target: ratio <= 0.5 at 10k layers.

- "published": the layout of the published ResNet prototxts (KaimingHe's
  deep-residual-networks: tabs, one field a line, conv / BatchNorm / Scale / ReLU).
- "training": a denser training layout with one-line `param { ... }` and filler
  blocks and a comment per unit, which is the harder case for caffelint.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def published_resnet(layers: int) -> str:
    """A net of `layers` layers laid out like the published ResNet deploy prototxts."""
    def layer(name: str, type_: str, bottom: str, top: str, body: str = "") -> str:
        return (f'layer {{\n\tbottom: "{bottom}"\n\ttop: "{top}"\n\tname: "{name}"\n\ttype: "{type_}"\n'
                f"{body}}}\n\n")

    out = ['name: "ResNet"\ninput: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 224\ninput_dim: 224\n\n']
    prev = "data"
    i = 0
    while len(out) < layers + 1:
        i += 1
        conv = f"res{i}_branch2a"
        out.append(layer(conv, "Convolution", prev, conv, "\tconvolution_param {\n\t\tnum_output: 64\n"
                         "\t\tkernel_size: 3\n\t\tpad: 1\n\t\tstride: 1\n\t\tbias_term: false\n\t}\n"))
        out.append(layer(f"bn{i}", "BatchNorm", conv, conv, "\tbatch_norm_param {\n\t\tuse_global_stats: true\n\t}\n"))
        out.append(layer(f"scale{i}", "Scale", conv, conv, "\tscale_param {\n\t\tbias_term: true\n\t}\n"))
        out.append(layer(f"res{i}_relu", "ReLU", conv, conv))
        out.append(layer(f"res{i}", "Eltwise", prev, f"res{i}").replace(
            f'\tbottom: "{prev}"\n', f'\tbottom: "{prev}"\n\tbottom: "{conv}"\n'))
        prev = f"res{i}"
    return "".join(out[:layers + 1])


def resnet_like(layers: int) -> str:
    """A net of `layers` layers in repeating conv -> BatchNorm -> Scale -> ReLU -> Eltwise units."""
    out = ['name: "ResNetLike"\n', 'layer {\n  name: "data"\n  type: "Input"\n  top: "data"\n'
           '  input_param { shape { dim: 1 dim: 3 dim: 224 dim: 224 } }\n}\n']
    prev = "data"
    i = 0
    while len(out) < layers:
        i += 1
        name = f"res{i}"
        out.append(f'layer {{\n  name: "{name}_conv"\n  type: "Convolution"\n  bottom: "{prev}"\n'
                   f'  top: "{name}_conv"\n  param {{ lr_mult: 1 decay_mult: 1 }}\n'
                   f'  convolution_param {{\n    num_output: 64\n    kernel_size: 3\n    pad: 1\n'
                   f'    stride: 1\n    bias_term: false\n    weight_filler {{ type: "msra" }}\n  }}\n}}\n')
        out.append(f'layer {{\n  name: "{name}_bn"\n  type: "BatchNorm"\n  bottom: "{name}_conv"\n'
                   f'  top: "{name}_conv"\n  batch_norm_param {{ use_global_stats: false }}\n}}\n')
        out.append(f'layer {{\n  name: "{name}_scale"\n  type: "Scale"\n  bottom: "{name}_conv"\n'
                   f'  top: "{name}_conv"\n  scale_param {{ bias_term: true }}\n}}\n')
        out.append(f'layer {{\n  name: "{name}_relu"\n  type: "ReLU"\n  bottom: "{name}_conv"\n'
                   f'  top: "{name}_conv"\n}}\n')
        out.append(f'# shortcut {i}\nlayer {{\n  name: "{name}_sum"\n  type: "Eltwise"\n'
                   f'  bottom: "{prev}"\n  bottom: "{name}_conv"\n  top: "{name}"\n'
                   f'  eltwise_param {{ operation: SUM }}\n}}\n')
        prev = name
    return "".join(out[:layers + 1])


def best_of(runs: int, func) -> float:
    """Best CPU time of `runs` calls (CPU time: other processes on a shared machine do not count)."""
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        result = func()
        best = min(best, time.process_time() - start)
        del result  # freeing the result is not part of parsing (both sides return theirs)
    return best


def main() -> None:
    from google.protobuf import text_format

    from caffelint.schema import caffe_pb2
    from caffelint.schema.binder import bind
    from caffelint.schema.descriptors import default_schema
    from caffelint.syntax.parser import parse

    schema = default_schema()
    print(f"{'layout':>9} {'layers':>7} {'MB':>6} {'caffelint s':>12} {'text_format s':>14} {'ratio':>6} "
          f"{'MB/s':>6} {'parse-only s':>13}")
    for style, layers in [(s, n) for s in ("published", "training") for n in (1_000, 10_000, 50_000)]:
        text = (published_resnet if style == "published" else resnet_like)(layers)
        megabytes = len(text.encode()) / 1e6
        runs = 5 if layers <= 10_000 else 2

        def ours(text: str = text):
            doc = parse(text)
            bound, problems = bind(doc, schema.net)
            assert not problems
            return doc, bound

        ours_s = best_of(runs, ours)
        parse_s = best_of(runs, lambda text=text: parse(text))
        ref_s = best_of(runs, lambda text=text: text_format.Merge(text, caffe_pb2.NetParameter()))
        assert str(parse(text)) == text
        print(f"{style:>9} {layers:>7} {megabytes:>6.2f} {ours_s:>12.3f} {ref_s:>14.3f} {ours_s / ref_s:>6.2f} "
              f"{megabytes / ours_s:>6.1f} {parse_s:>13.3f}")


if __name__ == "__main__":
    main()
