#include "ChafaAPI.h"
#include "CChafaShims.h"
#include "CLibraryLoader.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct curator_chafa_api curator_chafa_api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];

/// Where libchafa is looked for when $CURATOR_LIBCHAFA does not say.
static const char *const candidates[] = {
#if defined(__APPLE__)
    "libchafa.0.dylib", "/opt/homebrew/lib/libchafa.0.dylib", "/usr/local/lib/libchafa.0.dylib",
#else
    "libchafa.so.0",
#endif
    NULL
};

static void load(void) {
    const char *tried = NULL;
    char reason[256];
    void *handle = curator_library_open("CURATOR_LIBCHAFA", candidates, &tried, reason, sizeof reason);
    if (handle == NULL) {
        snprintf(load_error, sizeof load_error,
                 "libchafa (%s) could not be loaded: %s; install libchafa "
                 "(Debian: apt-get install libchafa0, macOS: brew install chafa) "
                 "or set CURATOR_LIBCHAFA to its path", tried, reason);
        return;
    }
    // dlsym on the library's handle also searches its own dependencies,
    // which is where GLib's functions live.
#define CURATOR_CHAFA_RESOLVE(name) \
    curator_chafa_api.name = (__typeof__(name) *)dlsym(handle, #name); \
    if (curator_chafa_api.name == NULL) { \
        snprintf(load_error, sizeof load_error, \
                 "libchafa (%s) lacks %s (libchafa 1.8 or later is needed)", tried, #name); \
        return; \
    }
    CURATOR_CHAFA_FUNCTIONS(CURATOR_CHAFA_RESOLVE)
#undef CURATOR_CHAFA_RESOLVE
    load_status = 0;
}

int curator_chafa_init(void) {
    pthread_once(&load_once, load);
    return load_status;
}

const char *curator_chafa_load_error(void) {
    return curator_chafa_init() == 0 ? NULL : load_error;
}
