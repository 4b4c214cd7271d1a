#ifndef CURATOR_VIPS_SHIMS_H
#define CURATOR_VIPS_SHIMS_H

#include <stddef.h>

/// Starts libvips once per process; returns 0 on success.
int curator_vips_init(const char *argv0);

/// Reads an image's header only (no pixel decoding) and reports its size.
/// Returns 0 on success; on failure returns -1 and, when `error` is not NULL,
/// a malloc'd message the caller frees.
int curator_vips_header(const char *path, int *width, int *height, char **error);

// ---- Map pictures (curator_map_*: Sources/CuratorCore/Map/MapPlot.swift) ----

/// Encodes `width`×`height` 8-bit RGBA pixels (row-major, 4 bytes each) as
/// PNG. On success returns 0 and a buffer in `*out` (free it with
/// curator_map_free) of `*length` bytes; on failure -1 and, when `error`
/// is not NULL, a malloc'd message the caller frees.
int curator_map_png_encode(const unsigned char *rgba, int width, int height, int compression,
                           void **out, size_t *length, char **error);

/// Decodes an image file held in memory to 8-bit RGBA pixels (alpha 255
/// when the image has none). Returns 0 and a buffer in `*rgba` (free with
/// curator_map_free), or -1 with an error as above.
int curator_map_decode_rgba(const void *data, size_t length, unsigned char **rgba,
                            int *width, int *height, char **error);

/// Renders `text` (Pango markup-free UTF-8) in `font` (e.g. "sans 13") at
/// `dpi` as an 8-bit coverage mask. Returns 0 and a buffer in `*mask`
/// (free with curator_map_free), or -1 with an error as above.
int curator_map_text_mask(const char *text, const char *font, int dpi,
                          unsigned char **mask, int *width, int *height, char **error);

/// Frees a buffer returned by a curator_map_* function.
void curator_map_free(void *buffer);

#endif
