#include "CLibraryLoader.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void *curator_library_open(const char *override_env, const char *const *candidates,
                           const char **tried, char *reason, size_t reason_size) {
    const char *override = getenv(override_env);
    void *handle = NULL;
    if (reason_size > 0) reason[0] = 0;
    if (override != NULL && override[0] != 0) {
        *tried = override;
        handle = dlopen(override, RTLD_NOW | RTLD_LOCAL);
        if (handle == NULL) snprintf(reason, reason_size, "%s", dlerror());
        return handle;
    }
    *tried = candidates[0];
    for (int i = 0; candidates[i] != NULL; i++) {
        handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (handle != NULL) {
            *tried = candidates[i];
            return handle;
        }
        if (i == 0) snprintf(reason, reason_size, "%s", dlerror());
    }
    return NULL;
}

void *curator_library_load(const struct curator_library *library, const char *const *names,
                           void **const *slots, size_t count, const char **tried,
                           char *error, size_t error_size) {
    char reason[256];
    void *handle = curator_library_open(library->override_env, library->candidates, tried, reason, sizeof reason);
    if (handle == NULL) {
        snprintf(error, error_size, "%s (%s) could not be loaded: %s; %s or set %s to its path",
                 library->name, *tried, reason, library->install, library->override_env);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        *slots[i] = dlsym(handle, names[i]);
        if (*slots[i] == NULL) {
            snprintf(error, error_size, "%s (%s) lacks %s (%s)", library->name, *tried, names[i], library->too_old);
            return NULL;
        }
    }
    return handle;
}
