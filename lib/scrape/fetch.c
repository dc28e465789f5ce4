/*
 * lib/scrape/fetch.c - psc_fetch() and psc_fetch_many() on the libcurl multi
 * interface (promscope/scrape.h; DESIGN.md section 4; BAD-INPUTS.md F).
 *
 * Redirects are followed here, not by libcurl, so that every hop is checked
 * before it is made: scheme http/https only (F12), no https->http (F13), at
 * most max_redirects (F15), and credentials only for the origin of the
 * requested URL (F14): bearer token, basic auth, URL userinfo and extra
 * Authorization/Cookie/Proxy-Authorization headers are left out of every
 * request to another scheme, host or port.
 *
 * The body cap is enforced in the write callback, which libcurl calls with
 * decoded bytes, so a gzip bomb stops at the cap (F1): libcurl 7.88's
 * CURLOPT_MAXFILESIZE only looks at the encoded length.
 *
 * libcurl 7.88 also accepts a gzip body that ends before its member does
 * (or has bytes after it) as complete. So for `Content-Encoding: gzip` we
 * check the member's trailer ourselves (RFC 1952 section 2.3.1: CRC-32 and
 * length of the decoded data): the raw body reaches us through the debug
 * callback (CURLINFO_DATA_IN, before de-chunking, so we undo the chunked
 * framing), its last 8 bytes are the trailer, and the write callback keeps a
 * CRC-32 of what it is given (F3). Requests use HTTP/1.1 for this reason.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "promscope/scrape.h"
#include "util/alloc.h"
#include "util/buf.h"

#define MAX_HEADER_BYTES (256u * 1024u) /* all headers of one response (F18) */
#define SNIPPET_BYTES 512               /* body snippet of a non-200 response (F9) */

/* ---- names and constants ---- */

static const char *const escaping_names[] = {"allow-utf-8", "underscores", "dots", "values"};

const char *psc_escaping_name(psc_escaping e)
{
    if ((unsigned)e >= sizeof escaping_names / sizeof escaping_names[0])
        return "unknown";
    return escaping_names[e];
}

psc_status psc_escaping_parse(const char *s, psc_escaping *out)
{
    for (unsigned i = 0; i < sizeof escaping_names / sizeof escaping_names[0]; i++) {
        if (strcmp(s, escaping_names[i]) == 0) {
            *out = (psc_escaping)i;
            return PSC_OK;
        }
    }
    return PSC_E_ARG;
}

/* Prometheus 3 weights its five known protocols 0.6 down to 0.2 in the order
 * OpenMetrics 1.0.0, OpenMetrics 0.0.1, text 1.0.0, text 0.0.4 (protobuf is
 * left out unless asked for), then any type; `escaping=` goes on the 1.0.0
 * types only. */
#define ACCEPT_FOR(esc)                                                                            \
    "application/openmetrics-text;version=1.0.0;escaping=" esc ";q=0.6,"                           \
    "application/openmetrics-text;version=0.0.1;q=0.5,"                                            \
    "text/plain;version=1.0.0;escaping=" esc ";q=0.4,"                                             \
    "text/plain;version=0.0.4;q=0.3,"                                                              \
    "*/*;q=0.2"

const char *psc_scrape_accept(psc_escaping e)
{
    switch (e) {
    case PSC_ESCAPING_UNDERSCORES: return ACCEPT_FOR("underscores");
    case PSC_ESCAPING_DOTS: return ACCEPT_FOR("dots");
    case PSC_ESCAPING_VALUES: return ACCEPT_FOR("values");
    case PSC_ESCAPING_ALLOW_UTF8:
    default: return ACCEPT_FOR("allow-utf-8");
    }
}

void psc_fetch_opts_init(psc_fetch_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = PSC_FETCH_DEFAULT_TIMEOUT_MS;
    o->connect_timeout_ms = PSC_FETCH_DEFAULT_CONNECT_TIMEOUT_MS;
    o->low_speed_limit = PSC_FETCH_DEFAULT_LOW_SPEED_LIMIT;
    o->low_speed_time_s = PSC_FETCH_DEFAULT_LOW_SPEED_TIME_S;
    o->max_body_bytes = PSC_FETCH_DEFAULT_MAX_BODY;
    o->max_redirects = PSC_FETCH_DEFAULT_MAX_REDIRECTS;
    o->escaping = PSC_ESCAPING_ALLOW_UTF8;
    o->gzip = true;
    o->fallback_format = PSC_FORMAT_AUTO;
}

void psc_fetch_result_release(psc_fetch_result *r)
{
    if (!r)
        return;
    psc_free(r->error);
    psc_free(r->body);
    psc_free(r->content_type);
    psc_free(r->status_line);
    psc_free(r->url);
    psc_free(r->effective_url);
    memset(r, 0, sizeof *r);
}

/* ---- URL redaction (BAD-INPUTS F19) ---- */

/* End of the authority that starts at s (after "://"). */
static size_t authority_len(const char *s)
{
    size_t i = 0;
    while (s[i] && s[i] != '/' && s[i] != '?' && s[i] != '#')
        i++;
    return i;
}

/* Redact every "scheme://userinfo@" in s into b. */
static int append_redacted(psc_buf *b, const char *s)
{
    for (;;) {
        const char *p = strstr(s, "://");
        if (!p)
            return psc_buf_append(b, s, strlen(s));
        p += 3;
        if (psc_buf_append(b, s, (size_t)(p - s)))
            return -1;
        size_t al = authority_len(p);
        const char *at = NULL;
        for (size_t i = 0; i < al; i++)
            if (p[i] == '@')
                at = p + i;
        if (at) {
            if (psc_buf_append(b, "***", 3))
                return -1;
            s = at;
        } else {
            s = p;
        }
    }
}

size_t psc_url_redact(const char *url, char *buf, size_t cap)
{
    const char *p = strstr(url, "://");
    size_t total = strlen(url), head = total, skip = 0;
    if (p) {
        p += 3;
        size_t al = authority_len(p);
        for (size_t i = 0; i < al; i++)
            if (p[i] == '@') {
                head = (size_t)(p - url);
                skip = i; /* bytes of userinfo replaced by "***" */
            }
    }
    size_t out_len = head == total ? total : total - skip + 3;
    if (cap) {
        size_t w = 0;
        for (size_t i = 0; i < total && w + 1 < cap; i++) {
            if (head != total && i == head) {
                for (int k = 0; k < 3 && w + 1 < cap; k++)
                    buf[w++] = '*';
                i += skip - 1;
                continue;
            }
            buf[w++] = url[i];
        }
        buf[w] = '\0';
    }
    return out_len;
}

static char *dup_redacted(const char *url)
{
    size_t n = psc_url_redact(url, NULL, 0);
    char *s = psc_malloc(n + 1);
    if (s)
        psc_url_redact(url, s, n + 1);
    return s;
}

static char *dup_str(const char *s, size_t n)
{
    char *d = psc_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* ---- global init ---- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc = CURLE_OK;

static void global_init_once(void)
{
    g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void crc_init(void);
static pthread_once_t crc_once;

psc_status psc_fetch_global_init(psc_error *err)
{
    pthread_once(&g_once, global_init_once);
    pthread_once(&crc_once, crc_init);
    if (g_init_rc != CURLE_OK) {
        if (err && err->code == PSC_C_NONE && err->status == PSC_OK) {
            err->status = PSC_E_NET;
            err->code = PSC_C_IO;
            snprintf(err->message, sizeof err->message, "cannot initialise libcurl: %s",
                     curl_easy_strerror(g_init_rc));
        }
        return PSC_E_NET;
    }
    return PSC_OK;
}

/* ---- one transfer ---- */

struct origin {
    char scheme[8]; /* "http" or "https" */
    char *host;     /* lowercase, owned */
    long port;
};

typedef struct xfer {
    CURL *easy;
    const psc_fetch_opts *o;
    psc_fetch_result *res;
    size_t index;

    char *url;            /* current hop, unredacted, owned; first hop without userinfo */
    char *url_user;       /* userinfo of the requested URL (decoded), owned */
    char *url_pass;
    struct origin first;  /* origin of the requested URL */
    bool creds;           /* this hop goes to the first origin */
    bool secure_seen;     /* an https hop happened: no downgrade */
    bool post;            /* this hop is a POST */
    struct curl_slist *hdrs;
    char errbuf[CURL_ERROR_SIZE];

    /* per hop */
    psc_buf body;
    size_t body_cap_alloc;
    bool over_limit;
    bool nomem;
    size_t header_bytes;
    bool header_overflow;
    char *status_line;
    char *content_type;
    bool content_encoding;
    bool gzip;            /* Content-Encoding is exactly gzip: verify the trailer */
    bool chunked;         /* Transfer-Encoding: chunked */
    uint32_t crc;         /* CRC-32 of the decoded body */
    unsigned char tail[8];/* last 8 raw (de-chunked) body bytes */
    uint64_t raw_len;     /* raw (de-chunked) body bytes seen */
    int ck_state;         /* chunked framing parser */
    uint64_t ck_left;

    double t_start;   /* monotonic seconds at the first hop */
    double t_hop;     /* monotonic seconds at this hop */
    bool done;
} xfer;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void origin_release(struct origin *o)
{
    psc_free(o->host);
    o->host = NULL;
}

/* Parse url's origin. Returns 0, or -1 with a message in b for a URL that is
 * not usable (bad syntax, scheme other than http/https). */
static int parse_origin(const char *url, struct origin *o, psc_buf *msg, bool *nomem)
{
    memset(o, 0, sizeof *o);
    CURLU *u = curl_url();
    if (!u) {
        *nomem = true;
        return -1;
    }
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        psc_buf_printf(msg, "invalid URL: %s", curl_url_strerror(uc));
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !scheme) {
        psc_buf_printf(msg, "invalid URL: no scheme");
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        psc_buf_printf(msg, "unsupported scheme '");
        psc_buf_append_escaped(msg, scheme, strlen(scheme), 32);
        psc_buf_printf(msg, "': only http and https are allowed");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        psc_buf_printf(msg, "invalid URL: no host");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK || !port) {
        psc_buf_printf(msg, "invalid URL: no port");
        goto out;
    }
    snprintf(o->scheme, sizeof o->scheme, "%s", strcasecmp(scheme, "https") == 0 ? "https" : "http");
    size_t hl = strlen(host);
    o->host = dup_str(host, hl);
    if (!o->host) {
        *nomem = true;
        goto out;
    }
    for (size_t i = 0; i < hl; i++)
        if (o->host[i] >= 'A' && o->host[i] <= 'Z')
            o->host[i] = (char)(o->host[i] - 'A' + 'a');
    o->port = strtol(port, NULL, 10);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static bool same_origin(const struct origin *a, const struct origin *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && a->port == b->port && a->host && b->host &&
           strcmp(a->host, b->host) == 0;
}

/* Header names that carry credentials and must not cross origins. */
static bool is_credential_header(const char *h)
{
    static const char *const names[] = {"authorization", "proxy-authorization", "cookie"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(h, names[i], n) == 0) {
            size_t j = n;
            while (h[j] == ' ' || h[j] == '\t')
                j++;
            if (h[j] == ':')
                return true;
        }
    }
    return false;
}

static bool has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* Validate the options that go into request headers (BAD-INPUTS H6). */
static int check_opts(const psc_fetch_opts *o, psc_buf *msg)
{
    if (o->bearer_token) {
        if (!*o->bearer_token) {
            psc_buf_printf(msg, "empty bearer token");
            return -1;
        }
        for (const unsigned char *p = (const unsigned char *)o->bearer_token; *p; p++) {
            if (*p <= 0x20 || *p >= 0x7f) {
                psc_buf_printf(msg, "invalid character in bearer token");
                return -1;
            }
        }
    }
    if (o->basic_user && (has_crlf(o->basic_user) || strchr(o->basic_user, ':'))) {
        psc_buf_printf(msg, "invalid character in basic auth user name");
        return -1;
    }
    if (o->basic_password && has_crlf(o->basic_password)) {
        psc_buf_printf(msg, "invalid character in basic auth password");
        return -1;
    }
    for (size_t i = 0; i < o->nheaders; i++) {
        const char *h = o->headers[i];
        const char *colon = h ? strchr(h, ':') : NULL;
        if (!h || !colon || colon == h || has_crlf(h)) {
            psc_buf_printf(msg, "invalid header %zu: expected 'Name: value' without CR or LF", i + 1);
            return -1;
        }
        for (const char *p = h; p < colon; p++) {
            unsigned char c = (unsigned char)*p;
            if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c)) {
                psc_buf_printf(msg, "invalid header name in header %zu", i + 1);
                return -1;
            }
        }
    }
    if (o->accept && has_crlf(o->accept)) {
        psc_buf_printf(msg, "invalid character in Accept header");
        return -1;
    }
    if (o->user_agent && has_crlf(o->user_agent)) {
        psc_buf_printf(msg, "invalid character in User-Agent");
        return -1;
    }
    if (o->post_content_type && has_crlf(o->post_content_type)) {
        psc_buf_printf(msg, "invalid character in Content-Type");
        return -1;
    }
    if (o->max_redirects < 0 || o->max_redirects > 20) {
        psc_buf_printf(msg, "max_redirects %d out of range 0..20", o->max_redirects);
        return -1;
    }
    return 0;
}

/* CRC-32 of RFC 1952 section 8 (reflected polynomial 0xEDB88320). */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void tail_push(xfer *x, const unsigned char *p, size_t n)
{
    if (n >= 8) {
        memcpy(x->tail, p + n - 8, 8);
    } else {
        memmove(x->tail, x->tail + n, 8 - n);
        memcpy(x->tail + 8 - n, p, n);
    }
    x->raw_len += n;
}

enum { CK_SIZE, CK_EXT, CK_DATA, CK_DATA_END, CK_DONE };

/* Undo the chunked framing of raw body bytes (RFC 9112 section 7.1) just
 * enough to keep the last 8 payload bytes. libcurl checks the framing
 * itself and fails the transfer when it is malformed. */
static void chunked_feed(xfer *x, const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && x->ck_state != CK_DONE) {
        unsigned char ch = p[i];
        switch (x->ck_state) {
        case CK_SIZE:
            if (ch >= '0' && ch <= '9')
                x->ck_left = x->ck_left * 16 + (ch - '0');
            else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
                x->ck_left = x->ck_left * 16 + ((ch | 0x20) - 'a' + 10);
            else if (ch == '\n')
                x->ck_state = x->ck_left ? CK_DATA : CK_DONE;
            else
                x->ck_state = CK_EXT;
            i++;
            break;
        case CK_EXT:
            if (ch == '\n')
                x->ck_state = x->ck_left ? CK_DATA : CK_DONE;
            i++;
            break;
        case CK_DATA: {
            size_t take = n - i;
            if ((uint64_t)take > x->ck_left)
                take = (size_t)x->ck_left;
            tail_push(x, p + i, take);
            x->ck_left -= take;
            i += take;
            if (x->ck_left == 0)
                x->ck_state = CK_DATA_END;
            break;
        }
        case CK_DATA_END: /* the CRLF after the data */
            if (ch == '\n')
                x->ck_state = CK_SIZE;
            i++;
            break;
        }
    }
}

static int on_debug(CURL *e, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)e;
    xfer *x = ud;
    if (type != CURLINFO_DATA_IN || !x->gzip)
        return 0;
    if (x->chunked)
        chunked_feed(x, (const unsigned char *)data, size);
    else
        tail_push(x, (const unsigned char *)data, size);
    return 0;
}

/* 0 when the gzip member's trailer matches the decoded body. */
static int gzip_trailer_ok(const xfer *x, uint64_t decoded)
{
    if (x->raw_len < 18) /* 10-byte header + empty deflate block + trailer */
        return -1;
    uint32_t crc = (uint32_t)x->tail[0] | (uint32_t)x->tail[1] << 8 | (uint32_t)x->tail[2] << 16 |
                   (uint32_t)x->tail[3] << 24;
    uint32_t isize = (uint32_t)x->tail[4] | (uint32_t)x->tail[5] << 8 | (uint32_t)x->tail[6] << 16 |
                     (uint32_t)x->tail[7] << 24;
    return crc == x->crc && isize == (uint32_t)decoded ? 0 : -1;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    uint64_t max = x->o->max_body_bytes;
    if (max && (uint64_t)x->body.len + n > max) {
        x->over_limit = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (x->body.len + n + 1 > x->body_cap_alloc) {
        size_t want = x->body_cap_alloc ? x->body_cap_alloc * 2 : 16384;
        while (want < x->body.len + n + 1)
            want *= 2;
        if (max && want > max + 1)
            want = (size_t)max + 1;
        char *nb = psc_realloc(x->body.data, want);
        if (!nb) {
            x->nomem = true;
            return 0;
        }
        x->body.data = nb;
        x->body_cap_alloc = want;
        x->body.cap = want;
    }
    memcpy(x->body.data + x->body.len, ptr, n);
    x->body.len += n;
    if (x->gzip)
        x->crc = crc32_update(x->crc, (const unsigned char *)ptr, n);
    x->body.data[x->body.len] = '\0';
    return n;
}

static void trim_crlf(const char **s, size_t *n)
{
    while (*n && ((*s)[*n - 1] == '\r' || (*s)[*n - 1] == '\n' || (*s)[*n - 1] == ' ' ||
                  (*s)[*n - 1] == '\t'))
        (*n)--;
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    x->header_bytes += n;
    if (x->header_bytes > MAX_HEADER_BYTES) {
        x->header_overflow = true;
        return 0;
    }
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        /* A new response (1xx interim, or the final one): reset. */
        const char *s = ptr;
        size_t l = n;
        trim_crlf(&s, &l);
        psc_free(x->status_line);
        psc_free(x->content_type);
        x->content_type = NULL;
        x->content_encoding = x->gzip = x->chunked = false;
        x->status_line = dup_str(s, l);
        if (!x->status_line) {
            x->nomem = true;
            return 0;
        }
        return n;
    }
    const char *colon = memchr(ptr, ':', n);
    if (!colon)
        return n;
    size_t nl = (size_t)(colon - ptr);
    const char *v = colon + 1;
    size_t vl = n - nl - 1;
    trim_crlf(&v, &vl);
    if (nl == 12 && strncasecmp(ptr, "content-type", 12) == 0) {
        psc_free(x->content_type);
        x->content_type = dup_str(v, vl);
        if (!x->content_type) {
            x->nomem = true;
            return 0;
        }
    } else if (nl == 16 && strncasecmp(ptr, "content-encoding", 16) == 0) {
        if (vl && !(vl == 8 && strncasecmp(v, "identity", 8) == 0))
            x->content_encoding = true;
        x->gzip = (vl == 4 && strncasecmp(v, "gzip", 4) == 0) || (vl == 6 && strncasecmp(v, "x-gzip", 6) == 0);
    } else if (nl == 17 && strncasecmp(ptr, "transfer-encoding", 17) == 0) {
        /* chunked is always the last coding (RFC 9112 section 6.1) */
        x->chunked = vl >= 7 && strncasecmp(v + vl - 7, "chunked", 7) == 0;
    }
    return n;
}

static void hop_reset(xfer *x)
{
    x->body.len = 0;
    if (x->body.data)
        x->body.data[0] = '\0';
    x->over_limit = false;
    x->header_bytes = 0;
    x->header_overflow = false;
    psc_free(x->status_line);
    x->status_line = NULL;
    psc_free(x->content_type);
    x->content_type = NULL;
    x->content_encoding = x->gzip = x->chunked = false;
    x->crc = 0;
    x->raw_len = 0;
    x->ck_state = CK_SIZE;
    x->ck_left = 0;
    x->errbuf[0] = '\0';
}

static int build_headers(xfer *x)
{
    const psc_fetch_opts *o = x->o;
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    psc_buf line = {0};
    int rc = -1;
    const char *accept = o->accept ? o->accept : o->scrape ? psc_scrape_accept(o->escaping) : NULL;
    struct curl_slist *t;
#define ADD(str)                                                                                   \
    do {                                                                                           \
        t = curl_slist_append(x->hdrs, (str));                                                     \
        if (!t)                                                                                    \
            goto out;                                                                              \
        x->hdrs = t;                                                                               \
    } while (0)
    if (accept) {
        line.len = 0;
        if (psc_buf_printf(&line, "Accept: %s", accept))
            goto out;
        ADD(line.data);
    }
    if (o->scrape && o->timeout_ms > 0) {
        /* As Prometheus does, so that targets can bound their work. */
        line.len = 0;
        if (psc_buf_printf(&line, "X-Prometheus-Scrape-Timeout-Seconds: %g", (double)o->timeout_ms / 1000.0))
            goto out;
        ADD(line.data);
    }
    if (x->post) {
        line.len = 0;
        if (psc_buf_printf(&line, "Content-Type: %s",
                           o->post_content_type ? o->post_content_type : "application/x-www-form-urlencoded"))
            goto out;
        ADD(line.data);
    }
    for (size_t i = 0; i < o->nheaders; i++) {
        if (!x->creds && is_credential_header(o->headers[i]))
            continue;
        ADD(o->headers[i]);
    }
    if (x->creds && o->bearer_token) {
        line.len = 0;
        if (psc_buf_printf(&line, "Authorization: Bearer %s", o->bearer_token))
            goto out;
        ADD(line.data);
    }
#undef ADD
    rc = 0;
out:
    if (line.data) /* may hold the token: wipe before freeing */
        memset(line.data, 0, line.cap);
    psc_buf_release(&line);
    return rc;
}

/* Configure the easy handle for the hop to x->url. Returns 0, or -1 with a
 * message in msg. */
static int setup_hop(xfer *x, psc_buf *msg)
{
    const psc_fetch_opts *o = x->o;
    CURL *e = x->easy;
    hop_reset(x);
    x->t_hop = now_s();
    if (o->timeout_ms > 0) {
        long left = o->timeout_ms - (long)((x->t_hop - x->t_start) * 1000.0);
        if (left <= 0) {
            psc_buf_printf(msg, "timed out after %g s (redirects included)", (double)o->timeout_ms / 1000.0);
            return -1;
        }
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left);
    }
    if (build_headers(x)) {
        x->nomem = true;
        return -1;
    }
    curl_easy_setopt(e, CURLOPT_URL, x->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    /* Credentials only for the requested origin (F14). URL userinfo is part
     * of a redirect's own Location is libcurl's to use. */
    if (x->creds && (o->basic_user || x->url_user)) {
        const char *user = o->basic_user ? o->basic_user : x->url_user;
        const char *pass = o->basic_user ? (o->basic_password ? o->basic_password : "") : x->url_pass;
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, pass);
    } else {
        curl_easy_setopt(e, CURLOPT_USERNAME, NULL);
        curl_easy_setopt(e, CURLOPT_PASSWORD, NULL);
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    }
    if (x->post) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->post_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, o->post_body);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    return 0;
}

static int setup_easy(xfer *x)
{
    const psc_fetch_opts *o = x->o;
    CURL *e = curl_easy_init();
    if (!e)
        return -1;
    x->easy = e;
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    curl_easy_setopt(e, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)x);
    /* The raw body for the gzip trailer check; the debug callback only
     * runs in verbose mode, and prints nothing. */
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, (void *)x);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    if (o->connect_timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    if (o->low_speed_limit > 0 && o->low_speed_time_s > 0) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
    }
    /* Only the encodings asked for are decoded; an unrequested encoding
     * that libcurl cannot decode fails the transfer (F3, F4). */
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, o->gzip ? "gzip" : "identity");
    curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent ? o->user_agent : "promscope/" PSC_VERSION);
    if (o->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
    if (o->cert_file)
        curl_easy_setopt(e, CURLOPT_SSLCERT, o->cert_file);
    if (o->key_file)
        curl_easy_setopt(e, CURLOPT_SSLKEY, o->key_file);
    if (o->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return 0;
}

static const char *human_size(uint64_t n, char *buf, size_t cap)
{
    if (n && n % (1u << 30) == 0)
        snprintf(buf, cap, "%llu GiB", (unsigned long long)(n >> 30));
    else if (n && n % (1u << 20) == 0)
        snprintf(buf, cap, "%llu MiB", (unsigned long long)(n >> 20));
    else if (n && n % 1024 == 0)
        snprintf(buf, cap, "%llu KiB", (unsigned long long)(n >> 10));
    else
        snprintf(buf, cap, "%llu bytes", (unsigned long long)n);
    return buf;
}

static bool starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* The message of a failed transfer (code != CURLE_OK). */
static psc_status describe_curl_error(xfer *x, CURLcode code, psc_buf *m)
{
    const psc_fetch_opts *o = x->o;
    const char *eb = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
    char sz[64];
    if (x->nomem)
        return PSC_E_NOMEM;
    if (x->over_limit) {
        psc_buf_printf(m, "response exceeds %s after decompression",
                       human_size(o->max_body_bytes, sz, sizeof sz));
        return PSC_E_NET;
    }
    if (x->header_overflow) {
        psc_buf_printf(m, "response headers exceed %u KiB", MAX_HEADER_BYTES / 1024);
        return PSC_E_NET;
    }
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connect_us = 0;
        curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
        if (starts_with(eb, "Operation too slow")) {
            psc_buf_printf(m, "transfer too slow: less than %ld bytes/s for %ld s (received %zu bytes)",
                           o->low_speed_limit, o->low_speed_time_s, x->body.len);
        } else if (connect_us == 0 && x->body.len == 0 && !x->status_line) {
            psc_buf_printf(m, "connection timed out: ");
            psc_buf_append_escaped(m, eb, strlen(eb), 200);
        } else {
            psc_buf_printf(m, "timed out after %g s (received %zu bytes)", (double)o->timeout_ms / 1000.0,
                           x->body.len);
        }
        return PSC_E_NET;
    }
    case CURLE_PARTIAL_FILE:
        psc_buf_printf(m, "truncated response: ");
        break;
    case CURLE_BAD_CONTENT_ENCODING:
        psc_buf_printf(m, "cannot decode the response body: ");
        break;
    case CURLE_FILESIZE_EXCEEDED:
        psc_buf_printf(m, "response exceeds %s", human_size(o->max_body_bytes, sz, sizeof sz));
        return PSC_E_NET;
    case CURLE_UNSUPPORTED_PROTOCOL:
        psc_buf_printf(m, "unsupported protocol: ");
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        psc_buf_printf(m, "cannot resolve host: ");
        break;
    case CURLE_COULDNT_CONNECT:
        psc_buf_printf(m, "cannot connect: ");
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        psc_buf_printf(m, "TLS error: ");
        break;
    case CURLE_GOT_NOTHING:
        psc_buf_printf(m, "empty reply from server");
        return PSC_E_NET;
    case CURLE_OUT_OF_MEMORY:
        return PSC_E_NOMEM;
    default:
        break;
    }
    /* curl's own text, control characters escaped, URLs redacted. */
    psc_buf tmp = {0};
    if (append_redacted(&tmp, eb) == 0)
        psc_buf_append_escaped(m, tmp.data, tmp.len, 300);
    psc_buf_release(&tmp);
    return PSC_E_NET;
}

/* Format the final result of x. */
static void finish(xfer *x, psc_status st, psc_buf *msg)
{
    psc_fetch_result *r = x->res;
    const psc_fetch_opts *o = x->o;
    double t_end = now_s();
    r->total_s = t_end - x->t_start;
    if (x->easy) {
        char *eff = NULL;
        curl_off_t size = 0, ttfb_us = 0;
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &size);
        curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &ttfb_us);
        if (curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
            r->effective_url = dup_redacted(eff);
        r->http_status = code;
        r->bytes_compressed = (uint64_t)size;
        if (ttfb_us > 0)
            r->ttfb_s = (x->t_hop - x->t_start) + (double)ttfb_us / 1e6;
    }
    if (!r->effective_url && x->url)
        r->effective_url = dup_redacted(x->url);
    r->bytes_uncompressed = x->body.len;
    r->status_line = x->status_line;
    x->status_line = NULL;
    r->content_type = x->content_type;
    x->content_type = NULL;
    if (x->body.len) {
        r->body = x->body.data;
        r->body_len = x->body.len;
        x->body.data = NULL;
        x->body.len = x->body.cap = x->body_cap_alloc = 0;
    }
    r->gzip_magic_unencoded = r->body_len >= 2 && (unsigned char)r->body[0] == 0x1f &&
                              (unsigned char)r->body[1] == 0x8b && !x->content_encoding;

    if (st == PSC_OK && r->http_status == 200 && x->gzip && gzip_trailer_ok(x, r->bytes_uncompressed) != 0) {
        /* Never take partial data for a success (F3). */
        st = PSC_E_NET;
        psc_buf_printf(msg, "gzip body is truncated or corrupt: its trailer does not match the %llu decoded bytes",
                       (unsigned long long)r->bytes_uncompressed);
    }

    if (st == PSC_OK && r->http_status != 200) {
        st = PSC_E_HTTP;
        /* "HTTP 500 Internal Server Error": the code and reason phrase of
         * the status line, without the protocol version. */
        const char *reason = r->status_line ? strchr(r->status_line, ' ') : NULL;
        if (reason) {
            while (*reason == ' ')
                reason++;
            psc_buf_printf(msg, "HTTP ");
            psc_buf_append_escaped(msg, reason, strlen(reason), 200);
        } else {
            psc_buf_printf(msg, "HTTP %ld", r->http_status);
        }
        if (r->http_status >= 300 && r->http_status < 400 && o->max_redirects == 0)
            psc_buf_printf(msg, " (redirects are disabled)");
        if (r->body_len) {
            psc_buf_printf(msg, ": ");
            psc_buf_append_escaped(msg, r->body, r->body_len, SNIPPET_BYTES);
        }
    }
    if (st == PSC_OK && o->scrape) {
        if (r->gzip_magic_unencoded) {
            st = PSC_E_UNSUPPORTED;
            psc_buf_printf(msg, "body looks gzip-compressed but Content-Encoding is missing");
        } else {
            psc_format f = PSC_FORMAT_AUTO;
            if (r->content_type) {
                f = psc_format_from_content_type(r->content_type, strlen(r->content_type));
                /* OpenMetrics 0.0.1 is the pre-1.0 name of the same text
                 * format; Prometheus 3 still asks for it. */
                if (f == PSC_FORMAT_AUTO && strncasecmp(r->content_type, "application/openmetrics-text", 28) == 0) {
                    const char *rest = r->content_type + 28;
                    while (*rest == ' ' || *rest == '\t')
                        rest++;
                    if (*rest == '\0' || *rest == ';') {
                        const char *v = strstr(rest, "version=");
                        if (!v || starts_with(v + 8, "0.0.1") || starts_with(v + 8, "\"0.0.1\""))
                            f = PSC_FORMAT_OPENMETRICS_1_0;
                    }
                }
            }
            if (f == PSC_FORMAT_AUTO) {
                if (o->fallback_format != PSC_FORMAT_AUTO) {
                    f = o->fallback_format;
                    r->format_fallback = true;
                } else {
                    st = PSC_E_UNSUPPORTED;
                    if (r->content_type) {
                        psc_buf_printf(msg, "unsupported Content-Type '");
                        psc_buf_append_escaped(msg, r->content_type, strlen(r->content_type), 100);
                        psc_buf_printf(msg, "'");
                    } else {
                        psc_buf_printf(msg, "response has no Content-Type");
                    }
                    psc_buf_printf(msg, " (give a fallback format with --format)");
                }
            }
            r->format = f;
        }
    }
    if (st != PSC_OK && r->redirects > 0 && r->effective_url) {
        psc_buf_printf(msg, " (after %d redirect%s, at ", r->redirects, r->redirects == 1 ? "" : "s");
        psc_buf_append_escaped(msg, r->effective_url, strlen(r->effective_url), 300);
        psc_buf_printf(msg, ")");
    }
    r->status = st;
    if (st == PSC_E_NOMEM) {
        psc_buf_release(msg);
        r->error = dup_str("out of memory", 13);
    } else if (st != PSC_OK) {
        if (!msg->data)
            psc_buf_printf(msg, "%s", psc_status_name(st));
        r->error = msg->data;
        msg->data = NULL;
        msg->len = msg->cap = 0;
        if (!r->error) { /* not even the message could be allocated */
            st = PSC_E_NOMEM;
            r->status = st;
        }
    }
    psc_buf_release(msg);
    x->done = true;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        psc_free(s);
    }
}

/* Move the userinfo of x->url into x->url_user/x->url_pass, so that it is
 * sent as basic auth to the requested origin only (F14, F19). 0, or -1 when
 * out of memory. */
static int take_userinfo(xfer *x)
{
    CURLU *u = curl_url();
    if (!u)
        return -1;
    int rc = 0;
    char *user = NULL, *pass = NULL, *rest = NULL;
    if (curl_url_set(u, CURLUPART_URL, x->url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE) == CURLUE_OK && user) {
        curl_url_get(u, CURLUPART_PASSWORD, &pass, CURLU_URLDECODE);
        x->url_user = dup_str(user, strlen(user));
        x->url_pass = dup_str(pass ? pass : "", pass ? strlen(pass) : 0);
        if (!x->url_user || !x->url_pass)
            rc = -1;
        curl_url_set(u, CURLUPART_USER, NULL, 0);
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
        if (rc == 0 && curl_url_get(u, CURLUPART_URL, &rest, 0) == CURLUE_OK && rest) {
            char *nu = dup_str(rest, strlen(rest));
            if (nu) {
                wipe_free(x->url);
                x->url = nu;
            } else {
                rc = -1;
            }
        }
    }
    if (user) {
        memset(user, 0, strlen(user));
        curl_free(user);
    }
    if (pass) {
        memset(pass, 0, strlen(pass));
        curl_free(pass);
    }
    curl_free(rest);
    curl_url_cleanup(u);
    return rc;
}

static void xfer_release(xfer *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    x->easy = NULL;
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    psc_free(x->url);
    x->url = NULL;
    wipe_free(x->url_user);
    x->url_user = NULL;
    wipe_free(x->url_pass);
    x->url_pass = NULL;
    origin_release(&x->first);
    psc_free(x->body.data);
    x->body.data = NULL;
    psc_free(x->status_line);
    x->status_line = NULL;
    psc_free(x->content_type);
    x->content_type = NULL;
}

/* Prepare x for url. Returns 0 when the first hop is ready to be added,
 * -1 when x is already finished (bad URL, ...). */
static int xfer_start(xfer *x, const char *url)
{
    psc_fetch_result *r = x->res;
    psc_buf msg = {0};
    memset(r, 0, sizeof *r);
    x->t_start = x->t_hop = now_s();
    r->url = dup_redacted(url);
    x->url = dup_str(url, strlen(url));
    if (!r->url || !x->url) {
        x->nomem = true;
        finish(x, PSC_E_NOMEM, &msg);
        return -1;
    }
    if (check_opts(x->o, &msg)) {
        finish(x, PSC_E_ARG, &msg);
        return -1;
    }
    if (parse_origin(url, &x->first, &msg, &x->nomem)) {
        finish(x, x->nomem ? PSC_E_NOMEM : PSC_E_ARG, &msg);
        return -1;
    }
    if (take_userinfo(x)) {
        finish(x, PSC_E_NOMEM, &msg);
        return -1;
    }
    x->creds = true;
    x->secure_seen = strcmp(x->first.scheme, "https") == 0;
    x->post = x->o->post_body != NULL;
    if (setup_easy(x)) {
        finish(x, PSC_E_NOMEM, &msg);
        return -1;
    }
    if (setup_hop(x, &msg)) {
        finish(x, x->nomem ? PSC_E_NOMEM : PSC_E_NET, &msg);
        return -1;
    }
    return 0;
}

/* A hop finished with CURLE_OK and a 3xx: decide whether to follow.
 * Returns 1 when the next hop is set up, 0 when the 3xx is the final answer
 * (redirects disabled or no Location), -1 when finished with an error. */
static int xfer_redirect(xfer *x)
{
    psc_fetch_result *r = x->res;
    const psc_fetch_opts *o = x->o;
    long code = 0;
    char *loc = NULL;
    psc_buf msg = {0};
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
        return 0;
    if (o->max_redirects == 0)
        return 0;
    if (curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc) {
        /* libcurl leaves REDIRECT_URL empty for a Location it cannot use
         * in a URL of a scheme it does not know. */
        psc_buf_printf(&msg, "redirect without a usable Location (HTTP %ld)", code);
        finish(x, PSC_E_NET, &msg);
        return -1;
    }
    if (r->redirects >= o->max_redirects) {
        psc_buf_printf(&msg, "too many redirects (%d)", o->max_redirects);
        finish(x, PSC_E_NET, &msg);
        return -1;
    }
    struct origin next;
    psc_buf why = {0};
    if (parse_origin(loc, &next, &why, &x->nomem)) {
        if (x->nomem) {
            psc_buf_release(&why);
            finish(x, PSC_E_NOMEM, &msg);
            return -1;
        }
        psc_buf_printf(&msg, "redirect to a disallowed URL '");
        psc_buf tmp = {0};
        append_redacted(&tmp, loc);
        if (tmp.data)
            psc_buf_append_escaped(&msg, tmp.data, tmp.len, 200);
        psc_buf_release(&tmp);
        psc_buf_printf(&msg, "': %s", why.data ? why.data : "invalid");
        psc_buf_release(&why);
        finish(x, PSC_E_NET, &msg);
        return -1;
    }
    psc_buf_release(&why);
    if (x->secure_seen && strcmp(next.scheme, "http") == 0) {
        char *red = dup_redacted(loc);
        psc_buf_printf(&msg, "redirect from https to http refused ('");
        if (red)
            psc_buf_append_escaped(&msg, red, strlen(red), 200);
        psc_buf_printf(&msg, "')");
        psc_free(red);
        origin_release(&next);
        finish(x, PSC_E_NET, &msg);
        return -1;
    }
    if (strcmp(next.scheme, "https") == 0)
        x->secure_seen = true;
    x->creds = same_origin(&x->first, &next);
    origin_release(&next);
    char *nu = dup_str(loc, strlen(loc));
    if (!nu) {
        finish(x, PSC_E_NOMEM, &msg);
        return -1;
    }
    psc_free(x->url);
    x->url = nu;
    r->redirects++;
    if (x->post && code != 307 && code != 308)
        x->post = false; /* 301/302/303: the next request is a GET */
    if (setup_hop(x, &msg)) {
        finish(x, x->nomem ? PSC_E_NOMEM : PSC_E_NET, &msg);
        return -1;
    }
    return 1;
}

/* ---- the multi loop ---- */

/* psc_fetch_many() keeps the network busy while the caller works on
 * results: a finished transfer goes to a queue, the transfers that replace
 * it are started (and curl_multi_perform() has sent their connects) before
 * it is handed to on_done, and curl_multi_perform() runs again between two
 * callbacks. Handing each result over as soon as it finished would leave
 * every slot of a batch that finished together idle until the callbacks of
 * the whole batch (a parse each, for `promscope scrape --summary`) had run.
 * No transfer starts while 2 x parallel targets are in flight or waiting in
 * the queue: with on_done releasing bodies, at most that many bodies are in
 * memory. */
typedef struct many {
    CURLM *m;
    xfer *xs;
    const char *const *urls;
    const psc_fetch_opts *opts;
    psc_fetch_result *results;
    size_t n, parallel;
    size_t next;         /* index of the next transfer to start */
    size_t running;      /* transfers in the multi handle */
    size_t finished;     /* transfers finished (queued or handed over) */
    size_t *queue;       /* indexes in completion order; one entry per index */
    size_t qhead, qtail; /* queue[qhead..qtail): finished, not handed over yet */
} many;

static void many_finished(many *s, xfer *x)
{
    xfer_release(x);
    s->finished++;
    s->queue[s->qtail++] = x->index;
}

static bool many_can_start(const many *s)
{
    return s->next < s->n && s->running < s->parallel && s->running + (s->qtail - s->qhead) < 2 * s->parallel;
}

/* Start transfers up to the parallelism limit, in index order. */
static void many_fill(many *s)
{
    while (many_can_start(s)) {
        xfer *x = &s->xs[s->next];
        x->o = s->opts;
        x->res = &s->results[s->next];
        x->index = s->next;
        s->next++;
        if (xfer_start(x, s->urls[x->index]) == 0 && curl_multi_add_handle(s->m, x->easy) == CURLM_OK) {
            s->running++;
        } else {
            if (!x->done) {
                psc_buf msg = {0};
                finish(x, PSC_E_NOMEM, &msg);
            }
            many_finished(s, x);
        }
    }
}

/* Queue the transfers libcurl reports as done; follow redirects. */
static void many_collect(many *s)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode code = msg->data.result;
        char *pv = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, &pv);
        xfer *x = (xfer *)(void *)pv;
        curl_multi_remove_handle(s->m, e);
        if (code == CURLE_OK) {
            int follow = xfer_redirect(x);
            if (follow == 1) {
                if (curl_multi_add_handle(s->m, e) == CURLM_OK)
                    continue;
                psc_buf b = {0};
                finish(x, PSC_E_NOMEM, &b);
            } else if (follow == 0) {
                psc_buf b = {0};
                finish(x, PSC_OK, &b);
            }
        } else {
            psc_buf b = {0};
            psc_status st = describe_curl_error(x, code, &b);
            finish(x, st, &b);
        }
        s->running--;
        many_finished(s, x);
    }
}

psc_status psc_fetch_many(const char *const *urls, size_t n, const psc_fetch_opts *opts, size_t parallel,
                          psc_fetch_result *results, psc_fetch_done_fn on_done, psc_fetch_progress_fn on_progress,
                          void *ctx)
{
    psc_fetch_opts defaults;
    if (!opts) {
        psc_fetch_opts_init(&defaults);
        opts = &defaults;
    }
    if (parallel == 0)
        parallel = PSC_FETCH_DEFAULT_PARALLEL;
    if (n == 0)
        return PSC_OK;

    psc_error gerr = {0};
    many s = {.urls = urls, .opts = opts, .results = results, .n = n, .parallel = parallel};
    s.xs = psc_calloc(n, sizeof *s.xs);
    s.queue = psc_calloc(n, sizeof *s.queue);
    psc_status gst = psc_fetch_global_init(&gerr);
    if (gst == PSC_OK && (!s.xs || !s.queue))
        gst = PSC_E_NOMEM;
    if (gst == PSC_OK && !(s.m = curl_multi_init()))
        gst = PSC_E_NOMEM;
    if (gst != PSC_OK) {
        for (size_t i = 0; i < n; i++) {
            memset(&results[i], 0, sizeof results[i]);
            results[i].status = gst;
            results[i].url = dup_redacted(urls[i]);
            results[i].error = gst == PSC_E_NOMEM ? dup_str("out of memory", 13)
                                                  : dup_str(gerr.message, strlen(gerr.message));
            if (on_done)
                on_done(ctx, i, &results[i]);
        }
        psc_free(s.xs);
        psc_free(s.queue);
        if (s.m)
            curl_multi_cleanup(s.m);
        return gst;
    }

    double last_progress = 0;
    while (s.qhead < n) {
        size_t started = s.next, finished = s.finished;
        many_fill(&s);
        if (s.running > 0) {
            int still = 0;
            curl_multi_perform(s.m, &still);
            many_collect(&s);
        }
        if (on_progress && (s.next != started || s.finished != finished)) {
            on_progress(ctx, s.finished, n, s.running);
            last_progress = now_s();
        }
        /* Replacements first: back to many_fill() and curl_multi_perform(). */
        if (many_can_start(&s))
            continue;
        if (s.qhead < s.qtail) {
            /* One callback, then libcurl's work again (without a callback
             * the whole queue goes at once). */
            do {
                size_t i = s.queue[s.qhead++];
                if (on_done)
                    on_done(ctx, i, &results[i]);
            } while (!on_done && s.qhead < s.qtail);
            continue;
        }
        if (s.running > 0) {
            curl_multi_poll(s.m, NULL, 0, 250, NULL);
            if (on_progress && now_s() - last_progress >= 0.25) {
                on_progress(ctx, s.finished, n, s.running);
                last_progress = now_s();
            }
        }
    }
    curl_multi_cleanup(s.m);
    psc_free(s.xs);
    psc_free(s.queue);
    for (size_t i = 0; i < n; i++)
        if (results[i].status != PSC_OK)
            return results[i].status;
    return PSC_OK;
}

psc_status psc_fetch(const char *url, const psc_fetch_opts *opts, psc_fetch_result *res, psc_error *err)
{
    const char *urls[1] = {url};
    psc_status st = psc_fetch_many(urls, 1, opts, 1, res, NULL, NULL, NULL);
    if (st != PSC_OK && err && err->status == PSC_OK && err->code == PSC_C_NONE) {
        err->status = st;
        err->code = st == PSC_E_NOMEM ? PSC_C_NOMEM : PSC_C_IO;
        snprintf(err->message, sizeof err->message, "%s", res->error ? res->error : psc_status_name(st));
    }
    return st;
}
