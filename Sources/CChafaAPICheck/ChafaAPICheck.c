// Compiled with the tests only: checks the hand-written declarations in
// CChafaShims/ChafaAPI.h against the installed libchafa and GLib headers. A
// prototype that differs is a conflicting redeclaration (a compile error); a
// constant that differs fails its static assertion.
#include <chafa.h>
#define CURATOR_CHAFA_API_CHECK 1
#include "../CChafaShims/ChafaAPI.h"
#include "../CChafaShims/include/CChafaShims.h"
#include "CChafaAPICheck.h"
#include <stddef.h>

#define CURATOR_CHAFA_SAME(name, value) \
    _Static_assert((long long)(name) == (long long)(value), #name " differs from libchafa's value");
CURATOR_CHAFA_CONSTANTS(CURATOR_CHAFA_SAME)
#undef CURATOR_CHAFA_SAME

// The shims' formats and colours are libchafa's pixel and canvas modes.
_Static_assert((int)CURATOR_CHAFA_SYMBOLS == (int)CHAFA_PIXEL_MODE_SYMBOLS, "symbols");
_Static_assert((int)CURATOR_CHAFA_SIXELS == (int)CHAFA_PIXEL_MODE_SIXELS, "sixels");
_Static_assert((int)CURATOR_CHAFA_KITTY == (int)CHAFA_PIXEL_MODE_KITTY, "kitty");
_Static_assert((int)CURATOR_CHAFA_ITERM2 == (int)CHAFA_PIXEL_MODE_ITERM2, "iterm2");
_Static_assert((int)CURATOR_CHAFA_TRUECOLOR == (int)CHAFA_CANVAS_MODE_TRUECOLOR, "truecolor");
_Static_assert((int)CURATOR_CHAFA_COLORS_256 == (int)CHAFA_CANVAS_MODE_INDEXED_256, "256 colours");
_Static_assert((int)CURATOR_CHAFA_COLORS_16 == (int)CHAFA_CANVAS_MODE_INDEXED_16, "16 colours");
_Static_assert((int)CURATOR_CHAFA_NO_COLOR == (int)CHAFA_CANVAS_MODE_FGBG, "no colour");

// The shims read GString's first two fields through their own declaration.
_Static_assert(offsetof(GString, str) == 0, "GString.str moved");
_Static_assert(offsetof(GString, len) == sizeof(gchar *), "GString.len moved");

int curator_chafa_api_checked(void) { return 1; }
