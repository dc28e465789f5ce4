/*
 * Decoding of Prometheus HTTP API answers (prometheus docs/querying/api.md)
 * into psc_api_response. jansson builds the tree (its parser bounds the
 * depth at 2048, BAD-INPUTS G1); our walkers follow the schema, so they never
 * go deeper than the API's own depth (6). Every field is type-checked before
 * use and every failure names its JSON path (BAD-INPUTS G3/G4).
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promapi/internal.h"
#include "promscope/promapi.h"
#include "util/alloc.h"
#include "util/arena.h"

/* ---- shared helpers ---- */

psc_status psc_api_set_error(psc_error *err, psc_status status, const char *fmt, ...)
{
    if (!err || err->status != PSC_OK)
        return status;
    err->status = status;
    err->code = PSC_C_NONE;
    err->offset = err->line = err->column = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}

static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t l = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!l || l > n)
        return 0;
    for (size_t i = 1; i < l; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] >= 0x90) || (c == 0xc2 && p[1] < 0xa0))
        return 0; /* overlong, surrogate, > U+10FFFF, C1 control */
    return l;
}

char *psc_api_escape(char *dst, size_t cap, const char *s, size_t n, size_t max)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    if (cap == 0)
        return dst;
    size_t lim = n > max ? max : n;
    for (size_t i = 0; i < lim;) {
        char tmp[8];
        size_t tl;
        unsigned c = p[i];
        size_t adv = 1;
        if (c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            tl = 2;
        } else if (c == '\n') {
            memcpy(tmp, "\\n", 2);
            tl = 2;
        } else if (c == '\t') {
            memcpy(tmp, "\\t", 2);
            tl = 2;
        } else if (c == '\r') {
            memcpy(tmp, "\\r", 2);
            tl = 2;
        } else if (c < 0x20 || c == 0x7f) {
            tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", c);
        } else if (c < 0x80) {
            tmp[0] = (char)c;
            tl = 1;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (!l) {
                tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", c);
            } else {
                memcpy(tmp, p + i, l);
                tl = l;
                adv = l;
            }
        }
        if (o + tl + 4 > cap) {
            lim = 0; /* out of room: mark truncation */
            n = 1;
            break;
        }
        memcpy(dst + o, tmp, tl);
        o += tl;
        i += adv;
    }
    if (n > lim && o + 4 <= cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

static pthread_once_t json_once = PTHREAD_ONCE_INIT;

static void json_seed(void)
{
    json_object_seed(0); /* 0: seeded from /dev/urandom by jansson */
}

void psc_api_json_init(void)
{
    pthread_once(&json_once, json_seed);
}

const char *psc_api_endpoint_name(psc_api_endpoint e)
{
    switch (e) {
    case PSC_API_QUERY: return "/api/v1/query";
    case PSC_API_QUERY_RANGE: return "/api/v1/query_range";
    case PSC_API_SERIES: return "/api/v1/series";
    case PSC_API_LABELS: return "/api/v1/labels";
    case PSC_API_LABEL_VALUES: return "/api/v1/label/";
    case PSC_API_METADATA: return "/api/v1/metadata";
    case PSC_API_TARGETS: return "/api/v1/targets";
    case PSC_API_TSDB_STATUS: return "/api/v1/status/tsdb";
    case PSC_API_BUILDINFO: return "/api/v1/status/buildinfo";
    }
    return "unknown";
}

const char *psc_api_result_type_name(psc_api_result_type t)
{
    switch (t) {
    case PSC_API_RESULT_NONE: return "none";
    case PSC_API_RESULT_SCALAR: return "scalar";
    case PSC_API_RESULT_STRING: return "string";
    case PSC_API_RESULT_VECTOR: return "vector";
    case PSC_API_RESULT_MATRIX: return "matrix";
    }
    return "unknown";
}

void psc_api_response_release(psc_api_response *r)
{
    if (!r)
        return;
    psc_arena *a = r->priv;
    if (a) {
        psc_arena_release(a);
        psc_free(a);
    }
    memset(r, 0, sizeof *r);
}

/* ---- the decoder ---- */

enum { PATH_CAP = 192, PATH_DEPTH = 8 };

typedef struct dec {
    psc_arena *arena;
    psc_error *err;
    psc_status status;          /* first failure */
    char path[PATH_CAP];
    size_t plen;
    size_t stack[PATH_DEPTH];
    size_t depth;
} dec;

static void path_push(dec *d, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void path_push(dec *d, const char *fmt, ...)
{
    if (d->depth < PATH_DEPTH)
        d->stack[d->depth] = d->plen;
    d->depth++;
    if (d->plen + 1 >= PATH_CAP)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->path + d->plen, PATH_CAP - d->plen, fmt, ap);
    va_end(ap);
    if (n > 0)
        d->plen += (size_t)n < PATH_CAP - d->plen ? (size_t)n : PATH_CAP - d->plen - 1;
}

static void path_key(dec *d, const char *key, size_t len)
{
    bool ident = len > 0 && len <= 64;
    for (size_t i = 0; ident && i < len; i++) {
        char c = key[i];
        ident = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i && c >= '0' && c <= '9');
    }
    if (d->plen == 0 && ident) {
        path_push(d, "%.*s", (int)len, key);
    } else if (ident) {
        path_push(d, ".%.*s", (int)len, key);
    } else {
        char esc[96];
        path_push(d, "[\"%s\"]", psc_api_escape(esc, sizeof esc, key, len, 40));
    }
}

static void path_index(dec *d, size_t i)
{
    path_push(d, "[%zu]", i);
}

static void path_pop(dec *d)
{
    if (d->depth == 0)
        return;
    d->depth--;
    if (d->depth < PATH_DEPTH) {
        d->plen = d->stack[d->depth];
        d->path[d->plen] = '\0';
    }
}

static const char *json_kind(const json_t *j)
{
    if (!j)
        return "nothing";
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown value";
}

static bool failed(const dec *d)
{
    return d->status != PSC_OK;
}

static void fail(dec *d, psc_status st, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void fail(dec *d, psc_status st, const char *fmt, ...)
{
    if (failed(d))
        return;
    d->status = st;
    if (!d->err || d->err->status != PSC_OK)
        return;
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (st == PSC_E_NOMEM)
        psc_api_set_error(d->err, st, "out of memory while decoding the response");
    else
        psc_api_set_error(d->err, st, "malformed response: %s: %s", d->plen ? d->path : "(top level)", what);
}

static void expected(dec *d, const char *what, const json_t *got)
{
    fail(d, PSC_E_API, "expected %s, got %s", what, json_kind(got));
}

static void *alloc_array(dec *d, size_t n, size_t elem)
{
    if (n == 0)
        return NULL;
    if (n > SIZE_MAX / elem) {
        fail(d, PSC_E_NOMEM, "too large");
        return NULL;
    }
    void *p = psc_arena_alloc(d->arena, n * elem);
    if (!p)
        fail(d, PSC_E_NOMEM, "out of memory");
    else
        memset(p, 0, n * elem);
    return p;
}

static psc_str copy_str(dec *d, const char *s, size_t n)
{
    char *p = psc_arena_strndup(d->arena, s, n);
    if (!p) {
        fail(d, PSC_E_NOMEM, "out of memory");
        return PSC_STR_NULL;
    }
    return (psc_str){p, n};
}

/* A JSON string at the current path into *out. */
static bool get_string(dec *d, const json_t *j, psc_str *out)
{
    if (!json_is_string(j)) {
        expected(d, "a string", j);
        return false;
    }
    *out = copy_str(d, json_string_value(j), json_string_length(j));
    return !failed(d);
}

/* Member `key` of object o as a string; absent -> false without error when
 * optional. */
static bool member_string(dec *d, const json_t *o, const char *key, bool optional, psc_str *out)
{
    const json_t *j = json_object_get(o, key);
    *out = (psc_str){"", 0};
    if (!j) {
        if (!optional) {
            fail(d, PSC_E_API, "missing field \"%s\"", key);
        }
        return false;
    }
    path_key(d, key, strlen(key));
    bool ok = get_string(d, j, out);
    path_pop(d);
    return ok;
}

/* A sample value: a JSON string holding a Prometheus float. */
static bool get_value(dec *d, const json_t *j, double *out)
{
    if (!json_is_string(j)) {
        expected(d, "a number in a string (\"1.5\", \"NaN\", \"+Inf\")", j);
        return false;
    }
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    psc_status st = psc_parse_double(s, n, out);
    if (st != PSC_OK) {
        char esc[80];
        fail(d, PSC_E_API, "%s '%s'", st == PSC_E_LIMIT ? "sample value out of range" : "invalid sample value",
             psc_api_escape(esc, sizeof esc, s, n, 40));
        return false;
    }
    return true;
}

/* A JSON number (timestamps, durations, counts). */
static bool get_number(dec *d, const json_t *j, double *out)
{
    if (!json_is_number(j)) {
        expected(d, "a number", j);
        return false;
    }
    *out = json_number_value(j);
    return true;
}

static int label_cmp(const void *a, const void *b)
{
    const psc_label *x = a, *y = b;
    size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = n ? memcmp(x->name.ptr, y->name.ptr, n) : 0;
    if (c)
        return c;
    return x->name.len < y->name.len ? -1 : x->name.len > y->name.len;
}

/* An object of string values: a label set. */
static void get_labelset(dec *d, const json_t *o, psc_api_labelset *out)
{
    if (!json_is_object(o)) {
        expected(d, "an object of labels", o);
        return;
    }
    size_t n = json_object_size(o);
    psc_label *labels = alloc_array(d, n, sizeof *labels);
    if (failed(d))
        return;
    size_t i = 0;
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach((json_t *)o, key, klen, v)
    {
        if (i >= n)
            break;
        path_key(d, key, klen);
        labels[i].name = copy_str(d, key, klen);
        get_string(d, v, &labels[i].value);
        path_pop(d);
        if (failed(d))
            return;
        i++;
    }
    if (i > 1)
        qsort(labels, i, sizeof *labels, label_cmp);
    out->labels = labels;
    out->nlabels = i;
}

static void get_histogram(dec *d, const json_t *o, const psc_api_histogram **out)
{
    if (!json_is_object(o)) {
        expected(d, "a histogram object", o);
        return;
    }
    psc_api_histogram *h = alloc_array(d, 1, sizeof *h);
    if (failed(d))
        return;
    const json_t *j;
    j = json_object_get(o, "count");
    path_key(d, "count", 5);
    if (!j)
        fail(d, PSC_E_API, "missing histogram count");
    else
        get_value(d, j, &h->count);
    path_pop(d);
    j = json_object_get(o, "sum");
    path_key(d, "sum", 3);
    if (!j)
        fail(d, PSC_E_API, "missing histogram sum");
    else
        get_value(d, j, &h->sum);
    path_pop(d);
    if (failed(d))
        return;
    const json_t *b = json_object_get(o, "buckets");
    if (b) {
        path_key(d, "buckets", 7);
        if (!json_is_array(b)) {
            expected(d, "an array of buckets", b);
        } else {
            size_t n = json_array_size(b);
            psc_api_bucket *bk = alloc_array(d, n, sizeof *bk);
            for (size_t i = 0; i < n && !failed(d); i++) {
                const json_t *e = json_array_get(b, i);
                path_index(d, i);
                if (!json_is_array(e) || json_array_size(e) != 4) {
                    if (json_is_array(e))
                        fail(d, PSC_E_API, "expected [boundary_rule, lower, upper, count], got %zu elements",
                             json_array_size(e));
                    else
                        expected(d, "an array [boundary_rule, lower, upper, count]", e);
                } else {
                    const json_t *r = json_array_get(e, 0);
                    path_index(d, 0);
                    if (!json_is_integer(r) && !json_is_real(r)) {
                        expected(d, "a boundary rule number 0..3", r);
                    } else {
                        double rv = json_number_value(r);
                        if (!(rv == 0 || rv == 1 || rv == 2 || rv == 3))
                            fail(d, PSC_E_API, "boundary rule %g is not 0, 1, 2 or 3", rv);
                        bk[i].boundary = (int)rv;
                    }
                    path_pop(d);
                    double *dst[3] = {&bk[i].lower, &bk[i].upper, &bk[i].count};
                    for (size_t k = 0; k < 3 && !failed(d); k++) {
                        path_index(d, k + 1);
                        get_value(d, json_array_get(e, k + 1), dst[k]);
                        path_pop(d);
                    }
                }
                path_pop(d);
            }
            h->buckets = bk;
            h->nbuckets = n;
        }
        path_pop(d);
    }
    *out = h;
}

/* [t, "v"] or, with hist, [t, {histogram}]. */
static void get_point(dec *d, const json_t *j, bool hist, psc_api_point *p)
{
    if (!json_is_array(j)) {
        expected(d, hist ? "an array [time, histogram]" : "an array [time, \"value\"]", j);
        return;
    }
    if (json_array_size(j) != 2) {
        fail(d, PSC_E_API, "expected 2 elements [time, %s], got %zu", hist ? "histogram" : "\"value\"",
             json_array_size(j));
        return;
    }
    path_index(d, 0);
    get_number(d, json_array_get(j, 0), &p->t);
    path_pop(d);
    if (failed(d))
        return;
    path_index(d, 1);
    if (hist) {
        p->v = NAN;
        get_histogram(d, json_array_get(j, 1), &p->h);
    } else {
        p->h = NULL;
        get_value(d, json_array_get(j, 1), &p->v);
    }
    path_pop(d);
}

static int point_cmp(const void *a, const void *b)
{
    const psc_api_point *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->h != NULL) - (y->h != NULL);
}

static void get_series(dec *d, const json_t *o, bool matrix, psc_api_series *s)
{
    if (!json_is_object(o)) {
        expected(d, "an object with \"metric\"", o);
        return;
    }
    const json_t *m = json_object_get(o, "metric");
    path_key(d, "metric", 6);
    if (!m)
        fail(d, PSC_E_API, "missing field");
    else
        get_labelset(d, m, &s->metric);
    path_pop(d);
    if (failed(d))
        return;
    if (!matrix) {
        const json_t *v = json_object_get(o, "value");
        const json_t *h = json_object_get(o, "histogram");
        if (!v && !h) {
            fail(d, PSC_E_API, "missing field \"value\" (or \"histogram\")");
            return;
        }
        psc_api_point *p = alloc_array(d, 1, sizeof *p);
        if (failed(d))
            return;
        if (v) {
            path_key(d, "value", 5);
            get_point(d, v, false, p);
        } else {
            path_key(d, "histogram", 9);
            get_point(d, h, true, p);
        }
        path_pop(d);
        s->points = p;
        s->npoints = 1;
        return;
    }
    const json_t *vs = json_object_get(o, "values");
    const json_t *hs = json_object_get(o, "histograms");
    if (!vs && !hs) {
        fail(d, PSC_E_API, "missing field \"values\" (or \"histograms\")");
        return;
    }
    if (vs && !json_is_array(vs)) {
        path_key(d, "values", 6);
        expected(d, "an array of [time, \"value\"]", vs);
        path_pop(d);
        return;
    }
    if (hs && !json_is_array(hs)) {
        path_key(d, "histograms", 10);
        expected(d, "an array of [time, histogram]", hs);
        path_pop(d);
        return;
    }
    size_t nv = vs ? json_array_size(vs) : 0, nh = hs ? json_array_size(hs) : 0;
    psc_api_point *pts = alloc_array(d, nv + nh, sizeof *pts);
    if (failed(d))
        return;
    for (size_t i = 0; i < nv && !failed(d); i++) {
        path_key(d, "values", 6);
        path_index(d, i);
        get_point(d, json_array_get(vs, i), false, &pts[i]);
        path_pop(d);
        path_pop(d);
    }
    for (size_t i = 0; i < nh && !failed(d); i++) {
        path_key(d, "histograms", 10);
        path_index(d, i);
        get_point(d, json_array_get(hs, i), true, &pts[nv + i]);
        path_pop(d);
        path_pop(d);
    }
    if (nv && nh)
        qsort(pts, nv + nh, sizeof *pts, point_cmp);
    s->points = pts;
    s->npoints = nv + nh;
}

static void decode_query(dec *d, const json_t *data, bool range, psc_api_response *r)
{
    if (!json_is_object(data)) {
        expected(d, "an object with resultType and result", data);
        return;
    }
    psc_str rt;
    if (!member_string(d, data, "resultType", false, &rt))
        return;
    const json_t *res = json_object_get(data, "result");
    if (!res) {
        fail(d, PSC_E_API, "missing field \"result\"");
        return;
    }
    path_key(d, "result", 6);
    if (psc_str_eq(rt, (psc_str){"scalar", 6}) || psc_str_eq(rt, (psc_str){"string", 6})) {
        bool str = rt.ptr[1] == 't';
        r->result_type = str ? PSC_API_RESULT_STRING : PSC_API_RESULT_SCALAR;
        if (!json_is_array(res)) {
            expected(d, str ? "an array [time, \"string\"]" : "an array [time, \"value\"]", res);
        } else if (json_array_size(res) != 2) {
            fail(d, PSC_E_API, "expected 2 elements, got %zu", json_array_size(res));
        } else {
            path_index(d, 0);
            get_number(d, json_array_get(res, 0), &r->scalar.t);
            path_pop(d);
            path_index(d, 1);
            if (str) {
                r->scalar.v = NAN;
                get_string(d, json_array_get(res, 1), &r->string);
            } else if (!failed(d)) {
                get_value(d, json_array_get(res, 1), &r->scalar.v);
            }
            path_pop(d);
        }
    } else if (psc_str_eq(rt, (psc_str){"vector", 6}) || psc_str_eq(rt, (psc_str){"matrix", 6})) {
        bool matrix = rt.ptr[0] == 'm';
        r->result_type = matrix ? PSC_API_RESULT_MATRIX : PSC_API_RESULT_VECTOR;
        if (json_is_null(res)) {
            /* some proxies send null for an empty result */
        } else if (!json_is_array(res)) {
            expected(d, "an array of series", res);
        } else {
            size_t n = json_array_size(res);
            psc_api_series *s = alloc_array(d, n, sizeof *s);
            for (size_t i = 0; i < n && !failed(d); i++) {
                path_index(d, i);
                get_series(d, json_array_get(res, i), matrix, &s[i]);
                path_pop(d);
            }
            r->series = s;
            r->nseries = n;
        }
    } else {
        char esc[64];
        path_pop(d);
        path_key(d, "resultType", 10);
        fail(d, PSC_E_API, "unknown result type '%s'", psc_api_escape(esc, sizeof esc, rt.ptr, rt.len, 32));
    }
    path_pop(d);
    (void)range;
    const json_t *st = json_object_get(data, "stats");
    if (st && !failed(d)) {
        size_t need = json_dumpb(st, NULL, 0, JSON_COMPACT);
        char *buf = need ? psc_arena_alloc(d->arena, need + 1) : NULL;
        if (need && !buf) {
            fail(d, PSC_E_NOMEM, "out of memory");
            return;
        }
        if (buf) {
            json_dumpb(st, buf, need, JSON_COMPACT);
            buf[need] = '\0';
            r->stats = (psc_str){buf, need};
        }
    }
}

static void decode_strings(dec *d, const json_t *data, const psc_str **out, size_t *nout)
{
    if (json_is_null(data))
        return;
    if (!json_is_array(data)) {
        expected(d, "an array of strings", data);
        return;
    }
    size_t n = json_array_size(data);
    psc_str *s = alloc_array(d, n, sizeof *s);
    for (size_t i = 0; i < n && !failed(d); i++) {
        path_index(d, i);
        get_string(d, json_array_get(data, i), &s[i]);
        path_pop(d);
    }
    *out = s;
    *nout = n;
}

static void decode_series(dec *d, const json_t *data, psc_api_response *r)
{
    if (json_is_null(data))
        return;
    if (!json_is_array(data)) {
        expected(d, "an array of label sets", data);
        return;
    }
    size_t n = json_array_size(data);
    psc_api_labelset *ls = alloc_array(d, n, sizeof *ls);
    for (size_t i = 0; i < n && !failed(d); i++) {
        path_index(d, i);
        get_labelset(d, json_array_get(data, i), &ls[i]);
        path_pop(d);
    }
    r->labelsets = ls;
    r->nlabelsets = n;
}

static int metadata_cmp(const void *a, const void *b)
{
    const psc_api_metadata *x = a, *y = b;
    size_t n = x->metric.len < y->metric.len ? x->metric.len : y->metric.len;
    int c = n ? memcmp(x->metric.ptr, y->metric.ptr, n) : 0;
    if (c)
        return c;
    if (x->metric.len != y->metric.len)
        return x->metric.len < y->metric.len ? -1 : 1;
    return 0;
}

static void decode_metadata(dec *d, const json_t *data, psc_api_response *r)
{
    if (json_is_null(data))
        return;
    if (!json_is_object(data)) {
        expected(d, "an object of metric names", data);
        return;
    }
    size_t total = 0;
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach((json_t *)data, key, klen, v)
    {
        path_key(d, key, klen);
        if (!json_is_array(v))
            expected(d, "an array of metadata objects", v);
        else
            total += json_array_size(v);
        path_pop(d);
        if (failed(d))
            return;
    }
    psc_api_metadata *md = alloc_array(d, total, sizeof *md);
    size_t k = 0;
    json_object_keylen_foreach((json_t *)data, key, klen, v)
    {
        if (failed(d))
            break;
        path_key(d, key, klen);
        psc_str name = copy_str(d, key, klen);
        for (size_t i = 0; i < json_array_size(v) && !failed(d) && k < total; i++) {
            const json_t *e = json_array_get(v, i);
            path_index(d, i);
            if (!json_is_object(e)) {
                expected(d, "an object with type, help, unit", e);
            } else {
                md[k].metric = name;
                member_string(d, e, "type", true, &md[k].type);
                member_string(d, e, "help", true, &md[k].help);
                member_string(d, e, "unit", true, &md[k].unit);
                k++;
            }
            path_pop(d);
        }
        path_pop(d);
    }
    if (failed(d))
        return;
    if (k > 1)
        qsort(md, k, sizeof *md, metadata_cmp);
    r->metadata = md;
    r->nmetadata = k;
}

static void decode_targets(dec *d, const json_t *data, psc_api_response *r)
{
    if (!json_is_object(data)) {
        expected(d, "an object with activeTargets", data);
        return;
    }
    const json_t *act = json_object_get(data, "activeTargets");
    const json_t *drop = json_object_get(data, "droppedTargets");
    if (drop && !json_is_null(drop)) {
        path_key(d, "droppedTargets", 14);
        if (!json_is_array(drop))
            expected(d, "an array", drop);
        else
            r->ndropped = json_array_size(drop);
        path_pop(d);
    }
    if (!act || json_is_null(act) || failed(d))
        return;
    path_key(d, "activeTargets", 13);
    if (!json_is_array(act)) {
        expected(d, "an array of targets", act);
        path_pop(d);
        return;
    }
    size_t n = json_array_size(act);
    psc_api_target *t = alloc_array(d, n, sizeof *t);
    for (size_t i = 0; i < n && !failed(d); i++) {
        const json_t *o = json_array_get(act, i);
        path_index(d, i);
        if (!json_is_object(o)) {
            expected(d, "a target object", o);
        } else {
            const json_t *l = json_object_get(o, "labels");
            if (l) {
                path_key(d, "labels", 6);
                get_labelset(d, l, &t[i].labels);
                path_pop(d);
            }
            member_string(d, o, "scrapePool", true, &t[i].scrape_pool);
            member_string(d, o, "scrapeUrl", true, &t[i].scrape_url);
            member_string(d, o, "health", true, &t[i].health);
            member_string(d, o, "lastError", true, &t[i].last_error);
            member_string(d, o, "lastScrape", true, &t[i].last_scrape);
            member_string(d, o, "scrapeInterval", true, &t[i].scrape_interval);
            member_string(d, o, "scrapeTimeout", true, &t[i].scrape_timeout);
            t[i].last_scrape_duration = NAN;
            const json_t *dur = json_object_get(o, "lastScrapeDuration");
            if (dur) {
                path_key(d, "lastScrapeDuration", 18);
                get_number(d, dur, &t[i].last_scrape_duration);
                path_pop(d);
            }
        }
        path_pop(d);
    }
    path_pop(d);
    r->targets = t;
    r->ntargets = n;
}

static void decode_stats(dec *d, const json_t *data, const char *key, const psc_api_stat **out, size_t *nout)
{
    const json_t *a = json_object_get(data, key);
    if (!a || json_is_null(a))
        return;
    path_key(d, key, strlen(key));
    if (!json_is_array(a)) {
        expected(d, "an array of {name, value}", a);
    } else {
        size_t n = json_array_size(a);
        psc_api_stat *s = alloc_array(d, n, sizeof *s);
        for (size_t i = 0; i < n && !failed(d); i++) {
            const json_t *e = json_array_get(a, i);
            path_index(d, i);
            if (!json_is_object(e)) {
                expected(d, "an object {name, value}", e);
            } else if (member_string(d, e, "name", false, &s[i].name)) {
                const json_t *v = json_object_get(e, "value");
                if (!v) {
                    fail(d, PSC_E_API, "missing field \"value\"");
                } else {
                    path_key(d, "value", 5);
                    get_number(d, v, &s[i].value);
                    path_pop(d);
                }
            }
            path_pop(d);
        }
        *out = s;
        *nout = n;
    }
    path_pop(d);
}

static void opt_number(dec *d, const json_t *o, const char *key, double *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return;
    path_key(d, key, strlen(key));
    get_number(d, v, out);
    path_pop(d);
}

static void decode_tsdb(dec *d, const json_t *data, psc_api_response *r)
{
    r->head_series = r->head_chunks = r->head_min_time_ms = r->head_max_time_ms = NAN;
    if (!json_is_object(data)) {
        expected(d, "an object", data);
        return;
    }
    const json_t *hs = json_object_get(data, "headStats");
    if (hs) {
        path_key(d, "headStats", 9);
        if (!json_is_object(hs)) {
            expected(d, "an object", hs);
        } else {
            opt_number(d, hs, "numSeries", &r->head_series);
            opt_number(d, hs, "chunkCount", &r->head_chunks);
            opt_number(d, hs, "minTime", &r->head_min_time_ms);
            opt_number(d, hs, "maxTime", &r->head_max_time_ms);
        }
        path_pop(d);
    } else {
        opt_number(d, data, "totalSeries", &r->head_series); /* VictoriaMetrics */
    }
    decode_stats(d, data, "seriesCountByMetricName", &r->series_by_metric, &r->nseries_by_metric);
    decode_stats(d, data, "labelValueCountByLabelName", &r->values_by_label, &r->nvalues_by_label);
    decode_stats(d, data, "memoryInBytesByLabelName", &r->memory_by_label, &r->nmemory_by_label);
    decode_stats(d, data, "seriesCountByLabelValuePair", &r->series_by_pair, &r->nseries_by_pair);
}

static void decode_buildinfo(dec *d, const json_t *data, psc_api_response *r)
{
    if (!json_is_object(data)) {
        expected(d, "an object", data);
        return;
    }
    member_string(d, data, "version", true, &r->version);
    member_string(d, data, "revision", true, &r->revision);
    member_string(d, data, "branch", true, &r->branch);
    member_string(d, data, "goVersion", true, &r->go_version);
}

/* warnings / infos: arrays of strings. */
static void decode_notes(dec *d, const json_t *root, const char *key, const psc_str **out, size_t *n)
{
    const json_t *a = json_object_get(root, key);
    if (!a || json_is_null(a))
        return;
    path_key(d, key, strlen(key));
    decode_strings(d, a, out, n);
    path_pop(d);
}

static bool is_2xx(int s)
{
    return s == 0 || (s >= 200 && s < 300);
}

static psc_status not_json(const char *body, size_t len, int http_status, const json_error_t *je,
                           psc_error *err)
{
    char snip[700];
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    psc_api_escape(snip, sizeof snip, body + i, len - i, 512);
    if (!is_2xx(http_status)) {
        if (len == i)
            return psc_api_set_error(err, PSC_E_HTTP, "HTTP %d with an empty body", http_status);
        return psc_api_set_error(err, PSC_E_HTTP, "HTTP %d with a body that is not an API answer: \"%s\"",
                                 http_status, snip);
    }
    psc_status st;
    char c0 = len > i ? body[i] : '\0';
    /* jansson's text quotes the input ("near '...'"): escaped like the body */
    char jt[sizeof je->text * 4 + 8];
    psc_api_escape(jt, sizeof jt, je->text, strnlen(je->text, sizeof je->text), sizeof je->text * 4);
    if (len == i)
        return psc_api_set_error(err, PSC_E_API, "empty response body");
    switch (json_error_code(je)) {
    case json_error_stack_overflow:
        st = psc_api_set_error(err, PSC_E_API, "response nested too deeply (line %d, column %d)", je->line,
                               je->column);
        break;
    case json_error_out_of_memory:
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory while decoding the response");
    case json_error_premature_end_of_input:
        st = psc_api_set_error(err, PSC_E_API, "response is truncated: %s (line %d, column %d)", jt,
                               je->line, je->column);
        break;
    case json_error_end_of_input_expected:
        st = psc_api_set_error(err, PSC_E_API, "trailing data after the JSON response (line %d, column %d)",
                               je->line, je->column);
        break;
    default:
        if (c0 == '"' || c0 == '-' || (c0 >= '0' && c0 <= '9') || c0 == 't' || c0 == 'f' || c0 == 'n') {
            st = psc_api_set_error(err, PSC_E_API,
                                   "expected a JSON object {\"status\": ...} at the top level (line %d, column %d)",
                                   je->line, je->column);
        } else if (c0 != '{' && c0 != '[') {
            st = psc_api_set_error(err, PSC_E_API, "response is not JSON (%s at line %d, column %d): \"%.200s\"",
                                   jt, je->line, je->column, snip);
        } else {
            st = psc_api_set_error(err, PSC_E_API, "invalid JSON in response: %s (line %d, column %d)", jt,
                                   je->line, je->column);
        }
        break;
    }
    if (err && err->line == 0 && je->line > 0) {
        err->line = (uint64_t)je->line;
        err->column = je->column > 0 ? (uint64_t)je->column : 0;
        err->offset = (uint64_t)je->position;
    }
    return st;
}

psc_status psc_api_decode(psc_api_endpoint endpoint, const char *body, size_t len, int http_status,
                          psc_api_response *out, psc_error *err)
{
    memset(out, 0, sizeof *out);
    out->endpoint = endpoint;
    out->http_status = http_status;
    psc_api_json_init();

    json_error_t je;
    memset(&je, 0, sizeof je);
    json_t *root = json_loadb(body ? body : "", body ? len : 0,
                              JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    if (!root)
        return not_json(body ? body : "", body ? len : 0, http_status, &je, err);

    psc_arena *arena = psc_malloc(sizeof *arena);
    if (!arena) {
        json_decref(root);
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory while decoding the response");
    }
    psc_arena_init(arena);
    out->priv = arena;

    dec d;
    memset(&d, 0, sizeof d);
    d.arena = arena;
    d.err = err;

    if (!json_is_object(root)) {
        if (!is_2xx(http_status)) {
            json_decref(root);
            return not_json(body, len, http_status, &je, err);
        }
        fail(&d, PSC_E_API, "expected a JSON object {\"status\": ...} at the top level, got %s", json_kind(root));
        json_decref(root);
        return d.status;
    }

    if (!is_2xx(http_status)) {
        /* Only an API error envelope explains a failed status; anything
         * else (a proxy's JSON, a gateway's message) is reported as the
         * HTTP failure it is. */
        const json_t *sj = json_object_get(root, "status");
        if (!json_is_string(sj) || strcmp(json_string_value(sj), "error") != 0) {
            json_decref(root);
            return not_json(body, len, http_status, &je, err);
        }
    }

    decode_notes(&d, root, "warnings", &out->warnings, &out->nwarnings);
    decode_notes(&d, root, "infos", &out->infos, &out->ninfos);

    psc_str status;
    if (!failed(&d) && member_string(&d, root, "status", false, &status)) {
        if (psc_str_eq(status, (psc_str){"error", 5})) {
            psc_str et = {"", 0}, msg = {"", 0};
            member_string(&d, root, "errorType", true, &et);
            member_string(&d, root, "error", true, &msg);
            if (!failed(&d)) {
                char e1[80], e2[400];
                psc_api_escape(e1, sizeof e1, et.ptr, et.len, 40);
                psc_api_escape(e2, sizeof e2, msg.ptr, msg.len, 300);
                d.status = PSC_E_API;
                if (http_status && !is_2xx(http_status))
                    psc_api_set_error(err, PSC_E_API, "%s: %s (HTTP %d)", et.len ? e1 : "error", msg.len ? e2 : "no message",
                                      http_status);
                else
                    psc_api_set_error(err, PSC_E_API, "%s: %s", et.len ? e1 : "error", msg.len ? e2 : "no message");
            }
        } else if (psc_str_eq(status, (psc_str){"success", 7})) {
            const json_t *data = json_object_get(root, "data");
            if (!data) {
                fail(&d, PSC_E_API, "missing field \"data\"");
            } else {
                path_key(&d, "data", 4);
                switch (endpoint) {
                case PSC_API_QUERY: decode_query(&d, data, false, out); break;
                case PSC_API_QUERY_RANGE: decode_query(&d, data, true, out); break;
                case PSC_API_SERIES: decode_series(&d, data, out); break;
                case PSC_API_LABELS:
                case PSC_API_LABEL_VALUES: decode_strings(&d, data, &out->strings, &out->nstrings); break;
                case PSC_API_METADATA: decode_metadata(&d, data, out); break;
                case PSC_API_TARGETS: decode_targets(&d, data, out); break;
                case PSC_API_TSDB_STATUS: decode_tsdb(&d, data, out); break;
                case PSC_API_BUILDINFO: decode_buildinfo(&d, data, out); break;
                default: fail(&d, PSC_E_ARG, "unknown endpoint"); break;
                }
                path_pop(&d);
            }
        } else {
            char esc[64];
            path_key(&d, "status", 6);
            fail(&d, PSC_E_API, "expected \"success\" or \"error\", got '%s'",
                 psc_api_escape(esc, sizeof esc, status.ptr, status.len, 32));
            path_pop(&d);
        }
    }
    json_decref(root);
    return d.status;
}
