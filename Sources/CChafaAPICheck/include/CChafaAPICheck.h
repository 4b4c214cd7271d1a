#ifndef CURATOR_CHAFA_API_CHECK_H
#define CURATOR_CHAFA_API_CHECK_H

/// Returns 1 once the declarations CChafaShims spells out compiled against
/// libchafa's and GLib's own headers (the check happens when
/// ChafaAPICheck.c compiles; this lets a test depend on it).
int curator_chafa_api_checked(void);

#endif
