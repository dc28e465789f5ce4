/*
 * fuzz_promapi - the Prometheus API response decoder (psc_api_decode) and
 * the expectations of `promscope report` (psc_expect_parse/_check).
 *
 * Input: BODY [0xFF EXPECTATION]. BODY is decoded as the answer of every
 * endpoint of promapi.h with HTTP status 0, and once more as the answer of
 * one endpoint (chosen by the input's hash) with a real status (200, 400,
 * 422, 503 or 302). EXPECTATION, the bytes after the first 0xFF (at most
 * 95, no NUL), is parsed as an `--expect` expression; without 0xFF a fixed
 * list of expressions is used.
 *   1. psc_api_decode returns PSC_OK, PSC_E_API, PSC_E_HTTP (only for a
 *      status other than 2xx) or PSC_E_NOMEM; on failure the error has that
 *      status and a message without control characters (BAD-INPUTS G, H1);
 *   2. on success every member is read: the endpoint and status are the
 *      ones asked for, members of other endpoints are zero, label sets are
 *      sorted by name without repeats, vector series have exactly one
 *      point, histogram points have NaN values and boundary rules 0-3,
 *      points of series with both kinds are in time order, metadata is
 *      sorted by metric name;
 *   3. psc_api_response_release() zeroes the response, also after a failure;
 *      with an allocation failing the decoder returns PSC_E_NOMEM cleanly;
 *   4. the report functions that take decoded data: a report is built from
 *      the decoded series of a query (a row per series: its values as
 *      quantiles, the first value as rate, rate / total as share) and every
 *      parsed expectation is checked on every row: the comparison holds
 *      exactly when the value it reports is not NaN and compares as the
 *      operator says, and that value is the row's rate, share or one of its
 *      quantiles.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util/alloc.h"

const char fz_target[] = "promapi";

static int str_cmp(psc_str a, psc_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return c ? c : (a.len < b.len ? -1 : a.len > b.len);
}

static void check_labelset(const psc_api_labelset *ls)
{
    fz_mix(ls->nlabels);
    if (ls->nlabels && !ls->labels)
        fz_broken("label set of %zu without array", ls->nlabels);
    for (size_t i = 0; i < ls->nlabels; i++) {
        fz_mix_str(ls->labels[i].name);
        fz_mix_str(ls->labels[i].value);
        if (memchr(ls->labels[i].name.ptr, '\0', ls->labels[i].name.len))
            fz_broken("label name with a NUL byte (BAD-INPUTS G6)");
        if (i && str_cmp(ls->labels[i - 1].name, ls->labels[i].name) >= 0)
            fz_broken("labels not sorted by name, or a name twice");
    }
}

static void check_strs(const psc_str *s, size_t n, const char *what)
{
    if (n && !s)
        fz_broken("%zu %s without array", n, what);
    for (size_t i = 0; i < n; i++)
        fz_mix_str(s[i]);
}

static void check_series(const psc_api_series *s, psc_api_result_type rt)
{
    check_labelset(&s->metric);
    fz_mix(s->npoints);
    if (rt == PSC_API_RESULT_VECTOR && s->npoints != 1)
        fz_broken("vector series with %zu points", s->npoints);
    bool floats = false, hists = false;
    for (size_t i = 0; i < s->npoints; i++) {
        const psc_api_point *p = &s->points[i];
        fz_mix_double(p->t);
        fz_mix_double(p->v);
        if (!p->h) {
            floats = true;
            continue;
        }
        hists = true;
        if (!isnan(p->v))
            fz_broken("histogram point with value %g", p->v);
        fz_mix_double(p->h->count);
        fz_mix_double(p->h->sum);
        fz_mix(p->h->nbuckets);
        for (size_t b = 0; b < p->h->nbuckets; b++) {
            const psc_api_bucket *k = &p->h->buckets[b];
            if (k->boundary < 0 || k->boundary > 3)
                fz_broken("histogram bucket boundary rule %d", k->boundary);
            fz_mix_double(k->lower);
            fz_mix_double(k->upper);
            fz_mix_double(k->count);
        }
    }
    if (floats && hists)
        for (size_t i = 1; i < s->npoints; i++)
            if (s->points[i].t < s->points[i - 1].t)
                fz_broken("merged values and histograms not in time order");
}

static void check_response(const psc_api_response *r, psc_api_endpoint ep, int status)
{
    if (r->endpoint != ep || r->http_status != status)
        fz_broken("decoded response says endpoint %d status %d, asked %d %d", (int)r->endpoint, r->http_status,
                  (int)ep, status);
    check_strs(r->warnings, r->nwarnings, "warnings");
    check_strs(r->infos, r->ninfos, "infos");
    bool query = ep == PSC_API_QUERY || ep == PSC_API_QUERY_RANGE;
    fz_mix(r->result_type);
    fz_mix_cstr(psc_api_result_type_name(r->result_type), "psc_api_result_type_name");
    if (query != (r->result_type != PSC_API_RESULT_NONE))
        fz_broken("result type %s for endpoint %s", psc_api_result_type_name(r->result_type),
                  psc_api_endpoint_name(ep));
    fz_mix_double(r->scalar.t);
    fz_mix_double(r->scalar.v);
    fz_mix_str(r->string);
    fz_mix_str(r->stats);
    if (r->nseries && r->result_type != PSC_API_RESULT_VECTOR && r->result_type != PSC_API_RESULT_MATRIX)
        fz_broken("%zu series in a %s result", r->nseries, psc_api_result_type_name(r->result_type));
    for (size_t i = 0; i < r->nseries; i++)
        check_series(&r->series[i], r->result_type);
    if (ep != PSC_API_SERIES && r->nlabelsets)
        fz_broken("label sets in a %s response", psc_api_endpoint_name(ep));
    for (size_t i = 0; i < r->nlabelsets; i++)
        check_labelset(&r->labelsets[i]);
    if (ep != PSC_API_LABELS && ep != PSC_API_LABEL_VALUES && r->nstrings)
        fz_broken("strings in a %s response", psc_api_endpoint_name(ep));
    check_strs(r->strings, r->nstrings, "strings");
    if (ep != PSC_API_METADATA && r->nmetadata)
        fz_broken("metadata in a %s response", psc_api_endpoint_name(ep));
    for (size_t i = 0; i < r->nmetadata; i++) {
        const psc_api_metadata *m = &r->metadata[i];
        fz_mix_str(m->metric);
        fz_mix_str(m->type);
        fz_mix_str(m->help);
        fz_mix_str(m->unit);
        if (i && str_cmp(r->metadata[i - 1].metric, m->metric) > 0)
            fz_broken("metadata not sorted by metric name");
    }
    if (ep != PSC_API_TARGETS && (r->ntargets || r->ndropped))
        fz_broken("targets in a %s response", psc_api_endpoint_name(ep));
    fz_mix(r->ndropped);
    for (size_t i = 0; i < r->ntargets; i++) {
        const psc_api_target *t = &r->targets[i];
        check_labelset(&t->labels);
        fz_mix_str(t->scrape_pool);
        fz_mix_str(t->scrape_url);
        fz_mix_str(t->health);
        fz_mix_str(t->last_error);
        fz_mix_str(t->last_scrape);
        fz_mix_double(t->last_scrape_duration);
        fz_mix_str(t->scrape_interval);
        fz_mix_str(t->scrape_timeout);
    }
    fz_mix_double(r->head_series);
    fz_mix_double(r->head_chunks);
    fz_mix_double(r->head_min_time_ms);
    fz_mix_double(r->head_max_time_ms);
    const struct {
        const psc_api_stat *s;
        size_t n;
    } stats[] = {{r->series_by_metric, r->nseries_by_metric},
                 {r->values_by_label, r->nvalues_by_label},
                 {r->memory_by_label, r->nmemory_by_label},
                 {r->series_by_pair, r->nseries_by_pair}};
    for (size_t k = 0; k < sizeof stats / sizeof stats[0]; k++) {
        if (ep != PSC_API_TSDB_STATUS && stats[k].n)
            fz_broken("TSDB statistics in a %s response", psc_api_endpoint_name(ep));
        for (size_t i = 0; i < stats[k].n; i++) {
            fz_mix_str(stats[k].s[i].name);
            fz_mix_double(stats[k].s[i].value);
        }
    }
    if (ep != PSC_API_BUILDINFO && (r->version.len || r->revision.len || r->branch.len || r->go_version.len))
        fz_broken("build information in a %s response", psc_api_endpoint_name(ep));
    fz_mix_str(r->version);
    fz_mix_str(r->revision);
    fz_mix_str(r->branch);
    fz_mix_str(r->go_version);
}

static bool compare(double v, psc_expect_op op, double x)
{
    switch (op) {
    case PSC_EXPECT_LT: return v < x;
    case PSC_EXPECT_LE: return v <= x;
    case PSC_EXPECT_GT: return v > x;
    case PSC_EXPECT_GE: return v >= x;
    case PSC_EXPECT_EQ: return v == x;
    case PSC_EXPECT_NE: return v != x;
    }
    fz_broken("expectation with operator %d", (int)op);
}

/* Check every expectation on a report built from the series of @p r. */
static void check_expectations(const psc_api_response *r, const psc_expect *ex, size_t nex)
{
    enum { ROWS = 16, QS = 3 };
    static const double qs[QS] = {0.5, 0.9, 0.99};
    psc_report_row rows[ROWS];
    double vals[ROWS][QS];
    size_t n = r->nseries < ROWS ? r->nseries : ROWS;
    double total = 0;
    memset(rows, 0, sizeof rows);
    for (size_t i = 0; i < n; i++) {
        const psc_api_series *s = &r->series[i];
        for (size_t q = 0; q < QS; q++)
            vals[i][q] = q < s->npoints ? s->points[q].v : NAN;
        rows[i].labels = s->metric;
        rows[i].quantiles = vals[i];
        rows[i].rate = s->npoints ? s->points[0].v : NAN;
        if (!isnan(rows[i].rate))
            total += rows[i].rate;
    }
    for (size_t i = 0; i < n; i++)
        rows[i].share = total != 0 ? rows[i].rate / total : NAN;
    for (int kind = PSC_REPORT_PERCENTILES; kind <= PSC_REPORT_RATES; kind++) {
        psc_report rep;
        memset(&rep, 0, sizeof rep);
        rep.kind = (psc_report_kind)kind;
        memcpy(rep.quantiles, qs, sizeof qs);
        rep.nquantiles = QS;
        rep.total = total;
        rep.rows = rows;
        rep.nrows = n;
        rep.ngroups = n;
        rep.time = r->scalar.t;
        for (size_t e = 0; e < nex; e++)
            for (size_t i = 0; i < n; i++) {
                double actual = 12345;
                bool holds = psc_expect_check(&ex[e], &rep, &rows[i], &actual);
                fz_mix(holds);
                fz_mix_double(actual);
                if (holds != (!isnan(actual) && compare(actual, ex[e].op, ex[e].value)))
                    fz_broken("expectation '%s' %s with the value %.17g", ex[e].text, holds ? "holds" : "fails",
                              actual);
                bool ok = isnan(actual);
                switch (ex[e].field) {
                case PSC_EXPECT_QUANTILE:
                    for (size_t q = 0; q < QS && !ok && kind == PSC_REPORT_PERCENTILES; q++)
                        ok = memcmp(&actual, &vals[i][q], sizeof actual) == 0;
                    break;
                case PSC_EXPECT_RATE: ok |= memcmp(&actual, &rows[i].rate, sizeof actual) == 0; break;
                case PSC_EXPECT_SHARE:
                    ok |= kind == PSC_REPORT_RATES && memcmp(&actual, &rows[i].share, sizeof actual) == 0;
                    break;
                }
                if (!ok)
                    fz_broken("expectation '%s' reports %.17g, which is not a value of the row", ex[e].text, actual);
            }
    }
}

static size_t parse_expectations(const char *s, size_t n, psc_expect *out, size_t cap)
{
    static const char *const fixed[] = {"p99 < 0.25", "p50>=10ms", "rate > 0", "share < 50%", "p99.9 != 1",
                                        "p90 == 0.5", "rate <= 1e3"};
    size_t k = 0;
    if (s) {
        char t[96];
        if (n >= sizeof t || memchr(s, '\0', n))
            return 0;
        memcpy(t, s, n);
        t[n] = '\0';
        psc_error err;
        psc_error_clear(&err);
        psc_status st = psc_expect_parse(t, &out[0], &err);
        if (!memchr(out[0].text, '\0', sizeof out[0].text))
            fz_broken("expectation text not NUL-terminated");
        fz_mix_cstr(out[0].text, "expectation text");
        if (st == PSC_OK) {
            if (out[0].field < PSC_EXPECT_QUANTILE || out[0].field > PSC_EXPECT_SHARE || out[0].op < PSC_EXPECT_LT ||
                out[0].op > PSC_EXPECT_NE)
                fz_broken("parsed expectation '%s' with field %d op %d", out[0].text, (int)out[0].field,
                          (int)out[0].op);
            if (out[0].field == PSC_EXPECT_QUANTILE && !(out[0].quantile >= 0 && out[0].quantile <= 1))
                fz_broken("expectation '%s' on quantile %g", out[0].text, out[0].quantile);
            return 1;
        }
        if (st != PSC_E_ARG || err.status != PSC_E_ARG || !err.message[0])
            fz_broken("psc_expect_parse returned %s", psc_status_name(st));
        fz_mix_cstr(err.message, "expectation error");
        return 0;
    }
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && k < cap; i++) {
        psc_error err;
        if (psc_expect_parse(fixed[i], &out[k], &err) != PSC_OK)
            fz_broken("psc_expect_parse rejects '%s': %s", fixed[i], err.message);
        k++;
    }
    return k;
}

static void decode(psc_api_endpoint ep, const char *body, size_t len, int status, const psc_expect *ex, size_t nex)
{
    psc_api_response r;
    memset(&r, 0xa5, sizeof r); /* zeroed by the decoder */
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_api_decode(ep, body, len, status, &r, &err);
    fz_mix_cstr(psc_api_endpoint_name(ep), "psc_api_endpoint_name");
    if (st == PSC_OK) {
        check_response(&r, ep, status);
        if (ep == PSC_API_QUERY || ep == PSC_API_QUERY_RANGE)
            check_expectations(&r, ex, nex);
    } else {
        if (st != PSC_E_API && st != PSC_E_HTTP && st != PSC_E_NOMEM)
            fz_broken("psc_api_decode returned %s", psc_status_name(st));
        if (st == PSC_E_HTTP && (status == 0 || (status >= 200 && status < 300)))
            fz_broken("psc_api_decode returned http for status %d", status);
        if (err.status != st || !memchr(err.message, '\0', sizeof err.message) || !err.message[0])
            fz_broken("psc_api_decode returned %s, its error says %s '%.100s'", psc_status_name(st),
                      psc_status_name(err.status), err.message);
        for (const unsigned char *p = (const unsigned char *)err.message; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                fz_broken("API error message with control byte 0x%02x: %s (BAD-INPUTS H1)", *p, err.message);
        fz_mix_cstr(err.message, "error message");
        check_strs(r.warnings, r.nwarnings, "warnings");
    }
    psc_api_response_release(&r);
    if (r.priv || r.nseries || r.series || r.nwarnings || r.warnings || r.nstrings || r.endpoint)
        fz_broken("psc_api_response_release leaves members set");
    psc_api_response_release(&r);
}

/* The n-th allocation of the library failing (n from the hash): a clean
 * PSC_E_NOMEM, and the response releases without a leak. */
static void oom(const char *body, size_t len, uint64_t h)
{
    psc_api_response r;
    psc_error err;
    psc_alloc_fail_after(0);
    psc_status st = psc_api_decode(PSC_API_QUERY + (int)((h >> 16) % 9), body, len, 0, &r, &err);
    long n = psc_alloc_count();
    psc_api_response_release(&r);
    if (st != PSC_OK || n <= 0)
        return;
    psc_alloc_fail_after(1 + (long)(h % (uint64_t)n));
    st = psc_api_decode(PSC_API_QUERY + (int)((h >> 16) % 9), body, len, 0, &r, &err);
    psc_alloc_fail_after(0);
    if (st != PSC_E_NOMEM && st != PSC_OK)
        fz_broken("psc_api_decode with an allocation failing returned %s: %s", psc_status_name(st), err.message);
    psc_api_response_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    const uint8_t *ff = memchr(data, 0xff, size);
    size_t blen = ff ? (size_t)(ff - data) : size;
    char *body = malloc(blen ? blen : 1); /* exact size */
    if (!body)
        return 0;
    if (blen)
        memcpy(body, data, blen);
    psc_expect ex[8];
    size_t nex = parse_expectations(ff ? (const char *)ff + 1 : NULL, ff ? size - blen - 1 : 0, ex, 8);
    for (int ep = PSC_API_QUERY; ep <= PSC_API_BUILDINFO; ep++)
        decode((psc_api_endpoint)ep, body, blen, 0, ex, nex);
    static const int statuses[] = {200, 400, 422, 503, 302};
    uint64_t h = fz_hash(body, blen);
    decode((psc_api_endpoint)(PSC_API_QUERY + (int)(h % 9)), body, blen, statuses[(h >> 8) % 5], ex, nex);
    oom(body, blen, h);
    free(body);
    return 0;
}
