#include "CurlAPI.h"
#include "CCurlShims.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define api curator_curl_api

/// What the callbacks share with the transfer.
struct transfer {
    int fd;
    int write_errno;
    long long resume_from;
    curator_curl_progress progress;
    void *context;
    char *etag;
    size_t etag_size;
};

/// Keeps the ETag of the last response (a redirect's own headers come first
/// and are forgotten at the next status line).
static size_t read_header(char *data, size_t size, size_t count, void *user) {
    struct transfer *t = user;
    size_t length = size * count;
    if (t->etag_size == 0) return length;
    if (length >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        t->etag[0] = 0;
    } else if (length > 5 && strncasecmp(data, "etag:", 5) == 0) {
        size_t start = 5, end = length;
        while (start < end && (data[start] == ' ' || data[start] == '\t')) start++;
        while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' ')) end--;
        size_t n = end - start < t->etag_size - 1 ? end - start : t->etag_size - 1;
        memcpy(t->etag, data + start, n);
        t->etag[n] = 0;
    }
    return length;
}

static size_t write_body(char *data, size_t size, size_t count, void *user) {
    struct transfer *t = user;
    size_t total = size * count, done = 0;
    while (done < total) {
        ssize_t n = write(t->fd, data + done, total - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            t->write_errno = errno;
            return 0; // libcurl stops with CURLE_WRITE_ERROR
        }
        done += (size_t)n;
    }
    return total;
}

static int report(void *user, curl_off_t total, curl_off_t now, curl_off_t up_total, curl_off_t up_now) {
    (void)up_total; (void)up_now;
    struct transfer *t = user;
    if (t->progress == NULL) return 0;
    return t->progress(t->context, t->resume_from + now, total > 0 ? t->resume_from + total : -1);
}

int curator_curl_fetch(const char *url, const char *const *headers, size_t count, int fd, long long resume_from,
                       const char *user_agent, curator_curl_progress progress, void *context,
                       long *status, int *write_errno, char *etag, size_t etag_size,
                       char *error, size_t error_size) {
    *status = 0;
    *write_errno = 0;
    if (error_size > 0) error[0] = 0;
    if (etag_size > 0) etag[0] = 0;
    if (curator_curl_init() != 0) {
        snprintf(error, error_size, "%s", curator_curl_load_error());
        return CURATOR_CURL_UNAVAILABLE;
    }
    CURL *curl = api.curl_easy_init();
    if (curl == NULL) {
        snprintf(error, error_size, "libcurl could not start a transfer");
        return CURATOR_CURL_UNAVAILABLE;
    }
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < count; i++) list = api.curl_slist_append(list, headers[i]);
    struct transfer t = { fd, 0, resume_from, progress, context, etag, etag_size };
    char message[CURL_ERROR_SIZE] = {0};

    api.curl_easy_setopt(curl, CURLOPT_URL, url);
    api.curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, message);
    api.curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    api.curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    // Older libcurl lacks these (CURLE_UNKNOWN_OPTION); it then allows every
    // protocol it was built with, and the URLs curator makes are http(s) anyway.
    api.curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    api.curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    api.curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    api.curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
    api.curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    api.curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    if (user_agent != NULL) api.curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent);
    if (list != NULL) api.curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    if (resume_from > 0) api.curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)resume_from);
    api.curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
    api.curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    api.curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
    api.curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    api.curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, report);
    api.curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
    api.curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);

    int code = api.curl_easy_perform(curl);
    api.curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    *write_errno = t.write_errno;
    if (code != CURLE_OK) {
        snprintf(error, error_size, "%s", message[0] != 0 ? message : api.curl_easy_strerror(code));
    }
    api.curl_easy_cleanup(curl);
    api.curl_slist_free_all(list);
    return code;
}
