#ifndef CURATOR_ORC_GUARD_H
#define CURATOR_ORC_GUARD_H

// Before libvips 8.15 its vector paths (reduce, convolution, morphology)
// compile Orc programs when an operation is built and free them with it.
// Orc up to at least 0.4.33 (Debian 12's) splits, merges and frees its
// code-memory chunks outside its own lock, so two threads building or
// freeing such pipelines at once can corrupt the heap: our batch embedders
// and the thumbnail cache build one pipeline per core. CI hit it as
// `malloc_consolidate(): unaligned fastbin chunk detected` in the pixel
// embedder's batch test.
//
// So the loader turns the vector paths off for the whole process, and only
// JPEG thumbnails (the review page's cache and the reports: a quarter less
// CPU with the vector reduce) turn them on again, one build at a time.
// libvips reads the switch when an operation is built, so the guard is a
// reader-writer lock:
// - a vector build holds it exclusively, with the switch on only inside;
//   so does the release of a pipeline built that way, which frees its
//   programs;
// - every other build that could compile Orc (anything that makes a
//   `reducev`: vips_thumbnail, vips_resize) holds it shared, so it never
//   sees the switch on and compiles nothing.
// Nothing else in the shims reaches Orc: their pipelines are released
// freely. libvips 8.15+ vectorises with Highway, which has no such
// allocator; there the switch stays as libvips set it and the guard
// does nothing.

/// Called by the loader right after vips_init: turns the vector paths off
/// before libvips 8.15 when they were on (VIPS_NOVECTOR may have said no).
void curator_orc_guard_start(void);

/// Whether the guard is in force (libvips before 8.15, vectors wanted).
int curator_orc_guarding(void);

/// Whether JPEG thumbnails may be built with the vector paths: libvips
/// before 8.15 with vectors wanted, and an empty operation cache (a cached
/// operation can be freed by whichever thread trims the cache).
int curator_orc_vectors_allowed(void);

/// Brackets a build that must not compile Orc (shared hold).
void curator_orc_plain_build_begin(void);
void curator_orc_plain_build_end(void);

/// Brackets a build with the vector paths on, and the release of what it
/// built (exclusive hold). Only after `curator_orc_vectors_allowed`.
void curator_orc_vector_begin(void);
void curator_orc_vector_end(void);

/// Sets the operation cache's size under the exclusive hold, so that no
/// vector build is in flight while the cache starts or stops keeping
/// operations.
void curator_orc_set_cache_max(int operations);

#endif
