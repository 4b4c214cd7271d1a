#ifndef CURATOR_CURL_API_H
#define CURATOR_CURL_API_H

// libcurl downloads models (`curator models get`). It is not linked into
// curator, for the reason libvips is not (VipsAPI.h): nothing else needs the
// network, so start-up must not pay for loading libcurl and its TLS library,
// and curator must still run where it is missing. CurlLoader.c resolves the
// functions below with dlopen/dlsym on the first download.
//
// This file declares the part of libcurl's API the shims use instead of
// including <curl/curl.h>; the declarations are checked against the real
// header when the tests build (Sources/CCurlAPICheck defines
// CURATOR_CURL_API_CHECK and includes both): a prototype that differs fails
// to compile, a constant that differs fails a static assertion. They hold
// for libcurl 7.62 and later (soname 4), the constants being part of its ABI.

#ifndef CURATOR_CURL_API_CHECK
typedef void CURL;
// libcurl's enums are passed as int (their values are below).
typedef int CURLcode;
typedef int CURLoption;
typedef int CURLINFO;
typedef long long curl_off_t;
struct curl_slist;
#endif

/// The option, info and result values the shims use.
#define CURATOR_CURL_CONSTANTS(X) \
    X(CURLOPT_WRITEDATA, 10001) X(CURLOPT_URL, 10002) X(CURLOPT_ERRORBUFFER, 10010) \
    X(CURLOPT_HEADERDATA, 10029) X(CURLOPT_HEADERFUNCTION, 20079) \
    X(CURLOPT_WRITEFUNCTION, 20011) X(CURLOPT_USERAGENT, 10018) \
    X(CURLOPT_LOW_SPEED_LIMIT, 19) X(CURLOPT_LOW_SPEED_TIME, 20) X(CURLOPT_HTTPHEADER, 10023) \
    X(CURLOPT_NOPROGRESS, 43) X(CURLOPT_FAILONERROR, 45) X(CURLOPT_FOLLOWLOCATION, 52) \
    X(CURLOPT_XFERINFODATA, 10057) X(CURLOPT_MAXREDIRS, 68) X(CURLOPT_CONNECTTIMEOUT, 78) \
    X(CURLOPT_RESUME_FROM_LARGE, 30116) X(CURLOPT_XFERINFOFUNCTION, 20219) \
    X(CURLOPT_PROTOCOLS_STR, 10318) X(CURLOPT_REDIR_PROTOCOLS_STR, 10319) \
    X(CURLINFO_RESPONSE_CODE, 0x200002) \
    X(CURLE_OK, 0) X(CURLE_HTTP_RETURNED_ERROR, 22) X(CURLE_WRITE_ERROR, 23) \
    X(CURLE_RANGE_ERROR, 33) X(CURLE_ABORTED_BY_CALLBACK, 42) X(CURLE_UNKNOWN_OPTION, 48) \
    X(CURL_GLOBAL_DEFAULT, 3) X(CURL_ERROR_SIZE, 256)

#ifndef CURATOR_CURL_API_CHECK
#define CURATOR_CURL_ENUM(name, value) name = (value),
enum { CURATOR_CURL_CONSTANTS(CURATOR_CURL_ENUM) };
#undef CURATOR_CURL_ENUM
#endif

// Prototypes as libcurl 7.88 declares them. The names are in parentheses:
// curl's type-checking header defines some as macros.
CURLcode (curl_global_init)(long flags);
CURL *(curl_easy_init)(void);
CURLcode (curl_easy_setopt)(CURL *curl, CURLoption option, ...);
CURLcode (curl_easy_perform)(CURL *curl);
CURLcode (curl_easy_getinfo)(CURL *curl, CURLINFO info, ...);
void (curl_easy_cleanup)(CURL *curl);
const char *(curl_easy_strerror)(CURLcode);
struct curl_slist *(curl_slist_append)(struct curl_slist *list, const char *data);
void (curl_slist_free_all)(struct curl_slist *list);

/// Every function above: CurlLoader.c resolves each by name.
#define CURATOR_CURL_FUNCTIONS(X) \
    X(curl_global_init) X(curl_easy_init) X(curl_easy_setopt) X(curl_easy_perform) \
    X(curl_easy_getinfo) X(curl_easy_cleanup) X(curl_easy_strerror) X(curl_slist_append) \
    X(curl_slist_free_all)

/// The resolved functions, each with its own prototype's type.
struct curator_curl_api {
#define CURATOR_CURL_FIELD(name) __typeof__(name) *name;
    CURATOR_CURL_FUNCTIONS(CURATOR_CURL_FIELD)
#undef CURATOR_CURL_FIELD
};

/// Filled by `curator_curl_init` (CCurlShims.h); read only after it returned 0.
extern struct curator_curl_api curator_curl_api;

#endif
