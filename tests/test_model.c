/*
 * Unit tests of the model (promscope/model.h): families in input order,
 * hashed lookups of families and series (label order not significant),
 * metrics without le/quantile, duplicate series keep the first, lines with
 * errors left out, exemplars kept, and an out-of-memory loop that fails
 * allocation 1, 2, ... until psc_model_parse succeeds (BAD-INPUTS E6).
 */
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

#define S(lit) ((psc_str){lit, sizeof(lit) - 1})

static psc_model *parse_fmt(const char *text, psc_format fmt, psc_diag_list *d, psc_status expect)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = fmt;
    psc_model *m = NULL;
    psc_status st = psc_model_parse(text, strlen(text), &o, &m, d);
    if (st != expect && d) {
        for (size_t i = 0; i < d->count; i++)
            fprintf(stderr, "%llu:%llu: %s [%s]\n", (unsigned long long)d->items[i].line,
                    (unsigned long long)d->items[i].column, d->items[i].message, d->items[i].rule);
    }
    assert_int_equal(st, expect);
    assert_non_null(m);
    return m;
}

static bool has_rule(const psc_diag_list *d, const char *rule, uint64_t line)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->items[i].rule, rule) == 0 && (line == 0 || d->items[i].line == line))
            return true;
    return false;
}

static const char text_input[] =
    "# HELP http_requests_total The total number of HTTP requests.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
    "http_requests_total{method=\"post\",code=\"400\"} 3 1395066363000\n"
    "# HELP http_request_duration_seconds A histogram of the request duration.\n"
    "# TYPE http_request_duration_seconds histogram\n"
    "http_request_duration_seconds_bucket{path=\"/a\",le=\"0.05\"} 24054\n"
    "http_request_duration_seconds_bucket{path=\"/a\",le=\"0.1\"} 33444\n"
    "http_request_duration_seconds_bucket{path=\"/a\",le=\"+Inf\"} 144320\n"
    "http_request_duration_seconds_sum{path=\"/a\"} 53423\n"
    "http_request_duration_seconds_count{path=\"/a\"} 144320\n"
    "http_request_duration_seconds_bucket{le=\"0.05\",path=\"/b\"} 1\n"
    "http_request_duration_seconds_bucket{le=\"+Inf\",path=\"/b\"} 2\n"
    "http_request_duration_seconds_sum{path=\"/b\"} 0.5\n"
    "http_request_duration_seconds_count{path=\"/b\"} 2\n"
    "# TYPE rpc_duration_seconds summary\n"
    "rpc_duration_seconds{quantile=\"0.5\"} 4773\n"
    "rpc_duration_seconds{quantile=\"0.99\"} 76656\n"
    "rpc_duration_seconds_sum 1.7560473e+07\n"
    "rpc_duration_seconds_count 2693\n"
    "metric_without_type{a=\"1\"} 12.47\n";

static void test_families_in_order(void **state)
{
    (void)state;
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_model *m = parse_fmt(text_input, PSC_FORMAT_AUTO, &d, PSC_OK);
    assert_int_equal(psc_model_format(m), PSC_FORMAT_TEXT_1_0_0);
    assert_int_equal(psc_model_family_count(m), 4);
    const char *names[] = {"http_requests_total", "http_request_duration_seconds",
                           "rpc_duration_seconds", "metric_without_type"};
    psc_metric_type types[] = {PSC_TYPE_COUNTER, PSC_TYPE_HISTOGRAM, PSC_TYPE_SUMMARY,
                               PSC_TYPE_UNTYPED};
    for (size_t i = 0; i < 4; i++) {
        const psc_family *f = psc_model_family(m, i);
        assert_non_null(f);
        assert_int_equal(f->name.len, strlen(names[i]));
        assert_memory_equal(f->name.ptr, names[i], f->name.len);
        assert_int_equal(f->type, types[i]);
        assert_ptr_equal(psc_model_find_family(m, (psc_str){names[i], strlen(names[i])}), f);
    }
    assert_null(psc_model_family(m, 4));
    const psc_family *f0 = psc_model_family(m, 0);
    assert_true(f0->has_help && f0->has_type && !f0->has_unit);
    assert_true(psc_str_eq(f0->help, S("The total number of HTTP requests.")));
    assert_int_equal(f0->line, 1);
    assert_false(psc_model_family(m, 3)->has_type);
    assert_null(psc_model_find_family(m, S("http_requests")));
    assert_null(psc_model_find_family(m, S("")));
    /* every sample line is a series */
    assert_int_equal(psc_model_series_count(m), 16);
    assert_int_equal(d.nerrors, 0);
    psc_model_free(m);
    psc_diag_list_release(&d);
}

static void test_histogram_metrics(void **state)
{
    (void)state;
    psc_model *m = parse_fmt(text_input, PSC_FORMAT_TEXT_0_0_4, NULL, PSC_OK);
    const psc_family *h = psc_model_find_family(m, S("http_request_duration_seconds"));
    assert_non_null(h);
    assert_int_equal(h->nmetrics, 2);
    assert_int_equal(h->nseries, 9);
    const psc_metric *a = &h->metrics[0], *b = &h->metrics[1];
    /* metric labels without le, in input order */
    assert_int_equal(a->nlabels, 1);
    assert_true(psc_str_eq(a->labels[0].name, S("path")));
    assert_true(psc_str_eq(a->labels[0].value, S("/a")));
    assert_int_equal(a->nsamples, 5);
    assert_int_equal(a->line, 7);
    assert_int_equal(b->nsamples, 4);
    assert_true(psc_str_eq(psc_labels_get(b->labels, b->nlabels, S("path")), S("/b")));
    assert_null(psc_labels_get(b->labels, b->nlabels, S("le")).ptr);
    /* a bucket's labels are its metric's (the same array); le is apart,
     * as written and parsed; psc_sample_labels() gives the full set */
    const psc_sample *s = &a->samples[0];
    assert_int_equal(s->kind, PSC_SAMPLE_BUCKET);
    assert_int_equal(s->nlabels, 1);
    assert_ptr_equal(s->labels, a->labels);
    assert_true(psc_str_eq(s->bound_text, S("0.05")));
    assert_true(s->bound == 0.05);
    psc_label full[3];
    assert_int_equal(psc_sample_labels(s, full, 3), 2);
    assert_true(psc_str_eq(full[0].name, S("path")));
    assert_true(psc_str_eq(full[1].name, S("le")));
    assert_true(psc_str_eq(full[1].value, S("0.05")));
    assert_int_equal(psc_sample_labels(s, NULL, 0), 2);
    assert_true(psc_str_eq(psc_sample_bound_label(s).name, S("le")));
    assert_null(psc_sample_bound_label(&a->samples[3]).name.ptr); /* _sum */
    assert_null(a->samples[3].bound_text.ptr);
    assert_true(a->samples[2].bound > 1e308);
    assert_int_equal(a->samples[3].kind, PSC_SAMPLE_SUM);
    assert_true(a->samples[3].bound != a->samples[3].bound); /* NaN */
    assert_int_equal(a->samples[4].kind, PSC_SAMPLE_COUNT);
    assert_true(a->samples[4].value == 144320);
    assert_int_equal(a->samples[4].line, 11);
    /* written le first, still apart */
    assert_int_equal(b->samples[0].nlabels, 1);
    assert_true(psc_str_eq(b->samples[0].labels[0].name, S("path")));
    assert_true(psc_str_eq(psc_sample_bound_label(&b->samples[0]).name, S("le")));
    const psc_family *sm = psc_model_find_family(m, S("rpc_duration_seconds"));
    assert_int_equal(sm->nmetrics, 1);
    assert_int_equal(sm->metrics[0].nlabels, 0);
    assert_int_equal(sm->metrics[0].samples[1].kind, PSC_SAMPLE_QUANTILE);
    assert_true(sm->metrics[0].samples[1].bound == 0.99);
    const psc_family *c = psc_model_find_family(m, S("http_requests_total"));
    assert_int_equal(c->metrics[1].samples[0].kind, PSC_SAMPLE_VALUE);
    assert_true(c->metrics[1].samples[0].has_timestamp);
    assert_int_equal(c->metrics[1].samples[0].timestamp_ms, 1395066363000);
    assert_true(c->metrics[1].samples[0].timestamp_ms_exact);
    psc_model_free(m);
}

static void test_series_lookup(void **state)
{
    (void)state;
    psc_model *m = parse_fmt(text_input, PSC_FORMAT_AUTO, NULL, PSC_OK);
    const psc_family *fam = NULL;
    /* label order does not matter */
    psc_label q1[] = {{S("code"), S("400")}, {S("method"), S("post")}};
    const psc_sample *s = psc_model_find_series(m, S("http_requests_total"), q1, 2, &fam);
    assert_non_null(s);
    assert_true(s->value == 3);
    assert_ptr_equal(fam, psc_model_family(m, 0));
    psc_label q2[] = {{S("path"), S("/b")}, {S("le"), S("0.05")}};
    s = psc_model_find_series(m, S("http_request_duration_seconds_bucket"), q2, 2, &fam);
    assert_non_null(s);
    assert_true(s->value == 1);
    assert_ptr_equal(fam, psc_model_family(m, 1));
    s = psc_model_find_series(m, S("metric_without_type"), (psc_label[]){{S("a"), S("1")}}, 1, &fam);
    assert_non_null(s);
    assert_ptr_equal(fam, psc_model_family(m, 3));
    s = psc_model_find_series(m, S("rpc_duration_seconds_count"), NULL, 0, &fam);
    assert_non_null(s);
    assert_ptr_equal(fam, psc_model_family(m, 2));
    /* absent: other value, missing label, extra label, other name */
    psc_label q3[] = {{S("code"), S("401")}, {S("method"), S("post")}};
    assert_null(psc_model_find_series(m, S("http_requests_total"), q3, 2, NULL));
    assert_null(psc_model_find_series(m, S("http_requests_total"), q1, 1, NULL));
    psc_label q4[] = {{S("code"), S("400")}, {S("method"), S("post")}, {S("x"), S("")}};
    assert_null(psc_model_find_series(m, S("http_requests_total"), q4, 3, NULL));
    assert_null(psc_model_find_series(m, S("http_requests"), q1, 2, NULL));
    psc_model_free(m);
}

static void test_duplicate_keeps_first(void **state)
{
    (void)state;
    psc_diag_list d;
    psc_diag_list_init(&d);
    const char *in = "# TYPE a gauge\n"
                     "a{x=\"1\",y=\"2\"} 1\n"
                     "a{y=\"2\",x=\"1\"} 2\n"
                     "a{x=\"2\"} 3\n";
    psc_model *m = parse_fmt(in, PSC_FORMAT_TEXT_0_0_4, &d, PSC_E_SYNTAX);
    assert_true(has_rule(&d, "duplicate-series", 3));
    const psc_family *f = psc_model_family(m, 0);
    assert_int_equal(f->nmetrics, 2);
    assert_int_equal(f->nseries, 2);
    assert_true(f->metrics[0].samples[0].value == 1);
    psc_label q[] = {{S("y"), S("2")}, {S("x"), S("1")}};
    assert_true(psc_model_find_series(m, S("a"), q, 2, NULL)->value == 1);
    psc_model_free(m);
    psc_diag_list_release(&d);
}

/* OpenMetrics MetricPoints of one series with timestamps are all kept
 * (conformance case duplicate_timestamps_0). */
static void test_points_with_timestamps(void **state)
{
    (void)state;
    const char *in = "# TYPE a gauge\n"
                     "a{a=\"1\"} 1 1.5\n"
                     "a{a=\"1\"} 2 2.5\n"
                     "a{a=\"2\"} 4 0\n"
                     "# EOF\n";
    psc_model *m = parse_fmt(in, PSC_FORMAT_AUTO, NULL, PSC_OK);
    assert_int_equal(psc_model_format(m), PSC_FORMAT_OPENMETRICS_1_0);
    const psc_family *f = psc_model_family(m, 0);
    assert_int_equal(f->nmetrics, 2);
    assert_int_equal(f->metrics[0].nsamples, 2);
    assert_int_equal(f->metrics[0].samples[1].timestamp_ms, 2500);
    assert_true(f->metrics[0].samples[1].timestamp_ms_exact);
    assert_int_equal(psc_model_series_count(m), 3);
    /* the index gives the first point */
    psc_label q[] = {{S("a"), S("1")}};
    assert_true(psc_model_find_series(m, S("a"), q, 1, NULL)->value == 1);
    psc_model_free(m);
}

/* Prometheus text tolerates interleaving: the sample joins its family. */
static void test_interleaved_text(void **state)
{
    (void)state;
    psc_diag_list d;
    psc_diag_list_init(&d);
    const char *in = "# TYPE a gauge\n"
                     "a{x=\"1\"} 1\n"
                     "# TYPE b_total counter\n"
                     "b_total 2\n"
                     "a{x=\"2\"} 3\n"
                     "c_count 4\n"
                     "# TYPE h histogram\n"
                     "h_bucket{le=\"+Inf\"} 1\n"
                     "h_count 1\n"
                     "b_total{z=\"1\"} 5\n";
    psc_model *m = parse_fmt(in, PSC_FORMAT_TEXT_0_0_4, &d, PSC_OK);
    assert_true(d.nwarnings > 0);
    assert_int_equal(psc_model_family_count(m), 4);
    const psc_family *a = psc_model_find_family(m, S("a"));
    assert_int_equal(a->nmetrics, 2);
    assert_true(a->metrics[1].samples[0].value == 3);
    const psc_family *b = psc_model_find_family(m, S("b_total"));
    assert_int_equal(b->nmetrics, 2);
    /* a sample of no known family starts an untyped one named after it */
    const psc_family *c = psc_model_find_family(m, S("c_count"));
    assert_non_null(c);
    assert_int_equal(c->type, PSC_TYPE_UNTYPED);
    assert_false(c->has_type);
    psc_model_free(m);
    psc_diag_list_release(&d);
}

static void test_om_unknown_exemplar_unit(void **state)
{
    (void)state;
    const char *in = "# TYPE foo_seconds histogram\n"
                     "# UNIT foo_seconds seconds\n"
                     "# HELP foo_seconds Some \\\"help\\\" \\\\ \\n x\n"
                     "foo_seconds_bucket{le=\"0.1\"} 8 # {trace_id=\"KOO5S4vxi0o\"} 0.067 1520879607.789\n"
                     "foo_seconds_bucket{le=\"+Inf\"} 17\n"
                     "foo_seconds_count 17\n"
                     "foo_seconds_sum 324789.3\n"
                     "foo_seconds_created 1520430000.123\n"
                     "bar 1\n"
                     "# EOF\n";
    psc_model *m = parse_fmt(in, PSC_FORMAT_OPENMETRICS_1_0, NULL, PSC_OK);
    const psc_family *f = psc_model_family(m, 0);
    assert_true(f->has_unit);
    assert_true(psc_str_eq(f->unit, S("seconds")));
    assert_true(psc_str_eq(f->help, S("Some \"help\" \\ \n x")));
    assert_int_equal(f->metrics[0].nsamples, 5);
    const psc_sample *s = &f->metrics[0].samples[0];
    assert_non_null(s->exemplar);
    assert_int_equal(s->exemplar->nlabels, 1);
    assert_true(psc_str_eq(s->exemplar->labels[0].value, S("KOO5S4vxi0o")));
    assert_true(s->exemplar->value == 0.067);
    assert_true(s->exemplar->has_timestamp);
    assert_null(f->metrics[0].samples[1].exemplar);
    assert_int_equal(f->metrics[0].samples[4].kind, PSC_SAMPLE_CREATED);
    const psc_family *bar = psc_model_family(m, 1);
    assert_int_equal(bar->type, PSC_TYPE_UNKNOWN);
    psc_model_free(m);
}

/* Lines with errors are left out, also when the validator reports them at
 * the end of the metric (a _count that differs from the +Inf bucket). */
static void test_error_lines_left_out(void **state)
{
    (void)state;
    psc_diag_list d;
    psc_diag_list_init(&d);
    const char *in = "# TYPE h histogram\n"
                     "h_bucket{le=\"1\"} 1\n"
                     "h_bucket{le=\"+Inf\"} 2\n"
                     "h_count 3\n"
                     "h_sum 4\n"
                     "# TYPE g gauge\n"
                     "g{a=\"1\" 2\n"
                     "g 5\n";
    psc_model *m = parse_fmt(in, PSC_FORMAT_TEXT_0_0_4, &d, PSC_E_SYNTAX);
    assert_true(has_rule(&d, "histogram-count-mismatch", 4));
    assert_true(d.nerrors >= 2);
    const psc_family *h = psc_model_family(m, 0);
    assert_int_equal(h->nseries, 3);
    assert_null(psc_model_find_series(m, S("h_count"), NULL, 0, NULL));
    assert_non_null(psc_model_find_series(m, S("h_sum"), NULL, 0, NULL));
    const psc_family *g = psc_model_family(m, 1);
    assert_int_equal(g->nseries, 1);
    assert_true(g->metrics[0].samples[0].value == 5);
    psc_model_free(m);
    psc_diag_list_release(&d);
}

/* The model copies what it keeps: the input may go away. */
static void test_input_freed(void **state)
{
    (void)state;
    size_t n = strlen(text_input);
    char *copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, text_input, n);
    psc_model *m = NULL;
    assert_int_equal(psc_model_parse(copy, n, NULL, &m, NULL), PSC_OK);
    memset(copy, 'x', n);
    free(copy);
    const psc_family *f = psc_model_find_family(m, S("http_request_duration_seconds"));
    assert_non_null(f);
    assert_true(psc_str_eq(f->help, S("A histogram of the request duration.")));
    assert_true(psc_str_eq(f->metrics[1].samples[0].labels[0].value, S("/b")));
    assert_int_equal(f->metrics[1].samples[0].bound_text.ptr[f->metrics[1].samples[0].bound_text.len], '\0');
    assert_int_equal(f->metrics[1].samples[0].name.ptr[f->metrics[1].samples[0].name.len], '\0');
    psc_model_free(m);
}

/* Many series and long label sets in permuted order: lookups stay exact. */
static void test_many_series(void **state)
{
    (void)state;
    enum { N = 3000, L = 24 };
    size_t cap = (size_t)N * (2 * L * 16 + 128) + 64;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t len = (size_t)snprintf(buf, cap, "# TYPE h histogram\n");
    for (int i = 0; i < N; i++) {
        for (int b = 0; b < 2; b++) {
            len += (size_t)snprintf(buf + len, cap - len, "h_bucket{");
            /* bucket 1 lists the labels in reverse order */
            for (int k = 0; k < L; k++) {
                int j = b ? L - 1 - k : k;
                len += (size_t)snprintf(buf + len, cap - len, "l%02d=\"v%d\",", j, j == 7 ? i : j);
            }
            len += (size_t)snprintf(buf + len, cap - len, "le=\"%s\"} %d\n", b ? "+Inf" : "1", b + 1);
        }
    }
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_model *m = NULL;
    assert_int_equal(psc_model_parse(buf, len, NULL, &m, &d), PSC_OK);
    const psc_family *f = psc_model_family(m, 0);
    assert_int_equal(f->nmetrics, N);
    assert_int_equal(psc_model_series_count(m), 2 * N);
    psc_label q[L + 1];
    char vals[L][16];
    for (int i = 0; i < N; i += 97) {
        for (int k = 0; k < L; k++) {
            int n = snprintf(vals[k], sizeof vals[k], "v%d", k == 7 ? i : k);
            static char names[L][4];
            snprintf(names[k], sizeof names[k], "l%02d", k);
            q[(k * 5) % L] = (psc_label){{names[k], 3}, {vals[k], (size_t)n}};
        }
        q[L] = (psc_label){S("le"), S("+Inf")};
        const psc_sample *s = psc_model_find_series(m, S("h_bucket"), q, L + 1, NULL);
        assert_non_null(s);
        assert_true(s->value == 2);
        assert_int_equal(f->metrics[i].nsamples, 2);
    }
    psc_model_free(m);
    psc_diag_list_release(&d);
    free(buf);
}

/* BAD-INPUTS E6: fail allocation 1, 2, ... until the parse succeeds; each
 * failure is PSC_E_NOMEM with no model, and nothing leaks (ASan). */
static void oom_loop(const char *in, psc_format fmt)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = fmt;
    long n;
    for (n = 1; n < 100000; n++) {
        psc_diag_list d;
        psc_diag_list_init(&d);
        psc_model *m = (psc_model *)&d; /* must be reset to NULL on failure */
        psc_alloc_fail_after(n);
        psc_status st = psc_model_parse(in, strlen(in), &o, &m, &d);
        psc_alloc_fail_after(0);
        psc_diag_list_release(&d);
        if (st != PSC_E_NOMEM) {
            assert_true(st == PSC_OK || st == PSC_E_SYNTAX);
            assert_non_null(m);
            assert_true(psc_model_family_count(m) > 0);
            psc_model_free(m);
            break;
        }
        assert_null(m);
    }
    assert_true(n > 10);
    assert_true(n < 100000);
}

static void test_oom(void **state)
{
    (void)state;
    oom_loop(text_input, PSC_FORMAT_TEXT_0_0_4);
    oom_loop("# TYPE foo_seconds histogram\n"
             "# UNIT foo_seconds seconds\n"
             "# HELP foo_seconds help \\\" with escapes\n"
             "foo_seconds_bucket{a=\"x\",le=\"0.1\"} 8 # {trace_id=\"KOO5S4vxi0o\"} 0.067 1520879607.789\n"
             "foo_seconds_bucket{le=\"+Inf\",a=\"x\"} 17\n"
             "foo_seconds_count{a=\"x\"} 17\n"
             "foo_seconds_sum{a=\"x\"} 324789.3\n"
             "foo_seconds_created{a=\"x\"} 1520430000.123\n"
             "# TYPE i info\n"
             "i_info{v=\"1\"} 1\n"
             "# TYPE s stateset\n"
             "s{s=\"a\"} 1\n"
             "s{s=\"b\"} 0\n"
             "# EOF\n",
             PSC_FORMAT_OPENMETRICS_1_0);
    /* with errors: the error paths and the removal of flagged lines */
    oom_loop("# TYPE h histogram\n"
             "h_bucket{le=\"+Inf\"} 2\n"
             "h_count 3\n"
             "a{x=\"1\"} 1\n"
             "a{x=\"1\"} 1\n"
             "b{ 1\n"
             "a{x=\"2\"} 1\n",
             PSC_FORMAT_TEXT_0_0_4);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(psc_model_parse("a 1\n", 4, NULL, NULL, NULL), PSC_E_ARG);
    psc_model *m = NULL;
    assert_int_equal(psc_model_parse(NULL, 0, NULL, &m, NULL), PSC_OK);
    assert_int_equal(psc_model_family_count(m), 0);
    assert_int_equal(psc_model_series_count(m), 0);
    assert_null(psc_model_find_series(m, S("a"), NULL, 0, NULL));
    psc_model_free(m);
    psc_model_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families_in_order),
        cmocka_unit_test(test_histogram_metrics),
        cmocka_unit_test(test_series_lookup),
        cmocka_unit_test(test_duplicate_keeps_first),
        cmocka_unit_test(test_points_with_timestamps),
        cmocka_unit_test(test_interleaved_text),
        cmocka_unit_test(test_om_unknown_exemplar_unit),
        cmocka_unit_test(test_error_lines_left_out),
        cmocka_unit_test(test_input_freed),
        cmocka_unit_test(test_many_series),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
