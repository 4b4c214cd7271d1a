#ifndef CURATOR_VIPS_SHIMS_H
#define CURATOR_VIPS_SHIMS_H

#include <stddef.h>
#include <stdint.h>

/// Loads libvips and starts it, once per process (safe from several
/// threads). libvips is not linked into curator but opened with dlopen here
/// (libvips.so.42, libvips.42.dylib on macOS, or the file $CURATOR_LIBVIPS
/// names), so that programs which never touch an image do not pay for
/// loading it. Also silences libvips' warnings on stderr (failures are
/// reported through return values). Returns 0, or -1 when libvips cannot be
/// loaded or started; `curator_vips_load_error` then says why.
///
/// Every other function here starts libvips itself when needed and fails
/// (with that same message) when it cannot.
int curator_vips_init(void);

/// Why libvips is unavailable, naming the library and what the dynamic
/// linker said (a static string), or NULL when it runs. Loads it first if
/// nothing did yet.
const char *curator_vips_load_error(void);

/// Tunes libvips for callers that parallelise across images themselves:
/// `concurrency` worker threads per pipeline (1 = evaluate in the calling
/// thread's own pipeline only) and at most `cache_operations` cached
/// operations (0 disables the operation cache, which otherwise keeps recently
/// opened files and their decoded tiles alive).
void curator_vips_configure(int concurrency, int cache_operations);

/// Whether libvips runs its vectorised (Orc or Highway) paths: off before
/// libvips 8.15, whose Orc code allocator is not thread-safe (OrcGuard.h).
int curator_vips_vectorised(void);

/// Whether `curator_vips_thumbnail_jpeg` runs on the vector paths: always
/// where the others do, and before libvips 8.15 too, one build at a time
/// (OrcGuard.h), unless VIPS_NOVECTOR or a non-empty operation cache says no.
int curator_vips_jpeg_thumbnails_vectorised(void);

/// libvips' major (`flag` 0), minor (1) or micro (2) version; 0 when it
/// cannot be loaded.
int curator_vips_version(int flag);

/// Frees libvips' per-thread buffers; call from a thread that used libvips
/// before it exits.
void curator_vips_thread_done(void);


/// Why `curator_vips_thumbnail` failed (0 is success).
typedef enum {
    CURATOR_THUMB_OK = 0,
    CURATOR_THUMB_NOT_FOUND = 1,        ///< no such file (or a dangling symlink)
    CURATOR_THUMB_PERMISSION = 2,       ///< open(2) said EACCES/EPERM
    CURATOR_THUMB_NOT_REGULAR = 3,      ///< a directory, device, fifo, socket
    CURATOR_THUMB_EMPTY = 4,            ///< zero bytes
    CURATOR_THUMB_UNKNOWN_FORMAT = 5,   ///< no libvips loader recognises the bytes
    CURATOR_THUMB_TOO_LARGE = 6,        ///< header's width x height exceeds the limit
    CURATOR_THUMB_HEADER_FAILED = 7,    ///< a loader claimed the file but its header is unreadable
    CURATOR_THUMB_DECODE_FAILED = 8,    ///< pixels truncated or corrupt
    CURATOR_THUMB_IO = 9,               ///< another open/stat error, e.g. ELOOP (see `os_error`)
    CURATOR_THUMB_BUFFER = 10,          ///< the caller's buffer is smaller than size*size*3
    CURATOR_THUMB_UNAVAILABLE = 11,     ///< libvips cannot be loaded (see `curator_vips_load_error`)
} curator_thumb_status;

/// What `curator_vips_thumbnail` reports besides the pixels.
typedef struct {
    int width, height;                 ///< the thumbnail's size (<= size on both sides)
    int source_width, source_height;   ///< the file's size as its header states it (before EXIF rotation)
    int os_error;                      ///< errno for NOT_FOUND/PERMISSION/IO, else 0
    char format[32];                   ///< the loader's short name ("jpeg", "png", ...), "" if none
    int has_alpha;                     ///< 1 when the image had an alpha band and `alpha` received it
} curator_thumb_info;

/// Checks the file at `path` without decoding pixels: that it opens, is a
/// non-empty regular file, that a libvips loader recognises it, that its
/// header reads, and that its width*height is within `max_pixels` (0: no
/// limit). Fills `info` (source size, format; no thumbnail size). Returns a
/// status as `curator_vips_thumbnail` does.
curator_thumb_status curator_vips_probe(const char *path, int64_t max_pixels,
                                        curator_thumb_info *info, char **error);

/// Decodes the image at `path` into an 8-bit sRGB, 3-band thumbnail that fits
/// within size x size (aspect kept, never enlarged), using shrink-on-load,
/// EXIF auto-rotation, alpha flattened on white, and CMYK / greyscale /
/// 16-bit / float input converted to 8-bit sRGB. Pixels go row after row,
/// RGBRGB..., into `buffer` (at least size*size*3 bytes).
///
/// When `alpha` is not NULL (at least size*size bytes) and the image has an
/// alpha band, its opacity (0 transparent ... 255 opaque) goes there, one byte
/// a pixel in the same order, and `info->has_alpha` is 1: the statistics
/// weigh pixels by it, so a transparent background counts as nothing rather
/// than as the white it is flattened on.
///
/// Before decoding, the header's width*height is checked against
/// `max_pixels` (0 means no limit), so absurd images are refused without
/// decoding. Truncated or corrupt files fail rather than returning partly
/// grey pixels. Safe to call from several threads at once.
///
/// Returns CURATOR_THUMB_OK, or another status with, when `error` is not
/// NULL, a malloc'd libvips message the caller frees (may be NULL).
curator_thumb_status curator_vips_thumbnail(const char *path, int size, int64_t max_pixels,
                                            unsigned char *buffer, size_t buffer_size,
                                            unsigned char *alpha,
                                            curator_thumb_info *info, char **error);

/// The thumbnail of the image at `path` as a JPEG of `quality` (1-100), made
/// as `curator_vips_thumbnail` makes its pixels (same checks, shrink-on-load,
/// rotation, sRGB) and encoded from libvips' pipeline straight into a
/// g_malloc'd buffer the caller frees with `curator_vips_free` — no copy of
/// the pixels in between. Metadata is not kept. Fills `info` (with the
/// thumbnail's size) and returns a status as `curator_vips_thumbnail` does.
curator_thumb_status curator_vips_thumbnail_jpeg(const char *path, int size, int64_t max_pixels, int quality,
                                                 unsigned char **out, size_t *length,
                                                 curator_thumb_info *info, char **error);

/// Writes an 8-bit image given as `bands`-interleaved pixels to `path`, in the
/// format its suffix names (libvips options may follow in brackets, e.g.
/// "x.jpg[Q=90]"). `interpretation` is "srgb", "b-w", "cmyk" or NULL (guess);
/// `orientation` 1...8 is stored as the EXIF orientation tag (0: none).
/// For tests and benchmarks. Returns 0, or -1 with a malloc'd message.
int curator_vips_save_u8(const char *path, const unsigned char *pixels, int width, int height,
                         int bands, const char *interpretation, int orientation, char **error);

/// Frees a buffer libvips allocated.
void curator_vips_free(void *buffer);

/// As `curator_vips_save_u8`, for 16-bit samples (e.g. a 16-bit PNG).
int curator_vips_save_u16(const char *path, const uint16_t *pixels, int width, int height,
                          int bands, char **error);

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
