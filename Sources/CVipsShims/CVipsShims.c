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
