// C functions over libsentencepiece's C++ SentencePieceProcessor, for Swift.
// No C++ exception crosses into Swift: every call that can fail returns a
// status, which becomes an error message here.
#include "CSentencePieceShims.h"
#include <sentencepiece_processor.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

struct curator_spm {
    sentencepiece::SentencePieceProcessor processor;
    /// Unigram models are segmented here (see `viterbi`); BPE models by the library.
    bool unigram = false;
    /// The score of an unknown character: the lowest piece score minus 10, as the library sets it.
    float unknown_score = 0;
    /// The longest piece, in bytes.
    size_t longest = 0;
};

static char *copy_message(const std::string &text) {
    char *out = static_cast<char *>(std::malloc(text.size() + 1));
    if (out != nullptr) std::memcpy(out, text.c_str(), text.size() + 1);
    return out;
}

extern "C" curator_spm *curator_spm_load(const void *bytes, size_t length, char **error) {
    *error = nullptr;
    curator_spm *model = new (std::nothrow) curator_spm();
    if (model == nullptr) {
        *error = copy_message("out of memory");
        return nullptr;
    }
    try {
        auto status = model->processor.LoadFromSerializedProto(
            std::string_view(static_cast<const char *>(bytes), length));
        if (!status.ok()) {
            *error = copy_message(status.ToString());
            delete model;
            return nullptr;
        }
    } catch (const std::exception &e) {
        *error = copy_message(e.what());
        delete model;
        return nullptr;
    }
    // Only unigram models have an n-best lattice; BPE models refuse it.
    std::vector<std::vector<int>> probe;
    model->unigram = model->processor.NBestEncode("a", 2, &probe).ok();
    if (model->unigram) {
        float lowest = 0;
        bool any = false;
        const int count = model->processor.GetPieceSize();
        for (int id = 0; id < count; id++) {
            const auto &p = model->processor;
            if (p.IsControl(id) || p.IsUnknown(id) || p.IsUnused(id)) continue;
            const float score = p.GetScore(id);
            lowest = any ? std::min(lowest, score) : score;
            any = true;
            model->longest = std::max(model->longest, p.IdToPiece(id).size());
        }
        model->unknown_score = lowest - 10.0f;
    }
    return model;
}

extern "C" void curator_spm_free(curator_spm *model) { delete model; }

extern "C" int curator_spm_piece_count(const curator_spm *model) { return model->processor.GetPieceSize(); }

extern "C" int curator_spm_piece_id(const curator_spm *model, const char *piece, size_t length) {
    return model->processor.PieceToId(std::string_view(piece, length));
}

extern "C" const char *curator_spm_piece(const curator_spm *model, int id) {
    return model->processor.IdToPiece(id).c_str();
}

extern "C" int curator_spm_unknown_id(const curator_spm *model) { return model->processor.unk_id(); }
extern "C" int curator_spm_start_id(const curator_spm *model) { return model->processor.bos_id(); }
extern "C" int curator_spm_end_id(const curator_spm *model) { return model->processor.eos_id(); }
extern "C" int curator_spm_padding_id(const curator_spm *model) { return model->processor.pad_id(); }

extern "C" int curator_spm_is_control(const curator_spm *model, int id) {
    return model->processor.IsControl(id) ? 1 : 0;
}

/// The unigram model's best segmentation of `normalized` (the text after
/// the model's normaliser: the library's pieces put back together), by the
/// library's own lattice-free Viterbi with every score kept in float.
/// libsentencepiece 0.1.97 adds a piece's score to the path's in double and
/// compares that with the float it stored, so between two equally scored
/// segmentations ("££" + "£" against "£" + "££") it takes the later one; the
/// sentencepiece 0.2 wheels transformers runs keep the first. User-defined
/// symbols are scored as ordinary pieces (SigLIP's models have none).
static std::vector<int> viterbi(const curator_spm *model, const std::string &normalized) {
    struct Best { int id = -1; float score = 0; int start = -1; };
    const auto &p = model->processor;
    const int size = static_cast<int>(normalized.size());
    std::vector<Best> best(size + 1);
    int start = 0;
    while (start < size) {
        const unsigned char lead = static_cast<unsigned char>(normalized[start]);
        int length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        length = std::min(length, size - start);
        const float here = best[start].score;
        bool single = false;
        for (int end = start + 1; end <= size && static_cast<size_t>(end - start) <= model->longest; end++) {
            const std::string_view piece(normalized.data() + start, end - start);
            const int id = p.PieceToId(piece);
            if (p.IsUnknown(id) || p.IsControl(id) || p.IsUnused(id)) continue;
            const float candidate = p.GetScore(id) + here;
            Best &target = best[end];
            if (target.start == -1 || candidate > target.score) target = {id, candidate, start};
            if (end - start == length) single = true;
        }
        if (!single) {
            const float candidate = model->unknown_score + here;
            Best &target = best[start + length];
            if (target.start == -1 || candidate > target.score) target = {p.unk_id(), candidate, start};
        }
        start += length;
    }
    std::vector<int> ids;
    for (int end = size; end > 0; end = best[end].start) {
        if (best[end].start < 0) break;
        ids.push_back(best[end].id);
    }
    std::reverse(ids.begin(), ids.end());
    // The library gives a run of unknown characters one id, as it does here.
    std::vector<int> merged;
    for (int id : ids) {
        if (!merged.empty() && id == p.unk_id() && merged.back() == id) continue;
        merged.push_back(id);
    }
    return merged;
}

extern "C" long curator_spm_encode(const curator_spm *model, const char *text, size_t length,
                                   int *ids, size_t capacity, char **error) {
    *error = nullptr;
    std::vector<int> out;
    try {
        std::vector<std::string> pieces;
        auto status = model->unigram ? model->processor.Encode(std::string_view(text, length), &pieces)
                                     : model->processor.Encode(std::string_view(text, length), &out);
        if (model->unigram && status.ok()) {
            std::string normalized;
            for (const auto &piece : pieces) normalized += piece;
            out = viterbi(model, normalized);
        }
        if (!status.ok()) {
            *error = copy_message(status.ToString());
            return -1;
        }
    } catch (const std::exception &e) {
        *error = copy_message(e.what());
        return -1;
    }
    for (size_t i = 0; i < out.size() && i < capacity; i++) ids[i] = out[i];
    return static_cast<long>(out.size());
}
