#ifndef FLINT_CCURL_H
#define FLINT_CCURL_H

// libcurl's setopt/getinfo are variadic, which Swift cannot call; these shims give each argument type its own
// non-variadic entry point. Nothing else lives here: request logic stays in Swift.

#include <curl/curl.h>

typedef size_t (*flint_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);
typedef int (*flint_curl_trailer_callback)(struct curl_slist **list, void *userdata);

CURLcode flint_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode flint_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode flint_curl_setopt_pointer(CURL *handle, CURLoption option, const void *value);
CURLcode flint_curl_setopt_callback(CURL *handle, CURLoption option, flint_curl_data_callback callback);
CURLcode flint_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode flint_curl_setopt_trailer_callback(CURL *handle, flint_curl_trailer_callback callback);

#endif
