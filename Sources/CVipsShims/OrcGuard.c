#include "OrcGuard.h"
#include "VipsAPI.h"
#include <pthread.h>
#include <stdatomic.h>

static pthread_rwlock_t guard = PTHREAD_RWLOCK_INITIALIZER;
/// libvips is older than 8.15 and its vector paths were wanted.
static atomic_int guarding;
/// The operation cache keeps nothing (curator's setting unless a
/// measurement asks otherwise).
static atomic_int cache_empty = 1;

void curator_orc_guard_start(void) {
    if (curator_vips_api.vips_version(0) == 8 && curator_vips_api.vips_version(1) < 15 &&
        curator_vips_api.vips_vector_isenabled()) {
        curator_vips_api.vips_vector_set_enabled(0);
        atomic_store(&guarding, 1);
    }
}

int curator_orc_guarding(void) {
    return atomic_load(&guarding);
}

int curator_orc_vectors_allowed(void) {
    return atomic_load(&guarding) && atomic_load(&cache_empty);
}

void curator_orc_plain_build_begin(void) {
    if (atomic_load(&guarding)) pthread_rwlock_rdlock(&guard);
}

void curator_orc_plain_build_end(void) {
    if (atomic_load(&guarding)) pthread_rwlock_unlock(&guard);
}

void curator_orc_vector_begin(void) {
    pthread_rwlock_wrlock(&guard);
    curator_vips_api.vips_vector_set_enabled(1);
}

void curator_orc_vector_end(void) {
    curator_vips_api.vips_vector_set_enabled(0);
    pthread_rwlock_unlock(&guard);
}

void curator_orc_set_cache_max(int operations) {
    pthread_rwlock_wrlock(&guard);
    curator_vips_api.vips_cache_set_max(operations);
    atomic_store(&cache_empty, operations <= 0);
    pthread_rwlock_unlock(&guard);
}
