#include "CurlAPI.h"
#include "CCurlShims.h"
#include "CLibraryLoader.h"
#include <pthread.h>
#include <stdio.h>

struct curator_curl_api curator_curl_api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[512];

/// Where libcurl is looked for when $CURATOR_LIBCURL does not say.
static const char *const candidates[] = {
#if defined(__APPLE__)
    "libcurl.4.dylib", "/usr/lib/libcurl.4.dylib", "/opt/homebrew/opt/curl/lib/libcurl.4.dylib",
#else
    "libcurl.so.4",
#endif
    NULL
};

static const struct curator_library library = {
    "libcurl", "CURATOR_LIBCURL", candidates,
    "install libcurl (Debian: apt-get install libcurl4)",
    "libcurl 7.62 or later is needed",
};

#define CURATOR_CURL_SLOT(name) (void **)&curator_curl_api.name,
CURATOR_LIBRARY_FUNCTIONS(CURATOR_CURL_FUNCTIONS, CURATOR_CURL_SLOT)
#undef CURATOR_CURL_SLOT

static void load(void) {
    const char *tried = NULL;
    if (curator_library_load(&library, names, slots, sizeof names / sizeof names[0], &tried,
                             load_error, sizeof load_error) == NULL) return;
    // Not thread-safe in libcurl: here it runs once, under pthread_once.
    int code = curator_curl_api.curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "libcurl (%s) would not start: %s", tried,
                 curator_curl_api.curl_easy_strerror(code));
        return;
    }
    load_status = 0;
}

int curator_curl_init(void) {
    pthread_once(&load_once, load);
    return load_status;
}

const char *curator_curl_load_error(void) {
    return curator_curl_init() == 0 ? NULL : load_error;
}
