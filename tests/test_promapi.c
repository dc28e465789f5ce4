/*
 * Unit tests of lib/promapi: decoding of API answers (types, JSON paths in
 * errors, NUL bytes, merging of matrix points, every endpoint's schema),
 * out-of-memory at every allocation, client URL checks, report option
 * checks and the --expect expressions.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "promscope/promapi.h"
#include "util/alloc.h"

static psc_status decode(psc_api_endpoint ep, const char *body, psc_api_response *r, psc_error *err)
{
    psc_error_clear(err);
    return psc_api_decode(ep, body, strlen(body), 200, r, err);
}

static bool str_is(psc_str s, const char *z)
{
    return s.len == strlen(z) && memcmp(s.ptr, z, s.len) == 0;
}

static void test_vector(void **state)
{
    (void)state;
    psc_api_response r;
    psc_error err;
    const char *body = "{\"status\":\"success\",\"warnings\":[\"w1\"],\"infos\":[\"i1\",\"i2\"],\"data\":{"
                       "\"resultType\":\"vector\",\"result\":["
                       "{\"metric\":{\"zz\":\"1\",\"__name__\":\"up\",\"job\":\"a\"},\"value\":[1700000000.5,\"NaN\"]},"
                       "{\"metric\":{},\"value\":[1700000000,\"-Inf\"]}]}}";
    assert_int_equal(decode(PSC_API_QUERY, body, &r, &err), PSC_OK);
    assert_int_equal(r.result_type, PSC_API_RESULT_VECTOR);
    assert_int_equal(r.nseries, 2);
    assert_int_equal(r.series[0].metric.nlabels, 3);
    /* sorted bytewise: "__name__" < "job" < "zz" */
    assert_true(str_is(r.series[0].metric.labels[0].name, "__name__"));
    assert_true(str_is(r.series[0].metric.labels[1].name, "job"));
    assert_true(str_is(r.series[0].metric.labels[2].value, "1"));
    assert_int_equal(r.series[0].npoints, 1);
    assert_true(r.series[0].points[0].t == 1700000000.5);
    assert_true(isnan(r.series[0].points[0].v));
    assert_true(isinf(r.series[1].points[0].v) && r.series[1].points[0].v < 0);
    assert_int_equal(r.nwarnings, 1);
    assert_int_equal(r.ninfos, 2);
    assert_true(str_is(r.infos[1], "i2"));
    psc_api_response_release(&r);
    psc_api_response_release(&r); /* idempotent */
}

static void test_nul_in_value(void **state)
{
    (void)state;
    psc_api_response r;
    psc_error err;
    const char *body = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                       "{\"metric\":{\"a\":\"x\\u0000y\"},\"value\":[1,\"1\"]}]}}";
    assert_int_equal(decode(PSC_API_QUERY, body, &r, &err), PSC_OK);
    assert_int_equal(r.series[0].metric.labels[0].value.len, 3);
    assert_memory_equal(r.series[0].metric.labels[0].value.ptr, "x\0y", 3);
    psc_api_response_release(&r);
}

static void test_matrix_merge(void **state)
{
    (void)state;
    psc_api_response r;
    psc_error err;
    const char *body = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
                       "\"values\":[[10,\"1\"],[30,\"3\"]],"
                       "\"histograms\":[[20,{\"count\":\"5\",\"sum\":\"2.5\",\"buckets\":[[3,\"-1\",\"1\",\"5\"]]}]]}]}}";
    assert_int_equal(decode(PSC_API_QUERY_RANGE, body, &r, &err), PSC_OK);
    assert_int_equal(r.series[0].npoints, 3);
    assert_true(r.series[0].points[0].t == 10 && r.series[0].points[0].h == NULL);
    const psc_api_histogram *h = r.series[0].points[1].h;
    assert_non_null(h);
    assert_true(h->count == 5 && h->sum == 2.5 && h->nbuckets == 1);
    assert_true(h->buckets[0].boundary == 3 && h->buckets[0].lower == -1 && h->buckets[0].upper == 1);
    assert_true(r.series[0].points[2].t == 30);
    psc_api_response_release(&r);
}

static void test_scalar_string(void **state)
{
    (void)state;
    psc_api_response r;
    psc_error err;
    assert_int_equal(decode(PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[5,\"+Inf\"]}}",
                            &r, &err),
                     PSC_OK);
    assert_true(r.result_type == PSC_API_RESULT_SCALAR && r.scalar.t == 5 && isinf(r.scalar.v));
    psc_api_response_release(&r);
    assert_int_equal(decode(PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[5,\"hi\"]}}",
                            &r, &err),
                     PSC_OK);
    assert_true(r.result_type == PSC_API_RESULT_STRING && str_is(r.string, "hi"));
    psc_api_response_release(&r);
}

/* Malformed answers: status and a piece of the message (BAD-INPUTS G). */
static const struct {
    psc_api_endpoint ep;
    const char *body;
    psc_status st;
    const char *msg;
} bad[] = {
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,\"1\"]},"
                    "{\"metric\":{},\"value\":[1,\"1\"]},{\"metric\":{},\"value\":[1,\"1\"]},{\"metric\":{},\"value\":[1,\"junk\"]}]}}",
     PSC_E_API, "malformed response: data.result[3].value[1]: invalid sample value 'junk'"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,2]}]}}",
     PSC_E_API, "data.result[0].value[1]: expected a number in a string"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[\"1\",\"2\"]}]}}",
     PSC_E_API, "data.result[0].value[0]: expected a number, got a string"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"a b\":1},\"value\":[1,\"2\"]}]}}",
     PSC_E_API, "data.result[0].metric[\"a b\"]: expected a string, got a number"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"value\":[1,\"2\"]}]}}",
     PSC_E_API, "data.result[0].metric: missing field"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,\"1e400\"]}]}}",
     PSC_E_API, "sample value out of range '1e400'"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,\"0x10\"]}]}}",
     PSC_E_API, "invalid sample value '0x10'"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"histogram\":[1,"
                    "{\"count\":\"1\",\"sum\":\"1\",\"buckets\":[[7,\"0\",\"1\",\"1\"]]}]}]}}",
     PSC_E_API, "data.result[0].histogram[1].buckets[0][0]: boundary rule 7 is not 0, 1, 2 or 3"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}", PSC_OK, ""},
    {PSC_API_QUERY, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse error\"}", PSC_E_API,
     "bad_data: parse error"},
    {PSC_API_QUERY, "{\"status\":\"maybe\"}", PSC_E_API, "status: expected \"success\" or \"error\", got 'maybe'"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"status\":\"error\"}", PSC_E_API, "duplicate"},
    {PSC_API_QUERY, "{\"status\":\"success\"} x", PSC_E_API, "trailing data"},
    {PSC_API_QUERY, "[1]", PSC_E_API, "expected a JSON object"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,NaN]}}", PSC_E_API,
     "invalid JSON"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"a\\u0000\":\"1\"}}]}}",
     PSC_E_API, "NUL byte in object key"},
    {PSC_API_QUERY, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[", PSC_E_API, "truncated"},
    {PSC_API_SERIES, "{\"status\":\"success\",\"data\":[{\"a\":\"b\"},[]]}", PSC_E_API,
     "data[1]: expected an object of labels, got an array"},
    {PSC_API_LABELS, "{\"status\":\"success\",\"data\":{}}", PSC_E_API, "data: expected an array of strings"},
    {PSC_API_METADATA, "{\"status\":\"success\",\"data\":{\"up\":[{\"type\":1}]}}", PSC_E_API, "data.up[0].type"},
    {PSC_API_TARGETS, "{\"status\":\"success\",\"data\":{\"activeTargets\":[{\"labels\":{\"job\":[]}}]}}", PSC_E_API,
     "data.activeTargets[0].labels.job: expected a string"},
    {PSC_API_TSDB_STATUS, "{\"status\":\"success\",\"data\":{\"seriesCountByMetricName\":[{\"name\":\"up\"}]}}", PSC_E_API,
     "data.seriesCountByMetricName[0]: missing field \"value\""},
    {PSC_API_BUILDINFO, "{\"status\":\"success\",\"data\":{\"version\":2}}", PSC_E_API, "data.version"},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        psc_api_response r;
        psc_error err;
        psc_status st = decode(bad[i].ep, bad[i].body, &r, &err);
        if (st != bad[i].st || (bad[i].msg[0] && !strstr(err.message, bad[i].msg)))
            fail_msg("case %zu: status %s, message '%s'; want %s, '%s'", i, psc_status_name(st), err.message,
                     psc_status_name(bad[i].st), bad[i].msg);
        psc_api_response_release(&r);
    }
}

static void test_deep(void **state)
{
    (void)state;
    enum { D = 10000 };
    static char body[2 * D + 64];
    size_t n = 0;
    n += (size_t)sprintf(body, "{\"status\":\"success\",\"data\":");
    memset(body + n, '[', D);
    memset(body + n + D, ']', D);
    n += 2 * D;
    body[n++] = '}';
    psc_api_response r;
    psc_error err;
    psc_error_clear(&err);
    assert_int_equal(psc_api_decode(PSC_API_QUERY, body, n, 200, &r, &err), PSC_E_API);
    assert_non_null(strstr(err.message, "nested too deeply"));
    assert_true(err.line == 1 && err.column > 0);
    psc_api_response_release(&r);
}

static void test_http_status(void **state)
{
    (void)state;
    psc_api_response r;
    psc_error err;
    psc_error_clear(&err);
    const char *html = "<html>\x1b[31mbad gateway</html>";
    assert_int_equal(psc_api_decode(PSC_API_QUERY, html, strlen(html), 502, &r, &err), PSC_E_HTTP);
    assert_non_null(strstr(err.message, "HTTP 502"));
    assert_non_null(strstr(err.message, "\\x1b[31mbad gateway"));
    psc_api_response_release(&r);
    psc_error_clear(&err);
    const char *api = "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query timed out\"}";
    assert_int_equal(psc_api_decode(PSC_API_QUERY, api, strlen(api), 503, &r, &err), PSC_E_API);
    assert_string_equal(err.message, "timeout: query timed out (HTTP 503)");
    psc_api_response_release(&r);
    psc_error_clear(&err);
    const char *other = "{\"message\":\"no route\"}";
    assert_int_equal(psc_api_decode(PSC_API_QUERY, other, strlen(other), 404, &r, &err), PSC_E_HTTP);
    assert_non_null(strstr(err.message, "HTTP 404"));
    assert_non_null(strstr(err.message, "no route"));
    psc_api_response_release(&r);
}

static void test_endpoints(void **state)
{
    (void)state;
    psc_api_response r;
    psc_error err;
    assert_int_equal(decode(PSC_API_METADATA,
                            "{\"status\":\"success\",\"data\":{\"zeta\":[{\"type\":\"gauge\",\"help\":\"z\",\"unit\":\"\"}],"
                            "\"alpha\":[{\"type\":\"counter\",\"help\":\"a1\",\"unit\":\"\"},{\"type\":\"gauge\",\"help\":\"a2\",\"unit\":\"s\"}]}}",
                            &r, &err),
                     PSC_OK);
    assert_int_equal(r.nmetadata, 3);
    assert_true(str_is(r.metadata[0].metric, "alpha") && str_is(r.metadata[2].metric, "zeta"));
    psc_api_response_release(&r);

    assert_int_equal(decode(PSC_API_TARGETS,
                            "{\"status\":\"success\",\"data\":{\"activeTargets\":[{\"labels\":{\"job\":\"j\"},\"scrapePool\":\"j\","
                            "\"scrapeUrl\":\"http://h/metrics\",\"health\":\"down\",\"lastError\":\"refused\","
                            "\"lastScrape\":\"2024-01-01T00:00:00Z\",\"lastScrapeDuration\":0.25}],\"droppedTargets\":[{},{}]}}",
                            &r, &err),
                     PSC_OK);
    assert_int_equal(r.ntargets, 1);
    assert_int_equal(r.ndropped, 2);
    assert_true(str_is(r.targets[0].health, "down") && r.targets[0].last_scrape_duration == 0.25);
    psc_api_response_release(&r);

    assert_int_equal(decode(PSC_API_TSDB_STATUS,
                            "{\"status\":\"success\",\"data\":{\"headStats\":{\"numSeries\":12,\"chunkCount\":30,\"minTime\":1,"
                            "\"maxTime\":2},\"seriesCountByMetricName\":[{\"name\":\"up\",\"value\":5}],"
                            "\"seriesCountByLabelValuePair\":[{\"name\":\"job=a\",\"value\":123456789012345678901}]}}",
                            &r, &err),
                     PSC_OK);
    assert_true(r.head_series == 12 && r.head_chunks == 30 && r.nseries_by_metric == 1 && r.nvalues_by_label == 0);
    assert_true(r.series_by_pair[0].value > 1e20); /* beyond int64: decoded as a double (G12) */
    psc_api_response_release(&r);

    assert_int_equal(decode(PSC_API_TSDB_STATUS, "{\"status\":\"success\",\"data\":{\"totalSeries\":7}}", &r, &err),
                     PSC_OK);
    assert_true(r.head_series == 7);
    psc_api_response_release(&r);

    assert_int_equal(decode(PSC_API_BUILDINFO,
                            "{\"status\":\"success\",\"data\":{\"version\":\"2.42.0\",\"goVersion\":\"go1.19\"}}", &r, &err),
                     PSC_OK);
    assert_true(str_is(r.version, "2.42.0") && str_is(r.go_version, "go1.19") && r.revision.len == 0);
    psc_api_response_release(&r);

    assert_int_equal(decode(PSC_API_LABEL_VALUES, "{\"status\":\"success\",\"data\":null}", &r, &err), PSC_OK);
    assert_int_equal(r.nstrings, 0);
    psc_api_response_release(&r);
}

/* Every allocation failing in turn: PSC_E_NOMEM each time, then success
 * (the SQLite method, BAD-INPUTS E6). */
static void test_oom(void **state)
{
    (void)state;
    const char *body = "{\"status\":\"success\",\"warnings\":[\"w\"],\"data\":{\"resultType\":\"matrix\",\"result\":["
                       "{\"metric\":{\"a\":\"1\",\"b\":\"2\"},\"values\":[[1,\"1\"],[2,\"2\"]],"
                       "\"histograms\":[[3,{\"count\":\"1\",\"sum\":\"1\",\"buckets\":[[0,\"0\",\"1\",\"1\"]]}]]},"
                       "{\"metric\":{\"c\":\"3\"},\"values\":[[1,\"5\"]]}],\"stats\":{\"timings\":{}}}}";
    bool ok = false;
    for (long n = 1; n < 1000 && !ok; n++) {
        psc_api_response r;
        psc_error err;
        psc_error_clear(&err);
        psc_alloc_fail_after(n);
        psc_status st = psc_api_decode(PSC_API_QUERY_RANGE, body, strlen(body), 200, &r, &err);
        psc_alloc_fail_after(0);
        if (st == PSC_OK) {
            ok = true;
            assert_int_equal(r.nseries, 2);
            assert_true(str_is(r.stats, "{\"timings\":{}}"));
        } else if (st != PSC_E_NOMEM) {
            fail_msg("allocation %ld failing gave %s: %s", n, psc_status_name(st), err.message);
        }
        psc_api_response_release(&r);
    }
    assert_true(ok);
}

static void test_client_url(void **state)
{
    (void)state;
    psc_api_client *c = NULL;
    psc_error err;
    psc_error_clear(&err);
    assert_int_equal(psc_api_client_new("ftp://h", NULL, &c, &err), PSC_E_ARG);
    assert_null(c);
    psc_error_clear(&err);
    assert_int_equal(psc_api_client_new("http://h:9090/?x=1", NULL, &c, &err), PSC_E_ARG);
    psc_error_clear(&err);
    assert_int_equal(psc_api_client_new("https://user:secret@h:9090/prom///", NULL, &c, &err), PSC_OK);
    assert_null(strstr(psc_api_client_url(c), "secret"));
    assert_non_null(strstr(psc_api_client_url(c), "h:9090/prom"));
    assert_true(psc_api_client_url(c)[strlen(psc_api_client_url(c)) - 1] != '/');
    psc_api_client_free(c);
}

static void test_report_opts(void **state)
{
    (void)state;
    psc_api_client *c = NULL;
    psc_error err;
    psc_error_clear(&err);
    /* Nothing listens on port 1: every case must fail before a request. */
    assert_int_equal(psc_api_client_new("http://127.0.0.1:1", NULL, &c, &err), PSC_OK);
    static const struct {
        psc_report_kind kind;
        const char *metric, *selector, *by, *window;
        double q;
        const char *msg;
    } cases[] = {
        {PSC_REPORT_PERCENTILES, "{job=\"a\"}", NULL, NULL, "5m", 0.5, "expected a histogram metric name"},
        {PSC_REPORT_PERCENTILES, "x", NULL, "le", "5m", 0.5, "'le' cannot be a --by label"},
        {PSC_REPORT_PERCENTILES, "x", NULL, "a-b", "5m", 0.5, "invalid label name 'a-b'"},
        {PSC_REPORT_PERCENTILES, "x", NULL, NULL, "5 m", 0.5, "invalid --window"},
        {PSC_REPORT_PERCENTILES, "x", NULL, NULL, "5m", 1.5, "quantile 1.5 is not between 0 and 1"},
        {PSC_REPORT_PERCENTILES, "x{a=\"b\"", NULL, NULL, "5m", 0.5, "invalid metric"},
        {PSC_REPORT_RATES, "x", "{a=\"b\"", NULL, "5m", 0.5, "invalid --selector"},
        {PSC_REPORT_RATES, "", NULL, NULL, "5m", 0.5, "no metric given"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        psc_report_opts o;
        psc_report_opts_init(&o);
        o.metric = cases[i].metric;
        o.selector = cases[i].selector;
        if (cases[i].by) {
            o.by[0] = cases[i].by;
            o.nby = 1;
        }
        o.window = cases[i].window;
        o.quantiles[0] = cases[i].q;
        psc_report rep;
        psc_error_clear(&err);
        psc_status st = psc_report_run(c, cases[i].kind, &o, &rep, &err);
        if (st != PSC_E_ARG || !strstr(err.message, cases[i].msg))
            fail_msg("case %zu: %s '%s'", i, psc_status_name(st), err.message);
        psc_report_release(&rep);
    }
    psc_api_client_free(c);
}

static void test_expect(void **state)
{
    (void)state;
    psc_expect e;
    psc_error err;
    psc_error_clear(&err);
    assert_int_equal(psc_expect_parse("p99 < 0.25", &e, &err), PSC_OK);
    assert_true(e.field == PSC_EXPECT_QUANTILE && e.quantile == 0.99 && e.op == PSC_EXPECT_LT && e.value == 0.25);
    assert_int_equal(psc_expect_parse("p99.9<=250ms", &e, &err), PSC_OK);
    assert_true(e.quantile == 0.999 && e.op == PSC_EXPECT_LE && e.value == 0.25);
    assert_int_equal(psc_expect_parse("p5 >= 1e-3", &e, &err), PSC_OK);
    assert_true(e.quantile == 0.05 && e.value == 1e-3);
    assert_int_equal(psc_expect_parse(" rate > 0 ", &e, &err), PSC_OK);
    assert_true(e.field == PSC_EXPECT_RATE && e.op == PSC_EXPECT_GT && e.value == 0);
    assert_int_equal(psc_expect_parse("share != 50%", &e, &err), PSC_OK);
    assert_true(e.field == PSC_EXPECT_SHARE && e.op == PSC_EXPECT_NE && e.value == 0.5);
    assert_int_equal(psc_expect_parse("p100 == 2m", &e, &err), PSC_OK);
    assert_true(e.quantile == 1 && e.value == 120);
    static const char *const badx[] = {"p99 ~ 1", "p101 < 1", "x < 1", "p99 < 1 x", "p50 < 5%", "rate >",
                                       "p99 < 1furlong", "", "ratex > 1", "p99 < 0x10"};
    for (size_t i = 0; i < sizeof badx / sizeof badx[0]; i++) {
        psc_error_clear(&err);
        if (psc_expect_parse(badx[i], &e, &err) != PSC_E_ARG)
            fail_msg("'%s' was accepted", badx[i]);
        assert_true(err.message[0] != '\0');
    }
    /* checks */
    double q[2] = {0.1, NAN};
    psc_report r;
    memset(&r, 0, sizeof r);
    r.kind = PSC_REPORT_PERCENTILES;
    r.nquantiles = 2;
    r.quantiles[0] = 0.99;
    r.quantiles[1] = 0.5;
    psc_report_row row;
    memset(&row, 0, sizeof row);
    row.quantiles = q;
    row.rate = 3;
    double v;
    psc_expect_parse("p99 < 0.25", &e, &err);
    assert_true(psc_expect_check(&e, &r, &row, &v) && v == 0.1);
    psc_expect_parse("p50 < 0.25", &e, &err);
    assert_false(psc_expect_check(&e, &r, &row, &v)); /* NaN: no data breaks it */
    assert_true(isnan(v));
    psc_expect_parse("p90 < 0.25", &e, &err);
    assert_false(psc_expect_check(&e, &r, &row, &v)); /* not computed */
    psc_expect_parse("rate >= 3", &e, &err);
    assert_true(psc_expect_check(&e, &r, &row, &v) && v == 3);
    psc_expect_parse("share < 1", &e, &err);
    assert_false(psc_expect_check(&e, &r, &row, NULL)); /* no share in percentiles */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),        cmocka_unit_test(test_nul_in_value), cmocka_unit_test(test_matrix_merge),
        cmocka_unit_test(test_scalar_string), cmocka_unit_test(test_bad),          cmocka_unit_test(test_deep),
        cmocka_unit_test(test_http_status),   cmocka_unit_test(test_endpoints),    cmocka_unit_test(test_oom),
        cmocka_unit_test(test_client_url),    cmocka_unit_test(test_report_opts),  cmocka_unit_test(test_expect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
