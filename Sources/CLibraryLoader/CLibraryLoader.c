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
