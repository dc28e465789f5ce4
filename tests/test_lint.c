/*
 * Unit tests of lib/lint and lib/card: the id detector, the rule table, the
 * lint API (options, ignore callback, columns with and without the input)
 * and the cardinality accumulator, each also under allocation failure at
 * every allocation in turn (the SQLite method, BAD-INPUTS E6).
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

#include "promscope/promscope.h"
#include "util/alloc.h"

static psc_str S(const char *s)
{
    return (psc_str){s, strlen(s)};
}

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        psc_value_kind k;
    } cases[] = {
        {"6f1c0e5a-3b2d-4c8e-9f10-1a2b3c4d5e6f", PSC_VALUE_UUID},
        {"6F1C0E5A-3B2D-4C8E-9F10-1A2B3C4D5E6F", PSC_VALUE_UUID},
        {"6f1c0e5a-3b2d-4c8e-9f10-1a2b3c4d5e6", PSC_VALUE_PLAIN},   /* one digit short */
        {"6f1c0e5a-3b2d-4c8e-9f10-1a2b3c4d5e6g", PSC_VALUE_PLAIN},  /* not hex */
        {"10.0.3.17", PSC_VALUE_IP},
        {"10.0.3.17:9100", PSC_VALUE_IP},
        {"255.255.255.255", PSC_VALUE_IP},
        {"256.1.1.1", PSC_VALUE_PLAIN},
        {"1.2.3", PSC_VALUE_PLAIN},
        {"1.2.3.4.5", PSC_VALUE_PLAIN},
        {"10.0.0.1:99999", PSC_VALUE_PLAIN},
        {"2001:db8::1", PSC_VALUE_IP},
        {"fe80::1%eth0", PSC_VALUE_IP},
        {"[2001:db8::1]:443", PSC_VALUE_IP},
        {"::ffff:10.0.0.1", PSC_VALUE_IP},
        {"2001:db8:0:0:0:0:0:1", PSC_VALUE_IP},
        {"12:30:00", PSC_VALUE_PLAIN},                               /* a time, not IPv6 */
        {"std::vector", PSC_VALUE_PLAIN},
        {"9f86d081884c7d659a2feaa0c55ad015", PSC_VALUE_HEX},
        {"0xdeadbeefdeadbeef", PSC_VALUE_HEX},
        {"deadbeefdeadbee", PSC_VALUE_PLAIN},                        /* 15 digits */
        {"ops@example.com", PSC_VALUE_EMAIL},
        {"first.last+tag@mail.example.org", PSC_VALUE_EMAIL},
        {"#1 SMP PREEMPT_DYNAMIC @0", PSC_VALUE_PLAIN},
        {"user@localhost", PSC_VALUE_PLAIN},
        {"a@b@c.com", PSC_VALUE_PLAIN},
        {"1700000000", PSC_VALUE_TIMESTAMP},
        {"1700000000123", PSC_VALUE_TIMESTAMP},
        {"1700000000.5", PSC_VALUE_TIMESTAMP},
        {"0100000000", PSC_VALUE_PLAIN},                             /* 1973 */
        {"9999999999", PSC_VALUE_PLAIN},                             /* 2286 */
        {"123456", PSC_VALUE_PLAIN},
        {"/api/users/1234", PSC_VALUE_URL_PATH},
        {"/api/users/1234/orders", PSC_VALUE_URL_PATH},
        {"https://example.com/orders/6f1c0e5a-3b2d-4c8e-9f10-1a2b3c4d5e6f", PSC_VALUE_URL_PATH},
        {"/blobs/9f86d081884c", PSC_VALUE_URL_PATH},
        {"/api/v1/query", PSC_VALUE_PLAIN},
        {"/metrics", PSC_VALUE_PLAIN},
        {"/dev/vda", PSC_VALUE_PLAIN},
        {"/search?page=2", PSC_VALUE_PLAIN},                         /* the query is not the path */
        {"https://example.com", PSC_VALUE_PLAIN},
        {"200", PSC_VALUE_PLAIN},
        {"", PSC_VALUE_PLAIN},
        {"GET", PSC_VALUE_PLAIN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        psc_value_kind k = psc_value_classify(S(cases[i].v));
        if (k != cases[i].k)
            fail_msg("'%s': got %s, expected %s", cases[i].v, psc_value_kind_name(k),
                     psc_value_kind_name(cases[i].k));
    }
    /* embedded NUL: bytes, not C strings */
    psc_str nul = {"1700000000\0abc", 14};
    assert_int_equal(psc_value_classify(nul), PSC_VALUE_PLAIN);
    assert_int_equal(psc_value_classify(PSC_STR_NULL), PSC_VALUE_PLAIN);
}

static void test_rule_table(void **state)
{
    (void)state;
    for (int i = 0; i < PSC_LINT__COUNT; i++) {
        const char *id = psc_lint_rule_name((psc_lint_rule)i);
        psc_lint_rule r;
        assert_true(psc_lint_rule_lookup(S(id), &r));
        assert_int_equal(r, i);
        assert_true(strlen(psc_lint_rule_summary((psc_lint_rule)i)) > 10);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(id, psc_lint_rule_name((psc_lint_rule)j));
    }
    psc_lint_rule r = PSC_LINT_PARSE;
    assert_false(psc_lint_rule_lookup(S("camel"), &r));
    assert_false(psc_lint_rule_lookup(S("camel-case-x"), &r));
    assert_string_equal(psc_lint_rule_name(PSC_LINT__COUNT), "unknown");
    assert_int_equal(psc_lint_rule_default_severity(PSC_LINT_UNTYPED), PSC_SEV_INFO);
    assert_int_equal(psc_lint_rule_default_severity(PSC_LINT_PARSE), PSC_SEV_ERROR);
    psc_lint_opts o;
    psc_lint_opts_init(&o);
    assert_int_equal(o.max_series_per_metric, 1000);
    assert_int_equal(o.max_label_values, 100);
    assert_int_equal(o.max_series, 10000);
}

static const char sample[] =
    "# HELP httpRequests_total Requests.\n"
    "# TYPE httpRequests_total counter\n"
    "httpRequests_total{statusCode=\"200\"} 1\n"
    "httpRequests_total{statusCode=\"500\"} 1\n"
    "# TYPE go_memstats_alloc_bytes gauge\n"
    "go_memstats_alloc_bytes 1024\n"
    "# HELP up Up.\n"
    "# TYPE up gauge\n"
    "up{job=\"a\"} 1\n"
    "up{job=\"a\"} 1\n";

static size_t count_rule(const psc_diag_list *l, const char *rule)
{
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++)
        n += strcmp(l->items[i].rule, rule) == 0;
    return n;
}

static const psc_diag *find_rule(const psc_diag_list *l, const char *rule)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].rule, rule) == 0)
            return &l->items[i];
    return NULL;
}

static void test_lint_buffer(void **state)
{
    (void)state;
    psc_diag_list l;
    psc_diag_list_init(&l);
    assert_int_equal(psc_lint_buffer(sample, sizeof sample - 1, NULL, NULL, &l), PSC_OK);
    assert_int_equal(count_rule(&l, "camel-case"), 2); /* the name, and statusCode once */
    assert_int_equal(count_rule(&l, "help-missing"), 1);
    assert_int_equal(count_rule(&l, "duplicate-series"), 1);
    const psc_diag *d = find_rule(&l, "help-missing");
    assert_string_equal(d->metric, "go_memstats_alloc_bytes");
    assert_int_equal(d->line, 5);
    assert_int_equal(d->column, 8);
    d = find_rule(&l, "duplicate-series");
    assert_int_equal(d->line, 10);
    assert_int_equal(d->severity, PSC_SEV_ERROR);
    /* sorted by position */
    for (size_t i = 1; i < l.count; i++)
        assert_true(l.items[i - 1].line < l.items[i].line ||
                    (l.items[i - 1].line == l.items[i].line && l.items[i - 1].column <= l.items[i].column));
    psc_diag_list_release(&l);
}

static bool ignore_go(void *ctx, const char *name, size_t len)
{
    (*(int *)ctx)++;
    return len >= 3 && memcmp(name, "go_", 3) == 0;
}

static void test_lint_options(void **state)
{
    (void)state;
    psc_lint_opts o;
    psc_lint_opts_init(&o);
    o.enabled[PSC_LINT_CAMEL_CASE] = false;
    o.severity[PSC_LINT_DUPLICATE_SERIES] = PSC_SEV_INFO;
    int calls = 0;
    o.ignore = ignore_go;
    o.ignore_ctx = &calls;
    psc_diag_list l;
    psc_diag_list_init(&l);
    assert_int_equal(psc_lint_buffer(sample, sizeof sample - 1, NULL, &o, &l), PSC_OK);
    assert_int_equal(count_rule(&l, "camel-case"), 0);
    assert_int_equal(count_rule(&l, "help-missing"), 0); /* only go_ had none */
    assert_int_equal(find_rule(&l, "duplicate-series")->severity, PSC_SEV_INFO);
    assert_true(calls >= 3);
    psc_diag_list_release(&l);

    /* psc_lint_model without the input: lines, but no columns */
    psc_model *m = NULL;
    psc_diag_list pd;
    psc_diag_list_init(&pd);
    psc_model_parse(sample, sizeof sample - 1, NULL, &m, &pd);
    assert_non_null(m);
    psc_diag_list_init(&l);
    assert_int_equal(psc_lint_model(m, NULL, 0, NULL, &l), PSC_OK);
    const psc_diag *d = find_rule(&l, "camel-case");
    assert_non_null(d);
    assert_int_equal(d->line, 1);
    assert_int_equal(d->column, 0);
    /* the model pass alone does not see the dropped duplicate line */
    assert_int_equal(count_rule(&l, "duplicate-series"), 0);
    psc_diag_list_release(&l);
    /* the conversion of parse findings maps the validator's duplicate */
    psc_diag_list_init(&l);
    assert_int_equal(psc_lint_parse_findings(&pd, NULL, &l), PSC_OK);
    assert_int_equal(count_rule(&l, "duplicate-series"), 1);
    psc_diag_list_release(&l);
    psc_diag_list_release(&pd);
    psc_model_free(m);
}

static void test_lint_thresholds(void **state)
{
    (void)state;
    /* a histogram of 3 buckets + _sum + _count is 5 series */
    static const char h[] = "# HELP rpc_seconds RPC.\n"
                            "# TYPE rpc_seconds histogram\n"
                            "rpc_seconds_bucket{path=\"/a\",le=\"1\"} 1\n"
                            "rpc_seconds_bucket{path=\"/a\",le=\"2\"} 1\n"
                            "rpc_seconds_bucket{path=\"/a\",le=\"+Inf\"} 1\n"
                            "rpc_seconds_sum{path=\"/a\"} 1\n"
                            "rpc_seconds_count{path=\"/a\"} 1\n";
    psc_lint_opts o;
    psc_lint_opts_init(&o);
    o.max_series = 4;
    o.max_series_per_metric = 5;
    o.max_label_values = 1;
    psc_diag_list l;
    psc_diag_list_init(&l);
    assert_int_equal(psc_lint_buffer(h, sizeof h - 1, NULL, &o, &l), PSC_OK);
    const psc_diag *d = find_rule(&l, "max-series");
    assert_non_null(d);
    assert_int_equal(d->line, 7); /* the 5th series */
    assert_string_equal(d->metric, "");
    assert_int_equal(count_rule(&l, "max-series-per-metric"), 0);
    assert_int_equal(count_rule(&l, "max-label-values"), 0); /* le does not count */
    psc_diag_list_release(&l);
}

static void test_card(void **state)
{
    (void)state;
    static const char a[] = "# TYPE a counter\n"
                            "a{user=\"6f1c0e5a-3b2d-4c8e-9f10-1a2b3c4d5e6f\"} 1\n"
                            "a{user=\"0b6f9d52-7c41-4e0a-8a3e-5d2f1c9b8a70\"} 1\n"
                            "# TYPE b gauge\n"
                            "b{code=\"200\"} 1\n";
    static const char b[] = "# TYPE b gauge\n"
                            "b{code=\"404\"} 1\n"
                            "b{code=\"500\"} 1\n"
                            "b{code=\"200\"} 1\n";
    psc_card *c = psc_card_new(NULL);
    assert_non_null(c);
    const char *bufs[] = {a, b};
    size_t lens[] = {sizeof a - 1, sizeof b - 1};
    for (int i = 0; i < 2; i++) {
        psc_model *m = NULL;
        assert_int_equal(psc_model_parse(bufs[i], lens[i], NULL, &m, NULL), PSC_OK);
        assert_int_equal(psc_card_add(c, m, NULL), PSC_OK);
        psc_model_free(m);
    }
    assert_int_equal(psc_card_total_series(c), 6);
    assert_int_equal(psc_card_family_count(c), 2);
    const psc_card_family *f = psc_card_family_at(c, 0);
    assert_string_equal(f->name.ptr, "b");
    assert_int_equal(f->series, 4);
    assert_true(fabs(f->share - 4.0 / 6) < 1e-9);
    assert_null(psc_card_family_at(c, 2));
    assert_int_equal(psc_card_label_count(c), 2);
    const psc_card_label *l = psc_card_label_at(c, 0);
    assert_string_equal(l->name.ptr, "code");
    assert_int_equal(l->values, 3);
    assert_int_equal(l->series, 4);
    assert_int_equal(l->nexamples, 3);
    assert_false(l->unbounded);
    l = psc_card_label_at(c, 1);
    assert_string_equal(l->name.ptr, "user");
    assert_true(l->unbounded);
    assert_int_equal(l->id_kind, PSC_VALUE_UUID);
    assert_int_equal(l->id_values, 2);
    psc_card_free(c);
    psc_card_free(NULL);
}

/* Models of the same shape, each freed before the next is parsed, mostly
 * get the same addresses from malloc: values at a reused address must
 * still count as new. */
static void test_card_reused_addresses(void **state)
{
    (void)state;
    static const char *const bufs[] = {"b{code=\"200\"} 1\n", "b{code=\"404\"} 1\n",
                                       "b{code=\"500\"} 1\n", "b{code=\"200\"} 1\n"};
    psc_card_opts o;
    psc_card_opts_init(&o);
    o.by_label = true;
    psc_card *c = psc_card_new(&o);
    assert_non_null(c);
    for (int i = 0; i < 4; i++) {
        psc_model *m = NULL;
        assert_int_equal(psc_model_parse(bufs[i], strlen(bufs[i]), NULL, &m, NULL), PSC_OK);
        assert_int_equal(psc_card_add(c, m, NULL), PSC_OK);
        psc_model_free(m);
    }
    assert_int_equal(psc_card_label_count(c), 1);
    const psc_card_label *l = psc_card_label_at(c, 0);
    assert_string_equal(l->name.ptr, "code");
    assert_int_equal(l->series, 4);
    assert_int_equal(l->values, 3);
    psc_card_free(c);
}

/* Fail allocation 1, 2, 3, ... until the call succeeds: every failure must
 * come back as PSC_E_NOMEM without a crash or a leak (ASan checks), and
 * the final result must equal the unconstrained one. */
static void test_oom(void **state)
{
    (void)state;
    psc_diag_list ref;
    psc_diag_list_init(&ref);
    assert_int_equal(psc_lint_buffer(sample, sizeof sample - 1, NULL, NULL, &ref), PSC_OK);
    long n;
    for (n = 1; n < 100000; n++) {
        psc_diag_list l;
        psc_diag_list_init(&l);
        psc_alloc_fail_after(n);
        psc_status st = psc_lint_buffer(sample, sizeof sample - 1, NULL, NULL, &l);
        psc_alloc_fail_after(0);
        if (st == PSC_OK) {
            assert_int_equal(l.count, ref.count);
            for (size_t i = 0; i < l.count; i++)
                assert_string_equal(l.items[i].message, ref.items[i].message);
            psc_diag_list_release(&l);
            break;
        }
        assert_int_equal(st, PSC_E_NOMEM);
        psc_diag_list_release(&l);
    }
    assert_true(n > 1 && n < 100000);
    psc_diag_list_release(&ref);

    psc_model *m = NULL;
    psc_model_parse(sample, sizeof sample - 1, NULL, &m, NULL);
    assert_non_null(m);
    for (n = 1; n < 100000; n++) {
        psc_alloc_fail_after(n);
        psc_card *c = psc_card_new(NULL);
        psc_status st = c ? psc_card_add(c, m, NULL) : PSC_E_NOMEM;
        psc_alloc_fail_after(0);
        if (st == PSC_OK) {
            assert_int_equal(psc_card_total_series(c), 4);
            psc_card_free(c);
            break;
        }
        assert_int_equal(st, PSC_E_NOMEM);
        psc_card_free(c);
    }
    assert_true(n > 1 && n < 100000);
    psc_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),      cmocka_unit_test(test_rule_table),
        cmocka_unit_test(test_lint_buffer),   cmocka_unit_test(test_lint_options),
        cmocka_unit_test(test_lint_thresholds), cmocka_unit_test(test_card),
        cmocka_unit_test(test_card_reused_addresses),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
