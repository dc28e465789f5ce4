/*
 * Unit tests of the writers (promscope/write.h): shortest float text,
 * escaping per target format, quoted UTF-8 names, type mapping between the
 * formats (docs/convert.md), name clashes OpenMetrics cannot express,
 * timestamps, JSON in prom2json's shape, idempotence, write errors and
 * out-of-memory.
 *
 * `test_write LOCALE` runs everything under setlocale(LC_ALL, LOCALE)
 * (the suite passes de_DE.UTF-8, whose decimal point is a comma): the
 * output must not change.
 */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promscope/promscope.h"
#include "util/alloc.h"

typedef struct sink {
    char *data;
    size_t len, cap;
    int calls;
    int fail_at; /* fail the n-th call (1-based); 0 never */
} sink;

static int sink_write(void *ctx, const char *p, size_t n)
{
    sink *s = ctx;
    s->calls++;
    if (s->fail_at && s->calls >= s->fail_at)
        return -1;
    if (s->len + n + 1 > s->cap) {
        size_t c = (s->len + n + 1) * 2;
        char *d = realloc(s->data, c);
        assert_non_null(d);
        s->data = d;
        s->cap = c;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->data[s->len] = '\0';
    return 0;
}

/* Parse `in` (format fmt; must be valid) and write it as `to`. Returns
 * the status; *out is the output (NUL-terminated, malloc'ed, "" when none). */
static psc_status convert(const char *in, size_t len, psc_format fmt, psc_out_format to, char **out,
                          psc_error *err)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = fmt;
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_model *m = NULL;
    psc_status st = psc_model_parse(in, len, &o, &m, &d);
    for (size_t i = 0; st != PSC_OK && i < d.count; i++)
        fprintf(stderr, "input %llu:%llu: %s [%s]\n", (unsigned long long)d.items[i].line,
                (unsigned long long)d.items[i].column, d.items[i].message, d.items[i].rule);
    assert_int_equal(st, PSC_OK);
    psc_diag_list_release(&d);
    sink s = {0};
    psc_error e;
    psc_error_clear(&e);
    st = psc_model_write(m, to, sink_write, &s, &e);
    if (err)
        *err = e;
    psc_model_free(m);
    *out = s.data ? s.data : strdup("");
    return st;
}

static char *conv(const char *in, psc_format fmt, psc_out_format to)
{
    char *out;
    psc_error e;
    psc_status st = convert(in, strlen(in), fmt, to, &out, &e);
    if (st != PSC_OK)
        fprintf(stderr, "write failed: %s\n", e.message);
    assert_int_equal(st, PSC_OK);
    return out;
}

static void expect_conv(const char *in, psc_format fmt, psc_out_format to, const char *want)
{
    char *got = conv(in, fmt, to);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "--- want\n%s--- got\n%s---\n", want, got);
    assert_string_equal(got, want);
    /* converting converted output again gives the same bytes */
    if (to != PSC_OUT_JSON) {
        char *again = conv(got, to == PSC_OUT_OPENMETRICS ? PSC_FORMAT_OPENMETRICS_1_0 : PSC_FORMAT_TEXT_1_0_0, to);
        assert_string_equal(again, got);
        free(again);
    }
    free(got);
}

/* ---- numbers ---- */

static void expect_double(double v, const char *want)
{
    char b[32];
    size_t n = psc_format_double(v, b);
    assert_string_equal(b, want);
    assert_int_equal(n, strlen(want));
    /* parses back to the same double (NaN to NaN) */
    double back;
    assert_int_equal(psc_parse_double(b, n, &back), PSC_OK);
    if (isnan(v))
        assert_true(isnan(back));
    else
        assert_memory_equal(&back, &v, sizeof v);
}

static void test_format_double(void **state)
{
    (void)state;
    expect_double(0.1, "0.1");
    expect_double(1e-05, "1e-05");
    expect_double(0.0001, "0.0001");
    expect_double(1e+06, "1e+06");
    expect_double(100000, "100000");
    expect_double(123456, "123456");
    expect_double(1234567, "1.234567e+06");
    expect_double(5e-324, "5e-324");
    expect_double(1.7976931348623157e+308, "1.7976931348623157e+308");
    expect_double(2.2250738585072014e-308, "2.2250738585072014e-308");
    expect_double(-0.0, "-0");
    expect_double(0, "0");
    expect_double(1, "1");
    expect_double(-1.5, "-1.5");
    expect_double(0.1 + 0.2, "0.30000000000000004");
    expect_double(1e21, "1e+21");
    expect_double(1e23, "1e+23");
    expect_double(9007199254740992.0, "9.007199254740992e+15");
    expect_double(18446744073709551616.0, "1.8446744073709552e+19");
    expect_double(3.4232e-05, "3.4232e-05");
    expect_double(1.262344e+07, "1.262344e+07");
    expect_double(0.060000000000000005, "0.060000000000000005");
    expect_double(1.7952523257214355e+09, "1.7952523257214355e+09");
    expect_double(INFINITY, "+Inf");
    expect_double(-INFINITY, "-Inf");
    expect_double(NAN, "NaN");
}

/* The locale of the host program must not leak into the output. */
static void test_locale(void **state)
{
    (void)state;
    const char *dp = localeconv()->decimal_point;
    const char *lc = setlocale(LC_NUMERIC, NULL);
    if (lc && strncmp(lc, "de_DE", 5) == 0)
        assert_string_equal(dp, ","); /* the run proves something */
    char b[32];
    psc_format_double(1.5, b);
    assert_string_equal(b, "1.5");
    psc_format_double(2.5e-10, b);
    assert_string_equal(b, "2.5e-10");
    expect_conv("# TYPE a gauge\na 1.25 1500\n", PSC_FORMAT_TEXT_0_0_4, PSC_OUT_OPENMETRICS,
                "# TYPE a gauge\na 1.25 1.5\n# EOF\n");
}

/* ---- escaping and names ---- */

static void test_escaping_text(void **state)
{
    (void)state;
    const char *in = "# HELP a help with \\\\ and \\n and \" quote\n"
                     "# TYPE a gauge\n"
                     "a{v=\"back\\\\slash\",w=\"new\\nline\",x=\"dq\\\"uote\",y=\"\"} 1\n";
    /* text HELP escapes only backslash and line feed */
    expect_conv(in, PSC_FORMAT_TEXT_0_0_4, PSC_OUT_TEXT, in);
    expect_conv(in, PSC_FORMAT_TEXT_0_0_4, PSC_OUT_OPENMETRICS,
                "# TYPE a gauge\n"
                "# HELP a help with \\\\ and \\n and \\\" quote\n"
                "a{v=\"back\\\\slash\",w=\"new\\nline\",x=\"dq\\\"uote\",y=\"\"} 1.0\n"
                "# EOF\n");
    expect_conv(in, PSC_FORMAT_TEXT_0_0_4, PSC_OUT_JSON,
                "[{\"name\":\"a\",\"help\":\"help with \\\\ and \\n and \\\" quote\",\"type\":\"GAUGE\","
                "\"metrics\":[{\"labels\":{\"v\":\"back\\\\slash\",\"w\":\"new\\nline\",\"x\":\"dq\\\"uote\","
                "\"y\":\"\"},\"value\":\"1\"}]}]\n");
}

static void test_quoted_names(void **state)
{
    (void)state;
    const char *in = "# HELP \"my.metric\" dotted \\\\ help\n"
                     "# TYPE \"my.metric\" gauge\n"
                     "{\"my.metric\",\"a.b\"=\"v\",c=\"\\\"\"} 1\n"
                     "{\"my.metric\"} 2\n"
                     "# TYPE x gauge\n"
                     "x{\"ü\"=\"1\"} 3\n";
    expect_conv(in, PSC_FORMAT_TEXT_1_0_0, PSC_OUT_TEXT, in);
    char *out;
    psc_error e;
    psc_status st = convert(in, strlen(in), PSC_FORMAT_TEXT_1_0_0, PSC_OUT_OPENMETRICS, &out, &e);
    assert_int_equal(st, PSC_E_UNSUPPORTED);
    assert_int_equal(e.code, PSC_C_NOT_EXPRESSIBLE);
    assert_non_null(strstr(e.message, "my.metric"));
    assert_int_equal(e.line, 1);
    assert_string_equal(out, "");
    free(out);
    expect_conv(in, PSC_FORMAT_TEXT_1_0_0, PSC_OUT_JSON,
                "[{\"name\":\"my.metric\",\"help\":\"dotted \\\\ help\",\"type\":\"GAUGE\",\"metrics\":["
                "{\"labels\":{\"a.b\":\"v\",\"c\":\"\\\"\"},\"value\":\"1\"},{\"value\":\"2\"}]},"
                "{\"name\":\"x\",\"help\":\"\",\"type\":\"GAUGE\",\"metrics\":[{\"labels\":{\"ü\":\"1\"},"
                "\"value\":\"3\"}]}]\n");
}

static void test_special_values(void **state)
{
    (void)state;
    const char *in = "# TYPE a gauge\n"
                     "a{k=\"1\"} +Inf\n"
                     "a{k=\"2\"} -inf\n"
                     "a{k=\"3\"} NaN\n"
                     "a{k=\"4\"} -0\n"
                     "a{k=\"5\"} 1e-7\n"
                     "a{k=\"6\"} 0.000001\n"
                     "a{k=\"7\"} 123456789\n";
    expect_conv(in, PSC_FORMAT_TEXT_0_0_4, PSC_OUT_TEXT,
                "# TYPE a gauge\n"
                "a{k=\"1\"} +Inf\n"
                "a{k=\"2\"} -Inf\n"
                "a{k=\"3\"} NaN\n"
                "a{k=\"4\"} -0\n"
                "a{k=\"5\"} 1e-07\n"
                "a{k=\"6\"} 1e-06\n"
                "a{k=\"7\"} 1.23456789e+08\n");
    expect_conv(in, PSC_FORMAT_TEXT_0_0_4, PSC_OUT_OPENMETRICS,
                "# TYPE a gauge\n"
                "a{k=\"1\"} +Inf\n"
                "a{k=\"2\"} -Inf\n"
                "a{k=\"3\"} NaN\n"
                "a{k=\"4\"} -0.0\n"
                "a{k=\"5\"} 1e-07\n"
                "a{k=\"6\"} 1e-06\n"
                "a{k=\"7\"} 1.23456789e+08\n"
                "# EOF\n");
}

/* ---- timestamps ---- */

static void test_timestamps(void **state)
{
    (void)state;
    const char *text = "# TYPE a gauge\n"
                       "a{k=\"1\"} 1 1395066363000\n"
                       "a{k=\"2\"} 1 1500\n"
                       "a{k=\"3\"} 1 -1\n"
                       "a{k=\"4\"} 1 0\n"
                       "a{k=\"5\"} 1 1395066363123\n";
    const char *om = "# TYPE a gauge\n"
                     "a{k=\"1\"} 1.0 1395066363\n"
                     "a{k=\"2\"} 1.0 1.5\n"
                     "a{k=\"3\"} 1.0 -0.001\n"
                     "a{k=\"4\"} 1.0 0\n"
                     "a{k=\"5\"} 1.0 1395066363.123\n"
                     "# EOF\n";
    expect_conv(text, PSC_FORMAT_TEXT_0_0_4, PSC_OUT_OPENMETRICS, om);
    expect_conv(om, PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_TEXT, text);
    expect_conv(om, PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_OPENMETRICS, om);
    /* other spellings of the same instants */
    expect_conv("# TYPE a gauge\na 1 1.5e3\na{b=\"1\"} 1 0.0010\n# EOF\n", PSC_FORMAT_OPENMETRICS_1_0,
                PSC_OUT_OPENMETRICS, "# TYPE a gauge\na 1.0 1500\na{b=\"1\"} 1.0 0.001\n# EOF\n");

    /* not whole milliseconds: fine in OpenMetrics, an error for text and JSON */
    const char *fine = "# TYPE a gauge\n"
                       "a 1 1\n"
                       "a{b=\"1\"} 1 1.0001\n"
                       "# EOF\n";
    expect_conv(fine, PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_OPENMETRICS,
                "# TYPE a gauge\na 1.0 1\na{b=\"1\"} 1.0 1.0001\n# EOF\n");
    for (int t = 0; t < 2; t++) {
        char *out;
        psc_error e;
        psc_status st = convert(fine, strlen(fine), PSC_FORMAT_OPENMETRICS_1_0,
                                t ? PSC_OUT_JSON : PSC_OUT_TEXT, &out, &e);
        assert_int_equal(st, PSC_E_UNSUPPORTED);
        assert_int_equal(e.code, PSC_C_NOT_EXPRESSIBLE);
        assert_int_equal(e.line, 3);
        assert_non_null(strstr(e.message, "line 3"));
        assert_non_null(strstr(e.message, "1.0001"));
        assert_string_equal(out, "");
        free(out);
    }
    /* beyond int64 milliseconds (conformance case "timestamps") */
    const char *huge = "# TYPE a counter\na_total 1 12345678901234567890.1234567890\n# EOF\n";
    expect_conv(huge, PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_OPENMETRICS,
                "# TYPE a counter\na_total 1.0 12345678901234567000\n# EOF\n");
    char *out;
    assert_int_equal(convert(huge, strlen(huge), PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_TEXT, &out, NULL),
                     PSC_E_UNSUPPORTED);
    free(out);
}

/* ---- type mapping ---- */

static void test_counter_mapping(void **state)
{
    (void)state;
    /* text counter x_total <-> OpenMetrics family x with sample x_total */
    expect_conv("# HELP x_total Requests.\n# TYPE x_total counter\nx_total{a=\"b\"} 3\n",
                PSC_FORMAT_TEXT_0_0_4, PSC_OUT_OPENMETRICS,
                "# TYPE x counter\n# HELP x Requests.\nx_total{a=\"b\"} 3.0\n# EOF\n");
    expect_conv("# TYPE x counter\n# HELP x Requests.\nx_total{a=\"b\"} 3.0\n# EOF\n",
                PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_TEXT,
                "# HELP x_total Requests.\n# TYPE x_total counter\nx_total{a=\"b\"} 3\n");
    /* a text counter without _total gets it in OpenMetrics */
    expect_conv("# TYPE y counter\ny 7\n", PSC_FORMAT_TEXT_0_0_4, PSC_OUT_OPENMETRICS,
                "# TYPE y counter\ny_total 7.0\n# EOF\n");
    /* untyped <-> unknown */
    expect_conv("u 1\n", PSC_FORMAT_TEXT_0_0_4, PSC_OUT_OPENMETRICS, "# TYPE u unknown\nu 1.0\n# EOF\n");
    expect_conv("# TYPE u unknown\nu 1\n# EOF\n", PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_TEXT,
                "# TYPE u untyped\nu 1\n");
    /* client_python's text form of _created, a gauge x_created, folds back
     * into the counter in OpenMetrics (docs/convert.md) */
    expect_conv("# HELP x_total Requests.\n"
                "# TYPE x_total counter\n"
                "x_total{a=\"1\"} 1\n"
                "x_total{a=\"2\"} 2\n"
                "# HELP x_created Requests.\n"
                "# TYPE x_created gauge\n"
                "x_created{a=\"2\"} 1.520430001e+09\n"
                "x_created{a=\"1\"} 1.520430000123e+09\n",
                PSC_FORMAT_TEXT_0_0_4, PSC_OUT_OPENMETRICS,
                "# TYPE x counter\n"
                "# HELP x Requests.\n"
                "x_total{a=\"1\"} 1.0\n"
                "x_created{a=\"1\"} 1.520430000123e+09\n"
                "x_total{a=\"2\"} 2.0\n"
                "x_created{a=\"2\"} 1.520430001e+09\n"
                "# EOF\n");
    /* OpenMetrics counter with _created: a gauge x_created in text */
    expect_conv("# TYPE x counter\n"
                "# HELP x Requests.\n"
                "x_total{a=\"1\"} 1 # {t=\"q\"} 0.5\n"
                "x_created{a=\"1\"} 1520430000.123\n"
                "x_total{a=\"2\"} 2\n"
                "x_created{a=\"2\"} 1520430001\n"
                "# EOF\n",
                PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_TEXT,
                "# HELP x_total Requests.\n"
                "# TYPE x_total counter\n"
                "x_total{a=\"1\"} 1\n"
                "x_total{a=\"2\"} 2\n"
                "# HELP x_created Requests.\n"
                "# TYPE x_created gauge\n"
                "x_created{a=\"1\"} 1.520430000123e+09\n"
                "x_created{a=\"2\"} 1.520430001e+09\n");
}

static void test_om_types_to_text(void **state)
{
    (void)state;
    const char *om = "# TYPE i info\n"
                     "# HELP i Build.\n"
                     "i_info{version=\"1.2\"} 1\n"
                     "# TYPE s stateset\n"
                     "s{s=\"a\"} 1\n"
                     "s{s=\"b\"} 0\n"
                     "# TYPE g_bytes gaugehistogram\n"
                     "# UNIT g_bytes bytes\n"
                     "g_bytes_bucket{le=\"1\"} 2\n"
                     "g_bytes_bucket{le=\"+Inf\"} 3\n"
                     "g_bytes_gcount 3\n"
                     "g_bytes_gsum 1.5\n"
                     "# TYPE h histogram\n"
                     "h_bucket{le=\"0.5\"} 1\n"
                     "h_bucket{le=\"+Inf\"} 2\n"
                     "h_count 2\n"
                     "h_sum 0.75\n"
                     "h_created 1600000000\n"
                     "# TYPE q summary\n"
                     "q{quantile=\"0.5\"} 0.1\n"
                     "q_count 4\n"
                     "q_sum 1\n"
                     "# EOF\n";
    expect_conv(om, PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_TEXT,
                "# HELP i_info Build.\n"
                "# TYPE i_info gauge\n"
                "i_info{version=\"1.2\"} 1\n"
                "# TYPE s gauge\n"
                "s{s=\"a\"} 1\n"
                "s{s=\"b\"} 0\n"
                "# TYPE g_bytes_bucket gauge\n"
                "g_bytes_bucket{le=\"1\"} 2\n"
                "g_bytes_bucket{le=\"+Inf\"} 3\n"
                "# TYPE g_bytes_gcount gauge\n"
                "g_bytes_gcount 3\n"
                "# TYPE g_bytes_gsum gauge\n"
                "g_bytes_gsum 1.5\n"
                "# TYPE h histogram\n"
                "h_bucket{le=\"0.5\"} 1\n"
                "h_bucket{le=\"+Inf\"} 2\n"
                "h_count 2\n"
                "h_sum 0.75\n"
                "# TYPE h_created gauge\n"
                "h_created 1.6e+09\n"
                "# TYPE q summary\n"
                "q{quantile=\"0.5\"} 0.1\n"
                "q_count 4\n"
                "q_sum 1\n");
    /* OpenMetrics to OpenMetrics keeps everything, le/quantile canonical */
    expect_conv(om, PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_OPENMETRICS,
                "# TYPE i info\n"
                "# HELP i Build.\n"
                "i_info{version=\"1.2\"} 1.0\n"
                "# TYPE s stateset\n"
                "s{s=\"a\"} 1.0\n"
                "s{s=\"b\"} 0.0\n"
                "# TYPE g_bytes gaugehistogram\n"
                "# UNIT g_bytes bytes\n"
                "g_bytes_bucket{le=\"1.0\"} 2\n"
                "g_bytes_bucket{le=\"+Inf\"} 3\n"
                "g_bytes_gcount 3\n"
                "g_bytes_gsum 1.5\n"
                "# TYPE h histogram\n"
                "h_bucket{le=\"0.5\"} 1\n"
                "h_bucket{le=\"+Inf\"} 2\n"
                "h_count 2\n"
                "h_sum 0.75\n"
                "h_created 1.6e+09\n"
                "# TYPE q summary\n"
                "q{quantile=\"0.5\"} 0.1\n"
                "q_count 4\n"
                "q_sum 1.0\n"
                "# EOF\n");
    expect_conv(om, PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_JSON,
                "[{\"name\":\"i_info\",\"help\":\"Build.\",\"type\":\"GAUGE\",\"metrics\":[{\"labels\":"
                "{\"version\":\"1.2\"},\"value\":\"1\"}]},"
                "{\"name\":\"s\",\"help\":\"\",\"type\":\"GAUGE\",\"metrics\":[{\"labels\":{\"s\":\"a\"},"
                "\"value\":\"1\"},{\"labels\":{\"s\":\"b\"},\"value\":\"0\"}]},"
                "{\"name\":\"g_bytes\",\"help\":\"\",\"type\":\"GAUGE_HISTOGRAM\",\"metrics\":[{\"buckets\":"
                "{\"+Inf\":\"3\",\"1\":\"2\"},\"count\":\"3\",\"sum\":\"1.5\"}]},"
                "{\"name\":\"h\",\"help\":\"\",\"type\":\"HISTOGRAM\",\"metrics\":[{\"buckets\":"
                "{\"+Inf\":\"2\",\"0.5\":\"1\"},\"count\":\"2\",\"sum\":\"0.75\"}]},"
                "{\"name\":\"h_created\",\"help\":\"\",\"type\":\"GAUGE\",\"metrics\":[{\"value\":\"1.6e+09\"}]},"
                "{\"name\":\"q\",\"help\":\"\",\"type\":\"SUMMARY\",\"metrics\":[{\"quantiles\":"
                "{\"0.5\":\"0.1\"},\"count\":\"4\",\"sum\":\"1\"}]}]\n");
}

/* ---- what OpenMetrics cannot express ---- */

static void expect_unsupported(const char *in, const char *a, const char *b)
{
    char *out;
    psc_error e;
    psc_status st = convert(in, strlen(in), PSC_FORMAT_TEXT_0_0_4, PSC_OUT_OPENMETRICS, &out, &e);
    assert_int_equal(st, PSC_E_UNSUPPORTED);
    assert_int_equal(e.code, PSC_C_NOT_EXPRESSIBLE);
    assert_int_equal(e.status, PSC_E_UNSUPPORTED);
    if (!strstr(e.message, a) || (b && !strstr(e.message, b)))
        fprintf(stderr, "message: %s\n", e.message);
    assert_non_null(strstr(e.message, a));
    if (b)
        assert_non_null(strstr(e.message, b));
    assert_string_equal(out, ""); /* nothing written */
    free(out);
}

static void test_not_expressible(void **state)
{
    (void)state;
    /* corpus/README.md: client_golang's gauge + counter */
    expect_unsupported("# TYPE go_memstats_alloc_bytes gauge\n"
                       "go_memstats_alloc_bytes 1.262344e+07\n"
                       "# TYPE go_memstats_alloc_bytes_total counter\n"
                       "go_memstats_alloc_bytes_total 1.9414912e+07\n",
                       "gauge 'go_memstats_alloc_bytes'", "counter 'go_memstats_alloc_bytes_total'");
    /* a gauge that clashes with a counter's _created (conformance bad_clashing_names_2)
     * and cannot be folded into it: no metric of a_total has its labels */
    expect_unsupported("# TYPE a_created gauge\na_created{x=\"1\"} 1\n# TYPE a_total counter\na_total 1\n",
                       "'a_created'", "'a_total'");
    /* a summary and a counter that both become OpenMetrics family s */
    expect_unsupported("# TYPE s summary\ns_count 1\ns_sum 1\n# TYPE s_total counter\ns_total 1\n",
                       "summary 's'", "counter 's_total'");
    /* values OpenMetrics forbids */
    expect_unsupported("# TYPE c_total counter\nc_total -1\n", "c_total", "negative");
    expect_unsupported("# TYPE c_total counter\nc_total NaN\n", "c_total", "line 2");
    expect_unsupported("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1.5\nh_count 1.5\n", "h_bucket", "integer");
}

/* ---- JSON ---- */

static void test_json(void **state)
{
    (void)state;
    /* prom2json: labels and map keys sorted, numbers as strings, counts as
     * integers, no "labels" for an empty label set, HTML characters escaped */
    expect_conv("# HELP c_total A <b>&</b> help.\n"
                "# TYPE c_total counter\n"
                "c_total{z=\"1\",a=\"2\"} 1e+06 1395066363000\n"
                "# TYPE h histogram\n"
                "h_bucket{le=\"0.5\",x=\"y\"} 1\n"
                "h_bucket{le=\"2.5\",x=\"y\"} 2\n"
                "h_bucket{le=\"10\",x=\"y\"} 2\n"
                "h_bucket{le=\"+Inf\",x=\"y\"} 1e+07\n"
                "h_sum{x=\"y\"} 0.1\n"
                "h_count{x=\"y\"} 1e+07\n"
                "# TYPE s summary\n"
                "s{quantile=\"0.99\"} NaN\n"
                "s_count 0\n"
                "s_sum 0\n"
                "# TYPE e gauge\n",
                PSC_FORMAT_TEXT_0_0_4, PSC_OUT_JSON,
                "[{\"name\":\"c_total\",\"help\":\"A \\u003cb\\u003e\\u0026\\u003c/b\\u003e help.\","
                "\"type\":\"COUNTER\",\"metrics\":[{\"labels\":{\"a\":\"2\",\"z\":\"1\"},"
                "\"timestamp_ms\":\"1395066363000\",\"value\":\"1e+06\"}]},"
                "{\"name\":\"h\",\"help\":\"\",\"type\":\"HISTOGRAM\",\"metrics\":[{\"labels\":{\"x\":\"y\"},"
                "\"buckets\":{\"+Inf\":\"10000000\",\"0.5\":\"1\",\"10\":\"2\",\"2.5\":\"2\"},"
                "\"count\":\"10000000\",\"sum\":\"0.1\"}]},"
                "{\"name\":\"s\",\"help\":\"\",\"type\":\"SUMMARY\",\"metrics\":[{\"quantiles\":"
                "{\"0.99\":\"NaN\"},\"count\":\"0\",\"sum\":\"0\"}]},"
                "{\"name\":\"e\",\"help\":\"\",\"type\":\"GAUGE\"}]\n");
    expect_conv("", PSC_FORMAT_TEXT_0_0_4, PSC_OUT_JSON, "[]\n");
    /* a histogram with two points of one metric: one object per point */
    expect_conv("# TYPE h histogram\n"
                "h_bucket{le=\"+Inf\"} 1 1\n"
                "h_count 1 1\n"
                "h_sum 0.5 1\n"
                "h_bucket{le=\"+Inf\"} 2 2\n"
                "h_count 2 2\n"
                "h_sum 1 2\n"
                "# EOF\n",
                PSC_FORMAT_OPENMETRICS_1_0, PSC_OUT_JSON,
                "[{\"name\":\"h\",\"help\":\"\",\"type\":\"HISTOGRAM\",\"metrics\":["
                "{\"timestamp_ms\":\"1000\",\"buckets\":{\"+Inf\":\"1\"},\"count\":\"1\",\"sum\":\"0.5\"},"
                "{\"timestamp_ms\":\"2000\",\"buckets\":{\"+Inf\":\"2\"},\"count\":\"2\",\"sum\":\"1\"}]}]\n");
}

/* ---- output failures ---- */

static void test_write_errors(void **state)
{
    (void)state;
    psc_model *m = NULL;
    const char *in = "# TYPE a gauge\na{x=\"1\"} 1\n";
    assert_int_equal(psc_model_parse(in, strlen(in), NULL, &m, NULL), PSC_OK);
    for (int f = 0; f < 3; f++) {
        sink s = {0};
        s.fail_at = 1;
        psc_error e;
        psc_error_clear(&e);
        assert_int_equal(psc_model_write(m, (psc_out_format)f, sink_write, &s, &e), PSC_E_IO);
        assert_int_equal(e.status, PSC_E_IO);
        free(s.data);
    }
    /* out of memory: allocation 1, 2, ... fail until the write succeeds */
    for (int f = 0; f < 3; f++) {
        long n;
        for (n = 1; n < 1000; n++) {
            sink s = {0};
            psc_alloc_fail_after(n);
            psc_status st = psc_model_write(m, (psc_out_format)f, sink_write, &s, NULL);
            psc_alloc_fail_after(0);
            free(s.data);
            if (st == PSC_OK)
                break;
            assert_int_equal(st, PSC_E_NOMEM);
        }
        assert_true(n < 1000);
    }
    assert_int_equal(psc_model_write(m, (psc_out_format)7, sink_write, NULL, NULL), PSC_E_ARG);
    assert_int_equal(psc_model_write(NULL, PSC_OUT_TEXT, sink_write, NULL, NULL), PSC_E_ARG);
    assert_string_equal(psc_out_format_name(PSC_OUT_OPENMETRICS), "openmetrics");
    psc_model_free(m);
}

/* Large outputs go through the buffer in pieces; long strings whole. */
static void test_long_values(void **state)
{
    (void)state;
    size_t vlen = 60000;
    size_t cap = vlen * 2 + 256;
    char *in = malloc(cap);
    assert_non_null(in);
    size_t n = (size_t)snprintf(in, cap, "# TYPE a gauge\na{v=\"");
    for (size_t i = 0; i < vlen; i++)
        in[n++] = i % 100 == 99 ? '"' : (char)('a' + i % 26);
    n += (size_t)snprintf(in + n, cap - n, "\"} 1\n");
    /* quotes must be escaped in the input too */
    char *esc = malloc(cap * 2);
    assert_non_null(esc);
    size_t k = 0;
    const char *body = strstr(in, "v=\"") + 3;
    memcpy(esc, in, (size_t)(body - in));
    k = (size_t)(body - in);
    for (const char *p = body; p < in + n - 5; p++) {
        if (*p == '"')
            esc[k++] = '\\';
        esc[k++] = *p;
    }
    memcpy(esc + k, "\"} 1\n", 6);
    char *out = conv(esc, PSC_FORMAT_TEXT_0_0_4, PSC_OUT_TEXT);
    assert_string_equal(out, esc);
    free(out);
    free(esc);
    free(in);
}

static const char *g_locale = "C";

static int setup(void **state)
{
    (void)state;
    return setlocale(LC_ALL, g_locale) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    setlocale(LC_ALL, "C");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_locale = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_locale),
        cmocka_unit_test(test_escaping_text),
        cmocka_unit_test(test_quoted_names),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_counter_mapping),
        cmocka_unit_test(test_om_types_to_text),
        cmocka_unit_test(test_not_expressible),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_long_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
