#include "CVipsShims.h"
#include <vips/vips.h>
#include <stdlib.h>
#include <string.h>

int curator_vips_init(const char *argv0) {
    return vips_init(argv0 ? argv0 : "curator");
}

/// libvips keeps one error buffer per process; take its text and clear it.
static char *take_vips_error(void) {
    const char *buf = vips_error_buffer();
    char *copy = strdup(buf && *buf ? buf : "unknown libvips error");
    vips_error_clear();
    size_t n = strlen(copy);
    while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == ' ')) copy[--n] = 0;
    return copy;
}

int curator_vips_header(const char *path, int *width, int *height, char **error) {
    VipsImage *image = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (image == NULL) {
        if (error) *error = take_vips_error(); else vips_error_clear();
        return -1;
    }
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    g_object_unref(image);
    return 0;
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
    if (interpretation != VIPS_INTERPRETATION_sRGB || x->BandFmt != VIPS_FORMAT_UCHAR) {
        // Greyscale, 16-bit, CMYK (through an ICC profile), Lab, scRGB...
        if (vips_colourspace(x, &t[0], VIPS_INTERPRETATION_sRGB, NULL) == 0) {
            x = t[0];
        } else {
            // An interpretation libvips cannot convert (e.g. multiband): keep the
            // numbers and treat the first bands as RGB or grey below.
            vips_error_clear();
        }
        if (x->BandFmt != VIPS_FORMAT_UCHAR) {
            if (vips_cast_uchar(x, &t[1], NULL)) return -1;
            x = t[1];
        }
    }
    if (vips_image_hasalpha(x) || x->Bands == 2 || x->Bands == 4) {
        VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
        int status = vips_flatten(x, &t[2], "background", white, "max_alpha", 255.0, NULL);
        vips_area_unref(VIPS_AREA(white));
        if (status) return -1;
        x = t[2];
        if (x->BandFmt != VIPS_FORMAT_UCHAR) {
            if (vips_cast_uchar(x, &t[3], NULL)) return -1;
            x = t[3];
        }
    }
    if (x->Bands == 1) {
        VipsImage *copies[3] = {x, x, x};
        if (vips_bandjoin(copies, &t[4], 3, NULL)) return -1;
        x = t[4];
    } else if (x->Bands > 3) {
        if (vips_extract_band(x, &t[5], 0, "n", 3, NULL)) return -1;
        x = t[5];
    } else if (x->Bands != 3) {
        vips_error("curator", "%d-band image cannot be read as RGB", x->Bands);
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
    double hscale = (double) width / x->Xsize;
    double vscale = (double) height / x->Ysize;
    if (hscale < 1.0 || vscale < 1.0) {
        // Shrink the shrinking axes only; the others stay (scale 1 is exact).
        double hs = hscale < 1.0 ? hscale : 1.0, vs = vscale < 1.0 ? vscale : 1.0;
        if (vips_resize(x, &t[0], hs, "vscale", vs, "kernel", curator_clip_kernel(resample), "gap", 0.0, NULL)) return -1;
        x = t[0];
        hscale = (double) width / x->Xsize;
        vscale = (double) height / x->Ysize;
    }
    if (x->Xsize != width || x->Ysize != height) {
        const char *name = resample == CURATOR_CLIP_NEAREST ? "nearest" : resample == CURATOR_CLIP_BILINEAR ? "bilinear" : "bicubic";
        VipsInterpolate *interpolate = vips_interpolate_new(name);
        if (!interpolate) return -1;
        VipsArrayInt *area = vips_array_int_newv(4, 0, 0, width, height);
        int status = vips_affine(x, &t[1], hscale, 0.0, 0.0, vscale,
                                 "interpolate", interpolate,
                                 "idx", 0.5 - 0.5 / hscale, "idy", 0.5 - 0.5 / vscale,
                                 "oarea", area, "extend", VIPS_EXTEND_COPY, NULL);
        vips_area_unref(VIPS_AREA(area));
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
    VipsObject *context = VIPS_OBJECT(vips_image_new());
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
    if (x->Xsize != stored_width || x->Ysize != stored_height) {
        // Rounding in the resizer: pad or trim the last row/column to the exact size.
        if (vips_embed(x, &t[3], 0, 0, stored_width, stored_height, "extend", VIPS_EXTEND_COPY, NULL)) goto done;
        x = t[3];
    }
    if (!(t[4] = vips_image_copy_memory(x))) goto done;
    if (vips_autorot(t[4], &t[5], NULL)) goto done;
    x = t[5];
    if (vips_embed(x, &t[6], curator_clip_crop_offset(x->Xsize, crop_width), curator_clip_crop_offset(x->Ysize, crop_height),
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
