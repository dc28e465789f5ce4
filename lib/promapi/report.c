/*
 * The percentile and rate reports: PromQL construction, native-histogram
 * detection, joining the answers per group, top N and shares, and the
 * `--expect` expressions.
 *
 * PromQL: prometheus docs querying/functions.md "histogram_quantile()",
 * "histogram_count()", "rate()"; practices/histograms.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "promapi/internal.h"
#include "promscope/promapi.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/hash.h"

/* ---- numbers ---- */

/* Shortest text of a quantile that reads back to the same double,
 * independent of the locale. */
static void fmt_quantile(double v, char *buf, size_t cap)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        for (char *p = buf; *p; p++)
            if (*p == ',')
                *p = '.';
        double back;
        if (psc_parse_double(buf, strlen(buf), &back) == PSC_OK && back == v)
            return;
    }
}

void psc_report_opts_init(psc_report_opts *o)
{
    memset(o, 0, sizeof *o);
    o->window = "5m";
    o->quantiles[0] = 0.5;
    o->quantiles[1] = 0.9;
    o->quantiles[2] = 0.99;
    o->nquantiles = 3;
    o->top = 10;
    o->time = NAN;
    o->start = o->end = o->step = NAN;
}

/* ---- selectors ---- */

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static bool valid_label_name(const char *s)
{
    if (!*s || !(name_start(*s) && *s != ':'))
        return false;
    for (const char *p = s; *p; p++)
        if (!name_char(*p) || *p == ':')
            return false;
    return true;
}

/* Append the inside of `{...}` (or bare matchers) of s to b, comma-separated
 * from what b already holds. Returns 0, -1 out of memory, -2 syntax. */
static int append_matchers(psc_buf *b, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n && *s == '{') {
        if (s[n - 1] != '}')
            return -2;
        s++;
        n -= 2;
    } else if (n && memchr(s, '{', n)) {
        return -2;
    }
    while (n && (*s == ' ' || *s == ','))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == ','))
        n--;
    if (!n)
        return 0;
    if (b->len && psc_buf_putc(b, ','))
        return -1;
    return psc_buf_append(b, s, n) ? -1 : 0;
}

typedef struct sel {
    psc_buf name;     /* base metric name (may be empty for rates) */
    psc_buf matchers; /* inner matcher text, may be empty */
} sel;

static psc_status parse_selector(psc_report_kind kind, const char *metric, const char *extra, sel *out,
                                 psc_error *err)
{
    char esc[120];
    if (!metric || !*metric)
        return psc_api_set_error(err, PSC_E_ARG, "no metric given");
    const char *p = metric;
    while (*p == ' ')
        p++;
    const char *ns = p;
    if (name_start(*p))
        while (name_char(*p))
            p++;
    size_t nlen = (size_t)(p - ns);
    if (nlen == 0 && kind == PSC_REPORT_PERCENTILES)
        return psc_api_set_error(err, PSC_E_ARG, "expected a histogram metric name, got '%s'",
                                 psc_api_escape(esc, sizeof esc, metric, strlen(metric), 60));
    if (nlen && psc_buf_append(&out->name, ns, nlen))
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory");
    if (!out->name.data && psc_buf_reserve(&out->name, 0))
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory");
    if (kind == PSC_REPORT_PERCENTILES) {
        static const char *const suffixes[] = {"_bucket", "_count", "_sum"};
        for (size_t i = 0; i < 3; i++) {
            size_t sl = strlen(suffixes[i]);
            if (out->name.len > sl && memcmp(out->name.data + out->name.len - sl, suffixes[i], sl) == 0) {
                out->name.len -= sl;
                out->name.data[out->name.len] = '\0';
                break;
            }
        }
    }
    int r = append_matchers(&out->matchers, p, strlen(p));
    if (r == -2 || (*p && *p != '{' && *p != ' '))
        return psc_api_set_error(err, PSC_E_ARG, "invalid %s '%s': expected NAME, NAME{MATCHERS}%s",
                                 kind == PSC_REPORT_PERCENTILES ? "metric" : "selector",
                                 psc_api_escape(esc, sizeof esc, metric, strlen(metric), 60),
                                 kind == PSC_REPORT_RATES ? " or {MATCHERS}" : "");
    if (!r && extra) {
        r = append_matchers(&out->matchers, extra, strlen(extra));
        if (r == -2)
            return psc_api_set_error(err, PSC_E_ARG, "invalid --selector '%s': expected {MATCHERS}",
                                     psc_api_escape(esc, sizeof esc, extra, strlen(extra), 60));
    }
    if (r)
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory");
    if (!out->name.len && !out->matchers.len)
        return psc_api_set_error(err, PSC_E_ARG, "empty selector '%s'",
                                 psc_api_escape(esc, sizeof esc, metric, strlen(metric), 60));
    return PSC_OK;
}

/* NAME SUFFIX {MATCHERS} */
static int put_selector(psc_buf *b, const sel *s, const char *suffix)
{
    if (psc_buf_printf(b, "%s%s", s->name.len ? s->name.data : "", s->name.len ? suffix : ""))
        return -1;
    if (s->matchers.len || !s->name.len)
        return psc_buf_printf(b, "{%s}", s->matchers.len ? s->matchers.data : "");
    return 0;
}

/* The label that carries a metric's name through rate() when a rates
 * report spans several metrics (see rate_expr); published as __name__. */
#define NAME_LABEL "__promscope_name__"

/* "sum by (le, a, b) (" or "sum("; a `by` label __name__ is written as
 * NAME_LABEL when name_label. */
static int put_sum(psc_buf *b, const psc_report_opts *o, bool le, bool name_label)
{
    if (!le && o->nby == 0)
        return psc_buf_append(b, "sum(", 4);
    if (psc_buf_append(b, "sum by (", 8))
        return -1;
    bool first = true;
    if (le) {
        if (psc_buf_append(b, "le", 2))
            return -1;
        first = false;
    }
    for (size_t i = 0; i < o->nby; i++) {
        const char *l = name_label && strcmp(o->by[i], "__name__") == 0 ? NAME_LABEL : o->by[i];
        if (psc_buf_printf(b, "%s%s", first ? "" : ", ", l))
            return -1;
        first = false;
    }
    return psc_buf_append(b, ") (", 3);
}

/* ---- report state ---- */

typedef struct grow {
    psc_report_row pub;
    uint64_t hash;
    double *q;
    psc_api_series *trends;
} grow;

typedef struct rep {
    psc_arena *arena;
    psc_api_client *c;
    const psc_report_opts *o;
    psc_report *out;
    psc_error *err;
    grow *rows;
    size_t nrows, cap;
    psc_hidx idx;
    psc_str *queries;
    size_t nqueries, qcap;
    psc_str *warnings;
    size_t nwarnings, wcap;
    size_t nq;   /* quantiles */
    size_t ntr;  /* trends per row */
    uint64_t seed;
} rep;

static psc_status nomem(rep *r)
{
    return psc_api_set_error(r->err, PSC_E_NOMEM, "out of memory");
}

static psc_str arena_copy(rep *r, psc_str s)
{
    char *p = psc_arena_strndup(r->arena, s.ptr ? s.ptr : "", s.len);
    return p ? (psc_str){p, s.len} : (psc_str){NULL, 0};
}

static int add_note(rep *r, psc_str s)
{
    for (size_t i = 0; i < r->nwarnings; i++)
        if (psc_str_eq(r->warnings[i], s))
            return 0;
    if (r->nwarnings >= 1000)
        return 0; /* bounded (BAD-INPUTS G10); the CLI prints at most 20 */
    if (psc_grow((void **)&r->warnings, &r->wcap, r->nwarnings + 1, sizeof *r->warnings))
        return -1;
    psc_str c = arena_copy(r, s);
    if (!c.ptr)
        return -1;
    r->warnings[r->nwarnings++] = c;
    return 0;
}

static psc_status collect_notes(rep *r, const psc_api_response *resp)
{
    for (size_t i = 0; i < resp->nwarnings; i++)
        if (add_note(r, resp->warnings[i]))
            return nomem(r);
    for (size_t i = 0; i < resp->ninfos; i++)
        if (add_note(r, resp->infos[i]))
            return nomem(r);
    return PSC_OK;
}

static psc_status run_query(rep *r, const psc_buf *q, bool range, psc_api_response *resp)
{
    if (psc_grow((void **)&r->queries, &r->qcap, r->nqueries + 1, sizeof *r->queries))
        return nomem(r);
    psc_str c = arena_copy(r, (psc_str){q->data, q->len});
    if (!c.ptr)
        return nomem(r);
    r->queries[r->nqueries++] = c;
    psc_status st;
    if (range)
        st = psc_api_query_range(r->c, q->data, r->o->start, r->o->end, r->o->step, r->o->query, resp, r->err);
    else
        st = psc_api_query(r->c, q->data, r->out->time, r->o->query, resp, r->err);
    if (st != PSC_OK)
        return st;
    st = collect_notes(r, resp);
    if (st != PSC_OK)
        return st;
    psc_api_result_type want = range ? PSC_API_RESULT_MATRIX : PSC_API_RESULT_VECTOR;
    if (resp->result_type != want)
        return psc_api_set_error(r->err, PSC_E_API, "expected a %s result for '%.200s', got %s",
                                 psc_api_result_type_name(want), q->data,
                                 psc_api_result_type_name(resp->result_type));
    return PSC_OK;
}

/* The group key of a result series: its labels without __name__. */
static uint64_t group_hash(rep *r, const psc_api_labelset *ls)
{
    uint64_t h = r->seed;
    for (size_t i = 0; i < ls->nlabels; i++) {
        const psc_label *l = &ls->labels[i];
        if (psc_str_eq(l->name, (psc_str){"__name__", 8}))
            continue;
        h = psc_hash_mix(h, psc_hash_bytes(l->name.ptr, l->name.len, r->seed));
        h = psc_hash_mix(h, psc_hash_bytes(l->value.ptr, l->value.len, r->seed ^ 0x5bd1e995u));
    }
    return h;
}

/* __name__ is not part of a group's identity. */
static bool is_name(const psc_label *l)
{
    return psc_str_eq(l->name, (psc_str){"__name__", 8});
}

static bool same_group(const psc_api_labelset *a, const psc_api_labelset *b)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a->nlabels && is_name(&a->labels[i]))
            i++;
        while (j < b->nlabels && is_name(&b->labels[j]))
            j++;
        if (i == a->nlabels || j == b->nlabels)
            return i == a->nlabels && j == b->nlabels;
        if (!psc_str_eq(a->labels[i].name, b->labels[j].name) || !psc_str_eq(a->labels[i].value, b->labels[j].value))
            return false;
        i++, j++;
    }
}

typedef struct find_ctx {
    rep *r;
    const psc_api_labelset *ls;
} find_ctx;

static bool find_eq(void *ctx, uint32_t id)
{
    find_ctx *f = ctx;
    return same_group(&f->r->rows[id].pub.labels, f->ls);
}

/* Find or (when create) add the row of label set ls. NULL: not found, or
 * out of memory (then *oom is set). */
static grow *group_row(rep *r, const psc_api_labelset *ls, bool create, bool *oom)
{
    uint64_t h = group_hash(r, ls);
    find_ctx f = {r, ls};
    uint32_t id = psc_hidx_find(&r->idx, h, find_eq, &f);
    if (id != UINT32_MAX)
        return &r->rows[id];
    if (!create)
        return NULL;
    if (r->nrows >= UINT32_MAX - 1 || psc_grow((void **)&r->rows, &r->cap, r->nrows + 1, sizeof *r->rows)) {
        *oom = true;
        return NULL;
    }
    grow *w = &r->rows[r->nrows];
    memset(w, 0, sizeof *w);
    w->hash = h;
    size_t n = 0;
    for (size_t i = 0; i < ls->nlabels; i++)
        n += !is_name(&ls->labels[i]);
    psc_label *labels = n ? psc_arena_alloc(r->arena, n * sizeof *labels) : NULL;
    if (n && !labels) {
        *oom = true;
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < ls->nlabels; i++) {
        if (is_name(&ls->labels[i]))
            continue;
        labels[k].name = arena_copy(r, ls->labels[i].name);
        labels[k].value = arena_copy(r, ls->labels[i].value);
        if (!labels[k].name.ptr || !labels[k].value.ptr) {
            *oom = true;
            return NULL;
        }
        k++;
    }
    w->pub.labels.labels = labels;
    w->pub.labels.nlabels = n;
    w->pub.rate = NAN;
    w->pub.share = NAN;
    if (r->nq) {
        w->q = psc_arena_alloc(r->arena, r->nq * sizeof *w->q);
        if (!w->q) {
            *oom = true;
            return NULL;
        }
        for (size_t i = 0; i < r->nq; i++)
            w->q[i] = NAN;
    }
    if (psc_hidx_insert(&r->idx, h, (uint32_t)r->nrows)) {
        *oom = true;
        return NULL;
    }
    r->nrows++;
    return w;
}

/* Store the value of each series of an instant answer: slot -1 = rate,
 * else quantile index. */
static psc_status store_instant(rep *r, const psc_api_response *resp, int slot)
{
    for (size_t i = 0; i < resp->nseries; i++) {
        const psc_api_series *s = &resp->series[i];
        if (s->npoints < 1 || s->points[0].h)
            continue;
        bool oom = false;
        grow *w = group_row(r, &s->metric, true, &oom);
        if (!w)
            return nomem(r);
        if (slot < 0)
            w->pub.rate = s->points[0].v;
        else
            w->q[slot] = s->points[0].v;
    }
    return PSC_OK;
}

/* Store the trend series of a range answer into slot of rows that exist. */
static psc_status store_trend(rep *r, const psc_api_response *resp, size_t slot)
{
    for (size_t i = 0; i < resp->nseries; i++) {
        const psc_api_series *s = &resp->series[i];
        bool oom = false;
        grow *w = group_row(r, &s->metric, false, &oom);
        if (!w)
            continue; /* a group that is not in the report (rates: not in the top N) */
        if (!w->trends) {
            w->trends = psc_arena_alloc(r->arena, r->ntr * sizeof *w->trends);
            if (!w->trends)
                return nomem(r);
            memset(w->trends, 0, r->ntr * sizeof *w->trends);
        }
        size_t n = 0;
        for (size_t k = 0; k < s->npoints; k++)
            n += s->points[k].h == NULL;
        psc_api_point *pts = n ? psc_arena_alloc(r->arena, n * sizeof *pts) : NULL;
        if (n && !pts)
            return nomem(r);
        n = 0;
        for (size_t k = 0; k < s->npoints; k++)
            if (!s->points[k].h)
                pts[n++] = (psc_api_point){s->points[k].t, s->points[k].v, NULL};
        w->trends[slot].metric = w->pub.labels;
        w->trends[slot].points = pts;
        w->trends[slot].npoints = n;
    }
    return PSC_OK;
}

static int label_cmp(const void *a, const void *b)
{
    const psc_label *x = a, *y = b;
    size_t m = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = m ? memcmp(x->name.ptr, y->name.ptr, m) : 0;
    return c ? c : (x->name.len < y->name.len ? -1 : x->name.len > y->name.len);
}

static int labels_cmp(const psc_api_labelset *a, const psc_api_labelset *b)
{
    size_t n = a->nlabels < b->nlabels ? a->nlabels : b->nlabels;
    for (size_t i = 0; i < n; i++) {
        const psc_str *x[2] = {&a->labels[i].name, &a->labels[i].value};
        const psc_str *y[2] = {&b->labels[i].name, &b->labels[i].value};
        for (int k = 0; k < 2; k++) {
            size_t m = x[k]->len < y[k]->len ? x[k]->len : y[k]->len;
            int c = m ? memcmp(x[k]->ptr, y[k]->ptr, m) : 0;
            if (c)
                return c;
            if (x[k]->len != y[k]->len)
                return x[k]->len < y[k]->len ? -1 : 1;
        }
    }
    return a->nlabels < b->nlabels ? -1 : a->nlabels > b->nlabels;
}

static int row_cmp_labels(const void *a, const void *b)
{
    return labels_cmp(&((const grow *)a)->pub.labels, &((const grow *)b)->pub.labels);
}

static int row_cmp_rate(const void *a, const void *b)
{
    const grow *x = a, *y = b;
    double u = x->pub.rate, v = y->pub.rate;
    bool un = isnan(u), vn = isnan(v);
    if (un != vn)
        return un ? 1 : -1;
    if (!un && u != v)
        return u > v ? -1 : 1;
    return labels_cmp(&x->pub.labels, &y->pub.labels);
}

static void reindex(rep *r)
{
    psc_hidx_clear(&r->idx);
    for (size_t i = 0; i < r->nrows; i++)
        psc_hidx_insert(&r->idx, r->rows[i].hash, (uint32_t)i); /* cannot grow: fewer entries than before */
}

static bool has_histogram(const psc_api_response *resp)
{
    for (size_t i = 0; i < resp->nseries; i++)
        for (size_t k = 0; k < resp->series[i].npoints; k++)
            if (resp->series[i].points[k].h)
                return true;
    return false;
}

static psc_status validate_opts(const psc_report_opts *o, psc_report_kind kind, psc_error *err)
{
    char esc[80];
    if (kind != PSC_REPORT_PERCENTILES && kind != PSC_REPORT_RATES)
        return psc_api_set_error(err, PSC_E_ARG, "unknown report kind");
    if (o->nby > PSC_REPORT_MAX_BY)
        return psc_api_set_error(err, PSC_E_ARG, "too many --by labels (at most %d)", PSC_REPORT_MAX_BY);
    for (size_t i = 0; i < o->nby; i++) {
        if (!o->by[i] || !valid_label_name(o->by[i]))
            return psc_api_set_error(err, PSC_E_ARG, "invalid label name '%s' in --by",
                                     o->by[i] ? psc_api_escape(esc, sizeof esc, o->by[i], strlen(o->by[i]), 60) : "");
        if (strcmp(o->by[i], "le") == 0 && kind == PSC_REPORT_PERCENTILES)
            return psc_api_set_error(err, PSC_E_ARG, "'le' cannot be a --by label of a percentiles report");
    }
    const char *w = o->window ? o->window : "";
    bool ok = *w != '\0';
    for (const char *p = w; *p; p++)
        if (!((*p >= '0' && *p <= '9') || strchr("smhdwy", *p)))
            ok = false;
    if (!ok)
        return psc_api_set_error(err, PSC_E_ARG, "invalid --window '%s': expected a duration such as 5m",
                                 psc_api_escape(esc, sizeof esc, w, strlen(w), 40));
    if (kind == PSC_REPORT_PERCENTILES) {
        if (o->nquantiles == 0 || o->nquantiles > PSC_REPORT_MAX_QUANTILES)
            return psc_api_set_error(err, PSC_E_ARG, "between 1 and %d quantiles are needed", PSC_REPORT_MAX_QUANTILES);
        for (size_t i = 0; i < o->nquantiles; i++)
            if (!(o->quantiles[i] >= 0 && o->quantiles[i] <= 1))
                return psc_api_set_error(err, PSC_E_ARG, "quantile %g is not between 0 and 1", o->quantiles[i]);
    }
    if (!isnan(o->start)) {
        if (isnan(o->end) || !(o->end >= o->start) || !(o->step > 0))
            return psc_api_set_error(err, PSC_E_ARG, "invalid range: end before start or step not positive");
    }
    return PSC_OK;
}

static psc_status percentiles(rep *r, const sel *s)
{
    const psc_report_opts *o = r->o;
    psc_buf q = {0};
    psc_api_response resp;
    psc_status st;

    /* Detect native histograms: the metric's own samples carry `histogram`. */
    if (put_selector(&q, s, ""))
        return nomem(r);
    st = run_query(r, &q, false, &resp);
    psc_buf_release(&q);
    if (st != PSC_OK) {
        psc_api_response_release(&resp);
        return st;
    }
    r->out->native = has_histogram(&resp);
    bool floats = !r->out->native && resp.nseries > 0;
    psc_api_response_release(&resp);

    /* The expressions: quantiles 0..nq-1, then the rate. */
    for (size_t i = 0; i <= r->nq; i++) {
        psc_buf e = {0};
        int rc = 0;
        char qs[40];
        if (i < r->nq) {
            fmt_quantile(o->quantiles[i], qs, sizeof qs);
            rc = psc_buf_printf(&e, "histogram_quantile(%s, ", qs) || put_sum(&e, o, !r->out->native, false) ||
                 psc_buf_append(&e, "rate(", 5) || put_selector(&e, s, r->out->native ? "" : "_bucket") ||
                 psc_buf_printf(&e, "[%s])))", o->window);
        } else if (r->out->native) {
            rc = put_sum(&e, o, false, false) || psc_buf_append(&e, "histogram_count(rate(", 21) ||
                 put_selector(&e, s, "") ||
                 psc_buf_printf(&e, "[%s])))", o->window);
        } else {
            rc = put_sum(&e, o, false, false) || psc_buf_append(&e, "rate(", 5) || put_selector(&e, s, "_count") ||
                 psc_buf_printf(&e, "[%s]))", o->window);
        }
        if (rc) {
            psc_buf_release(&e);
            return nomem(r);
        }
        st = run_query(r, &e, false, &resp);
        if (st == PSC_OK)
            st = store_instant(r, &resp, i < r->nq ? (int)i : -1);
        psc_api_response_release(&resp);
        if (st == PSC_OK && !isnan(o->start) && i < r->nq) {
            st = run_query(r, &e, true, &resp);
            if (st == PSC_OK)
                st = store_trend(r, &resp, i);
            psc_api_response_release(&resp);
        }
        psc_buf_release(&e);
        if (st != PSC_OK)
            return st;
    }
    if (floats && r->nrows == 0) {
        /* Samples under the name itself but no buckets: not a histogram. */
        psc_buf w = {0};
        if (psc_buf_printf(&w, "%s has float samples but no histogram buckets (%s_bucket): a summary or a "
                               "gauge? report percentiles needs a histogram",
                           s->name.data, s->name.data) ||
            add_note(r, (psc_str){w.data, w.len})) {
            psc_buf_release(&w);
            return nomem(r);
        }
        psc_buf_release(&w);
    }
    if (r->nrows > 1)
        qsort(r->rows, r->nrows, sizeof *r->rows, row_cmp_labels);
    r->out->ngroups = r->nrows;
    return PSC_OK;
}

/* A PromQL string literal (the names come from the server). */
static int put_string_literal(psc_buf *b, psc_str v)
{
    if (psc_buf_putc(b, '"'))
        return -1;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        if ((c == '"' || c == '\\') && psc_buf_putc(b, '\\'))
            return -1;
        if (c == '\n') {
            if (psc_buf_append(b, "\\n", 2))
                return -1;
        } else if (psc_buf_putc(b, c)) {
            return -1;
        }
    }
    return psc_buf_putc(b, '"');
}

static bool by_name(const psc_report_opts *o)
{
    for (size_t i = 0; i < o->nby; i++)
        if (strcmp(o->by[i], "__name__") == 0)
            return true;
    return false;
}

/* rate() drops the metric name, so over a selector that matches several
 * metrics two series can end up with the same labels ("vector cannot
 * contain metrics with the same labelset"). The metric names are looked
 * up first (/api/v1/label/__name__/values over the window), each metric's
 * rate gets its name back with label_replace() into NAME_LABEL (not
 * __name__: `or` matches label sets without the metric name, on every
 * engine, so `x_sum` would be dropped next to `x_count`), and the parts
 * are joined with `or`. NAME_LABEL becomes __name__ in the report. */
enum { MAX_RATE_METRICS = 2000 };

/* Seconds of a PromQL duration already checked by validate_opts ("5m",
 * "1h30m", "500ms"). */
static double window_seconds(const char *w)
{
    double total = 0;
    const char *p = w;
    while (*p) {
        double v = 0;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (*p++ - '0');
        double mul = 1;
        if (p[0] == 'm' && p[1] == 's') {
            mul = 0.001;
            p += 2;
        } else if (*p) {
            mul = *p == 's' ? 1 : *p == 'm' ? 60 : *p == 'h' ? 3600 : *p == 'd' ? 86400 : *p == 'w' ? 604800
                : 31536000;
            p++;
        }
        total += v * mul;
    }
    return total;
}

static psc_status rate_expr(rep *r, const sel *s, psc_buf *e, bool *multi_out)
{
    const psc_report_opts *o = r->o;
    int rc = 0;
    bool multi = !s->name.len || by_name(o);
    *multi_out = multi;
    if (!multi) {
        rc = psc_buf_append(e, "rate(", 5) || put_selector(e, s, "") || psc_buf_printf(e, "[%s])", o->window);
        return rc ? nomem(r) : PSC_OK;
    }
    psc_buf m = {0};
    if (put_selector(&m, s, ""))
        return nomem(r);
    const char *matchers[1] = {m.data};
    double w = window_seconds(o->window);
    psc_api_select range = {matchers, 1, (isnan(o->start) ? r->out->time : o->start) - w, r->out->time, 0};
    if (!isnan(o->end) && o->end > range.end)
        range.end = o->end;
    psc_api_response names;
    psc_status st = psc_api_label_values_get(r->c, "__name__", &range, &names, r->err);
    psc_buf_release(&m);
    if (st == PSC_OK)
        st = collect_notes(r, &names);
    if (st == PSC_OK && names.nstrings > MAX_RATE_METRICS)
        st = psc_api_set_error(r->err, PSC_E_ARG, "the selector matches %zu metrics (at most %d): narrow it",
                               names.nstrings, MAX_RATE_METRICS);
    for (size_t i = 0; st == PSC_OK && i < names.nstrings; i++) {
        /* label_replace(rate({__name__="N",MATCHERS}[W]), NAME_LABEL, "N", "", "") */
        rc = (i && psc_buf_append(e, " or ", 4)) || psc_buf_append(e, "label_replace(rate({__name__=", 29) ||
             put_string_literal(e, names.strings[i]) ||
             (s->matchers.len && (psc_buf_putc(e, ',') || psc_buf_append(e, s->matchers.data, s->matchers.len))) ||
             psc_buf_printf(e, "}[%s]), \"" NAME_LABEL "\", ", o->window) || put_string_literal(e, names.strings[i]) ||
             psc_buf_append(e, ", \"\", \"\")", 9);
        if (rc)
            st = nomem(r);
    }
    if (st == PSC_OK && names.nstrings == 0)
        rc = psc_buf_append(e, "vector(0) < 0", 13) ? (st = nomem(r), -1) : 0; /* matches nothing: empty */
    psc_api_response_release(&names);
    return st;
}

static psc_status rates(rep *r, const sel *s)
{
    const psc_report_opts *o = r->o;
    psc_buf inner = {0}, e = {0};
    bool multi = false;
    psc_status st = rate_expr(r, s, &inner, &multi);
    if (st != PSC_OK) {
        psc_buf_release(&inner);
        return st;
    }
    int rc = 0;
    if (o->nby)
        rc = put_sum(&e, o, false, multi) || psc_buf_append(&e, inner.data, inner.len) || psc_buf_append(&e, ")", 1);
    else
        rc = psc_buf_append(&e, inner.data, inner.len);
    psc_buf_release(&inner);
    if (rc) {
        psc_buf_release(&e);
        return nomem(r);
    }
    psc_api_response resp;
    st = run_query(r, &e, false, &resp);
    if (st == PSC_OK)
        st = store_instant(r, &resp, -1);
    psc_api_response_release(&resp);
    if (st != PSC_OK) {
        psc_buf_release(&e);
        return st;
    }
    double total = 0;
    for (size_t i = 0; i < r->nrows; i++)
        if (isfinite(r->rows[i].pub.rate))
            total += r->rows[i].pub.rate;
    r->out->total = total;
    for (size_t i = 0; i < r->nrows; i++)
        r->rows[i].pub.share = total != 0 ? r->rows[i].pub.rate / total : NAN;
    r->out->ngroups = r->nrows;
    if (r->nrows > 1)
        qsort(r->rows, r->nrows, sizeof *r->rows, row_cmp_rate);
    if (o->top && r->nrows > o->top)
        r->nrows = o->top;
    reindex(r);
    if (!isnan(o->start)) {
        st = run_query(r, &e, true, &resp);
        if (st == PSC_OK)
            st = store_trend(r, &resp, 0);
        psc_api_response_release(&resp);
    }
    psc_buf_release(&e);
    return st;
}

typedef struct report_priv {
    psc_arena arena;
    grow *rows;
    psc_str *queries;
    psc_str *warnings;
    psc_report_row *pub;
} report_priv;

void psc_report_release(psc_report *r)
{
    if (!r)
        return;
    report_priv *p = r->priv;
    if (p) {
        psc_arena_release(&p->arena);
        psc_free(p->rows);
        psc_free(p->queries);
        psc_free(p->warnings);
        psc_free(p->pub);
        psc_free(p);
    }
    memset(r, 0, sizeof *r);
}

psc_status psc_report_run(psc_api_client *c, psc_report_kind kind, const psc_report_opts *o, psc_report *out,
                          psc_error *err)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->total = NAN;
    psc_status st = validate_opts(o, kind, err);
    if (st != PSC_OK)
        return st;
    report_priv *priv = psc_calloc(1, sizeof *priv);
    if (!priv)
        return psc_api_set_error(err, PSC_E_NOMEM, "out of memory");
    psc_arena_init(&priv->arena);
    out->priv = priv;

    sel s;
    memset(&s, 0, sizeof s);
    st = parse_selector(kind, o->metric, o->selector, &s, err);
    if (st != PSC_OK) {
        psc_buf_release(&s.name);
        psc_buf_release(&s.matchers);
        return st;
    }

    rep r;
    memset(&r, 0, sizeof r);
    r.arena = &priv->arena;
    r.c = c;
    r.o = o;
    r.out = out;
    r.err = err;
    r.seed = psc_hash_seed();
    psc_hidx_init(&r.idx);
    r.nq = kind == PSC_REPORT_PERCENTILES ? o->nquantiles : 0;
    r.ntr = kind == PSC_REPORT_PERCENTILES ? o->nquantiles : 1;

    out->metric = arena_copy(&r, (psc_str){s.name.data, s.name.len});
    if (!out->metric.ptr)
        st = nomem(&r);
    out->seconds = s.name.len >= 8 && memcmp(s.name.data + s.name.len - 8, "_seconds", 8) == 0;
    out->nquantiles = r.nq;
    for (size_t i = 0; i < r.nq; i++)
        out->quantiles[i] = o->quantiles[i];
    if (!isnan(o->time)) {
        out->time = o->time;
    } else if (!isnan(o->start)) {
        out->time = o->end;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        out->time = (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0; /* milliseconds */
    }

    if (st == PSC_OK)
        st = kind == PSC_REPORT_PERCENTILES ? percentiles(&r, &s) : rates(&r, &s);

    /* Publish. */
    priv->rows = r.rows;
    priv->queries = r.queries;
    priv->warnings = r.warnings;
    out->queries = r.queries;
    out->nqueries = r.nqueries;
    out->warnings = r.warnings;
    out->nwarnings = r.nwarnings;
    if (st == PSC_OK && r.nrows) {
        priv->pub = psc_calloc(r.nrows, sizeof *priv->pub);
        if (!priv->pub) {
            st = nomem(&r);
        } else {
            for (size_t i = 0; i < r.nrows; i++) {
                psc_label *l = (psc_label *)r.rows[i].pub.labels.labels;
                size_t nl = r.rows[i].pub.labels.nlabels;
                bool renamed = false;
                for (size_t k = 0; k < nl; k++)
                    if (psc_str_eq(l[k].name, (psc_str){NAME_LABEL, sizeof NAME_LABEL - 1})) {
                        l[k].name = (psc_str){"__name__", 8};
                        renamed = true;
                    }
                if (renamed && nl > 1)
                    qsort(l, nl, sizeof *l, label_cmp);
                priv->pub[i] = r.rows[i].pub;
                priv->pub[i].quantiles = r.rows[i].q;
                priv->pub[i].trends = r.rows[i].trends;
                priv->pub[i].ntrends = r.rows[i].trends ? r.ntr : 0;
            }
            out->rows = priv->pub;
            out->nrows = r.nrows;
        }
    }
    psc_hidx_release(&r.idx);
    psc_buf_release(&s.name);
    psc_buf_release(&s.matchers);
    return st;
}

/* ---- expectations ---- */

psc_status psc_expect_parse(const char *s, psc_expect *out, psc_error *err)
{
    memset(out, 0, sizeof *out);
    char esc[96];
    psc_api_escape(esc, sizeof esc, s ? s : "", s ? strlen(s) : 0, 80);
    snprintf(out->text, sizeof out->text, "%s", esc);
    const char *p = s ? s : "";
    while (*p == ' ')
        p++;
    if (*p == 'p' && p[1] >= '0' && p[1] <= '9') {
        const char *num = ++p;
        while ((*p >= '0' && *p <= '9') || *p == '.')
            p++;
        double pct;
        if (psc_parse_double(num, (size_t)(p - num), &pct) != PSC_OK || !(pct >= 0 && pct <= 100))
            return psc_api_set_error(err, PSC_E_ARG, "invalid percentile in expectation '%s'", esc);
        out->field = PSC_EXPECT_QUANTILE;
        /* p99 -> 0.99, p99.9 -> 0.999: via the decimal text, so that the
         * quantile equals the one written as --quantiles 0.999. */
        char qtext[64];
        size_t dl = (size_t)(p - num);
        const char *dot = memchr(num, '.', dl);
        size_t ip = dot ? (size_t)(dot - num) : dl;
        if (ip > 3 || dl > 40)
            return psc_api_set_error(err, PSC_E_ARG, "invalid percentile in expectation '%s'", esc);
        /* shift the decimal point two places left */
        char digits[48];
        size_t nd = 0;
        for (size_t i = 0; i < dl; i++)
            if (num[i] != '.')
                digits[nd++] = num[i];
        digits[nd] = '\0';
        long point = (long)ip - 2;
        if (point <= 0)
            snprintf(qtext, sizeof qtext, "0.%.*s%s", (int)-point, "000", digits);
        else
            snprintf(qtext, sizeof qtext, "%.*s.%s", (int)point, digits, digits + point);
        if (psc_parse_double(qtext, strlen(qtext), &out->quantile) != PSC_OK)
            return psc_api_set_error(err, PSC_E_ARG, "invalid percentile in expectation '%s'", esc);
    } else if (strncmp(p, "rate", 4) == 0 && !name_char(p[4])) {
        out->field = PSC_EXPECT_RATE;
        p += 4;
    } else if (strncmp(p, "share", 5) == 0 && !name_char(p[5])) {
        out->field = PSC_EXPECT_SHARE;
        p += 5;
    } else {
        return psc_api_set_error(err, PSC_E_ARG,
                                 "invalid expectation '%s': expected pNN, rate or share, an operator and a number "
                                 "(e.g. 'p99 < 0.25')",
                                 esc);
    }
    while (*p == ' ')
        p++;
    static const struct {
        const char *t;
        psc_expect_op op;
    } ops[] = {{"<=", PSC_EXPECT_LE}, {">=", PSC_EXPECT_GE}, {"==", PSC_EXPECT_EQ}, {"!=", PSC_EXPECT_NE},
               {"<", PSC_EXPECT_LT},  {">", PSC_EXPECT_GT},  {"=", PSC_EXPECT_EQ}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t l = strlen(ops[i].t);
        if (strncmp(p, ops[i].t, l) == 0) {
            out->op = ops[i].op;
            p += l;
            break;
        }
    }
    if (!out->op)
        return psc_api_set_error(err, PSC_E_ARG, "invalid expectation '%s': expected one of < <= > >= == !=", esc);
    while (*p == ' ')
        p++;
    const char *num = p;
    if (*p == '+' || *p == '-')
        p++;
    while ((*p >= '0' && *p <= '9') || *p == '.' || ((*p == 'e' || *p == 'E') && p > num))
        if ((*p == 'e' || *p == 'E') && (p[1] == '+' || p[1] == '-'))
            p += 2;
        else
            p++;
    if (p == num || psc_parse_double(num, (size_t)(p - num), &out->value) != PSC_OK)
        return psc_api_set_error(err, PSC_E_ARG, "invalid number in expectation '%s'", esc);
    const char *unit = p;
    while (*p && *p != ' ')
        p++;
    size_t ul = (size_t)(p - unit);
    static const struct {
        const char *u;
        double mul;
    } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"ms", 1e-3}, {"s", 1},
                 {"m", 60},    {"h", 3600},  {"%", 0.01}};
    if (ul) {
        bool found = false;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].u) == ul && memcmp(units[i].u, unit, ul) == 0) {
                if (units[i].mul == 0.01 && out->field != PSC_EXPECT_SHARE)
                    break;
                out->value *= units[i].mul;
                found = true;
                break;
            }
        if (!found)
            return psc_api_set_error(err, PSC_E_ARG,
                                     "invalid unit in expectation '%s': expected ns, us, ms, s, m, h (or %% for share)",
                                     esc);
    }
    while (*p == ' ')
        p++;
    if (*p)
        return psc_api_set_error(err, PSC_E_ARG, "unexpected text at the end of expectation '%s'", esc);
    return PSC_OK;
}

bool psc_expect_check(const psc_expect *e, const psc_report *r, const psc_report_row *row, double *actual)
{
    double v = NAN;
    switch (e->field) {
    case PSC_EXPECT_QUANTILE:
        if (r->kind == PSC_REPORT_PERCENTILES && row->quantiles)
            for (size_t i = 0; i < r->nquantiles; i++)
                if (fabs(r->quantiles[i] - e->quantile) < 1e-12)
                    v = row->quantiles[i];
        break;
    case PSC_EXPECT_RATE: v = row->rate; break;
    case PSC_EXPECT_SHARE: v = r->kind == PSC_REPORT_RATES ? row->share : NAN; break;
    }
    if (actual)
        *actual = v;
    if (isnan(v))
        return false;
    switch (e->op) {
    case PSC_EXPECT_LT: return v < e->value;
    case PSC_EXPECT_LE: return v <= e->value;
    case PSC_EXPECT_GT: return v > e->value;
    case PSC_EXPECT_GE: return v >= e->value;
    case PSC_EXPECT_EQ: return v == e->value;
    case PSC_EXPECT_NE: return v != e->value;
    }
    return false;
}
