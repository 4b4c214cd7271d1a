#ifndef CURATOR_VIPS_API_CHECK_H
#define CURATOR_VIPS_API_CHECK_H

/// Returns 1 when the metadata names CVipsShims spells out are libvips'
/// (the rest of the check happens when VipsAPICheck.c compiles).
int curator_vips_api_checked(void);

#endif
