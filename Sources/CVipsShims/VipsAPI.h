#ifndef CURATOR_VIPS_API_H
#define CURATOR_VIPS_API_H

// libvips is not linked into curator: loading it and its ~90 dependent
// libraries at process start was most of curator's start-up time, even for
// scripts that never touch an image. The shims reach libvips through the
// function pointers below, which VipsLoader.c resolves with dlopen/dlsym the
// first time an image is probed, decoded or encoded.
//
// This file declares the part of libvips' API the shims use instead of
// including <vips/vips.h>: a target that includes those headers gets them
// through the CVips system library, and SwiftPM then links libvips and GLib
// into every executable above it whether or not they are referenced. The
// declarations are checked against the real headers when the tests build
// (Sources/CVipsAPICheck defines CURATOR_VIPS_API_CHECK and includes both):
// a prototype that differs fails to compile, a constant that differs fails a
// static assertion. They hold for libvips 8.x (soname 42).

#include <stddef.h>

#ifndef CURATOR_VIPS_API_CHECK
// Opaque to the shims: they use libvips' accessor functions, never fields.
typedef struct _VipsImage VipsImage;
typedef struct _VipsObject VipsObject;
typedef struct _VipsArea VipsArea;
typedef VipsArea VipsArrayDouble;
typedef VipsArea VipsArrayInt;
typedef struct _VipsInterpolate VipsInterpolate;
// libvips' and GLib's enums are passed as int (their values are below).
typedef int VipsBandFormat;
typedef int VipsInterpretation;
typedef int VipsKernel;
typedef int GLogLevelFlags;
typedef char gchar;
typedef int gboolean;
typedef unsigned int guint;
typedef unsigned long GType;
typedef void *gpointer;
typedef void (*GLogFunc)(const gchar *log_domain, GLogLevelFlags log_level, const gchar *message, gpointer user_data);
#endif

/// The enum values the shims pass to libvips.
#define CURATOR_VIPS_CONSTANTS(X) \
    X(VIPS_FORMAT_UCHAR, 0) X(VIPS_FORMAT_USHORT, 2) \
    X(VIPS_INTERPRETATION_B_W, 1) X(VIPS_INTERPRETATION_sRGB, 22) \
    X(VIPS_INTERPRETATION_RGB16, 25) X(VIPS_INTERPRETATION_GREY16, 26) \
    X(VIPS_ACCESS_SEQUENTIAL, 1) X(VIPS_FAIL_ON_TRUNCATED, 1) X(VIPS_FAIL_ON_ERROR, 2) \
    X(VIPS_EXTEND_BLACK, 0) X(VIPS_EXTEND_COPY, 1) X(VIPS_SIZE_DOWN, 2) \
    X(VIPS_KERNEL_NEAREST, 0) X(VIPS_KERNEL_LINEAR, 1) X(VIPS_KERNEL_CUBIC, 2) X(VIPS_KERNEL_LANCZOS3, 5) \
    X(G_LOG_LEVEL_WARNING, 1 << 4) X(G_LOG_LEVEL_MESSAGE, 1 << 5) X(G_LOG_LEVEL_INFO, 1 << 6)

/// The metadata names the shims read or set.
#define CURATOR_VIPS_STRINGS(X) X(VIPS_META_LOADER, "vips-loader") X(VIPS_META_ORIENTATION, "orientation")

#ifndef CURATOR_VIPS_API_CHECK
#define CURATOR_VIPS_ENUM(name, value) name = (value),
enum { CURATOR_VIPS_CONSTANTS(CURATOR_VIPS_ENUM) };
#undef CURATOR_VIPS_ENUM
#define VIPS_META_LOADER "vips-loader"
#define VIPS_META_ORIENTATION "orientation"
#endif

// Prototypes as libvips 8.14 and GLib 2.74 declare them.
int vips_init(const char *argv0);
void vips_concurrency_set(int concurrency);
void vips_cache_set_max(int max);
void vips_thread_shutdown(void);
int vips_version(int flag);
gboolean vips_vector_isenabled(void);
void vips_vector_set_enabled(gboolean enabled);
void vips_error(const char *domain, const char *fmt, ...);
char *vips_error_buffer_copy(void);
void vips_error_clear(void);
const char *vips_foreign_find_load(const char *filename);
int vips_enum_from_nick(const char *domain, GType type, const char *str);
GType vips_interpretation_get_type(void);
VipsImage *vips_image_new(void);
VipsImage *vips_image_new_from_file(const char *name, ...);
VipsImage *vips_image_new_from_memory(const void *data, size_t size, int width, int height, int bands,
                                      VipsBandFormat format);
VipsImage *vips_image_new_from_buffer(const void *buf, size_t len, const char *option_string, ...);
int vips_image_get_width(const VipsImage *image);
int vips_image_get_height(const VipsImage *image);
int vips_image_get_bands(const VipsImage *image);
VipsBandFormat vips_image_get_format(const VipsImage *image);
VipsInterpretation vips_image_get_interpretation(const VipsImage *image);
VipsInterpretation vips_image_guess_interpretation(const VipsImage *image);
gboolean vips_image_get_orientation_swap(VipsImage *image);
GType vips_image_get_typeof(const VipsImage *image, const char *name);
int vips_image_get_string(const VipsImage *image, const char *name, const char **out);
void vips_image_set_int(VipsImage *image, const char *name, int i);
gboolean vips_image_hasalpha(VipsImage *image);
int vips_image_write(VipsImage *image, VipsImage *out);
int vips_image_write_to_file(VipsImage *image, const char *name, ...);
void *vips_image_write_to_memory(VipsImage *in, size_t *size);
VipsImage *vips_image_copy_memory(VipsImage *image);
VipsObject **vips_object_local_array(VipsObject *parent, int n);
void vips_area_unref(VipsArea *area);
VipsArrayDouble *vips_array_double_new(const double *array, int n);
VipsArrayDouble *vips_array_double_newv(int n, ...);
VipsArrayInt *vips_array_int_newv(int n, ...);
VipsInterpolate *vips_interpolate_new(const char *nickname);
int vips_thumbnail(const char *filename, VipsImage **out, int width, ...);
int vips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space, ...);
gboolean vips_colourspace_issupported(const VipsImage *image);
int vips_cast_uchar(VipsImage *in, VipsImage **out, ...);
int vips_copy(VipsImage *in, VipsImage **out, ...);
int vips_extract_band(VipsImage *in, VipsImage **out, int band, ...);
int vips_flatten(VipsImage *in, VipsImage **out, ...);
int vips_bandjoin(VipsImage **in, VipsImage **out, int n, ...);
int vips_bandjoin_const1(VipsImage *in, VipsImage **out, double c, ...);
int vips_resize(VipsImage *in, VipsImage **out, double scale, ...);
int vips_affine(VipsImage *in, VipsImage **out, double a, double b, double c, double d, ...);
int vips_embed(VipsImage *in, VipsImage **out, int x, int y, int width, int height, ...);
int vips_autorot(VipsImage *in, VipsImage **out, ...);
int vips_text(VipsImage **out, const char *text, ...);
int vips_jpegsave_buffer(VipsImage *in, void **buf, size_t *len, ...);
int vips_pngsave_buffer(VipsImage *in, void **buf, size_t *len, ...);
void g_object_unref(gpointer object);
void g_free(gpointer mem);
guint g_log_set_handler(const gchar *log_domain, GLogLevelFlags log_levels, GLogFunc log_func, gpointer user_data);

/// Every function above: VipsLoader.c resolves each by name. A function
/// the shims call without listing it here would be an undefined symbol at
/// link time, so nothing slips past the loader.
#define CURATOR_VIPS_FUNCTIONS(X) \
    X(vips_init) X(vips_concurrency_set) X(vips_cache_set_max) X(vips_thread_shutdown) \
    X(vips_version) X(vips_vector_isenabled) X(vips_vector_set_enabled) \
    X(vips_error) X(vips_error_buffer_copy) X(vips_error_clear) \
    X(vips_foreign_find_load) X(vips_enum_from_nick) X(vips_interpretation_get_type) \
    X(vips_image_new) X(vips_image_new_from_file) X(vips_image_new_from_memory) X(vips_image_new_from_buffer) \
    X(vips_image_get_width) X(vips_image_get_height) X(vips_image_get_bands) X(vips_image_get_format) \
    X(vips_image_get_interpretation) X(vips_image_guess_interpretation) X(vips_image_get_orientation_swap) \
    X(vips_image_get_typeof) X(vips_image_get_string) X(vips_image_set_int) X(vips_image_hasalpha) \
    X(vips_image_write) X(vips_image_write_to_file) X(vips_image_write_to_memory) X(vips_image_copy_memory) \
    X(vips_object_local_array) X(vips_area_unref) \
    X(vips_array_double_new) X(vips_array_double_newv) X(vips_array_int_newv) X(vips_interpolate_new) \
    X(vips_thumbnail) X(vips_colourspace) X(vips_colourspace_issupported) X(vips_cast_uchar) X(vips_copy) \
    X(vips_extract_band) X(vips_flatten) X(vips_bandjoin) X(vips_bandjoin_const1) X(vips_resize) \
    X(vips_affine) X(vips_embed) X(vips_autorot) X(vips_text) \
    X(vips_jpegsave_buffer) X(vips_pngsave_buffer) \
    X(g_object_unref) X(g_free) X(g_log_set_handler)

/// The resolved functions, each with its own prototype's type.
struct curator_vips_api {
#define CURATOR_VIPS_FIELD(name) __typeof__(name) *name;
    CURATOR_VIPS_FUNCTIONS(CURATOR_VIPS_FIELD)
#undef CURATOR_VIPS_FIELD
};

/// Filled by `curator_vips_init` (CVipsShims.h); read only after it returned 0.
extern struct curator_vips_api curator_vips_api;

/// Whether libvips has been loaded and started (never loads it).
int curator_vips_loaded(void);

/// The load error as a malloc'd copy (for the shims' `char **error`
/// out-parameters, which callers free), or NULL when libvips runs.
char *curator_vips_copy_load_error(void);

#endif
