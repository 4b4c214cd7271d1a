#include "ChafaAPI.h"
#include "CChafaShims.h"
#include <stdlib.h>
#include <string.h>

#define API curator_chafa_api

static char *copy_message(const char *text) {
    char *copy = malloc(strlen(text) + 1);
    if (copy != NULL) strcpy(copy, text);
    return copy;
}

int curator_chafa_draw(const unsigned char *pixels, int width, int height, int rowstride,
                       int columns, int rows, int cell_width, int cell_height,
                       curator_chafa_format format, curator_chafa_colors colors,
                       unsigned char **out, size_t *length, char **error) {
    if (error != NULL) *error = NULL;
    *out = NULL;
    *length = 0;
    if (curator_chafa_init() != 0) {
        if (error != NULL) *error = copy_message(curator_chafa_load_error());
        return -1;
    }
    if (pixels == NULL || width <= 0 || height <= 0 || rowstride < width * 4 || columns <= 0 || rows <= 0
        || cell_width <= 0 || cell_height <= 0) {
        if (error != NULL) *error = copy_message("curator_chafa_draw: empty picture or block");
        return -1;
    }
    ChafaSymbolMap *symbols = API.chafa_symbol_map_new();
    if (colors == CURATOR_CHAFA_NO_COLOR) {
        // Without colour, shapes carry the picture; ASCII reads in any log.
        API.chafa_symbol_map_add_by_tags(symbols, CHAFA_SYMBOL_TAG_ASCII | CHAFA_SYMBOL_TAG_SPACE);
    } else {
        API.chafa_symbol_map_add_by_tags(symbols, CHAFA_SYMBOL_TAG_BLOCK | CHAFA_SYMBOL_TAG_BORDER | CHAFA_SYMBOL_TAG_SPACE);
    }
    // Wide and ambiguous-width symbols would break the column alignment
    // of the tiles and of the labels under them.
    API.chafa_symbol_map_remove_by_tags(symbols, CHAFA_SYMBOL_TAG_WIDE | CHAFA_SYMBOL_TAG_AMBIGUOUS | CHAFA_SYMBOL_TAG_UGLY);

    ChafaCanvasConfig *config = API.chafa_canvas_config_new();
    API.chafa_canvas_config_set_geometry(config, columns, rows);
    API.chafa_canvas_config_set_cell_geometry(config, cell_width, cell_height);
    API.chafa_canvas_config_set_canvas_mode(config, (ChafaCanvasMode)colors);
    API.chafa_canvas_config_set_pixel_mode(config, (ChafaPixelMode)format);
    API.chafa_canvas_config_set_symbol_map(config, symbols);
    API.chafa_canvas_config_set_dither_mode(config, CHAFA_DITHER_MODE_NONE);
    ChafaCanvas *canvas = API.chafa_canvas_new(config);
    API.chafa_canvas_config_unref(config);
    API.chafa_symbol_map_unref(symbols);
    if (canvas == NULL) {
        if (error != NULL) *error = copy_message("libchafa could not make a canvas");
        return -1;
    }
    API.chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, pixels, width, height, rowstride);
    // The fallback terminal knows every sequence (colours, sixel, kitty,
    // iTerm2): which of them to use was decided by the caller's format, and
    // the output does not depend on $TERM.
    ChafaTermInfo *terminal = API.chafa_term_db_get_fallback_info(API.chafa_term_db_get_default());
    GString *printed = API.chafa_canvas_print(canvas, terminal);
    API.chafa_term_info_unref(terminal);
    API.chafa_canvas_unref(canvas);
    if (printed == NULL) {
        if (error != NULL) *error = copy_message("libchafa printed nothing");
        return -1;
    }
    unsigned char *bytes = malloc(printed->len + 1);
    if (bytes == NULL) {
        API.g_string_free(printed, 1);
        if (error != NULL) *error = copy_message("out of memory");
        return -1;
    }
    memcpy(bytes, printed->str, printed->len);
    bytes[printed->len] = 0;
    *length = printed->len;
    *out = bytes;
    API.g_string_free(printed, 1);
    return 0;
}
