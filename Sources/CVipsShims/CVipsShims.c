#include "CVipsShims.h"
#include "VipsAPI.h"
#include "OrcGuard.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Every call below goes through the pointers VipsLoader.c resolved (see
// VipsAPI.h): each public function first makes sure libvips is loaded.
#define vips_init (curator_vips_api.vips_init)
#define vips_concurrency_set (curator_vips_api.vips_concurrency_set)
#define vips_cache_set_max (curator_vips_api.vips_cache_set_max)
#define vips_thread_shutdown (curator_vips_api.vips_thread_shutdown)
#define vips_error (curator_vips_api.vips_error)
#define vips_error_buffer_copy (curator_vips_api.vips_error_buffer_copy)
#define vips_error_clear (curator_vips_api.vips_error_clear)
#define vips_foreign_find_load (curator_vips_api.vips_foreign_find_load)
#define vips_enum_from_nick (curator_vips_api.vips_enum_from_nick)
#define vips_interpretation_get_type (curator_vips_api.vips_interpretation_get_type)
#define vips_image_new (curator_vips_api.vips_image_new)
#define vips_image_new_from_file (curator_vips_api.vips_image_new_from_file)
#define vips_image_new_from_memory (curator_vips_api.vips_image_new_from_memory)
#define vips_image_new_from_buffer (curator_vips_api.vips_image_new_from_buffer)
#define vips_image_get_width (curator_vips_api.vips_image_get_width)
#define vips_image_get_height (curator_vips_api.vips_image_get_height)
#define vips_image_get_bands (curator_vips_api.vips_image_get_bands)
#define vips_image_get_format (curator_vips_api.vips_image_get_format)
#define vips_image_get_interpretation (curator_vips_api.vips_image_get_interpretation)
#define vips_image_guess_interpretation (curator_vips_api.vips_image_guess_interpretation)
#define vips_image_get_orientation_swap (curator_vips_api.vips_image_get_orientation_swap)
#define vips_image_get_typeof (curator_vips_api.vips_image_get_typeof)
#define vips_image_get_string (curator_vips_api.vips_image_get_string)
#define vips_image_set_int (curator_vips_api.vips_image_set_int)
#define vips_image_hasalpha (curator_vips_api.vips_image_hasalpha)
#define vips_image_write (curator_vips_api.vips_image_write)
#define vips_image_write_to_file (curator_vips_api.vips_image_write_to_file)
#define vips_image_write_to_memory (curator_vips_api.vips_image_write_to_memory)
#define vips_image_copy_memory (curator_vips_api.vips_image_copy_memory)
#define vips_object_local_array (curator_vips_api.vips_object_local_array)
#define vips_area_unref (curator_vips_api.vips_area_unref)
#define vips_array_double_new (curator_vips_api.vips_array_double_new)
#define vips_array_double_newv (curator_vips_api.vips_array_double_newv)
#define vips_array_int_newv (curator_vips_api.vips_array_int_newv)
#define vips_interpolate_new (curator_vips_api.vips_interpolate_new)
#define vips_thumbnail (curator_vips_api.vips_thumbnail)
#define vips_colourspace (curator_vips_api.vips_colourspace)
#define vips_colourspace_issupported (curator_vips_api.vips_colourspace_issupported)
#define vips_cast_uchar (curator_vips_api.vips_cast_uchar)
#define vips_copy (curator_vips_api.vips_copy)
#define vips_extract_band (curator_vips_api.vips_extract_band)
#define vips_flatten (curator_vips_api.vips_flatten)
#define vips_bandjoin (curator_vips_api.vips_bandjoin)
#define vips_bandjoin_const1 (curator_vips_api.vips_bandjoin_const1)
#define vips_resize (curator_vips_api.vips_resize)
#define vips_affine (curator_vips_api.vips_affine)
#define vips_embed (curator_vips_api.vips_embed)
#define vips_autorot (curator_vips_api.vips_autorot)
#define vips_text (curator_vips_api.vips_text)
#define vips_jpegsave_buffer (curator_vips_api.vips_jpegsave_buffer)
#define vips_pngsave_buffer (curator_vips_api.vips_pngsave_buffer)
#define g_object_unref (curator_vips_api.g_object_unref)
#define g_free (curator_vips_api.g_free)
#define g_log_set_handler (curator_vips_api.g_log_set_handler)

/// For the functions that report through `char **error`: -1 with the load
/// error when libvips is unavailable, else 0.
static int unavailable(char **error) {
    if (curator_vips_init() == 0) return 0;
    if (error) *error = curator_vips_copy_load_error();
    return -1;
}

void curator_vips_configure(int concurrency, int cache_operations) {
    if (curator_vips_init() != 0) return;
    vips_concurrency_set(concurrency);
    curator_orc_set_cache_max(cache_operations);
}

void curator_vips_thread_done(void) {
    // A thread that never used libvips has nothing to free; and when libvips
    // was never loaded, this must not be what loads it.
    if (!curator_vips_loaded()) return;
    vips_thread_shutdown();
}

/// libvips keeps one error buffer per process; take its text and clear it in
/// one step (libvips holds its own lock while copying). Two threads failing at
/// the same moment may see each other's lines: the caller's status code, not
/// this text, says what went wrong. Lines are joined with "; "; NULL when
/// libvips left no message.
static char *take_vips_error(void) {
    char *text = vips_error_buffer_copy();
    if (text == NULL) return NULL;
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = 0;
    if (n == 0) { g_free(text); return NULL; }
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) if (text[i] == '\n') lines++;
    char *joined = malloc(n + lines + 1);
    if (joined != NULL) {
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
            if (text[i] == '\n') { joined[j++] = ';'; joined[j++] = ' '; }
            else joined[j++] = text[i];
        }
        joined[j] = 0;
    }
    g_free(text);
    return joined;
}

static void set_error(char **error) {
    if (error) *error = take_vips_error(); else vips_error_clear();
}


/// "VipsForeignLoadJpegFile" -> "jpeg".
static void loader_short_name(const char *loader, char out[32]) {
    const char *prefix = "VipsForeignLoad";
    const char *name = loader;
    if (strncmp(name, prefix, strlen(prefix)) == 0) name += strlen(prefix);
    size_t n = strlen(name);
    const char *suffixes[] = { "File", "Source", NULL };
    for (int i = 0; suffixes[i]; i++) {
        size_t m = strlen(suffixes[i]);
        if (n > m && strcmp(name + n - m, suffixes[i]) == 0) { n -= m; break; }
    }
    if (n > 31) n = 31;
    for (size_t i = 0; i < n; i++) out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    out[n] = 0;
}

/// "jpegload" / "jpegload_source" -> "jpeg".
static void operation_short_name(const char *nickname, char out[32]) {
    size_t n = strcspn(nickname, "_");
    if (n >= 4 && strncmp(nickname + n - 4, "load", 4) == 0) n -= 4;
    if (n > 31) n = 31;
    memcpy(out, nickname, n);
    out[n] = 0;
}

/// Checks the file system before libvips sees the path, so that the common
/// failures get exact reasons rather than a loader's guess.
static curator_thumb_status check_file(const char *path, curator_thumb_info *info) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        info->os_error = errno;
        if (errno == ENOENT || errno == ENOTDIR) return CURATOR_THUMB_NOT_FOUND;
        if (errno == EACCES || errno == EPERM) return CURATOR_THUMB_PERMISSION;
        return CURATOR_THUMB_IO;
    }
    struct stat st;
    curator_thumb_status status = CURATOR_THUMB_OK;
    if (fstat(fd, &st) != 0) {
        info->os_error = errno;
        status = CURATOR_THUMB_IO;
    } else if (!S_ISREG(st.st_mode)) {
        status = CURATOR_THUMB_NOT_REGULAR;
    } else if (st.st_size == 0) {
        status = CURATOR_THUMB_EMPTY;
    }
    close(fd);
    return status;
}

/// Brings a thumbnail to 8-bit sRGB with exactly 3 bands: colour-converts
/// (greyscale, 16-bit, CMYK left over, Lab...), flattens alpha onto white and
/// drops extra bands. Each step replaces *image, dropping the old reference.
/// When `alpha` is not NULL and there is an alpha band, *alpha receives it as
/// a 1-band image (the caller unrefs it); the colour and alpha then come from
/// one copy in memory, so the file is decoded once for both.
static int to_srgb8(VipsImage **image, VipsImage **alpha) {
    VipsImage *in = *image, *out = NULL;
#define STEP(call) do { if (call) return -1; g_object_unref(in); in = out; *image = in; out = NULL; } while (0)
    VipsInterpretation interpretation = vips_image_get_interpretation(in);
    if ((interpretation != VIPS_INTERPRETATION_sRGB || vips_image_get_format(in) != VIPS_FORMAT_UCHAR) &&
        vips_colourspace_issupported(in)) {
        STEP(vips_colourspace(in, &out, VIPS_INTERPRETATION_sRGB, NULL));
    }
    if (vips_image_get_format(in) != VIPS_FORMAT_UCHAR) {
        // Unsupported interpretations (plain multiband data): clip to 0...255.
        STEP(vips_cast_uchar(in, &out, NULL));
    }
    int bands = vips_image_get_bands(in);
    if (bands == 2 || bands >= 4) {
        // Greyscale + alpha, or colour + alpha (and anything wider: the band
        // after the colour ones is taken as alpha).
        int colour = bands == 2 ? 1 : 3;
        if (bands > colour + 1) STEP(vips_extract_band(in, &out, 0, "n", colour + 1, NULL));
        if (alpha != NULL) {
            // At most size x size x 4 bytes; without it the two branches
            // below would each run the decode.
            out = vips_image_copy_memory(in);
            STEP(out == NULL);
            if (vips_extract_band(in, alpha, colour, NULL)) return -1;
        }
        double white[3] = { 255, 255, 255 };
        VipsArrayDouble *background = vips_array_double_new(white, colour);
        int failed = vips_flatten(in, &out, "background", background, "max_alpha", 255.0, NULL);
        vips_area_unref((VipsArea *)background);
        STEP(failed);
        bands = colour;
    }
    if (bands == 1) {
        VipsImage *three[3] = { in, in, in };
        STEP(vips_bandjoin(three, &out, 3, NULL));
    }
#undef STEP
    return 0;
}

/// Evaluates `image` straight into the caller's `buffer` (wrapped as a
/// libvips memory image of `bands` 8-bit bands): libvips' sink reuses its
/// tile buffers across the image, where preparing regions by hand made it
/// allocate and clear fresh ones (measured: 6% of the time in memset,
/// against 1.5-2% this way).
static int render_into(VipsImage *image, unsigned char *buffer, size_t buffer_size, int bands) {
    VipsImage *target = vips_image_new_from_memory(buffer, buffer_size, vips_image_get_width(image),
                                                   vips_image_get_height(image), bands, VIPS_FORMAT_UCHAR);
    if (target == NULL) return -1;
    int status = vips_image_write(image, target);
    g_object_unref(target);
    return status;
}

curator_thumb_status curator_vips_probe(const char *path, int64_t max_pixels,
                                        curator_thumb_info *info, char **error) {
    memset(info, 0, sizeof *info);
    if (error) *error = NULL;
    if (unavailable(error)) return CURATOR_THUMB_UNAVAILABLE;
    curator_thumb_status status = check_file(path, info);
    if (status != CURATOR_THUMB_OK) return status;

    // The header alone: the size check happens before any pixel is decoded.
    // Which loader failed is only worth asking for on the error path.
    VipsImage *header = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (header == NULL) {
        const char *loader = vips_foreign_find_load(path);
        if (loader == NULL) {
            vips_error_clear();  // "not a known file format": the status says it
            return CURATOR_THUMB_UNKNOWN_FORMAT;
        }
        loader_short_name(loader, info->format);
        set_error(error);
        return CURATOR_THUMB_HEADER_FAILED;
    }
    const char *nickname = NULL;
    if (vips_image_get_typeof(header, VIPS_META_LOADER) && vips_image_get_string(header, VIPS_META_LOADER, &nickname) == 0) {
        operation_short_name(nickname, info->format);
    }
    info->source_width = vips_image_get_width(header);
    info->source_height = vips_image_get_height(header);
    g_object_unref(header);
    if (max_pixels > 0 && (int64_t)info->source_width * (int64_t)info->source_height > max_pixels) {
        return CURATOR_THUMB_TOO_LARGE;
    }
    return CURATOR_THUMB_OK;
}

/// Checks the file (`curator_vips_probe`) and builds the pipeline of its
/// thumbnail in 8-bit sRGB; nothing is decoded yet (libvips evaluates lazily).
/// `buffer_size` is the caller's pixel buffer (SIZE_MAX when the pixels go
/// elsewhere); a size it cannot hold is refused first. With `alpha`, an image
/// that has an alpha band also gives its opacity there (see `to_srgb8`).
/// With `vector`, the pipeline is built on libvips' vector paths, and the
/// caller releases it between `curator_orc_vector_begin` and `_end`
/// (OrcGuard.h); without, nothing in it compiles Orc code. `vector` goes
/// without `alpha` only: the alpha branch copies the pixels to memory and
/// releases the pipeline inside `to_srgb8`, outside the guard.
static curator_thumb_status thumbnail_pipeline(const char *path, int size, int64_t max_pixels, size_t buffer_size,
                                               int vector, VipsImage **image, VipsImage **alpha,
                                               curator_thumb_info *info, char **error) {
    *image = NULL;
    if (alpha != NULL) *alpha = NULL;
    if (size < 1 || (size_t)size * (size_t)size * 3 > buffer_size) {
        memset(info, 0, sizeof *info);
        if (error) *error = NULL;
        return CURATOR_THUMB_BUFFER;
    }
    curator_thumb_status status = curator_vips_probe(path, max_pixels, info, error);
    if (status != CURATOR_THUMB_OK) return status;
    if (vector) curator_orc_vector_begin(); else curator_orc_plain_build_begin();
    int failed = vips_thumbnail(path, image, size, "height", size, "size", VIPS_SIZE_DOWN,
                                "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    if (vector) curator_orc_vector_end(); else curator_orc_plain_build_end();
    if (failed) {
        set_error(error);
        return CURATOR_THUMB_DECODE_FAILED;
    }
    // The conversions build no reduce; only a failure's release needs the hold.
    if (to_srgb8(image, alpha) != 0) {
        set_error(error);
        if (vector) curator_orc_vector_begin();
        g_object_unref(*image);
        *image = NULL;
        if (alpha != NULL && *alpha != NULL) {
            g_object_unref(*alpha);
            *alpha = NULL;
        }
        if (vector) curator_orc_vector_end();
        return CURATOR_THUMB_DECODE_FAILED;
    }
    return CURATOR_THUMB_OK;
}

curator_thumb_status curator_vips_thumbnail_jpeg(const char *path, int size, int64_t max_pixels, int quality,
                                                 unsigned char **out, size_t *length,
                                                 curator_thumb_info *info, char **error) {
    *out = NULL;
    *length = 0;
    VipsImage *image = NULL;
    // Only this path runs vectorised: its pipeline ends here, in the save.
    int vector = curator_orc_vectors_allowed();
    curator_thumb_status status = thumbnail_pipeline(path, size, max_pixels, SIZE_MAX, vector, &image, NULL,
                                                     info, error);
    if (status != CURATOR_THUMB_OK) return status;
    void *buffer = NULL;
    size_t bytes = 0;
    // Decoding happens here: a truncated or corrupt file fails the save.
    // The save's worker threads have dropped their references when it
    // returns, so the release below is the pipeline's last.
    int failed = vips_jpegsave_buffer(image, &buffer, &bytes, "Q", quality, "strip", 1, NULL);
    if (failed) {
        set_error(error);
    } else {
        info->width = vips_image_get_width(image);
        info->height = vips_image_get_height(image);
    }
    if (vector) curator_orc_vector_begin();
    g_object_unref(image);
    if (vector) curator_orc_vector_end();
    if (failed) return CURATOR_THUMB_DECODE_FAILED;
    *out = buffer;
    *length = bytes;
    return CURATOR_THUMB_OK;
}

curator_thumb_status curator_vips_thumbnail(const char *path, int size, int64_t max_pixels,
                                            unsigned char *buffer, size_t buffer_size,
                                            unsigned char *alpha,
                                            curator_thumb_info *info, char **error) {
    VipsImage *image = NULL, *opacity = NULL;
    curator_thumb_status status = thumbnail_pipeline(path, size, max_pixels, buffer_size, 0, &image,
                                                     alpha != NULL ? &opacity : NULL, info, error);
    if (status != CURATOR_THUMB_OK) return status;
    int width = vips_image_get_width(image), height = vips_image_get_height(image);
    if (width > size || height > size) {
        // Never expected (thumbnail fits within size x size); refuse rather than overrun.
        status = CURATOR_THUMB_BUFFER;
        goto done;
    }
    if (render_into(image, buffer, (size_t)width * height * 3, 3) != 0 ||
        (opacity != NULL && render_into(opacity, alpha, (size_t)width * height, 1) != 0)) {
        set_error(error);
        status = CURATOR_THUMB_DECODE_FAILED;
        goto done;
    }
    info->width = width;
    info->height = height;
    info->has_alpha = opacity != NULL;
done:
    if (opacity != NULL) g_object_unref(opacity);
    g_object_unref(image);
    return status;
}

/// Wraps the caller's pixels (not copied) as an image of `interpretation`
/// (-1: the one libvips picks for the band count and format). The
/// interpretation is set through vips_copy, the API's way, since the shims
/// do not see VipsImage's fields (VipsAPI.h). NULL on failure.
static VipsImage *wrap_pixels(const void *pixels, size_t size, int width, int height, int bands,
                              VipsBandFormat format, VipsInterpretation interpretation) {
    VipsImage *memory = vips_image_new_from_memory(pixels, size, width, height, bands, format);
    if (memory == NULL || interpretation < 0) return memory;
    VipsImage *image = NULL;
    int status = vips_copy(memory, &image, "interpretation", interpretation, NULL);
    g_object_unref(memory);  // the copy holds its own reference
    return status == 0 ? image : NULL;
}

static int save_image(VipsImage *image, const char *path, char **error) {
    if (vips_image_write_to_file(image, path, NULL)) {
        set_error(error);
        return -1;
    }
    return 0;
}

int curator_vips_save_u8(const char *path, const unsigned char *pixels, int width, int height,
                         int bands, const char *interpretation, int orientation, char **error) {
    if (error) *error = NULL;
    if (unavailable(error)) return -1;
    int value = -1;
    if (interpretation != NULL) {
        value = vips_enum_from_nick("curator", vips_interpretation_get_type(), interpretation);
        if (value < 0) { set_error(error); return -1; }
    }
    VipsImage *image = wrap_pixels(pixels, (size_t)width * height * bands, width, height, bands,
                                   VIPS_FORMAT_UCHAR, value);
    if (image == NULL) { set_error(error); return -1; }
    if (orientation > 0) vips_image_set_int(image, VIPS_META_ORIENTATION, orientation);
    int status = save_image(image, path, error);
    g_object_unref(image);
    return status;
}

void curator_vips_free(void *buffer) {
    // Buffers come from libvips, so it is loaded whenever one is not NULL.
    if (buffer != NULL) g_free(buffer);
}

int curator_vips_save_u16(const char *path, const uint16_t *pixels, int width, int height,
                          int bands, char **error) {
    if (error) *error = NULL;
    if (unavailable(error)) return -1;
    VipsImage *image = wrap_pixels(pixels, (size_t)width * height * bands * 2, width, height, bands, VIPS_FORMAT_USHORT,
                                   bands >= 3 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_GREY16);
    if (image == NULL) { set_error(error); return -1; }
    int status = save_image(image, path, error);
    g_object_unref(image);
    return status;
}

/* ---- CLIP preprocessing (curator_clip_*) ---- */

static VipsKernel curator_clip_kernel(int resample) {
    switch (resample) {
    case CURATOR_CLIP_NEAREST: return VIPS_KERNEL_NEAREST;
    case CURATOR_CLIP_LANCZOS: return VIPS_KERNEL_LANCZOS3;
    case CURATOR_CLIP_BILINEAR: return VIPS_KERNEL_LINEAR;
    default: return VIPS_KERNEL_CUBIC;
    }
}

/// Converts `in` to 8-bit sRGB with exactly three bands, alpha flattened on
/// white, in the steps PIL's convert("RGBA") + alpha_composite + convert("RGB")
/// take for CLIP's image processor. Images are created in `context`.
static int curator_clip_to_rgb8(VipsObject *context, VipsImage *in, VipsImage **out) {
    VipsImage **t = (VipsImage **) vips_object_local_array(context, 6);
    VipsImage *x = in;
    VipsInterpretation interpretation = vips_image_guess_interpretation(x);
    if (interpretation != VIPS_INTERPRETATION_sRGB || vips_image_get_format(x) != VIPS_FORMAT_UCHAR) {
        // Greyscale, 16-bit, CMYK (through an ICC profile), Lab, scRGB...
        if (vips_colourspace(x, &t[0], VIPS_INTERPRETATION_sRGB, NULL) == 0) {
            x = t[0];
        } else {
            // An interpretation libvips cannot convert (e.g. multiband): keep the
            // numbers and treat the first bands as RGB or grey below.
            vips_error_clear();
        }
        if (vips_image_get_format(x) != VIPS_FORMAT_UCHAR) {
            if (vips_cast_uchar(x, &t[1], NULL)) return -1;
            x = t[1];
        }
    }
    if (vips_image_hasalpha(x) || vips_image_get_bands(x) == 2 || vips_image_get_bands(x) == 4) {
        VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
        int status = vips_flatten(x, &t[2], "background", white, "max_alpha", 255.0, NULL);
        vips_area_unref((VipsArea *)white);
        if (status) return -1;
        x = t[2];
        if (vips_image_get_format(x) != VIPS_FORMAT_UCHAR) {
            if (vips_cast_uchar(x, &t[3], NULL)) return -1;
            x = t[3];
        }
    }
    if (vips_image_get_bands(x) == 1) {
        VipsImage *copies[3] = {x, x, x};
        if (vips_bandjoin(copies, &t[4], 3, NULL)) return -1;
        x = t[4];
    } else if (vips_image_get_bands(x) > 3) {
        if (vips_extract_band(x, &t[5], 0, "n", 3, NULL)) return -1;
        x = t[5];
    } else if (vips_image_get_bands(x) != 3) {
        vips_error("curator", "%d-band image cannot be read as RGB", vips_image_get_bands(x));
        return -1;
    }
    *out = x;
    return 0;
}

/// Resizes `in` to exactly `width`×`height` the way PIL's Image.resize does:
/// pixel centres aligned ((x + 0.5) / scale - 0.5), and on axes that shrink, the
/// filter widened by the shrink factor (antialiasing) with no box pre-shrink
/// ("gap" 0, PIL's reducing_gap=None). Axes that grow use vips_affine with the
/// matching interpolator, whose offsets are set for the same centre alignment
/// (vips_resize's own upsizing samples half a pixel off from PIL).
static int curator_clip_resize(VipsObject *context, VipsImage *in, VipsImage **out, int width, int height, int resample) {
    VipsImage **t = (VipsImage **) vips_object_local_array(context, 3);
    VipsImage *x = in;
    double hscale = (double) width / vips_image_get_width(x);
    double vscale = (double) height / vips_image_get_height(x);
    if (hscale < 1.0 || vscale < 1.0) {
        // Shrink the shrinking axes only; the others stay (scale 1 is exact).
        double hs = hscale < 1.0 ? hscale : 1.0, vs = vscale < 1.0 ? vscale : 1.0;
        curator_orc_plain_build_begin();
        int failed = vips_resize(x, &t[0], hs, "vscale", vs, "kernel", curator_clip_kernel(resample), "gap", 0.0, NULL);
        curator_orc_plain_build_end();
        if (failed) return -1;
        x = t[0];
        hscale = (double) width / vips_image_get_width(x);
        vscale = (double) height / vips_image_get_height(x);
    }
    if (vips_image_get_width(x) != width || vips_image_get_height(x) != height) {
        const char *name = resample == CURATOR_CLIP_NEAREST ? "nearest" : resample == CURATOR_CLIP_BILINEAR ? "bilinear" : "bicubic";
        VipsInterpolate *interpolate = vips_interpolate_new(name);
        if (!interpolate) return -1;
        VipsArrayInt *area = vips_array_int_newv(4, 0, 0, width, height);
        int status = vips_affine(x, &t[1], hscale, 0.0, 0.0, vscale,
                                 "interpolate", interpolate,
                                 "idx", 0.5 - 0.5 / hscale, "idy", 0.5 - 0.5 / vscale,
                                 "oarea", area, "extend", VIPS_EXTEND_COPY, NULL);
        vips_area_unref((VipsArea *)area);
        g_object_unref(interpolate);
        if (status) return -1;
        x = t[1];
    }
    *out = x;
    return 0;
}

/// transformers' center_crop offset on one axis: where the first pixel of the
/// image lands in the crop (negative: cropped; positive: padded with zeros).
static int curator_clip_crop_offset(int size, int crop) {
    return size >= crop ? -((size - crop) / 2) : (crop - size + 1) / 2;
}

int curator_clip_load_rgb(const char *path, int shortest_edge, int resize_width, int resize_height,
                          int crop_width, int crop_height, int resample, double shrink_margin,
                          unsigned char *out, char **error) {
    if (error) *error = NULL;
    if (unavailable(error)) return -1;
    VipsObject *context = (VipsObject *)vips_image_new();
    VipsImage **t = (VipsImage **) vips_object_local_array(context, 10);
    int status = -1;

    // Truncated files fail (as PIL refuses them) rather than embed grey filler.
    if (!(t[0] = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL))) goto done;
    int width = vips_image_get_width(t[0]);
    int height = vips_image_get_height(t[0]);
    int swap = vips_image_get_orientation_swap(t[0]);
    int oriented_width = swap ? height : width;
    int oriented_height = swap ? width : height;

    // The resize size in the upright frame, as transformers computes it.
    int target_width = resize_width, target_height = resize_height;
    if (shortest_edge > 0) {
        long long shorter = oriented_width <= oriented_height ? oriented_width : oriented_height;
        long long longer = oriented_width <= oriented_height ? oriented_height : oriented_width;
        int new_long = (int) ((double) ((long long) shortest_edge * longer) / (double) shorter);
        if (new_long < 1) new_long = 1;
        if (oriented_width <= oriented_height) { target_width = shortest_edge; target_height = new_long; }
        else { target_width = new_long; target_height = shortest_edge; }
    }
    // Resizing happens before the rotation (on the stored frame), so the
    // decoder can stream; only the small resized image is rotated.
    int stored_width = swap ? target_height : target_width;
    int stored_height = swap ? target_width : target_height;

    VipsImage *x = t[0];
    const char *loader = NULL;
    if (vips_image_get_typeof(t[0], "vips-loader")) vips_image_get_string(t[0], "vips-loader", &loader);
    if (shrink_margin > 0 && loader && strncmp(loader, "jpegload", 8) == 0) {
        int shrink = 1;
        for (int s = 8; s > 1; s /= 2) {
            if ((double) ((width + s - 1) / s) >= shrink_margin * stored_width &&
                (double) ((height + s - 1) / s) >= shrink_margin * stored_height) { shrink = s; break; }
        }
        if (shrink > 1) {
            if (!(t[1] = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED,
                                                  "shrink", shrink, NULL))) goto done;
            x = t[1];
        }
    }

    VipsImage *rgb;
    if (curator_clip_to_rgb8(context, x, &rgb)) goto done;
    if (curator_clip_resize(context, rgb, &x, stored_width, stored_height, resample)) goto done;
    if (vips_image_get_width(x) != stored_width || vips_image_get_height(x) != stored_height) {
        // Rounding in the resizer: pad or trim the last row/column to the exact size.
        if (vips_embed(x, &t[3], 0, 0, stored_width, stored_height, "extend", VIPS_EXTEND_COPY, NULL)) goto done;
        x = t[3];
    }
    if (!(t[4] = vips_image_copy_memory(x))) goto done;
    if (vips_autorot(t[4], &t[5], NULL)) goto done;
    x = t[5];
    if (vips_embed(x, &t[6], curator_clip_crop_offset(vips_image_get_width(x), crop_width), curator_clip_crop_offset(vips_image_get_height(x), crop_height),
                   crop_width, crop_height, "extend", VIPS_EXTEND_BLACK, NULL)) goto done;
    size_t size = 0;
    void *pixels = vips_image_write_to_memory(t[6], &size);
    if (!pixels) goto done;
    if (size != (size_t) crop_width * crop_height * 3) {
        g_free(pixels);
        vips_error("curator", "unexpected output size %zu", size);
        goto done;
    }
    memcpy(out, pixels, size);
    g_free(pixels);
    status = 0;

done:
    if (status != 0) {
        if (error) *error = take_vips_error(); else vips_error_clear();
    }
    g_object_unref(context);
    return status;
}

// ---- Map pictures (curator_map_*: Sources/CuratorCore/Map/MapPlot.swift) ----

static int curator_map_fail(char **error) {
    if (error) *error = take_vips_error(); else vips_error_clear();
    return -1;
}

int curator_map_png_encode(const unsigned char *rgba, int width, int height, int compression,
                           void **out, size_t *length, char **error) {
    if (unavailable(error)) return -1;
    VipsImage *image = wrap_pixels(rgba, (size_t)width * (size_t)height * 4, width, height, 4,
                                   VIPS_FORMAT_UCHAR, VIPS_INTERPRETATION_sRGB);
    if (image == NULL) return curator_map_fail(error);
    int status = vips_pngsave_buffer(image, out, length, "compression", compression, NULL);
    g_object_unref(image);
    return status == 0 ? 0 : curator_map_fail(error);
}

int curator_map_decode_rgba(const void *data, size_t length, unsigned char **rgba,
                            int *width, int *height, char **error) {
    if (unavailable(error)) return -1;
    VipsImage *image = vips_image_new_from_buffer(data, length, "", NULL);
    if (image == NULL) return curator_map_fail(error);
    VipsImage *srgb = NULL;
    if (vips_colourspace(image, &srgb, VIPS_INTERPRETATION_sRGB, NULL) != 0) {
        g_object_unref(image);
        return curator_map_fail(error);
    }
    g_object_unref(image);
    VipsImage *four = NULL;
    int status = vips_image_get_bands(srgb) >= 4
        ? vips_extract_band(srgb, &four, 0, "n", 4, NULL)
        : vips_bandjoin_const1(srgb, &four, 255, NULL);
    g_object_unref(srgb);
    if (status != 0) return curator_map_fail(error);
    VipsImage *bytes = NULL;
    status = vips_cast_uchar(four, &bytes, NULL);
    g_object_unref(four);
    if (status != 0) return curator_map_fail(error);
    size_t size = 0;
    void *memory = vips_image_write_to_memory(bytes, &size);
    *width = vips_image_get_width(bytes);
    *height = vips_image_get_height(bytes);
    g_object_unref(bytes);
    if (memory == NULL) return curator_map_fail(error);
    *rgba = memory;
    return 0;
}

int curator_map_text_mask(const char *text, const char *font, int dpi,
                          unsigned char **mask, int *width, int *height, char **error) {
    if (unavailable(error)) return -1;
    VipsImage *image = NULL;
    if (vips_text(&image, text, "font", font, "dpi", dpi, NULL) != 0) return curator_map_fail(error);
    size_t size = 0;
    void *memory = vips_image_write_to_memory(image, &size);
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    g_object_unref(image);
    if (memory == NULL) return curator_map_fail(error);
    *mask = memory;
    return 0;
}

void curator_map_free(void *buffer) {
    if (buffer != NULL) g_free(buffer);
}
