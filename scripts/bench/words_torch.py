#!/usr/bin/env python3
"""The Python side of scripts/bench/words (needs torch, transformers, open_clip_torch, numpy).

  words_torch.py make-model FOLDER [--large]   CLIP's text tower with random weights of the real
                                               shape (ViT-B/32's: width 512, 8 heads; --large: ViT-L/14's,
                                               width 768, 12 heads), saved by transformers as
                                               CLIPTextModelWithProjection, with the real tokenizer.json
  words_torch.py prompts FILE N                N distinct caption-like prompts, one per line
  words_torch.py run MODEL PROMPTS [--out F]   PyTorch CPU, 2 threads: tokenizer + model, one prompt at a time
  words_torch.py search ROWS DIM               numpy: X @ q and argpartition's top 20 over unit rows
  words_torch.py compare A.f32 B.f32 DIM       per-prompt cosine between two runs
  words_torch.py make-siglip FOLDER            a SiglipModel of SigLIP 2 base's shape (google/siglip2-base-patch16-224:
                                               width 768, 12 layers, 12 heads, 224 px, patch 16, 64 text tokens) with
                                               random weights, and the SigLIP 2 fixture's tokenizer (1,600 ids: the real
                                               256,000-row embedding table would add memory, not time)
  words_torch.py siglip-text MODEL PROMPTS [--out F]     PyTorch CPU, 2 threads: processor + get_text_features,
                                                         padded to 64 as SigLIP is run, one prompt at a time
  words_torch.py siglip-images MODEL IMAGES [--out F]    PyTorch CPU, 2 threads: PIL decode, processor,
                                                         get_image_features, batches of 16
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_torch import realistic_weights  # noqa: E402


def tokenizer():
    import gzip
    import open_clip
    from open_clip.tokenizer import bytes_to_unicode
    from transformers import CLIPTokenizer
    path = os.path.join(os.path.dirname(open_clip.__file__), "bpe_simple_vocab_16e6.txt.gz")
    merges = [tuple(m.split()) for m in gzip.open(path).read().decode("utf-8").split("\n")[1:49152 - 256 - 2 + 1]]
    base = list(bytes_to_unicode().values())
    tokens = base + [b + "</w>" for b in base] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    tok = CLIPTokenizer(vocab={t: i for i, t in enumerate(tokens)}, merges=merges)
    tok.model_max_length = 77
    return tok


def make_model(folder, large):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection
    torch.manual_seed(0)
    shape = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, projection_dim=768) if large else \
        dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8, projection_dim=512)
    config = CLIPTextConfig(eos_token_id=49407, bos_token_id=49406, pad_token_id=49407, **shape)
    model = CLIPTextModelWithProjection(config).eval()
    realistic_weights(model, skip="embedding")
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer().save_pretrained(folder)


def prompts(path, n):
    rng = np.random.default_rng(0)
    words = ("a photo of the dog cat woman man child in red blue green dress on beach at sunset forest city night "
             "portrait close-up landscape with watermark blurry sharp painting of old new small big happy smiling").split()
    with open(path, "w") as f:
        for i in range(n):
            f.write(" ".join(rng.choice(words, size=rng.integers(3, 16))) + f" {i}\n")


def run(model_folder, prompt_file, out):
    import torch
    from transformers import CLIPTextModelWithProjection, CLIPTokenizer
    torch.set_num_threads(2)
    tok = CLIPTokenizer.from_pretrained(model_folder)
    model = CLIPTextModelWithProjection.from_pretrained(model_folder).eval()
    texts = open(prompt_file).read().split("\n")[:-1]

    def embed(batch):
        e = model(**tok(batch, padding=True, return_tensors="pt")).text_embeds
        return e / e.norm(dim=-1, keepdim=True)
    time_prompts(torch, embed, texts, out)


def time_prompts(torch, embed, texts, out):
    """Times `embed` on each prompt alone, then on all of them in one call;
    writes the one-at-a-time rows to `out` (float32) and prints both timings."""
    with torch.no_grad():
        embed([texts[0]])  # warm
        each, rows = [], []
        for t in texts:
            start = time.perf_counter()
            e = embed([t])
            each.append(time.perf_counter() - start)
            rows.append(e[0].numpy())
        start = time.perf_counter()
        embed(texts)
        batch = time.perf_counter() - start
    if out:
        np.asarray(rows, dtype=np.float32).tofile(out)
    each.sort()
    print(f"pytorch (2 threads): {len(texts)} prompts one at a time: median {each[len(each) // 2] * 1000:.2f} ms, "
          f"mean {sum(each) / len(each) * 1000:.2f} ms per prompt; all {len(texts)} in one call {batch / len(texts) * 1000:.2f} ms per prompt")


def search(rows, dim):
    rng = np.random.default_rng(1)
    x = rng.uniform(-0.5, 0.5, size=(rows, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    times = []
    for q in range(21):
        v = rng.uniform(-0.5, 0.5, size=dim).astype(np.float32)
        v /= np.linalg.norm(v)
        start = time.perf_counter()
        s = x @ v
        top = np.argpartition(-s, 20)[:20]
        top = top[np.argsort(-s[top])]
        if q:
            times.append(time.perf_counter() - start)
    times.sort()
    print(f"numpy: {rows} × {dim}, top 20: median {times[len(times) // 2] * 1000:.1f} ms, best {times[0] * 1000:.1f} ms per query (20 warm queries)")


def compare(a, b, dim):
    x = np.fromfile(a, dtype=np.float32).reshape(-1, dim)
    y = np.fromfile(b, dtype=np.float32).reshape(-1, dim)
    cos = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    print(f"agreement: {len(cos)} prompts, cosine min {cos.min():.6f}, mean {cos.mean():.6f}")


def make_siglip(folder):
    import shutil
    import torch
    from transformers import SiglipConfig, SiglipModel
    try:
        from transformers import SiglipImageProcessorPil as Processor
    except ImportError:
        from transformers import SiglipImageProcessor as Processor
    torch.manual_seed(0)
    fixture = os.path.join(os.path.dirname(__file__), "../../Tests/CuratorCoreTests/Fixtures/siglip/tiny-siglip2")
    os.makedirs(folder, exist_ok=True)
    for name in ("tokenizer.model", "tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(fixture, name), os.path.join(folder, name))
    with open(os.path.join(folder, "tokenizer_config.json")) as f:
        import json
        config = json.load(f)
    config["model_max_length"] = 64
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f)
    shape = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12)
    model = SiglipModel(SiglipConfig(text_config=dict(vocab_size=1600, max_position_embeddings=64, pad_token_id=0, eos_token_id=1, bos_token_id=2, **shape),
                                     vision_config=dict(image_size=224, patch_size=16, **shape))).eval()
    realistic_weights(model, skip="embedding")
    model.save_pretrained(folder, safe_serialization=True)
    Processor(size={"height": 224, "width": 224}, resample=2).save_pretrained(folder)


def siglip_text(model_folder, prompt_file, out):
    import torch
    from transformers import AutoTokenizer, SiglipModel
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(model_folder)
    model = SiglipModel.from_pretrained(model_folder).eval()
    texts = open(prompt_file).read().split("\n")[:-1]

    def embed(batch):
        features = model.get_text_features(**tok(batch, padding="max_length", max_length=64, truncation=True, return_tensors="pt"))
        features = getattr(features, "pooler_output", features)
        return features / features.norm(dim=-1, keepdim=True)
    time_prompts(torch, embed, texts, out)


def siglip_images(model_folder, image_folder, out):
    import torch
    from PIL import Image
    from transformers import SiglipModel
    try:
        from transformers import SiglipImageProcessorPil as Processor
    except ImportError:
        from transformers import SiglipImageProcessor as Processor
    torch.set_num_threads(2)
    model = SiglipModel.from_pretrained(model_folder).eval()
    processor = Processor.from_pretrained(model_folder)
    names = sorted(n for n in os.listdir(image_folder) if n.lower().endswith((".jpg", ".jpeg", ".png")))
    vectors = []
    start = time.time()
    cpu_start = time.process_time()
    with torch.inference_mode():
        for i in range(0, len(names), 16):
            images = []
            for n in names[i:i + 16]:
                with Image.open(os.path.join(image_folder, n)) as im:
                    im.load()
                    images.append(im.convert("RGB"))
            features = model.get_image_features(pixel_values=processor(images=images, return_tensors="pt")["pixel_values"])
            features = getattr(features, "pooler_output", features)
            vectors.append(torch.nn.functional.normalize(features, dim=-1).numpy())
    seconds = time.time() - start
    cpu = time.process_time() - cpu_start
    if out:
        np.concatenate(vectors).astype(np.float32).tofile(out)
    print(f"pytorch (2 threads): {len(names)} images in {seconds:.2f} s = {len(names) / seconds:.2f} images/s; {cpu / len(names):.3f} CPU s per image")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make-model":
        make_model(sys.argv[2], "--large" in sys.argv)
    elif cmd == "prompts":
        prompts(sys.argv[2], int(sys.argv[3]))
    elif cmd == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None)
    elif cmd == "search":
        search(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "make-siglip":
        make_siglip(sys.argv[2])
    elif cmd == "siglip-text":
        siglip_text(sys.argv[2], sys.argv[3], sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None)
    elif cmd == "siglip-images":
        siglip_images(sys.argv[2], sys.argv[3], sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None)
    elif cmd == "compare":
        compare(sys.argv[2], sys.argv[3], int(sys.argv[4]))
