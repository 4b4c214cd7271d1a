#ifndef CURATOR_CHAFA_SHIMS_H
#define CURATOR_CHAFA_SHIMS_H

#include <stddef.h>

/// Loads libchafa, once per process (safe from several threads). It is not
/// linked into curator but opened with dlopen here (libchafa.so.0,
/// libchafa.0.dylib on macOS, or the file $CURATOR_LIBCHAFA names), so that
/// programs which never draw an image in the terminal do not load it, and
/// run where it is missing. Returns 0, or -1 when it cannot be loaded;
/// `curator_chafa_load_error` then says why.
int curator_chafa_init(void);

/// Why libchafa is unavailable, naming the library, what the dynamic linker
/// said and how to install it (a static string), or NULL when it loaded.
/// Loads it first if nothing did yet.
const char *curator_chafa_load_error(void);

/// How `curator_chafa_draw` encodes the picture (libchafa's pixel modes).
typedef enum {
    CURATOR_CHAFA_SYMBOLS = 0,   ///< Unicode block and border symbols in colour: any terminal
    CURATOR_CHAFA_SIXELS = 1,    ///< DEC sixel graphics (foot, mlterm, WezTerm, xterm -ti vt340)
    CURATOR_CHAFA_KITTY = 2,     ///< kitty's graphics protocol (kitty, Ghostty)
    CURATOR_CHAFA_ITERM2 = 3,    ///< iTerm2's inline images (iTerm2, WezTerm)
} curator_chafa_format;

/// Which colours symbols may use (libchafa's canvas modes).
typedef enum {
    CURATOR_CHAFA_TRUECOLOR = 0, ///< 24-bit colour
    CURATOR_CHAFA_COLORS_256 = 1,///< the xterm 256-colour palette
    CURATOR_CHAFA_COLORS_16 = 3, ///< the 16 ANSI colours
    CURATOR_CHAFA_NO_COLOR = 5,  ///< default foreground and background only
} curator_chafa_colors;

/// Draws `width`×`height` 8-bit RGBA pixels, not premultiplied (rows
/// `rowstride` bytes apart; transparent ones leave the terminal's own
/// background),
/// into a `columns`×`rows` block of terminal cells, each `cell_width`×
/// `cell_height` pixels for the graphics formats, and returns the bytes
/// that show it: for symbols, `rows` lines separated by "\n" (none after
/// the last), each ending in an attribute reset; for the graphics formats,
/// one escape sequence. The picture is stretched to fill the block, so
/// callers keep its aspect. Symbols use block and border characters (no
/// wide or ambiguous-width ones, so every line is `columns` cells wide);
/// without colour only ASCII. No dithering: the same pixels give the same
/// bytes.
///
/// Returns 0 with a malloc'd buffer in `*out` (its length in `*length`; the
/// caller frees it), or -1 with, when `error` is not NULL, a malloc'd message.
int curator_chafa_draw(const unsigned char *pixels, int width, int height, int rowstride,
                       int columns, int rows, int cell_width, int cell_height,
                       curator_chafa_format format, curator_chafa_colors colors,
                       unsigned char **out, size_t *length, char **error);

#endif
