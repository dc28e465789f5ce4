/*
 * The Prometheus HTTP API client: builds requests (GET, or a form-encoded
 * POST for long parameters, api.md "Instant queries"), runs them through
 * psc_fetch() (scrape.h: timeouts, size cap, auth, TLS, redirects) and
 * decodes the answer with psc_api_decode().
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "promapi/internal.h"
#include "promscope/promapi.h"
#include "promscope/scrape.h"
#include "util/alloc.h"
#include "util/buf.h"

struct psc_api_client {
    char *base;         /* without trailing '/' */
    char *redacted;     /* for messages */
    psc_fetch_opts fetch;
};

static char *dupstr(const char *s, size_t n)
{
    char *p = psc_malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

psc_status psc_api_client_new(const char *base_url, const struct psc_fetch_opts *fetch, psc_api_client **out,
                              psc_error *err)
{
    *out = NULL;
    if (!base_url)
        return psc_api_set_error(err, PSC_E_ARG, "no server URL");
    size_t n = strlen(base_url);
    char esc[160];
    if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0) {
        char red[256];
        psc_url_redact(base_url, red, sizeof red);
        return psc_api_set_error(err, PSC_E_ARG, "server URL '%s' is not http:// or https://",
                                 psc_api_escape(esc, sizeof esc, red, strlen(red), 100));
    }
    if (strpbrk(base_url, "?#") || strpbrk(base_url, "\r\n\t ")) {
        char red[256];
        psc_url_redact(base_url, red, sizeof red);
        return psc_api_set_error(err, PSC_E_ARG, "server URL '%s' must not contain a query, fragment or spaces",
                                 psc_api_escape(esc, sizeof esc, red, strlen(red), 100));
    }
    while (n > 8 && base_url[n - 1] == '/')
        n--;
    psc_api_client *c = psc_calloc(1, sizeof *c);
    if (!c)
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory");
    c->base = dupstr(base_url, n);
    size_t rn = c->base ? psc_url_redact(c->base, NULL, 0) : 0;
    c->redacted = c->base ? psc_malloc(rn + 1) : NULL;
    if (!c->base || !c->redacted) {
        psc_api_client_free(c);
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory");
    }
    psc_url_redact(c->base, c->redacted, rn + 1);
    if (fetch)
        c->fetch = *fetch;
    else
        psc_fetch_opts_init(&c->fetch);
    c->fetch.scrape = false;
    c->fetch.post_body = NULL;
    c->fetch.post_len = 0;
    c->fetch.post_content_type = NULL;
    if (!c->fetch.accept)
        c->fetch.accept = "application/json";
    psc_api_json_init();
    *out = c;
    return PSC_OK;
}

void psc_api_client_free(psc_api_client *c)
{
    if (!c)
        return;
    psc_free(c->base);
    psc_free(c->redacted);
    psc_free(c);
}

const char *psc_api_client_url(const psc_api_client *c)
{
    return c->redacted;
}

/* ---- request building ---- */

/* application/x-www-form-urlencoded (unreserved characters of RFC 3986
 * kept, everything else %XX). */
static int put_encoded(psc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (psc_buf_reserve(b, n * 3))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            b->data[b->len++] = (char)c;
        } else {
            b->data[b->len++] = '%';
            b->data[b->len++] = hex[c >> 4];
            b->data[b->len++] = hex[c & 15];
        }
    }
    b->data[b->len] = '\0';
    return 0;
}

static int add_param(psc_buf *b, const char *name, const char *value, size_t vlen)
{
    if (b->len && psc_buf_putc(b, '&'))
        return -1;
    if (put_encoded(b, name, strlen(name)) || psc_buf_putc(b, '='))
        return -1;
    return put_encoded(b, value, vlen);
}

static int add_str(psc_buf *b, const char *name, const char *value)
{
    return add_param(b, name, value, strlen(value));
}

/* Seconds as decimal text with millisecond precision, independent of the
 * locale. */
static int add_time(psc_buf *b, const char *name, double t)
{
    char tmp[48];
    double ms = round(t * 1000.0);
    if (!isfinite(ms) || fabs(ms) > 9.0e18)
        return -2;
    long long v = (long long)ms;
    const char *sign = v < 0 ? "-" : "";
    unsigned long long a = v < 0 ? (unsigned long long)(-(v + 1)) + 1 : (unsigned long long)v;
    if (a % 1000) {
        snprintf(tmp, sizeof tmp, "%s%llu.%03llu", sign, a / 1000, a % 1000);
        size_t n = strlen(tmp);
        while (tmp[n - 1] == '0')
            tmp[--n] = '\0';
    } else
        snprintf(tmp, sizeof tmp, "%s%llu", sign, a / 1000);
    return add_str(b, name, tmp);
}

static int add_u64(psc_buf *b, const char *name, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    return add_str(b, name, tmp);
}

static int add_query_opts(psc_buf *b, const psc_api_query_opts *o)
{
    if (!o)
        return 0;
    if (o->timeout && add_str(b, "timeout", o->timeout))
        return -1;
    if (o->limit && add_u64(b, "limit", o->limit))
        return -1;
    if (o->stats && add_str(b, "stats", "all"))
        return -1;
    if (o->lookback_delta && add_str(b, "lookback_delta", o->lookback_delta))
        return -1;
    return 0;
}

static int add_select(psc_buf *b, const psc_api_select *s)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < s->nmatchers; i++)
        if (add_str(b, "match[]", s->matchers[i]))
            return -1;
    int r;
    if (!isnan(s->start) && (r = add_time(b, "start", s->start)))
        return r;
    if (!isnan(s->end) && (r = add_time(b, "end", s->end)))
        return r;
    if (s->limit && add_u64(b, "limit", s->limit))
        return -1;
    return 0;
}

/* Run one request: path (already encoded) + params; POST allowed for the
 * endpoints that accept it. */
static psc_status run(psc_api_client *c, psc_api_endpoint ep, const char *path, psc_buf *params,
                      bool post_ok, psc_api_response *out, psc_error *err)
{
    psc_buf url = {0};
    bool post = post_ok && params->len > PSC_API_GET_MAX;
    if (psc_buf_printf(&url, "%s%s", c->base, path) ||
        (!post && params->len && (psc_buf_putc(&url, '?') || psc_buf_append(&url, params->data, params->len)))) {
        psc_buf_release(&url);
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory");
    }
    psc_fetch_opts fo = c->fetch;
    if (post) {
        fo.post_body = params->data;
        fo.post_len = params->len;
        fo.post_content_type = "application/x-www-form-urlencoded";
    }
    psc_fetch_result res;
    psc_status st = psc_fetch(url.data, &fo, &res, NULL);
    psc_buf_release(&url);
    if (err && err->status == PSC_OK)
        err->source = c->redacted;

    if (st == PSC_OK || (st == PSC_E_HTTP && res.body)) {
        psc_error derr;
        psc_error_clear(&derr);
        psc_status ds = psc_api_decode(ep, res.body, res.body_len, (int)res.http_status, out, &derr);
        if (ds == PSC_E_HTTP && st == PSC_E_HTTP) {
            /* Not an API answer: the fetch layer's message has the status
             * line and an escaped snippet (BAD-INPUTS G9, F9). */
            psc_api_set_error(err, PSC_E_HTTP, "%s", res.error ? res.error : derr.message);
        } else if (ds != PSC_OK && err && err->status == PSC_OK) {
            const char *src = err->source;
            *err = derr;
            err->source = src;
        }
        psc_fetch_result_release(&res);
        return ds;
    }
    memset(out, 0, sizeof *out);
    out->endpoint = ep;
    out->http_status = (int)res.http_status;
    const char *msg = res.error ? res.error : psc_status_name(st);
    if (st == PSC_E_NET && res.error && (strstr(res.error, "exceed") || strstr(res.error, "max-size")))
        psc_api_set_error(err, st, "%s; narrow the query or pass --limit", msg);
    else
        psc_api_set_error(err, st, "%s", msg);
    psc_fetch_result_release(&res);
    return st;
}

static psc_status finish(psc_api_client *c, psc_api_endpoint ep, const char *path, psc_buf *p, int rc,
                         bool post_ok, psc_api_response *out, psc_error *err)
{
    memset(out, 0, sizeof *out);
    out->endpoint = ep;
    if (rc) {
        psc_buf_release(p);
        if (rc == -2)
            return psc_api_set_error(err, PSC_E_ARG, "time out of range");
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory");
    }
    if (!p->data && psc_buf_reserve(p, 0))
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory");
    psc_status st = run(c, ep, path, p, post_ok, out, err);
    psc_buf_release(p);
    return st;
}

psc_status psc_api_query(psc_api_client *c, const char *expr, double time, const psc_api_query_opts *opts,
                         psc_api_response *out, psc_error *err)
{
    psc_buf p = {0};
    int rc = add_str(&p, "query", expr);
    if (!rc && !isnan(time))
        rc = add_time(&p, "time", time);
    if (!rc)
        rc = add_query_opts(&p, opts);
    return finish(c, PSC_API_QUERY, "/api/v1/query", &p, rc, true, out, err);
}

psc_status psc_api_query_range(psc_api_client *c, const char *expr, double start, double end, double step,
                               const psc_api_query_opts *opts, psc_api_response *out, psc_error *err)
{
    memset(out, 0, sizeof *out);
    if (!(step > 0) || !(end >= start))
        return psc_api_set_error(err, PSC_E_ARG, "invalid range: end before start or step not positive");
    psc_buf p = {0};
    int rc = add_str(&p, "query", expr);
    if (!rc)
        rc = add_time(&p, "start", start);
    if (!rc)
        rc = add_time(&p, "end", end);
    if (!rc)
        rc = add_time(&p, "step", step);
    if (!rc)
        rc = add_query_opts(&p, opts);
    return finish(c, PSC_API_QUERY_RANGE, "/api/v1/query_range", &p, rc, true, out, err);
}

psc_status psc_api_series_get(psc_api_client *c, const psc_api_select *sel, psc_api_response *out, psc_error *err)
{
    memset(out, 0, sizeof *out);
    if (!sel || sel->nmatchers == 0)
        return psc_api_set_error(err, PSC_E_ARG, "at least one series selector is needed");
    psc_buf p = {0};
    int rc = add_select(&p, sel);
    return finish(c, PSC_API_SERIES, "/api/v1/series", &p, rc, true, out, err);
}

psc_status psc_api_labels_get(psc_api_client *c, const psc_api_select *sel, psc_api_response *out, psc_error *err)
{
    psc_buf p = {0};
    int rc = add_select(&p, sel);
    return finish(c, PSC_API_LABELS, "/api/v1/labels", &p, rc, true, out, err);
}

psc_status psc_api_label_values_get(psc_api_client *c, const char *name, const psc_api_select *sel,
                                psc_api_response *out, psc_error *err)
{
    memset(out, 0, sizeof *out);
    psc_buf path = {0};
    if (!name || !*name)
        return psc_api_set_error(err, PSC_E_ARG, "empty label name");
    if (psc_buf_append(&path, "/api/v1/label/", 14) || put_encoded(&path, name, strlen(name)) ||
        psc_buf_append(&path, "/values", 7)) {
        psc_buf_release(&path);
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory");
    }
    psc_buf p = {0};
    int rc = add_select(&p, sel);
    psc_status st = finish(c, PSC_API_LABEL_VALUES, path.data, &p, rc, false, out, err);
    psc_buf_release(&path);
    return st;
}

psc_status psc_api_metadata_get(psc_api_client *c, const char *metric, uint64_t limit, psc_api_response *out,
                                psc_error *err)
{
    psc_buf p = {0};
    int rc = 0;
    if (metric)
        rc = add_str(&p, "metric", metric);
    if (!rc && limit)
        rc = add_u64(&p, "limit", limit);
    return finish(c, PSC_API_METADATA, "/api/v1/metadata", &p, rc, false, out, err);
}

psc_status psc_api_targets_get(psc_api_client *c, psc_api_response *out, psc_error *err)
{
    psc_buf p = {0};
    int rc = add_str(&p, "state", "active");
    return finish(c, PSC_API_TARGETS, "/api/v1/targets", &p, rc, false, out, err);
}

psc_status psc_api_tsdb_status_get(psc_api_client *c, uint64_t limit, psc_api_response *out, psc_error *err)
{
    psc_buf p = {0};
    /* limit= for Prometheus, topN= for VictoriaMetrics; each ignores the other. */
    int rc = limit ? add_u64(&p, "limit", limit) || add_u64(&p, "topN", limit) : 0;
    return finish(c, PSC_API_TSDB_STATUS, "/api/v1/status/tsdb", &p, rc, false, out, err);
}

psc_status psc_api_buildinfo_get(psc_api_client *c, psc_api_response *out, psc_error *err)
{
    psc_buf p = {0};
    return finish(c, PSC_API_BUILDINFO, "/api/v1/status/buildinfo", &p, 0, false, out, err);
}
