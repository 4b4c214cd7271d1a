#include "ChafaAPI.h"
#include "CChafaShims.h"
#include "CLibraryLoader.h"
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

static const struct curator_library library = {
    "libchafa", "CURATOR_LIBCHAFA", candidates,
    "install libchafa (Debian: apt-get install libchafa0, macOS: brew install chafa)",
    "libchafa 1.8 or later is needed",
};

#define CURATOR_CHAFA_SLOT(name) (void **)&curator_chafa_api.name,
CURATOR_LIBRARY_FUNCTIONS(CURATOR_CHAFA_FUNCTIONS, CURATOR_CHAFA_SLOT)
#undef CURATOR_CHAFA_SLOT

static void load(void) {
    const char *tried = NULL;
    if (curator_library_load(&library, names, slots, sizeof names / sizeof names[0], &tried,
                             load_error, sizeof load_error) == NULL) return;
    load_status = 0;
}

int curator_chafa_init(void) {
    pthread_once(&load_once, load);
    return load_status;
}

const char *curator_chafa_load_error(void) {
    return curator_chafa_init() == 0 ? NULL : load_error;
}
