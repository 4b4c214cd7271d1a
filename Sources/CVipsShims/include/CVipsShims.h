#ifndef CURATOR_VIPS_SHIMS_H
#define CURATOR_VIPS_SHIMS_H

#include <stddef.h>

/// Starts libvips once per process; returns 0 on success.
int curator_vips_init(const char *argv0);

/// Reads an image's header only (no pixel decoding) and reports its size.
/// Returns 0 on success; on failure returns -1 and, when `error` is not NULL,
/// a malloc'd message the caller frees.
int curator_vips_header(const char *path, int *width, int *height, char **error);

#endif
