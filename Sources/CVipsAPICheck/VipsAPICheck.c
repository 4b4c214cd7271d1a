// Compiled with the tests only: checks the hand-written declarations in
// CVipsShims/VipsAPI.h against the installed libvips and GLib headers. A
// prototype that differs is a conflicting redeclaration (a compile error); a
// constant that differs fails its static assertion; a metadata name that
// differs makes `curator_vips_api_checked` return 0 (a Swift test calls it).
#include <vips/vips.h>
#define CURATOR_VIPS_API_CHECK 1
#include "../CVipsShims/VipsAPI.h"
#include "CVipsAPICheck.h"
#include <string.h>

#define CURATOR_VIPS_SAME(name, value) \
    _Static_assert((long long)(name) == (long long)(value), #name " differs from libvips' value");
CURATOR_VIPS_CONSTANTS(CURATOR_VIPS_SAME)
#undef CURATOR_VIPS_SAME

int curator_vips_api_checked(void) {
    int same = 1;
#define CURATOR_VIPS_SAME(name, value) same = same && strcmp(name, value) == 0;
    CURATOR_VIPS_STRINGS(CURATOR_VIPS_SAME)
#undef CURATOR_VIPS_SAME
    return same;
}
