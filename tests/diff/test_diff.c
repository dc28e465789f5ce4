/*
 * Unit tests of lib/diff: psc_histogram_quantile() against values computed
 * by hand from the rules of Prometheus' promql/quantile.go, and
 * psc_diff_new() on small expositions: matching, rates, resets, intervals,
 * label-name and bucket-layout changes, ignoring, min-change, bad options,
 * and every allocation failing in turn.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promscope/diff.h"
#include "promscope/model.h"
#include "util/alloc.h"

#define INF INFINITY

static double quantile(double q, const double *ub, const double *c, size_t n, bool *forced)
{
    double v = -12345;
    assert_int_equal(psc_histogram_quantile(q, ub, c, n, &v, forced), PSC_OK);
    return v;
}

static void assert_close(double got, double want)
{
    if (isnan(want)) {
        if (!isnan(got)) {
            print_error("got %.17g, want NaN\n", got);
            fail();
        }
        return;
    }
    if (isinf(want)) {
        if (got != want) {
            print_error("got %.17g, want %g\n", got, want);
            fail();
        }
        return;
    }
    if (!(fabs(got - want) <= 1e-12 * fmax(1, fabs(want)))) {
        print_error("got %.17g, want %.17g\n", got, want);
        fail();
    }
}

/* ------------------------------------------------------------------ */
/* psc_histogram_quantile */

/* Bucket increases of testdata/diff/percentiles, method="get":
 * cumulative 40, 70, 90, 98, 100, 100 over le 0.05 .. +Inf. */
static const double get_ub[] = {0.05, 0.1, 0.25, 0.5, 1, INF};
static const double get_c[] = {40, 70, 90, 98, 100, 100};

static void test_quantile_interpolation(void **state)
{
    (void)state;
    bool forced = true;
    /* p50: rank 50 falls in (0.05, 0.1] holding 70 - 40 = 30; 10 of them
     * below the rank: 0.05 + 0.05 * 10 / 30. */
    assert_close(quantile(0.5, get_ub, get_c, 6, &forced), 0.05 + 0.05 * 10.0 / 30.0);
    assert_false(forced);
    /* p90: rank 90 is exactly the count of le=0.25: its upper bound. */
    assert_close(quantile(0.9, get_ub, get_c, 6, NULL), 0.25);
    /* p99: rank 99 in (0.5, 1] holding 2, 1 below the rank: 0.75. */
    assert_close(quantile(0.99, get_ub, get_c, 6, NULL), 0.75);
    /* p10: rank 10 in the lowest bucket, lower bound 0: 0.05 * 10 / 40. */
    assert_close(quantile(0.1, get_ub, get_c, 6, NULL), 0.0125);
    /* q = 0: rank 0, the first bucket with count >= 0 is the lowest:
     * 0 + 0.05 * 0 / 40 = 0. */
    assert_close(quantile(0, get_ub, get_c, 6, NULL), 0);
    /* q = 1: rank 100 first reached by le=1 (not +Inf): its upper bound. */
    assert_close(quantile(1, get_ub, get_c, 6, NULL), 1);
}

static void test_quantile_special_q(void **state)
{
    (void)state;
    assert_close(quantile(NAN, get_ub, get_c, 6, NULL), NAN);
    assert_close(quantile(-0.1, get_ub, get_c, 6, NULL), -INF);
    assert_close(quantile(1.01, get_ub, get_c, 6, NULL), INF);
    /* the q checks come first: even without buckets */
    assert_close(quantile(-1, NULL, NULL, 0, NULL), -INF);
    assert_close(quantile(2, NULL, NULL, 0, NULL), INF);
    assert_close(quantile(0.5, NULL, NULL, 0, NULL), NAN);
    assert_int_equal(psc_histogram_quantile(0.5, get_ub, get_c, 6, NULL, NULL), PSC_E_ARG);
}

static void test_quantile_degenerate(void **state)
{
    (void)state;
    /* highest bucket not +Inf */
    const double ub1[] = {0.1, 1}, c1[] = {1, 2};
    assert_close(quantile(0.5, ub1, c1, 2, NULL), NAN);
    /* only the +Inf bucket */
    const double ub2[] = {INF}, c2[] = {5};
    assert_close(quantile(0.5, ub2, c2, 1, NULL), NAN);
    /* no observations */
    const double ub3[] = {1, INF}, c3[] = {0, 0};
    assert_close(quantile(0.5, ub3, c3, 2, NULL), NAN);
    /* every observation above the highest finite bound: that bound */
    const double ub4[] = {0.5, 1, INF}, c4[] = {0, 0, 3};
    assert_close(quantile(0.5, ub4, c4, 3, NULL), 1);
    assert_close(quantile(0.01, ub4, c4, 3, NULL), 1);
}

static void test_quantile_lowest_bucket_not_positive(void **state)
{
    (void)state;
    /* lowest upper bound <= 0: returned as is when the rank falls there */
    const double ub[] = {-1, 0, 1, INF}, c[] = {5, 8, 9, 10};
    assert_close(quantile(0.25, ub, c, 4, NULL), -1);
    /* rank 6 in (-1, 0] holding 3, 1 below the rank: -1 + 1 * 1/3 */
    assert_close(quantile(0.6, ub, c, 4, NULL), -1 + 1.0 / 3.0);
    const double ub0[] = {0, 1, INF}, c0[] = {2, 4, 4};
    assert_close(quantile(0.25, ub0, c0, 3, NULL), 0);
}

static void test_quantile_unsorted_and_duplicates(void **state)
{
    (void)state;
    /* any order; equal bounds are merged (counts added) */
    const double ub[] = {INF, 1, 0.5, 1}, c[] = {10, 5, 2, 0};
    /* sorted: 0.5:2, 1:5 (5+0), +Inf:10; p40: rank 4 in (0.5, 1] holding
     * 3, 2 below: 0.5 + 0.5 * 2/3 */
    assert_close(quantile(0.4, ub, c, 4, NULL), 0.5 + 0.5 * 2.0 / 3.0);
}

static void test_quantile_monotonicity(void **state)
{
    (void)state;
    /* increases 2, 15, 10, 10 (a reset of the second bucket): raised to
     * 2, 15, 15, 15; p50: rank 7.5 in (0.05, 0.1] holding 13, 5.5 below */
    const double ub[] = {0.05, 0.1, 0.25, INF}, c[] = {2, 15, 10, 10};
    bool forced = false;
    assert_close(quantile(0.5, ub, c, 4, &forced), 0.05 + 0.05 * 5.5 / 13.0);
    assert_true(forced);
    /* a difference below the relative precision tolerance is not a
     * monotonicity violation: 10 then 10 - 1e-12 is float noise */
    const double ub2[] = {1, 2, INF}, c2[] = {10, 10 - 1e-12, 20};
    forced = true;
    assert_close(quantile(0.25, ub2, c2, 3, &forced), 0.5);
    assert_false(forced);
}

static void test_quantile_many_buckets(void **state)
{
    (void)state;
    enum { N = 200 };
    double ub[N], c[N];
    for (int i = 0; i < N - 1; i++) {
        ub[i] = i + 1;     /* le = 1 .. 199 */
        c[i] = 10.0 * (i + 1);
    }
    ub[N - 1] = INF;
    c[N - 1] = 10.0 * (N - 1);
    /* uniform: 10 observations per unit; p50 of 1990 = rank 995, in
     * (99, 100] holding 10, 5 below: 99.5 */
    assert_close(quantile(0.5, ub, c, N, NULL), 99.5);
    /* the temporary copy for > 64 buckets fails cleanly */
    double v = 0;
    psc_alloc_fail_after(1);
    psc_status st = psc_histogram_quantile(0.5, ub, c, N, &v, NULL);
    psc_alloc_fail_after(0);
    assert_int_equal(st, PSC_E_NOMEM);
}

/* ------------------------------------------------------------------ */
/* psc_diff_new */

static psc_model *model(const char *text)
{
    psc_model *m = NULL;
    psc_diag_list diags;
    psc_diag_list_init(&diags);
    psc_status st = psc_model_parse(text, strlen(text), NULL, &m, &diags);
    if (st != PSC_OK) {
        for (size_t i = 0; i < diags.count; i++)
            print_error("%llu:%llu: %s\n", (unsigned long long)diags.items[i].line,
                        (unsigned long long)diags.items[i].column, diags.items[i].message);
    }
    assert_int_equal(st, PSC_OK);
    assert_non_null(m);
    psc_diag_list_release(&diags);
    return m;
}

struct pair {
    psc_model *o, *n;
    psc_diff *d;
};

static void run(struct pair *p, const char *old_text, const char *new_text, const psc_diff_opts *o)
{
    p->o = model(old_text);
    p->n = model(new_text);
    psc_error err;
    psc_error_clear(&err);
    p->d = NULL;
    assert_int_equal(psc_diff_new(p->o, p->n, o, &p->d, &err), PSC_OK);
    assert_non_null(p->d);
}

static void done(struct pair *p)
{
    psc_diff_free(p->d);
    psc_model_free(p->o);
    psc_model_free(p->n);
}

static bool str_is(psc_str s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

static const psc_diff_change *find(const psc_diff *d, psc_diff_kind k, const char *name,
                                   const char *label, const char *value)
{
    for (size_t i = 0; i < psc_diff_change_count(d); i++) {
        const psc_diff_change *c = psc_diff_change_at(d, i);
        if (c->kind != k || (name && !str_is(c->name, name)))
            continue;
        if (!label)
            return c;
        for (size_t j = 0; j < c->nlabels; j++)
            if (str_is(c->labels[j].name, label) && str_is(c->labels[j].value, value))
                return c;
    }
    return NULL;
}

static void test_identical_after_normalisation(void **state)
{
    (void)state;
    struct pair p;
    run(&p,
        "# TYPE h histogram\n"
        "h_bucket{a=\"x\",le=\"1\"} 1\nh_bucket{a=\"x\",le=\"+Inf\"} 2\n"
        "h_sum{a=\"x\"} 3\nh_count{a=\"x\"} 2\n"
        "# TYPE g gauge\ng{b=\"1\",c=\"2\"} NaN\n",
        "# TYPE h histogram\n"
        "h_bucket{le=\"1.0\",a=\"x\"} 1\nh_bucket{a=\"x\",le=\"+inf\"} 2\n"
        "h_sum{a=\"x\"} 3\nh_count{a=\"x\"} 2\n"
        "# TYPE g gauge\ng{c=\"2\",b=\"1\"} NaN\n",
        NULL);
    assert_int_equal(psc_diff_change_count(p.d), 0);
    assert_int_equal(psc_diff_family_count(p.d), 0);
    assert_int_equal(psc_diff_get_counts(p.d)->series_unchanged, 5);
    done(&p);
}

static void test_counter_rate_and_reset(void **state)
{
    (void)state;
    psc_diff_opts o;
    psc_diff_opts_init(&o);
    o.interval = 10;
    struct pair p;
    run(&p,
        "# TYPE c_total counter\nc_total{k=\"up\"} 100\nc_total{k=\"reset\"} 50\n"
        "# TYPE g gauge\ng 5\n",
        "# TYPE c_total counter\nc_total{k=\"up\"} 130\nc_total{k=\"reset\"} 20\n"
        "# TYPE g gauge\ng 2\n",
        &o);
    const psc_diff_change *up = find(p.d, PSC_DIFF_VALUE_CHANGED, "c_total", "k", "up");
    assert_non_null(up);
    assert_true(up->counter);
    assert_false(up->reset);
    assert_true(up->has_rate);
    assert_close(up->delta, 30);
    assert_close(up->rate, 3);          /* 30 / 10 s */
    const psc_diff_change *rs = find(p.d, PSC_DIFF_VALUE_CHANGED, "c_total", "k", "reset");
    assert_non_null(rs);
    assert_true(rs->reset);
    assert_close(rs->delta, -30);
    assert_close(rs->rate, 2);          /* after a reset: new value 20 / 10 s */
    const psc_diff_change *g = find(p.d, PSC_DIFF_VALUE_CHANGED, "g", NULL, NULL);
    assert_non_null(g);
    assert_false(g->counter);
    assert_false(g->reset);             /* a gauge going down is no reset */
    assert_false(g->has_rate);
    assert_int_equal(psc_diff_get_counts(p.d)->resets, 1);
    assert_int_equal(psc_diff_get_counts(p.d)->values_changed, 3);
    done(&p);
}

static void test_interval_from_timestamps(void **state)
{
    (void)state;
    psc_diff_opts o;
    psc_diff_opts_init(&o);
    o.interval = 1; /* timestamps win where both samples carry one */
    struct pair p;
    run(&p,
        "# TYPE c_total counter\nc_total{k=\"a\"} 10 1000000\nc_total{k=\"b\"} 10\n"
        "c_total{k=\"c\"} 10 2000000\n",
        "# TYPE c_total counter\nc_total{k=\"a\"} 70 1030000\nc_total{k=\"b\"} 20\n"
        "c_total{k=\"c\"} 20 2000000\n",
        &o);
    const psc_diff_change *a = find(p.d, PSC_DIFF_VALUE_CHANGED, "c_total", "k", "a");
    assert_non_null(a);
    assert_true(a->interval_from_timestamps);
    assert_close(a->interval, 30);
    assert_close(a->rate, 2);
    const psc_diff_change *b = find(p.d, PSC_DIFF_VALUE_CHANGED, "c_total", "k", "b");
    assert_non_null(b);
    assert_false(b->interval_from_timestamps);
    assert_close(b->rate, 10);
    /* equal timestamps: no interval, no rate */
    const psc_diff_change *c = find(p.d, PSC_DIFF_VALUE_CHANGED, "c_total", "k", "c");
    assert_non_null(c);
    assert_false(c->has_rate);
    done(&p);
}

static void test_created_marks_reset(void **state)
{
    (void)state;
    psc_diff_opts o;
    psc_diff_opts_init(&o);
    o.interval = 60;
    struct pair p;
    run(&p,
        "# TYPE r counter\nr_total 100\nr_created 1700000000.0\n# EOF\n",
        "# TYPE r counter\nr_total 150\nr_created 1700000100.0\n# EOF\n", &o);
    const psc_diff_change *c = find(p.d, PSC_DIFF_VALUE_CHANGED, "r_total", NULL, NULL);
    assert_non_null(c);
    assert_true(c->reset);
    assert_close(c->rate, 150.0 / 60.0);
    done(&p);
}

static void test_families_and_metadata(void **state)
{
    (void)state;
    struct pair p;
    run(&p,
        "# HELP a A.\n# TYPE a gauge\na 1\n# TYPE gone gauge\ngone 1\n# TYPE t untyped\nt 1\n",
        "# HELP a A changed.\n# TYPE a gauge\na 1\n# TYPE fresh counter\nfresh 1\nfresh{x=\"y\"} 2\n"
        "# TYPE t gauge\nt 1\n",
        NULL);
    const psc_diff_counts *cn = psc_diff_get_counts(p.d);
    assert_int_equal(cn->families_added, 1);
    assert_int_equal(cn->families_removed, 1);
    assert_int_equal(cn->metadata_changed, 2);
    assert_int_equal(cn->families_changed, 2);
    /* ordered by name: a, fresh, gone, t */
    assert_int_equal(psc_diff_family_count(p.d), 4);
    assert_true(str_is(psc_diff_family_at(p.d, 1)->name, "fresh"));
    assert_int_equal(psc_diff_family_at(p.d, 1)->new_series, 2);
    const psc_diff_change *help = find(p.d, PSC_DIFF_METADATA_CHANGED, NULL, NULL, NULL);
    assert_non_null(help);
    assert_int_equal(help->field, PSC_DIFF_FIELD_HELP);
    assert_true(str_is(help->old_text, "A."));
    assert_true(str_is(help->new_text, "A changed."));
    done(&p);
}

static void test_label_names_changed(void **state)
{
    (void)state;
    struct pair p;
    run(&p,
        "# TYPE s gauge\ns{region=\"eu\",dc=\"1\"} 4\ns{region=\"us\",dc=\"2\"} 6\n",
        "# TYPE s gauge\ns{region=\"eu\",zone=\"a\"} 5\ns{region=\"us\",zone=\"b\"} 6\n"
        "s{region=\"ap\",zone=\"c\"} 1\n",
        NULL);
    const psc_diff_counts *cn = psc_diff_get_counts(p.d);
    assert_int_equal(cn->labels_changed, 1);
    /* matched on the shared name `region`: not 2 removed + 3 added */
    assert_int_equal(cn->series_removed, 0);
    assert_int_equal(cn->series_added, 1);
    assert_int_equal(cn->values_changed, 1);
    const psc_diff_change *lc = find(p.d, PSC_DIFF_LABELS_CHANGED, NULL, NULL, NULL);
    assert_non_null(lc);
    assert_int_equal(lc->nnames_added, 1);
    assert_true(str_is(lc->names_added[0], "zone"));
    assert_int_equal(lc->nnames_removed, 1);
    assert_true(str_is(lc->names_removed[0], "dc"));
    assert_non_null(find(p.d, PSC_DIFF_VALUE_CHANGED, "s", "zone", "a"));
    assert_non_null(find(p.d, PSC_DIFF_SERIES_ADDED, "s", "region", "ap"));
    done(&p);
}

static void test_bucket_layout(void **state)
{
    (void)state;
    struct pair p;
    run(&p,
        "# TYPE h histogram\n"
        "h_bucket{p=\"a\",le=\"0.1\"} 1\nh_bucket{p=\"a\",le=\"0.5\"} 2\nh_bucket{p=\"a\",le=\"+Inf\"} 3\n"
        "h_count{p=\"a\"} 3\n"
        "h_bucket{p=\"b\",le=\"0.1\"} 1\nh_bucket{p=\"b\",le=\"0.5\"} 2\nh_bucket{p=\"b\",le=\"+Inf\"} 3\n"
        "h_count{p=\"b\"} 3\n",
        "# TYPE h histogram\n"
        "h_bucket{p=\"a\",le=\"0.1\"} 1\nh_bucket{p=\"a\",le=\"0.25\"} 2\nh_bucket{p=\"a\",le=\"+Inf\"} 3\n"
        "h_count{p=\"a\"} 3\n"
        "h_bucket{p=\"b\",le=\"0.10\"} 1\nh_bucket{p=\"b\",le=\"0.25\"} 2\nh_bucket{p=\"b\",le=\"+Inf\"} 3\n"
        "h_count{p=\"b\"} 3\n",
        NULL);
    const psc_diff_counts *cn = psc_diff_get_counts(p.d);
    assert_int_equal(cn->buckets_changed, 1); /* one layout change, two label sets */
    assert_int_equal(cn->series_added, 0);
    assert_int_equal(cn->series_removed, 0);
    const psc_diff_change *b = find(p.d, PSC_DIFF_BUCKETS_CHANGED, NULL, NULL, NULL);
    assert_non_null(b);
    assert_int_equal(b->nmetrics, 2);
    assert_int_equal(b->nbounds_added, 1);
    assert_close(b->bounds_added[0], 0.25);
    assert_int_equal(b->nbounds_removed, 1);
    assert_close(b->bounds_removed[0], 0.5);
    done(&p);
}

static void test_ignore_and_min_change(void **state)
{
    (void)state;
    const char *labels[] = {"instance"};
    const char *metrics[] = {"go_.*", "x_created"};
    psc_diff_opts o;
    psc_diff_opts_init(&o);
    o.ignore_labels = labels;
    o.nignore_labels = 1;
    o.ignore_metrics = metrics;
    o.nignore_metrics = 2;
    o.min_change = 1;
    struct pair p;
    run(&p,
        "# TYPE go_threads gauge\ngo_threads 1\n# TYPE x gauge\nx{instance=\"a\"} 10\n"
        "# TYPE x_created gauge\nx_created 5\n# TYPE y gauge\ny{instance=\"a\"} 1\n"
        "# TYPE argo_x gauge\nargo_x 1\n",
        "# TYPE go_threads gauge\ngo_threads 2\n# TYPE x gauge\nx{instance=\"b\"} 10.5\n"
        "# TYPE x_created gauge\nx_created 6\n# TYPE y gauge\ny{instance=\"b\"} 3\n"
        "# TYPE argo_x gauge\nargo_x 2\n",
        &o);
    const psc_diff_counts *cn = psc_diff_get_counts(p.d);
    /* go_threads and x_created ignored; x changed by 0.5 < 1; y by 2;
     * argo_x is not matched by the anchored go_.* */
    assert_int_equal(cn->values_changed, 2);
    assert_int_equal(cn->values_below_min_change, 1);
    assert_non_null(find(p.d, PSC_DIFF_VALUE_CHANGED, "y", NULL, NULL));
    assert_non_null(find(p.d, PSC_DIFF_VALUE_CHANGED, "argo_x", NULL, NULL));
    const psc_diff_change *y = find(p.d, PSC_DIFF_VALUE_CHANGED, "y", NULL, NULL);
    assert_int_equal(y->nlabels, 0); /* instance dropped from the output too */
    done(&p);
}

static void test_cross_format_counter(void **state)
{
    (void)state;
    struct pair p;
    run(&p, "# TYPE req_total counter\nreq_total 1\n",
        "# TYPE req counter\nreq_total 4\n# EOF\n", NULL);
    const psc_diff_counts *cn = psc_diff_get_counts(p.d);
    assert_int_equal(cn->families_added, 0);
    assert_int_equal(cn->families_removed, 0);
    assert_int_equal(cn->values_changed, 1);
    done(&p);
}

static void test_percentiles(void **state)
{
    (void)state;
    const double qs[] = {0.5, 0.9, 0.99};
    psc_diff_opts o;
    psc_diff_opts_init(&o);
    o.quantiles = qs;
    o.nquantiles = 3;
    o.interval = 10;
    struct pair p;
    run(&p,
        "# TYPE d histogram\n"
        "d_bucket{le=\"0.05\"} 100\nd_bucket{le=\"0.1\"} 150\nd_bucket{le=\"0.25\"} 180\n"
        "d_bucket{le=\"0.5\"} 195\nd_bucket{le=\"1\"} 200\nd_bucket{le=\"+Inf\"} 200\n"
        "d_sum 20\nd_count 200\n",
        "# TYPE d histogram\n"
        "d_bucket{le=\"0.05\"} 140\nd_bucket{le=\"0.1\"} 220\nd_bucket{le=\"0.25\"} 270\n"
        "d_bucket{le=\"0.5\"} 293\nd_bucket{le=\"1\"} 300\nd_bucket{le=\"+Inf\"} 300\n"
        "d_sum 29\nd_count 300\n",
        &o);
    assert_int_equal(psc_diff_percentiles_count(p.d), 1);
    const psc_diff_percentiles *pc = psc_diff_percentiles_at(p.d, 0);
    assert_close(pc->observations, 100);
    assert_close(pc->rate, 10);
    assert_close(pc->sum, 9);
    assert_true(pc->has_count);
    assert_close(pc->count, 100);
    assert_false(pc->reset);
    assert_int_equal(pc->nvalues, 3);
    assert_close(pc->values[0], 0.05 + 0.05 * 10.0 / 30.0);
    assert_close(pc->values[1], 0.25);
    assert_close(pc->values[2], 0.75);
    done(&p);
}

static void test_bad_options(void **state)
{
    (void)state;
    psc_model *m = model("a 1\n");
    psc_diff *d = (psc_diff *)&d;
    psc_error err;
    psc_diff_opts o;

    psc_diff_opts_init(&o);
    const char *bad[] = {"(unclosed"};
    o.ignore_metrics = bad;
    o.nignore_metrics = 1;
    psc_error_clear(&err);
    assert_int_equal(psc_diff_new(m, m, &o, &d, &err), PSC_E_ARG);
    assert_null(d);
    assert_non_null(strstr(err.message, "(unclosed"));

    psc_diff_opts_init(&o);
    o.interval = -1;
    assert_int_equal(psc_diff_new(m, m, &o, &d, NULL), PSC_E_ARG);
    o.interval = NAN;
    assert_int_equal(psc_diff_new(m, m, &o, &d, NULL), PSC_E_ARG);
    psc_diff_opts_init(&o);
    o.min_change = -1;
    assert_int_equal(psc_diff_new(m, m, &o, &d, NULL), PSC_E_ARG);
    assert_int_equal(psc_diff_new(NULL, m, NULL, &d, NULL), PSC_E_ARG);
    assert_int_equal(psc_diff_new(m, m, NULL, NULL, NULL), PSC_E_ARG);
    psc_model_free(m);
    psc_diff_free(NULL);
}

/* Fail allocation 1, 2, 3, ... of psc_diff_new() until it succeeds: every
 * failure must give PSC_E_NOMEM with *out NULL, and leak nothing (ASan). */
static void test_out_of_memory(void **state)
{
    (void)state;
    const double qs[] = {0.5, 0.99};
    const char *labels[] = {"pod"};
    const char *metrics[] = {"skip_.*"};
    psc_diff_opts o;
    psc_diff_opts_init(&o);
    o.quantiles = qs;
    o.nquantiles = 2;
    o.ignore_labels = labels;
    o.nignore_labels = 1;
    o.ignore_metrics = metrics;
    o.nignore_metrics = 1;
    o.interval = 5;
    psc_model *a = model("# HELP h H.\n# TYPE h histogram\n"
                         "h_bucket{pod=\"x\",p=\"a\",le=\"1\"} 1\nh_bucket{pod=\"x\",p=\"a\",le=\"+Inf\"} 2\n"
                         "h_sum{pod=\"x\",p=\"a\"} 3\nh_count{pod=\"x\",p=\"a\"} 2\n"
                         "# TYPE s gauge\ns{a=\"1\"} 1\ns{a=\"2\"} 2\n"
                         "# TYPE gone gauge\ngone 1\n# TYPE skip_me gauge\nskip_me 1\n");
    psc_model *b = model("# HELP h H2.\n# TYPE h histogram\n"
                         "h_bucket{pod=\"y\",p=\"a\",le=\"1\"} 3\nh_bucket{pod=\"y\",p=\"a\",le=\"+Inf\"} 5\n"
                         "h_sum{pod=\"y\",p=\"a\"} 8\nh_count{pod=\"y\",p=\"a\"} 5\n"
                         "h_bucket{p=\"b\",le=\"2\"} 3\nh_bucket{p=\"b\",le=\"+Inf\"} 5\nh_count{p=\"b\"} 5\n"
                         "# TYPE s gauge\ns{a=\"1\",b=\"x\"} 2\ns{a=\"3\",b=\"y\"} 2\n"
                         "# TYPE fresh counter\nfresh 1\n# TYPE skip_me gauge\nskip_me 2\n");
    long n;
    for (n = 1; n < 10000; n++) {
        psc_diff *d = (psc_diff *)&d;
        psc_alloc_fail_after(n);
        psc_status st = psc_diff_new(a, b, &o, &d, NULL);
        psc_alloc_fail_after(0);
        if (st == PSC_OK) {
            assert_true(psc_diff_change_count(d) > 5);
            assert_int_equal(psc_diff_percentiles_count(d), 1);
            psc_diff_free(d);
            break;
        }
        assert_int_equal(st, PSC_E_NOMEM);
        assert_null(d);
    }
    assert_true(n > 5 && n < 10000);
    psc_model_free(a);
    psc_model_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile_interpolation),
        cmocka_unit_test(test_quantile_special_q),
        cmocka_unit_test(test_quantile_degenerate),
        cmocka_unit_test(test_quantile_lowest_bucket_not_positive),
        cmocka_unit_test(test_quantile_unsorted_and_duplicates),
        cmocka_unit_test(test_quantile_monotonicity),
        cmocka_unit_test(test_quantile_many_buckets),
        cmocka_unit_test(test_identical_after_normalisation),
        cmocka_unit_test(test_counter_rate_and_reset),
        cmocka_unit_test(test_interval_from_timestamps),
        cmocka_unit_test(test_created_marks_reset),
        cmocka_unit_test(test_families_and_metadata),
        cmocka_unit_test(test_label_names_changed),
        cmocka_unit_test(test_bucket_layout),
        cmocka_unit_test(test_ignore_and_min_change),
        cmocka_unit_test(test_cross_format_counter),
        cmocka_unit_test(test_percentiles),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests_name("diff", tests, NULL, NULL);
}
