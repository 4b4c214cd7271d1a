#!/usr/bin/env python3
"""Makes the CLIP fixture the Swift tests compare against (CI does not run this).

Needs: pip install torch transformers safetensors pillow numpy

Writes, next to this script:
  tiny-hf/        a tiny random CLIPModel (2 layers, width 48, patch 8, 32 px,
                  quick_gelu) saved by transformers: model.safetensors,
                  config.json, preprocessor_config.json
  tiny-openclip/  a tiny random vision tower (2 layers, width 32, patch 8, 48 px,
                  gelu, custom mean/std) with its tensors renamed to open_clip's
                  layout (packed in_proj_weight, visual.proj as D×P) and an
                  open_clip_config.json: open_clip_model.safetensors
  images/         input images of different sizes and modes (plus cmyk.jpg and
                  grey16.png, decoded by the tests but not compared with PIL)
  expected/       per model: pixels.npy (N × 3·H·W, transformers' own
                  preprocessing), embeddings.npy (N × P, L2-normalised),
                  names.txt (image order)

The reference preprocessing is transformers' PIL image processor (the classic
CLIPImageProcessor); EXIF orientation is applied first (ImageOps.exif_transpose),
as curator does. Rerunning with the same library versions gives the same files.
"""
import io
import json
import os
import shutil

import numpy as np
import torch
from PIL import Image, ImageOps
from safetensors.torch import save_file
from transformers import (CLIPConfig, CLIPModel, CLIPVisionConfig,
                          CLIPVisionModelWithProjection)

try:  # transformers ≥ 5 names the PIL backend explicitly
    from transformers import CLIPImageProcessorPil as Processor
except ImportError:  # transformers 4: CLIPImageProcessor is the PIL one
    from transformers import CLIPImageProcessor as Processor

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(1234)
rng = np.random.default_rng(1234)


def randomize(model):
    """Replaces CLIP's tiny init with weights that make activations O(1), so
    different images give clearly different embeddings and every tensor
    (layer norms and biases included) matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layer_norm1.weight") or name.endswith("layer_norm2.weight") \
                    or "layrnorm.weight" in name or "layernorm.weight" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif p.dim() == 0:
                continue  # logit_scale: not part of the vision tower
            elif p.dim() == 1:
                p.copy_(0.2 * torch.randn_like(p))
            elif "position_embedding" in name:
                p.copy_(0.3 * torch.randn_like(p))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn_like(p) / fan_in ** 0.5)


def texture(w, h, seed):
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    f = r.uniform(2, 9, size=6)
    img = np.stack([
        128 + 90 * np.sin(f[0] * x * 6.28 + f[1] * y * 3),
        128 + 90 * np.cos(f[2] * y * 6.28 + f[3] * x * x * 4),
        128 + 90 * np.sin(f[4] * (x + y) * 3.14) * np.cos(f[5] * x * 2),
    ], -1)
    cx, cy, rad = r.uniform(0.2, 0.8), r.uniform(0.2, 0.8), r.uniform(0.1, 0.3)
    disc = ((x - cx) ** 2 + (y - cy) ** 2) < rad ** 2
    img[disc] = r.uniform(0, 255, size=3)
    img += r.normal(0, 6, img.shape)
    return img.clip(0, 255).astype(np.uint8)


def make_images():
    folder = os.path.join(HERE, "images")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    Image.fromarray(texture(80, 60, 1)).save(os.path.join(folder, "rgb.jpg"), quality=92)
    rgba = np.dstack([texture(50, 70, 2), (np.linspace(0, 255, 50)[None, :] * np.ones((70, 1))).astype(np.uint8)])
    Image.fromarray(rgba, "RGBA").save(os.path.join(folder, "rgba.png"))
    Image.fromarray(texture(24, 20, 3)[:, :, 1], "L").save(os.path.join(folder, "grey.png"))
    Image.fromarray(texture(40, 120, 4)).save(os.path.join(folder, "tall.jpg"), quality=92)
    # Stored 90×60 (landscape); EXIF orientation 6 shows it rotated 90° clockwise.
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(texture(90, 60, 5)).save(os.path.join(folder, "exif.jpg"), quality=92, exif=exif.tobytes())
    # Large enough that JPEG shrink-on-load applies (÷4 for the 32 px model).
    Image.fromarray(texture(400, 300, 6)).save(os.path.join(folder, "big.jpg"), quality=85)
    # Palette PNG with a transparent index.
    pal = Image.fromarray(texture(36, 30, 7)).quantize(16)
    pal.save(os.path.join(folder, "palette.png"), transparency=0)
    # Not in the reference set (PIL converts these differently; see the tests):
    # the rgb.jpg picture as a CMYK JPEG and as 16-bit greyscale.
    rgb = Image.open(os.path.join(folder, "rgb.jpg"))
    rgb.convert("CMYK").save(os.path.join(folder, "cmyk.jpg"), quality=92)
    Image.fromarray(np.asarray(rgb.convert("L")).astype(np.uint16) * 257).save(os.path.join(folder, "grey16.png"))
    return ["rgb.jpg", "rgba.png", "grey.png", "tall.jpg", "exif.jpg", "big.jpg", "palette.png"]


def reference(processor, vision, projection, names, out_name):
    images = []
    for n in names:
        with Image.open(os.path.join(HERE, "images", n)) as im:
            im.load()
            images.append(ImageOps.exif_transpose(im))
    pixels = processor(images=images, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        pooled = vision(pixel_values=pixels).pooler_output
        emb = projection(pooled)
        emb = emb / emb.norm(dim=-1, keepdim=True)
    folder = os.path.join(HERE, "expected", out_name)
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, "pixels.npy"), pixels.reshape(len(names), -1).numpy().astype(np.float32))
    np.save(os.path.join(folder, "embeddings.npy"), emb.numpy().astype(np.float32))
    with open(os.path.join(folder, "names.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    cos = emb @ emb.T
    off = cos[~torch.eye(len(names), dtype=bool)]
    print(f"{out_name}: {len(names)} images, pairwise cosine min {off.min():.3f} max {off.max():.3f}")


def tiny_hf(names):
    folder = os.path.join(HERE, "tiny-hf")
    shutil.rmtree(folder, ignore_errors=True)
    vision = dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=3,
                  image_size=32, patch_size=8, hidden_act="quick_gelu", projection_dim=24)
    text = dict(vocab_size=64, bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                num_attention_heads=2, max_position_embeddings=16, projection_dim=24)
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=24)
    model = CLIPModel(config).eval()
    randomize(model)
    model.save_pretrained(folder, safe_serialization=True)
    processor = Processor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor.save_pretrained(folder)
    reference(processor, model.vision_model, model.visual_projection, names, "tiny-hf")


def tiny_openclip(names):
    folder = os.path.join(HERE, "tiny-openclip")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                              image_size=48, patch_size=8, hidden_act="gelu", projection_dim=16)
    model = CLIPVisionModelWithProjection(config).eval()
    randomize(model)
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    out = {}
    e = "vision_model.embeddings."
    out["visual.conv1.weight"] = sd[e + "patch_embedding.weight"]
    out["visual.class_embedding"] = sd[e + "class_embedding"]
    out["visual.positional_embedding"] = sd[e + "position_embedding.weight"]
    out["visual.ln_pre.weight"] = sd["vision_model.pre_layrnorm.weight"]
    out["visual.ln_pre.bias"] = sd["vision_model.pre_layrnorm.bias"]
    for i in range(config.num_hidden_layers):
        l = f"vision_model.encoder.layers.{i}."
        r = f"visual.transformer.resblocks.{i}."
        out[r + "ln_1.weight"] = sd[l + "layer_norm1.weight"]
        out[r + "ln_1.bias"] = sd[l + "layer_norm1.bias"]
        out[r + "attn.in_proj_weight"] = torch.cat([sd[l + f"self_attn.{p}_proj.weight"] for p in "qkv"], 0)
        out[r + "attn.in_proj_bias"] = torch.cat([sd[l + f"self_attn.{p}_proj.bias"] for p in "qkv"], 0)
        out[r + "attn.out_proj.weight"] = sd[l + "self_attn.out_proj.weight"]
        out[r + "attn.out_proj.bias"] = sd[l + "self_attn.out_proj.bias"]
        out[r + "ln_2.weight"] = sd[l + "layer_norm2.weight"]
        out[r + "ln_2.bias"] = sd[l + "layer_norm2.bias"]
        out[r + "mlp.c_fc.weight"] = sd[l + "mlp.fc1.weight"]
        out[r + "mlp.c_fc.bias"] = sd[l + "mlp.fc1.bias"]
        out[r + "mlp.c_proj.weight"] = sd[l + "mlp.fc2.weight"]
        out[r + "mlp.c_proj.bias"] = sd[l + "mlp.fc2.bias"]
    out["visual.ln_post.weight"] = sd["vision_model.post_layernorm.weight"]
    out["visual.ln_post.bias"] = sd["vision_model.post_layernorm.bias"]
    out["visual.proj"] = sd["visual_projection.weight"].T.contiguous()  # open_clip stores D×P
    # A tensor of the text tower, as a full open_clip checkpoint has; the encoder ignores it.
    out["logit_scale"] = torch.tensor(4.6052)
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(folder, "open_clip_model.safetensors"))
    mean, std = [0.5, 0.45, 0.4], [0.25, 0.3, 0.35]
    with open(os.path.join(folder, "open_clip_config.json"), "w") as f:
        json.dump({"model_cfg": {"embed_dim": 16, "quick_gelu": False,
                                 "vision_cfg": {"image_size": 48, "layers": 2, "width": 32, "patch_size": 8,
                                                "head_width": 8, "mlp_ratio": 2.0}},
                   "preprocess_cfg": {"mean": mean, "std": std, "interpolation": "bicubic", "resize_mode": "shortest"}},
                  f, indent=2)
    processor = Processor(size={"shortest_edge": 48}, crop_size={"height": 48, "width": 48}, image_mean=mean, image_std=std)
    reference(processor, model.vision_model, model.visual_projection, names, "tiny-openclip")


if __name__ == "__main__":
    names = make_images()
    tiny_hf(names)
    tiny_openclip(names)
    for root, _, files in os.walk(HERE):
        for f in sorted(files):
            p = os.path.join(root, f)
            print(f"{os.path.relpath(p, HERE):45s} {os.path.getsize(p):8d} bytes")
