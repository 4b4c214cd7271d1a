#ifndef CURATOR_CURL_API_CHECK_H
#define CURATOR_CURL_API_CHECK_H

/// Returns 1 once the declarations CCurlShims spells out compiled against
/// libcurl's own header (the check happens when CurlAPICheck.c compiles;
/// this lets a test depend on it).
int curator_curl_api_checked(void);

#endif
