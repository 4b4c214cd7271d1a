#!/usr/bin/env python3
"""Makes the SigLIP fixture the Swift tests compare against (CI does not run this).

Needs: pip install torch transformers sentencepiece protobuf safetensors pillow numpy
(scripts/make-siglip-fixture makes the virtualenv and runs this)

Writes, next to this script:
  tiny-siglip/   a tiny random SiglipModel (transformers' layout: no class token,
                 the attention-pooling head, the text head, logit_scale and
                 logit_bias) with a SigLIP (v1) tokenizer: spiece.model, a
                 unigram SentencePiece model trained here on the corpus (T5's
                 settings: nmt_nfkc, a dummy prefix, pad 0, </s> 1, <unk> 2),
                 saved by transformers' SiglipTokenizer
  tiny-siglip2/  the same architecture at other sizes (48 px, patch 16, bilinear)
                 with SigLIP 2's tokenizer: Gemma's kind of SentencePiece model
                 (BPE, byte fallback, no dummy prefix, <pad> 0 <eos> 1 <bos> 2
                 <unk> 3 <mask> 4), tokenizer.model plus the tokenizer.json and
                 tokenizer_config.json transformers' GemmaTokenizer saves with
                 SigLIP 2's settings (no <bos>, <eos> added, padded on the right)
  corpus.json    the exactness corpus (the CLIP fixture's strings) with both
                 tokenizers' ids, as transformers gives them at the model's
                 context length (padding="max_length", truncation=True)
  expected/      per model: pixels.npy, embeddings.npy (images of ../clip/images,
                 transformers' PIL preprocessing, L2-normalised), texts.json and
                 text_embeddings.npy (prompts, their ids, L2-normalised), and
                 logits.json (logit_scale, logit_bias, and the sigmoid scores of
                 every image against every prompt as SiglipModel computes them)
"""
import io
import json
import os
import shutil
import sys

import numpy as np
import sentencepiece as spm
import torch
from PIL import Image, ImageOps
from safetensors.torch import save_file
from transformers import AutoTokenizer, SiglipConfig, SiglipModel

try:  # transformers ≥ 5 names the PIL backend explicitly
    from transformers import SiglipImageProcessorPil as Processor
except ImportError:
    from transformers import SiglipImageProcessor as Processor

HERE = os.path.dirname(os.path.abspath(__file__))
CLIP = os.path.join(os.path.dirname(HERE), "clip")
sys.path.insert(0, CLIP)
import make_fixture as clip_fixture  # noqa: E402  (corpus strings, prompts, images)

torch.manual_seed(4321)
IMAGES = ["rgb.jpg", "rgba.png", "grey.png", "tall.jpg", "exif.jpg", "big.jpg", "palette.png"]
PROMPTS = clip_fixture.PROMPTS + ["A Photo Of A Dog.", "</s> eos inside", "<eos> and <bos> inside", "  spaced   out  "]


def training_text():
    strings = clip_fixture.corpus_strings()
    return [s for s in strings if s.strip()] * 2


def train(**options):
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(training_text()), model_writer=model,
                                   minloglevel=2, **options)
    return model.getvalue()


def randomize(model):
    """Weights that make activations O(1), so every tensor matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in ("logit_scale", "logit_bias"):
                continue
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif p.dim() == 1:
                p.copy_(0.2 * torch.randn_like(p))
            elif "embedding" in name or "probe" in name:
                p.copy_(0.3 * torch.randn_like(p) if p.dim() != 4 else torch.randn_like(p) / p[0].numel() ** 0.5)
            else:
                p.copy_(torch.randn_like(p) / p[0].numel() ** 0.5)
        model.logit_scale.fill_(2.3)
        model.logit_bias.fill_(-4.5)


def images():
    out = []
    for n in IMAGES:
        with Image.open(os.path.join(CLIP, "images", n)) as im:
            im.load()
            out.append(ImageOps.exif_transpose(im))
    return out


def reference(model, processor, tokenizer, context, name):
    folder = os.path.join(HERE, "expected", name)
    os.makedirs(folder, exist_ok=True)
    pixels = processor(images=images(), return_tensors="pt")["pixel_values"]
    batch = tokenizer(PROMPTS, padding="max_length", truncation=True, max_length=context, return_tensors="pt")
    assert list(batch.keys()) == ["input_ids"], f"the tokenizer returns {list(batch.keys())}; SigLIP checkpoints give input_ids only"
    with torch.no_grad():
        img = model.get_image_features(pixel_values=pixels)
        txt = model.get_text_features(**batch)
        img = getattr(img, "pooler_output", img)
        txt = getattr(txt, "pooler_output", txt)
        out = model(pixel_values=pixels, **batch)
    img = img / img.norm(dim=-1, keepdim=True)
    txt = txt / txt.norm(dim=-1, keepdim=True)
    np.save(os.path.join(folder, "pixels.npy"), pixels.reshape(len(IMAGES), -1).numpy().astype(np.float32))
    np.save(os.path.join(folder, "embeddings.npy"), img.numpy().astype(np.float32))
    np.save(os.path.join(folder, "text_embeddings.npy"), txt.numpy().astype(np.float32))
    with open(os.path.join(folder, "names.txt"), "w") as f:
        f.write("\n".join(IMAGES) + "\n")
    with open(os.path.join(folder, "texts.json"), "w", encoding="utf-8") as f:
        json.dump([{"text": t, "ids": [int(x) for x in row]} for t, row in zip(PROMPTS, batch["input_ids"])],
                  f, ensure_ascii=False, indent=0)
    probabilities = torch.sigmoid(out.logits_per_image)
    with open(os.path.join(folder, "logits.json"), "w") as f:
        json.dump({"logit_scale": float(model.logit_scale), "logit_bias": float(model.logit_bias),
                   "probabilities": probabilities.tolist()}, f)
    cos = img @ img.T
    off = cos[~torch.eye(len(IMAGES), dtype=bool)]
    tcos = txt @ txt.T
    toff = tcos[~torch.eye(len(PROMPTS), dtype=bool)]
    print(f"{name}: images pairwise cosine {off.min():.3f}..{off.max():.3f}, prompts {toff.min():.3f}..{toff.max():.3f}, "
          f"probabilities {probabilities.min():.4f}..{probabilities.max():.4f}")


def save_model(folder, text, vision, processor):
    config = SiglipConfig(text_config=text, vision_config=vision)
    model = SiglipModel(config).eval()
    randomize(model)
    model.save_pretrained(folder, safe_serialization=True)
    processor.save_pretrained(folder)
    return model


def tidy(folder):
    for extra in ("special_tokens_map.json", "chat_template.jinja", "added_tokens.json"):
        if os.path.exists(os.path.join(folder, extra)):
            os.remove(os.path.join(folder, extra))
    # Keep the generator's own paths out of the committed files.
    path = os.path.join(folder, "tokenizer_config.json")
    with open(path) as f:
        config = json.load(f)
    for key in ("vocab_file", "is_local", "local_files_only"):
        config.pop(key, None)
    with open(path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def tiny_siglip():
    folder = os.path.join(HERE, "tiny-siglip")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    staging = os.path.join(HERE, "staging-siglip")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    with open(os.path.join(staging, "spiece.model"), "wb") as f:
        f.write(train(model_type="unigram", vocab_size=1500, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                      character_coverage=0.98, normalization_rule_name="nmt_nfkc"))
    from transformers import SiglipTokenizer
    tokenizer = SiglipTokenizer(vocab_file=os.path.join(staging, "spiece.model"), model_max_length=16,
                                model_input_names=["input_ids"])
    tokenizer.save_pretrained(folder)
    shutil.rmtree(staging)
    tidy(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    text = dict(vocab_size=tokenizer.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, max_position_embeddings=16, projection_size=24, pad_token_id=1, eos_token_id=1)
    vision = dict(hidden_size=24, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  image_size=32, patch_size=8)
    processor = Processor(size={"height": 32, "width": 32})
    model = save_model(folder, text, vision, processor)
    reference(model, processor, tokenizer, 16, "tiny-siglip")
    return tokenizer


def tiny_siglip2():
    folder = os.path.join(HERE, "tiny-siglip2")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    staging = os.path.join(HERE, "staging-siglip2")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    model_bytes = train(model_type="bpe", vocab_size=1600, pad_id=0, eos_id=1, bos_id=2, unk_id=3,
                        pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>",
                        user_defined_symbols=["<mask>", "<start_of_turn>", "<end_of_turn>"],
                        byte_fallback=True, add_dummy_prefix=False, remove_extra_whitespaces=False,
                        normalization_rule_name="identity", split_digits=True, allow_whitespace_only_pieces=True,
                        character_coverage=0.98)
    with open(os.path.join(staging, "tokenizer.model"), "wb") as f:
        f.write(model_bytes)
    with open(os.path.join(staging, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GemmaTokenizer", "add_bos_token": False, "add_eos_token": True,
                   "padding_side": "right", "model_max_length": 16, "model_input_names": ["input_ids"]}, f)
    tokenizer = AutoTokenizer.from_pretrained(staging)
    tokenizer.save_pretrained(folder)
    shutil.copyfile(os.path.join(staging, "tokenizer.model"), os.path.join(folder, "tokenizer.model"))
    shutil.rmtree(staging)
    tidy(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    print(f"tiny-siglip2 tokenizer: {type(tokenizer).__name__}, {len(tokenizer)} ids")
    text = dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                num_attention_heads=2, max_position_embeddings=16, pad_token_id=0, eos_token_id=1, bos_token_id=2)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  image_size=48, patch_size=16)
    processor = Processor(size={"height": 48, "width": 48}, resample=2)
    model = save_model(folder, text, vision, processor)
    reference(model, processor, tokenizer, 16, "tiny-siglip2")
    return tokenizer


def corpus(siglip, siglip2):
    rows = []
    for s in clip_fixture.corpus_strings():
        row = {"text": s}
        for name, tok in (("siglip", siglip), ("siglip2", siglip2)):
            row[name] = tok(s)["input_ids"]
            row[name + "16"] = tok(s, padding="max_length", truncation=True, max_length=16)["input_ids"]
        rows.append(row)
    with open(os.path.join(HERE, "corpus.json"), "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(row, ensure_ascii=True) for row in rows) + "\n]\n")
    import transformers
    with open(os.path.join(HERE, "VERSIONS.txt"), "w") as f:
        f.write(f"transformers {transformers.__version__}, tokenizers {__import__('tokenizers').__version__}, "
                f"sentencepiece {spm.__version__}, torch {torch.__version__}\n")
    print(f"corpus: {len(rows)} strings")


if __name__ == "__main__":
    siglip = tiny_siglip()
    siglip2 = tiny_siglip2()
    corpus(siglip, siglip2)
    for root, _, files in os.walk(HERE):
        for f in sorted(files):
            p = os.path.join(root, f)
            print(f"{os.path.relpath(p, HERE):45s} {os.path.getsize(p):8d} bytes")
