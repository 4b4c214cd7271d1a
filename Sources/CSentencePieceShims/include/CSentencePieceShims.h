#ifndef CURATOR_SENTENCEPIECE_SHIMS_H
#define CURATOR_SENTENCEPIECE_SHIMS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A loaded SentencePiece model (libsentencepiece's SentencePieceProcessor).
/// Encoding is read-only, so one model may be used from several threads.
typedef struct curator_spm curator_spm;

/// Loads the serialized model proto `bytes` (a `tokenizer.model` or
/// `spiece.model` file's contents). Returns NULL on failure, with `*error`
/// set to libsentencepiece's message (free it with `free`).
curator_spm *curator_spm_load(const void *bytes, size_t length, char **error);

/// Frees a model.
void curator_spm_free(curator_spm *model);

/// The number of pieces (ids 0 ..< count).
int curator_spm_piece_count(const curator_spm *model);

/// The id of `piece` (UTF-8, `length` bytes), or the unknown id when the
/// vocabulary lacks it.
int curator_spm_piece_id(const curator_spm *model, const char *piece, size_t length);

/// The UTF-8 text of piece `id` (valid as long as the model).
const char *curator_spm_piece(const curator_spm *model, int id);

/// The unknown, start, end and padding ids; -1 when the model has none.
int curator_spm_unknown_id(const curator_spm *model);
int curator_spm_start_id(const curator_spm *model);
int curator_spm_end_id(const curator_spm *model);
int curator_spm_padding_id(const curator_spm *model);

/// Whether `id` is a control piece (such as <s>, </s>, <pad>), never produced by encoding.
int curator_spm_is_control(const curator_spm *model, int id);

/// Encodes UTF-8 `text` into piece ids (no start or end ids added). Writes
/// up to `capacity` ids to `ids` and returns how many the text has (call
/// again with a larger buffer when that is more), or -1 with `*error` set.
long curator_spm_encode(const curator_spm *model, const char *text, size_t length,
                        int *ids, size_t capacity, char **error);

#ifdef __cplusplus
}
#endif

#endif
