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

// ---- Map pictures (curator_map_*: Sources/CuratorCore/Map/MapPlot.swift) ----

static int curator_map_fail(char **error) {
    if (error) *error = take_vips_error(); else vips_error_clear();
    return -1;
}

int curator_map_png_encode(const unsigned char *rgba, int width, int height, int compression,
                           void **out, size_t *length, char **error) {
    VipsImage *image = vips_image_new_from_memory(rgba, (size_t)width * (size_t)height * 4,
                                                  width, height, 4, VIPS_FORMAT_UCHAR);
    if (image == NULL) return curator_map_fail(error);
    image->Type = VIPS_INTERPRETATION_sRGB;
    int status = vips_pngsave_buffer(image, out, length, "compression", compression, NULL);
    g_object_unref(image);
    return status == 0 ? 0 : curator_map_fail(error);
}

int curator_map_decode_rgba(const void *data, size_t length, unsigned char **rgba,
                            int *width, int *height, char **error) {
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
    g_free(buffer);
}
