#ifndef CURATOR_LIBRARY_LOADER_H
#define CURATOR_LIBRARY_LOADER_H

#include <stddef.h>

/// Opens a shared library curator does not link but loads on first use
/// (libvips, libchafa): the file the environment variable `override_env`
/// names when it is set and not empty, else the first of the NULL-ended
/// `candidates` that loads (the dynamic linker's own search first, then
/// fixed paths such as Homebrew's, which macOS does not search). Opened
/// RTLD_NOW | RTLD_LOCAL.
///
/// Returns the handle, or NULL; `*tried` is the file named in messages: the
/// override, the candidate that loaded, or after a failure the first
/// candidate. On failure `reason`
/// (`reason_size` bytes) holds what the dynamic linker said about the
/// override or the first candidate: the later candidates are fallbacks that
/// are usually absent, so their failures say nothing.
void *curator_library_open(const char *override_env, const char *const *candidates,
                           const char **tried, char *reason, size_t reason_size);

#endif
