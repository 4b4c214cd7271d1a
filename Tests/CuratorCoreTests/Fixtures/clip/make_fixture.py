#!/usr/bin/env python3
"""Makes the CLIP fixture the Swift tests compare against (CI does not run this).

Needs: pip install torch transformers open_clip_torch safetensors pillow numpy
(scripts/make-clip-fixture makes the virtualenv and runs this)

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
  tiny-hf/        also its tokenizer: tokenizer.json (saved by transformers), vocab.json,
                  merges.txt: the first 1,000 merges of the real vocabulary (1,514 ids)
  tiny-dfn2b/     open_clip's ViT-L-14 DFN-2B layout (ViT-L-14-quickgelu config keys and
                  tensor names, tiny sizes), text and vision, made by open_clip: the same
                  1,000 merges as bpe_simple_vocab_16e6.txt.gz
  tokenizer/      the exactness corpus (corpus.json: 1,160 strings with transformers' and
                  open_clip's ids) and open_clip's real vocabulary file (MIT, from its wheel)
  expected/       per model: pixels.npy (N × 3·H·W, transformers' own
                  preprocessing), embeddings.npy (N × P, L2-normalised),
                  names.txt (image order); texts.json (prompts and their ids) and
                  text_embeddings.npy for the text towers

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
    vocab = tiny_vocabulary()
    text = dict(vocab_size=len(vocab), bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                pad_token_id=vocab["<|endoftext|>"], hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, max_position_embeddings=77, projection_dim=24, hidden_act="quick_gelu")
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=24)
    model = CLIPModel(config).eval()
    randomize(model)
    model.save_pretrained(folder, safe_serialization=True)
    processor = Processor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor.save_pretrained(folder)
    reference(processor, model.vision_model, model.visual_projection, names, "tiny-hf")
    tokenizer = save_tiny_tokenizer(folder)

    def encode(texts):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=77, return_tensors="pt")
        with torch.no_grad():
            emb = model.get_text_features(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        emb = getattr(emb, "pooler_output", emb)
        return [list(map(int, row[row_mask.bool()])) for row, row_mask in zip(batch["input_ids"], batch["attention_mask"])], emb
    text_reference(encode, "tiny-hf")


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


# ---------------------------------------------------------------------------
# Text: the tokenizer corpus (real vocabulary) and the tiny vocabulary.

import gzip
import random
import unicodedata

import open_clip
from open_clip.tokenizer import SimpleTokenizer, bytes_to_unicode

OPENCLIP_BPE = os.path.join(os.path.dirname(open_clip.__file__), "bpe_simple_vocab_16e6.txt.gz")
TOKENIZER_DIR = os.path.join(HERE, "tokenizer")
# The tiny models keep the first merges of the real vocabulary: every text
# still tokenizes (byte-level), into more and shorter tokens.
TINY_MERGES = 1000


def real_merges():
    lines = gzip.open(OPENCLIP_BPE).read().decode("utf-8").split("\n")
    return [tuple(m.split()) for m in lines[1:49152 - 256 - 2 + 1]]


def vocabulary(merges):
    """The vocabulary open_clip builds (and Hugging Face's vocab.json holds) for these merges."""
    base = list(bytes_to_unicode().values())
    tokens = base + [b + "</w>" for b in base] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}


def tiny_vocabulary():
    return vocabulary(real_merges()[:TINY_MERGES])


def hf_tokenizer(vocab, merges):
    from transformers import CLIPTokenizer
    return CLIPTokenizer(vocab=vocab, merges=[tuple(m) for m in merges])


def save_tiny_tokenizer(folder):
    """tokenizer.json (saved by transformers), vocab.json and merges.txt of the tiny vocabulary."""
    merges = real_merges()[:TINY_MERGES]
    vocab = vocabulary(merges)
    tok = hf_tokenizer(vocab, merges)
    tok.model_max_length = 77
    tok.save_pretrained(folder)
    for extra in ("special_tokens_map.json", "chat_template.jinja"):
        if os.path.exists(os.path.join(folder, extra)):
            os.remove(os.path.join(folder, extra))
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(" ".join(m) + "\n" for m in merges))
    return tok


def save_tiny_openclip_bpe(folder):
    """open_clip's vocabulary file format with the tiny merges (header line, one merge a line)."""
    merges = real_merges()[:TINY_MERGES]
    with gzip.GzipFile(os.path.join(folder, "bpe_simple_vocab_16e6.txt.gz"), "wb", mtime=0) as f:
        # No newline after the last merge: open_clip would read the empty line as a merge.
        f.write(("#version: tiny\n" + "\n".join(" ".join(m) for m in merges)).encode("utf-8"))
    return SimpleTokenizer(bpe_path=os.path.join(folder, "bpe_simple_vocab_16e6.txt.gz"))


PROMPTS = [
    "a photo of a dog", "A PHOTO OF A CAT!", "woman in a red dress", "a dog on a beach, sunset",
    "text, watermark", "blurry photo", "café crème brûlée", "東京の夜景", "🐶🐱 pets 🎉",
    "x", "the the the", "portrait", "a very long prompt " + " ".join(f"word{i}" for i in range(90)),
]


def text_reference(encode, out_name):
    """Token ids and L2-normalised text embeddings of PROMPTS."""
    ids, emb = encode(PROMPTS)
    emb = emb / emb.norm(dim=-1, keepdim=True)
    folder = os.path.join(HERE, "expected", out_name)
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, "text_embeddings.npy"), emb.detach().numpy().astype(np.float32))
    with open(os.path.join(folder, "texts.json"), "w", encoding="utf-8") as f:
        json.dump([{"text": t, "ids": i} for t, i in zip(PROMPTS, ids)], f, ensure_ascii=False, indent=0)
    cos = emb @ emb.T
    off = cos[~torch.eye(len(PROMPTS), dtype=bool)]
    print(f"{out_name}: {len(PROMPTS)} prompts, pairwise cosine min {off.min():.3f} max {off.max():.3f}")


def corpus_strings():
    """At least 1,000 strings: captions, unicode, emoji, accents, punctuation, numbers, long ones."""
    r = random.Random(4321)
    words = ("a photo of the dog cat woman man child red blue green dress beach sunset forest city night portrait "
             "close-up landscape watermark blurry sharp painting drawing anime 3d render sky sea mountain river car "
             "bicycle street food coffee flower tree snow rain light dark old new small big happy smiling").split()
    fixed = [
        "", " ", "   \t\n ", "a", "A", "hello world", "Hello, World!", "don't", "DON'T", "it's", "IT'S", "we're", "they've",
        "I'm", "you'll", "he'd", "'s", "''s", "'S", "rock'n'roll", "o'clock", "'quoted'", "\"double\"", "“curly” ‘quotes’",
        "naïve café", "Ångström", "crème brûlée", "façade", "jalapeño", "São Paulo", "Zürich", "Œuvre", "æsir", "Łódź",
        "e\u0301", "cafe\u0301", "A\u030a", "ﬁne ﬂower", "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "ǅungla", "İstanbul", "ISTANBUL", "straße", "STRASSE",
        "ΟΔΟΣ", "Σίσυφος", "Москва", "Привет, мир!", "東京", "日本語のテキスト", "中文字符", "한국어", "ภาษาไทย", "हिन्दी",
        "العربية", "עברית", "🐶", "🐶🐱🐭", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "✨ sparkle ✨", "emoji😀in😀text",
        "1", "12", "123", "1,234.56", "3.14159", "2026-12-04", "10:30pm", "$100", "€50", "100%", "3rd", "21st century",
        "4k 8k 1080p", "#hashtag", "@user", "email@example.com", "https://example.com/a?b=c", "C:\\path\\file.jpg",
        "!!!", "???", "...", "…", "—", "–", "a—b", "(parenthesised)", "[bracketed]", "{braced}", "<angle>", "a/b/c",
        "&amp;", "&lt;b&gt;bold&lt;/b&gt;", "&#39;", "AT&T", "fish & chips", "<|startoftext|>", "<|endoftext|>",
        "<start_of_text>", "<end_of_text>", "a <|endoftext|> b", "tab\tseparated", "new\nline", "cr\rlf\r\n",
        "nbsp\u00a0space", "ideographic\u3000space", "line\u2028sep", "zero\u200bwidth", "zwj\u200djoin", "bom\ufeffmark",
        "soft\u00adhyphen", "ctrl\u0007bell", "ctrl\u001b[0m", "cafÃ©", "â€œmojibakeâ€\x9d", "Ã¼ber", "\u0000nul",
        "x" * 200, "ab" * 100, "😀" * 40, "a " * 100, "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "ALL CAPS SENTENCE WITH SHOUTING", "MiXeD cAsE", "snake_case_words", "kebab-case-words", "CamelCaseWords",
        "a,b,c", "a;b:c", "x^2+y^2=z^2", "½ ¼ ¾", "²³¹", "①②③", "ⅠⅡⅢ", "٣٤٥", "०१२", "𝔉𝔯𝔞𝔨𝔱𝔲𝔯", "𝐛𝐨𝐥𝐝",
        "ᚠᛇᚻ", "ꙮ", "\U0001F9D1\u200d\U0001F4BB coder", "flag 🏴‍☠️", "keycap 1️⃣", "©®™", "°C 25°", "±×÷",
    ]
    out = list(fixed)
    # Captions.
    for _ in range(400):
        n = r.randint(1, 25)
        s = " ".join(r.choice(words) for _ in range(n))
        if r.random() < 0.3: s = s.capitalize()
        if r.random() < 0.2: s = s.upper()
        if r.random() < 0.3: s += r.choice([".", "!", "?", ",", "...", " :)", " #1", " 2024"])
        out.append(s)
    # Long captions (> 77 tokens).
    for _ in range(60):
        out.append(", ".join(" ".join(r.choice(words) for _ in range(r.randint(2, 6))) for _ in range(r.randint(20, 40))))
    # Random code points from many blocks.
    blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff), (0x590, 0x6ff), (0x900, 0x97f), (0xe00, 0xe7f),
              (0x1e00, 0x1eff), (0x2000, 0x206f), (0x2100, 0x22ff), (0x3040, 0x30ff), (0x4e00, 0x4fff), (0xac00, 0xad00),
              (0xff00, 0xffef), (0x1f300, 0x1f6ff), (0x1f900, 0x1f9ff), (0x300, 0x36f)]
    for _ in range(400):
        parts = []
        for _ in range(r.randint(1, 12)):
            lo, hi = r.choice(blocks)
            cp = r.randint(lo, hi)
            ch = chr(cp)
            if unicodedata.category(ch) in ("Cs", "Co", "Cn"):
                continue
            parts.append(ch * r.randint(1, 3))
            if r.random() < 0.3: parts.append(" ")
        out.append("".join(parts))
    # Mixed words with accents and numbers.
    accented = "àáâãäåèéêëìíîïòóôõöùúûüýÿñçßøæœ"
    for _ in range(150):
        w = "".join(r.choice("abcdefghijklmnopqrstuvwxyz" + accented + "0123456789'-") for _ in range(r.randint(1, 15)))
        out.append(w if r.random() < 0.5 else w.upper())
    return out


def tokenizer_corpus():
    """The exactness corpus: every string's ids from transformers' CLIPTokenizer (the
    tokenizers-backed CLIPTokenizerFast pipeline, saved as tokenizer.json) and from
    open_clip's SimpleTokenizer, both with the real vocabulary; plus the open_clip
    vocabulary file itself (MIT, shipped in the open_clip_torch wheel)."""
    os.makedirs(TOKENIZER_DIR, exist_ok=True)
    shutil.copyfile(OPENCLIP_BPE, os.path.join(TOKENIZER_DIR, "bpe_simple_vocab_16e6.txt.gz"))
    merges = real_merges()
    hf = hf_tokenizer(vocabulary(merges), merges)
    oc = SimpleTokenizer()
    strings = corpus_strings()
    rows, differ = [], 0
    for s in strings:
        ids = hf(s)["input_ids"]
        ids77 = hf(s, truncation=True, max_length=77)["input_ids"]
        oc_ids = [oc.sot_token_id] + oc.encode(s) + [oc.eot_token_id]
        oc77 = [int(x) for x in oc([s], context_length=77)[0] if x != 0]
        row = {"text": s, "hf": ids, "open_clip": oc_ids}
        if ids77 != ids:
            row["hf77"] = ids77
        if oc77 != oc_ids:
            row["open_clip77"] = oc77
        if oc_ids != ids:
            differ += 1
        rows.append(row)
    with open(os.path.join(TOKENIZER_DIR, "corpus.json"), "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(row, ensure_ascii=True) for row in rows) + "\n]\n")
    import transformers
    with open(os.path.join(TOKENIZER_DIR, "VERSIONS.txt"), "w") as f:
        f.write(f"transformers {transformers.__version__}, tokenizers {__import__('tokenizers').__version__}, "
                f"open_clip_torch {open_clip.__version__}, ftfy {__import__('ftfy').__version__}\n")
    print(f"tokenizer corpus: {len(rows)} strings, {differ} where open_clip and transformers differ")


def tiny_dfn2b(names):
    """open_clip's ViT-L-14 DFN-2B layout (model 'ViT-L-14-quickgelu', pretrained 'dfn2b'):
    the same config keys and tensor names, tiny sizes, made by open_clip itself."""
    folder = os.path.join(HERE, "tiny-dfn2b")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    tok = save_tiny_openclip_bpe(folder)
    cfg = {"embed_dim": 16, "quick_gelu": True,
           "vision_cfg": {"image_size": 48, "layers": 2, "width": 32, "patch_size": 8, "head_width": 8},
           "text_cfg": {"context_length": 77, "vocab_size": tok.vocab_size, "width": 32, "heads": 4, "layers": 2}}
    model = open_clip.model.CLIP(**cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "logit_scale":
                continue
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or "ln_pre.weight" in name \
                    or "ln_post.weight" in name or "ln_final.weight" in name:
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif p.dim() == 1:
                p.copy_(0.2 * torch.randn_like(p))
            elif "positional_embedding" in name or "class_embedding" in name or "token_embedding" in name:
                p.copy_(0.3 * torch.randn_like(p))
            else:
                fan_in = p.shape[0] if name.endswith("proj") and "." not in name[len("visual."):] or name == "text_projection" else p[0].numel()
                p.copy_(torch.randn_like(p) / fan_in ** 0.5)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()},
              os.path.join(folder, "open_clip_model.safetensors"))
    mean, std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    with open(os.path.join(folder, "open_clip_config.json"), "w") as f:
        json.dump({"model_cfg": cfg, "preprocess_cfg": {"mean": mean, "std": std, "interpolation": "bicubic",
                                                        "resize_mode": "shortest"}}, f, indent=2)
    processor = Processor(size={"shortest_edge": 48}, crop_size={"height": 48, "width": 48}, image_mean=mean, image_std=std)

    class Vision:
        def __call__(self, pixel_values):
            class Out: pass
            out = Out()
            out.pooler_output = model.encode_image(pixel_values)
            return out
    reference(processor, Vision(), lambda x: x, names, "tiny-dfn2b")

    def encode(texts):
        tokens = tok(texts, context_length=77)
        with torch.no_grad():
            emb = model.encode_text(tokens)
        return [[int(x) for x in row if x != 0] for row in tokens], emb
    text_reference(encode, "tiny-dfn2b")


if __name__ == "__main__":
    names = make_images()
    tiny_hf(names)
    tiny_openclip(names)
    tiny_dfn2b(names)
    tokenizer_corpus()
    for root, _, files in os.walk(HERE):
        for f in sorted(files):
            p = os.path.join(root, f)
            print(f"{os.path.relpath(p, HERE):45s} {os.path.getsize(p):8d} bytes")
