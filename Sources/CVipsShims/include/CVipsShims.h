#ifndef CURATOR_VIPS_SHIMS_H
#define CURATOR_VIPS_SHIMS_H

#include <stddef.h>

/// Starts libvips once per process; returns 0 on success.
int curator_vips_init(const char *argv0);

/// Reads an image's header only (no pixel decoding) and reports its size.
/// Returns 0 on success; on failure returns -1 and, when `error` is not NULL,
/// a malloc'd message the caller frees.
int curator_vips_header(const char *path, int *width, int *height, char **error);

/* ---- CLIP preprocessing (curator_clip_*): decoding an image into a CLIP model's input ---- */

/// Resampling filters for curator_clip_load_rgb, named for PIL's equivalents.
enum curator_clip_resample {
    CURATOR_CLIP_NEAREST = 0,
    CURATOR_CLIP_LANCZOS = 1,
    CURATOR_CLIP_BILINEAR = 2,
    CURATOR_CLIP_BICUBIC = 3
};

/// Decodes the image at `path` the way CLIP's image processor prepares it and
/// writes `crop_width * crop_height * 3` bytes of 8-bit RGB (row-major, RGB
/// interleaved) to `out`:
/// EXIF orientation applied; CMYK, greyscale and 16-bit images converted to
/// 8-bit sRGB; alpha flattened on white; resized (with `resample`) so the
/// shorter side is `shortest_edge` (long side `int(shortest_edge * long / short)`),
/// or to exactly `resize_width`×`resize_height` when `shortest_edge` is 0;
/// then centre-cropped (zero-padded if smaller) to `crop_width`×`crop_height`.
///
/// When `shrink_margin` > 0, JPEGs are decoded with libjpeg's shrink-on-load
/// (÷2, ÷4 or ÷8) as long as the decoded image stays at least `shrink_margin`
/// times the resize size on both axes; the resize to the exact size is still
/// done with `resample`. 0 decodes at full size.
///
/// Returns 0 on success; on failure -1 and, when `error` is not NULL, a
/// malloc'd message the caller frees.
int curator_clip_load_rgb(const char *path, int shortest_edge, int resize_width, int resize_height,
                          int crop_width, int crop_height, int resample, double shrink_margin,
                          unsigned char *out, char **error);

#endif
