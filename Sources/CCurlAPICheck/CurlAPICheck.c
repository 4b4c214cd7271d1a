// Compiled with the tests only: checks the hand-written declarations in
// CCurlShims/CurlAPI.h against the installed libcurl header. A prototype
// that differs is a conflicting redeclaration (a compile error); a constant
// that differs fails its static assertion.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#define CURATOR_CURL_API_CHECK 1
#include "../CCurlShims/CurlAPI.h"
#include "../CCurlShims/include/CCurlShims.h"
#include "CCurlAPICheck.h"

#define CURATOR_CURL_SAME(name, value) \
    _Static_assert((long long)(name) == (long long)(value), #name " differs from libcurl's value");
CURATOR_CURL_CONSTANTS(CURATOR_CURL_SAME)
#undef CURATOR_CURL_SAME

// The shims' result codes are libcurl's.
_Static_assert((int)CURATOR_CURL_HTTP_ERROR == (int)CURLE_HTTP_RETURNED_ERROR, "HTTP error");
_Static_assert((int)CURATOR_CURL_WRITE_FAILED == (int)CURLE_WRITE_ERROR, "write error");
_Static_assert((int)CURATOR_CURL_NO_RANGES == (int)CURLE_RANGE_ERROR, "range error");
_Static_assert((int)CURATOR_CURL_STOPPED == (int)CURLE_ABORTED_BY_CALLBACK, "stopped");
_Static_assert(sizeof(curl_off_t) == sizeof(long long), "curl_off_t is not 64 bits");

int curator_curl_api_checked(void) { return 1; }
