#include "VipsAPI.h"
#include "CVipsShims.h"
#include "CLibraryLoader.h"
#include "OrcGuard.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct curator_vips_api curator_vips_api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];
/// Set once loading succeeded; read by code that must not trigger loading.
static atomic_int loaded;

/// Where libvips is looked for when $CURATOR_LIBVIPS does not say: the
/// dynamic linker's own search first (ld.so.cache, LD_LIBRARY_PATH,
/// DYLD_* on macOS), then Homebrew's prefixes (see curator_library_open).
static const char *const candidates[] = {
#if defined(__APPLE__)
    "libvips.42.dylib", "/opt/homebrew/lib/libvips.42.dylib", "/usr/local/lib/libvips.42.dylib",
#else
    "libvips.so.42",
#endif
    NULL
};

static void ignore_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
    (void)domain; (void)level; (void)message; (void)data;
}

static const struct curator_library library = {
    "libvips", "CURATOR_LIBVIPS", candidates,
    "install libvips 8 (Debian: apt-get install libvips42, macOS: brew install vips)",
    "too old a libvips?",
};

#define CURATOR_VIPS_SLOT(name) (void **)&curator_vips_api.name,
CURATOR_LIBRARY_FUNCTIONS(CURATOR_VIPS_FUNCTIONS, CURATOR_VIPS_SLOT)
#undef CURATOR_VIPS_SLOT

static void load(void) {
    const char *tried = NULL;
    if (curator_library_load(&library, names, slots, sizeof names / sizeof names[0], &tried,
                             load_error, sizeof load_error) == NULL) return;
    if (curator_vips_api.vips_init("curator") != 0) {
        char *message = curator_vips_api.vips_error_buffer_copy();
        snprintf(load_error, sizeof load_error, "libvips (%s) could not start: %s", tried,
                 message != NULL ? message : "no reason given");
        curator_vips_api.g_free(message);
        return;
    }
    // Vector paths off before 8.15 but for JPEG thumbnails: see OrcGuard.h.
    curator_orc_guard_start();
    // libvips reports problems that it survives (bad tiles, odd ICC
    // profiles) as GLib warnings on stderr; a command-line tool indexing
    // thousands of files must not spray them. Real failures reach the
    // caller through return values.
    curator_vips_api.g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO,
                                       ignore_log, NULL);
    load_status = 0;
    atomic_store_explicit(&loaded, 1, memory_order_release);
}

int curator_vips_init(void) {
    pthread_once(&load_once, load);
    return load_status;
}

const char *curator_vips_load_error(void) {
    return curator_vips_init() == 0 ? NULL : load_error;
}

int curator_vips_loaded(void) {
    return atomic_load_explicit(&loaded, memory_order_acquire);
}

char *curator_vips_copy_load_error(void) {
    const char *message = curator_vips_load_error();
    return message != NULL ? strdup(message) : NULL;
}

int curator_vips_vectorised(void) {
    if (curator_vips_init() != 0) return 0;
    // Under the guard the switch is on only inside a JPEG thumbnail's build.
    return !curator_orc_guarding() && curator_vips_api.vips_vector_isenabled() != 0;
}

int curator_vips_jpeg_thumbnails_vectorised(void) {
    if (curator_vips_init() != 0) return 0;
    return curator_orc_vectors_allowed() || curator_vips_vectorised();
}

int curator_vips_version(int flag) {
    if (curator_vips_init() != 0) return 0;
    return curator_vips_api.vips_version(flag);
}
