#!/usr/bin/env python3
"""The Python side of scripts/bench/clip (needs torch, transformers, pillow, numpy).

  clip_torch.py make-model FOLDER [--large]
                                      full-size ViT-B/32 vision tower with random
                                      weights of the real shape (CLIPVisionConfig()
                                      defaults, projection 512) + preprocessor config;
                                      --large: ViT-L/14's shape (24 × 1024, 16 heads,
                                      patch 14, projection 768)
  clip_torch.py make-images FOLDER N  N JPEGs of camera-like sizes and complexity
  clip_torch.py run MODEL IMAGES [--batch B] [--out FILE.f32]
                                      PyTorch CPU with 2 threads: decode (PIL),
                                      transformers' preprocessing, inference
  clip_torch.py compare A.f32 B.f32 DIM   per-image cosine between two runs
"""
import json
import os
import sys
import time

import numpy as np


def realistic_weights(model, skip):
    """Redraws every weight matrix of `model` whose name does not contain
    `skip` from N(0, 1 / fan-in). CLIP's own init is tiny (std 0.02 and
    scaled-down projections), which makes every input embed alike; weights of
    realistic magnitude make the agreement checks meaningful. Shared with
    words_torch.py."""
    import torch
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2 and skip not in name:
                p.normal_(0, 1 / p[0].numel() ** 0.5)


def make_model(folder, large=False):
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection
    try:
        from transformers import CLIPImageProcessorPil as Processor
    except ImportError:
        from transformers import CLIPImageProcessor as Processor
    torch.manual_seed(0)
    config = CLIPVisionConfig(projection_dim=512)
    if large:
        config = CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                                  num_attention_heads=16, patch_size=14, image_size=224, projection_dim=768)
    model = CLIPVisionModelWithProjection(config).eval()
    realistic_weights(model, skip="position_embedding")
    model.save_pretrained(folder, safe_serialization=True)
    Processor().save_pretrained(folder)


def make_images(folder, count):
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    sizes = [(4032, 3024), (3024, 4032), (1920, 1080), (2560, 1440), (3000, 2000), (1600, 1200), (4000, 3000), (1080, 1350)]
    rng = np.random.default_rng(0)
    for i in range(count):
        w, h = sizes[i % len(sizes)]
        # Multi-scale texture like a photo: broad colour fields, mid detail, fine grain.
        small = rng.uniform(0, 255, size=(h // 64 + 2, w // 64 + 2, 3)).astype(np.float32)
        broad = np.asarray(Image.fromarray(small.astype(np.uint8)).resize((w, h), Image.BICUBIC), dtype=np.float32)
        mid = rng.normal(0, 40, size=(h // 8 + 1, w // 8 + 1, 3)).astype(np.float32)
        mid = np.asarray(Image.fromarray((mid + 128).clip(0, 255).astype(np.uint8)).resize((w, h), Image.BILINEAR), dtype=np.float32) - 128
        grain = rng.normal(0, 6, size=(h, w, 1)).astype(np.float32)
        img = (broad + mid + grain).clip(0, 255).astype(np.uint8)
        Image.fromarray(img).save(os.path.join(folder, f"img{i:03d}.jpg"), quality=90)


def run(model_folder, image_folder, batch, out):
    import torch
    from PIL import Image
    from transformers import CLIPVisionModelWithProjection
    try:
        from transformers import CLIPImageProcessorPil as Processor
    except ImportError:
        from transformers import CLIPImageProcessor as Processor
    torch.set_num_threads(2)
    load = time.time()
    model = CLIPVisionModelWithProjection.from_pretrained(model_folder).eval()
    processor = Processor.from_pretrained(model_folder)
    load = time.time() - load
    names = sorted(n for n in os.listdir(image_folder) if n.lower().endswith((".jpg", ".jpeg", ".png")))
    vectors = []
    start = time.time()
    cpu_start = time.process_time()
    with torch.inference_mode():
        for i in range(0, len(names), batch):
            images = []
            for n in names[i:i + batch]:
                with Image.open(os.path.join(image_folder, n)) as im:
                    im.load()
                    images.append(im.convert("RGB"))
            pixels = processor(images=images, return_tensors="pt")["pixel_values"]
            emb = model(pixel_values=pixels).image_embeds
            vectors.append(torch.nn.functional.normalize(emb, dim=-1).numpy())
    seconds = time.time() - start
    cpu = time.process_time() - cpu_start
    if out:
        np.concatenate(vectors).astype(np.float32).tofile(out)
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pytorch: {len(names)} images in {seconds:.2f} s = {len(names) / seconds:.2f} images/s; "
          f"{cpu / len(names):.3f} CPU s per image; "
          f"model load {load:.2f} s; batch {batch}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"peak RSS {peak:.0f} MB")
    # The same figures as one JSON line, the shape every benchmark here prints
    # (scripts/bench/json_field reads it).
    print(json.dumps({"bench": "clip-torch", "images": len(names), "seconds": round(seconds, 4),
                      "images_per_second": round(len(names) / seconds, 4),
                      "cpu_seconds_per_image": round(cpu / len(names), 4),
                      "peak_rss_mb": round(peak), "threads": torch.get_num_threads()}))


def compare(a, b, dim):
    x = np.fromfile(a, dtype=np.float32).reshape(-1, dim)
    y = np.fromfile(b, dtype=np.float32).reshape(-1, dim)
    cos = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    between = x @ x.T
    off = between[~np.eye(len(x), dtype=bool)]
    print(f"agreement ours vs pytorch: cosine min {cos.min():.6f} (1 - min {1 - cos.min():.1e}) mean {cos.mean():.6f} over {len(cos)} images "
          f"(different images, ours: cosine {off.min():.3f}..{off.max():.3f})")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["make-model"]:
        make_model(args[1], "--large" in args)
    elif args[:1] == ["make-images"]:
        make_images(args[1], int(args[2]))
    elif args[:1] == ["run"]:
        batch = int(args[args.index("--batch") + 1]) if "--batch" in args else 32
        out = args[args.index("--out") + 1] if "--out" in args else None
        run(args[1], args[2], batch, out)
    elif args[:1] == ["compare"]:
        compare(args[1], args[2], int(args[3]))
    else:
        print(__doc__)
        sys.exit(2)
