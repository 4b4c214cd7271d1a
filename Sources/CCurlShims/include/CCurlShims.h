#ifndef CURATOR_CURL_SHIMS_H
#define CURATOR_CURL_SHIMS_H

#include <stddef.h>

/// Loads libcurl, once per process (safe from several threads): libcurl.so.4,
/// libcurl.4.dylib on macOS, or the file $CURATOR_LIBCURL names. Returns 0,
/// or -1 when it cannot be loaded; `curator_curl_load_error` then says why.
int curator_curl_init(void);

/// Why libcurl is unavailable (naming the library, what the dynamic linker
/// said and how to install it), or NULL when it loaded.
const char *curator_curl_load_error(void);

/// Told of the bytes of the file received so far (counting `resume_from`)
/// and its whole size (-1 while unknown); a non-zero return stops the
/// transfer (the result is then `CURATOR_CURL_STOPPED`).
typedef int (*curator_curl_progress)(void *context, long long received, long long total);

/// What `curator_curl_fetch` returns besides libcurl's own codes.
enum {
    CURATOR_CURL_DONE = 0,
    CURATOR_CURL_UNAVAILABLE = -1, ///< libcurl could not be loaded (see curator_curl_load_error)
    CURATOR_CURL_HTTP_ERROR = 22,  ///< the server answered 400 or above (`*status` says which)
    CURATOR_CURL_WRITE_FAILED = 23,///< writing the file failed (`*write_errno` says why)
    CURATOR_CURL_NO_RANGES = 33,   ///< asked to resume, the server sent the whole file instead
    CURATOR_CURL_STOPPED = 42,     ///< the progress function asked to stop
};

/// GETs `url` (http or https only, redirects followed, up to 10) and
/// appends the body to the open file `fd`, asking for the bytes from
/// `resume_from` on when it is above 0. `headers` are `count` extra request
/// lines such as "Authorization: Bearer …" (libcurl sends them to the
/// first host only, not to hosts a redirect leads to). A transfer that
/// receives nothing for 60 s fails. libcurl's signal handling is left on:
/// it ignores SIGPIPE while it works, so a server that hangs up while a TLS
/// record is being written cannot end the process.
///
/// Returns CURATOR_CURL_DONE, CURATOR_CURL_UNAVAILABLE, or libcurl's error
/// code with `error` (`error_size` bytes) saying what went wrong. `*status`
/// is the last HTTP status received (0 when none was); `etag` (`etag_size`
/// bytes) the last response's ETag header as sent ("" when it had none),
/// also when the transfer failed after the headers: a resumed download sends
/// it back as If-Range, so a file changed meanwhile comes whole.
int curator_curl_fetch(const char *url, const char *const *headers, size_t count, int fd, long long resume_from,
                       const char *user_agent, curator_curl_progress progress, void *context,
                       long *status, int *write_errno, char *etag, size_t etag_size,
                       char *error, size_t error_size);

#endif
