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

/// A library curator loads on first use, as its messages name it.
struct curator_library {
    /// Its name in messages, e.g. "libchafa".
    const char *name;
    /// The environment variable naming another file, e.g. "CURATOR_LIBCHAFA".
    const char *override_env;
    /// The NULL-ended file names tried (see curator_library_open).
    const char *const *candidates;
    /// How to get it, e.g. "install libchafa (Debian: apt-get install libchafa0, macOS: brew install chafa)".
    const char *install;
    /// Why a function may be missing, e.g. "libchafa 1.8 or later is needed".
    const char *too_old;
};

/// Opens `library` (curator_library_open) and resolves the `count`
/// functions `names[i]` into `*slots[i]` with dlsym, which also searches
/// the library's own dependencies (where GLib's functions live). The one
/// loader libvips and libchafa share.
///
/// Returns the handle, or NULL with `error` (`error_size` bytes) saying why:
/// "NAME (FILE) could not be loaded: REASON; INSTALL or set ENV to its path",
/// or "NAME (FILE) lacks FUNCTION (TOO_OLD)". `*tried` is FILE.
void *curator_library_load(const struct curator_library *library, const char *const *names,
                           void **const *slots, size_t count, const char **tried,
                           char *error, size_t error_size);

/// Declares, for an X-macro list of function names `FUNCTIONS`, the arrays
/// `names` (each name as a string) and `slots` (where each pointer goes,
/// given by the loader's `SLOT(name)` macro, e.g. `(void **)&api.name,`),
/// for curator_library_load, which stores dlsym's `void *` in those
/// function-pointer fields (as POSIX allows).
#define CURATOR_LIBRARY_NAME(name) #name,
#define CURATOR_LIBRARY_FUNCTIONS(FUNCTIONS, SLOT) \
    static const char *const names[] = { FUNCTIONS(CURATOR_LIBRARY_NAME) }; \
    static void **const slots[] = { FUNCTIONS(SLOT) };

#endif
