#!/usr/bin/env python3
"""ONNX Runtime's side of scripts/bench/clip --inference (needs torch, transformers,
onnx, onnxruntime, numpy): the vision tower alone on preprocessed tensors.

  clip_onnx.py export MODEL_FOLDER        MODEL_FOLDER/model.onnx from the transformers
                                          CLIPVisionModelWithProjection in the folder
                                          (image_embeds, not normalised), batch axis dynamic
  clip_onnx.py pixels FILE.f32 N SIZE     N random preprocessed images (3 × SIZE × SIZE,
                                          standard normal, as CLIP's normalisation leaves them)
  clip_onnx.py run MODEL_FOLDER FILE.f32 N [--batch B] [--out FILE.f32]
                                          ONNX Runtime on the CPU, 2 intra-op threads, every
                                          graph optimisation: one warm-up batch, then all N
                                          timed; prints one JSON line (images_per_second, ...);
                                          writes unit embeddings
"""
import os
import sys
import time

import numpy as np


def export(folder):
    import torch
    from transformers import CLIPVisionModelWithProjection
    model = CLIPVisionModelWithProjection.from_pretrained(folder).eval()
    size = model.config.image_size
    example = torch.zeros(2, 3, size, size)

    class Embeds(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values):
            return self.inner(pixel_values=pixel_values).image_embeds

    with torch.no_grad():
        torch.onnx.export(Embeds(model), (example,), os.path.join(folder, "model.onnx"),
                          input_names=["pixel_values"], output_names=["image_embeds"],
                          dynamic_axes={"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}},
                          opset_version=17, dynamo=False)


def pixels(path, count, size):
    rng = np.random.default_rng(7)
    rng.standard_normal((count, 3, size, size), dtype=np.float32).tofile(path)


def run(folder, path, count, batch, out):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    load = time.time()
    session = ort.InferenceSession(os.path.join(folder, "model.onnx"), options, providers=["CPUExecutionProvider"])
    load = time.time() - load
    size = session.get_inputs()[0].shape[2]
    data = np.fromfile(path, dtype=np.float32).reshape(-1, 3, size, size)[:count]
    session.run(None, {"pixel_values": data[:batch]})  # warm-up: first-run allocations
    vectors = []
    start = time.time()
    cpu = time.process_time()
    for i in range(0, count, batch):
        vectors.append(session.run(None, {"pixel_values": data[i:i + batch]})[0])
    seconds = time.time() - start
    cpu = time.process_time() - cpu
    v = np.concatenate(vectors)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    if out:
        v.astype(np.float32).tofile(out)
    import json
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"images": count, "seconds": round(seconds, 4), "images_per_second": round(count / seconds, 4),
                      "cpu_seconds_per_image": round(cpu / count, 4), "session_load_seconds": round(load, 3),
                      "batch": batch, "onnxruntime": ort.__version__, "threads": 2, "peak_rss_bytes": peak}, sort_keys=True))

if __name__ == "__main__":
    args = sys.argv[1:]

    def option(name, default):
        return type(default)(args[args.index(name) + 1]) if name in args else default

    if args[:1] == ["export"]:
        export(args[1])
    elif args[:1] == ["pixels"]:
        pixels(args[1], int(args[2]), int(args[3]))
    elif args[:1] == ["run"]:
        run(args[1], args[2], int(args[3]), option("--batch", 32), option("--out", ""))
    else:
        print(__doc__)
        sys.exit(2)
