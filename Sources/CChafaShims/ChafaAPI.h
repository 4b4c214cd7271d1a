#ifndef CURATOR_CHAFA_API_H
#define CURATOR_CHAFA_API_H

// libchafa draws images in the terminal (img:show, s:show, r:show). It is
// not linked into curator, for the reason libvips is not (VipsAPI.h): a
// script that never shows an image must not pay for loading it and GLib at
// start, and curator must still run where it is missing. ChafaLoader.c
// resolves the functions below with dlopen/dlsym the first time a contact
// sheet is drawn.
//
// This file declares the part of libchafa's API the shims use instead of
// including <chafa.h>; the declarations are checked against the real
// headers when the tests build (Sources/CChafaAPICheck defines
// CURATOR_CHAFA_API_CHECK and includes both): a prototype that differs fails
// to compile, a constant that differs fails a static assertion. They hold
// for libchafa 1.8 and later (soname 0).

#include <stddef.h>

#ifndef CURATOR_CHAFA_API_CHECK
// Opaque to the shims: they use libchafa's functions, never fields.
typedef struct _ChafaCanvas ChafaCanvas;
typedef struct _ChafaCanvasConfig ChafaCanvasConfig;
typedef struct _ChafaSymbolMap ChafaSymbolMap;
typedef struct _ChafaTermDb ChafaTermDb;
typedef struct _ChafaTermInfo ChafaTermInfo;
// libchafa's enums are passed as int (their values are below).
typedef int ChafaCanvasMode;
typedef int ChafaPixelMode;
typedef int ChafaPixelType;
typedef int ChafaSymbolTags;
typedef int ChafaDitherMode;
typedef char gchar;
typedef int gint;
typedef int gboolean;
typedef unsigned char guint8;
typedef float gfloat;
typedef size_t gsize;
/// GLib's string: the shims read its two public fields.
typedef struct { gchar *str; gsize len; gsize allocated_len; } GString;
#endif

/// The enum values the shims pass to libchafa.
#define CURATOR_CHAFA_CONSTANTS(X) \
    X(CHAFA_CANVAS_MODE_TRUECOLOR, 0) X(CHAFA_CANVAS_MODE_INDEXED_256, 1) \
    X(CHAFA_CANVAS_MODE_INDEXED_16, 3) X(CHAFA_CANVAS_MODE_FGBG, 5) \
    X(CHAFA_PIXEL_MODE_SYMBOLS, 0) X(CHAFA_PIXEL_MODE_SIXELS, 1) \
    X(CHAFA_PIXEL_MODE_KITTY, 2) X(CHAFA_PIXEL_MODE_ITERM2, 3) \
    X(CHAFA_PIXEL_RGBA8_UNASSOCIATED, 4) X(CHAFA_DITHER_MODE_NONE, 0) \
    X(CHAFA_SYMBOL_TAG_SPACE, 1 << 0) X(CHAFA_SYMBOL_TAG_BLOCK, 1 << 3) \
    X(CHAFA_SYMBOL_TAG_BORDER, 1 << 4) X(CHAFA_SYMBOL_TAG_ASCII, 1 << 14) \
    X(CHAFA_SYMBOL_TAG_WIDE, 1 << 18) X(CHAFA_SYMBOL_TAG_AMBIGUOUS, 1 << 19) \
    X(CHAFA_SYMBOL_TAG_UGLY, 1 << 20)

#ifndef CURATOR_CHAFA_API_CHECK
#define CURATOR_CHAFA_ENUM(name, value) name = (value),
enum { CURATOR_CHAFA_CONSTANTS(CURATOR_CHAFA_ENUM) };
#undef CURATOR_CHAFA_ENUM
#endif

// Prototypes as libchafa 1.12 and GLib 2.74 declare them. The GLib name is
// in parentheses: newer GLib headers also define it as a macro.
ChafaSymbolMap *chafa_symbol_map_new(void);
void chafa_symbol_map_add_by_tags(ChafaSymbolMap *symbol_map, ChafaSymbolTags tags);
void chafa_symbol_map_remove_by_tags(ChafaSymbolMap *symbol_map, ChafaSymbolTags tags);
void chafa_symbol_map_unref(ChafaSymbolMap *symbol_map);
ChafaCanvasConfig *chafa_canvas_config_new(void);
void chafa_canvas_config_set_geometry(ChafaCanvasConfig *config, gint width, gint height);
void chafa_canvas_config_set_cell_geometry(ChafaCanvasConfig *config, gint cell_width, gint cell_height);
void chafa_canvas_config_set_canvas_mode(ChafaCanvasConfig *config, ChafaCanvasMode mode);
void chafa_canvas_config_set_pixel_mode(ChafaCanvasConfig *config, ChafaPixelMode pixel_mode);
void chafa_canvas_config_set_symbol_map(ChafaCanvasConfig *config, const ChafaSymbolMap *symbol_map);
void chafa_canvas_config_set_dither_mode(ChafaCanvasConfig *config, ChafaDitherMode dither_mode);
void chafa_canvas_config_unref(ChafaCanvasConfig *config);
ChafaCanvas *chafa_canvas_new(const ChafaCanvasConfig *config);
void chafa_canvas_draw_all_pixels(ChafaCanvas *canvas, ChafaPixelType src_pixel_type, const guint8 *src_pixels,
                                  gint src_width, gint src_height, gint src_rowstride);
GString *chafa_canvas_print(ChafaCanvas *canvas, ChafaTermInfo *term_info);
void chafa_canvas_unref(ChafaCanvas *canvas);
ChafaTermDb *chafa_term_db_get_default(void);
ChafaTermInfo *chafa_term_db_get_fallback_info(ChafaTermDb *term_db);
void chafa_term_info_unref(ChafaTermInfo *term_info);
gchar *(g_string_free)(GString *string, gboolean free_segment);

/// Every function above: ChafaLoader.c resolves each by name. A function
/// the shims call without listing it here would be an undefined symbol at
/// link time, so nothing slips past the loader.
#define CURATOR_CHAFA_FUNCTIONS(X) \
    X(chafa_symbol_map_new) X(chafa_symbol_map_add_by_tags) X(chafa_symbol_map_remove_by_tags) \
    X(chafa_symbol_map_unref) X(chafa_canvas_config_new) X(chafa_canvas_config_set_geometry) \
    X(chafa_canvas_config_set_cell_geometry) X(chafa_canvas_config_set_canvas_mode) \
    X(chafa_canvas_config_set_pixel_mode) X(chafa_canvas_config_set_symbol_map) \
    X(chafa_canvas_config_set_dither_mode) X(chafa_canvas_config_unref) \
    X(chafa_canvas_new) X(chafa_canvas_draw_all_pixels) X(chafa_canvas_print) X(chafa_canvas_unref) \
    X(chafa_term_db_get_default) X(chafa_term_db_get_fallback_info) X(chafa_term_info_unref) \
    X(g_string_free)

/// The resolved functions, each with its own prototype's type.
struct curator_chafa_api {
#define CURATOR_CHAFA_FIELD(name) __typeof__(name) *name;
    CURATOR_CHAFA_FUNCTIONS(CURATOR_CHAFA_FIELD)
#undef CURATOR_CHAFA_FIELD
};

/// Filled by `curator_chafa_init` (CChafaShims.h); read only after it returned 0.
extern struct curator_chafa_api curator_chafa_api;

#endif
