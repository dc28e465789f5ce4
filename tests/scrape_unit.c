/*
 * Unit tests of lib/scrape that need no server: URL redaction, the Accept
 * header, option checks, refused schemes, a refused connection, and every
 * allocation failing in turn (BAD-INPUTS E6) without a leak or a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "promscope/scrape.h"
#include "util/alloc.h"

static void redact(const char *in, const char *want)
{
    char buf[256];
    size_t n = psc_url_redact(in, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_url_redact(void **state)
{
    (void)state;
    redact("http://host:9100/metrics", "http://host:9100/metrics");
    redact("https://user:pass@host/metrics", "https://***@host/metrics");
    redact("https://user@host", "https://***@host");
    redact("http://a:b@c@host:1/x?y=z@w", "http://***@host:1/x?y=z@w");
    redact("http://host/path@notuserinfo", "http://host/path@notuserinfo");
    redact("http://host?q=a@b", "http://host?q=a@b");
    redact("not a url", "not a url");
    redact("", "");
    /* truncation like snprintf, and the full length returned */
    char small[10];
    size_t n = psc_url_redact("https://u:p@h/x", small, sizeof small);
    assert_int_equal(n, strlen("https://***@h/x"));
    assert_string_equal(small, "https://*");
    assert_int_equal(psc_url_redact("https://u:p@h/x", NULL, 0), n);
}

static void test_accept(void **state)
{
    (void)state;
    assert_string_equal(psc_scrape_accept(PSC_ESCAPING_ALLOW_UTF8),
                        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
                        "application/openmetrics-text;version=0.0.1;q=0.5,"
                        "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
                        "text/plain;version=0.0.4;q=0.3,*/*;q=0.2");
    assert_non_null(strstr(psc_scrape_accept(PSC_ESCAPING_VALUES), "version=1.0.0;escaping=values;q=0.6"));
    static const char *const names[] = {"allow-utf-8", "underscores", "dots", "values"};
    for (int i = 0; i < 4; i++) {
        psc_escaping e = PSC_ESCAPING_ALLOW_UTF8;
        assert_int_equal(psc_escaping_parse(names[i], &e), PSC_OK);
        assert_int_equal((int)e, i);
        assert_string_equal(psc_escaping_name(e), names[i]);
    }
    psc_escaping e = PSC_ESCAPING_DOTS;
    assert_int_equal(psc_escaping_parse("UNDERSCORES", &e), PSC_E_ARG);
    assert_int_equal(psc_escaping_parse("", &e), PSC_E_ARG);
    assert_int_equal((int)e, (int)PSC_ESCAPING_DOTS);
    assert_string_equal(psc_escaping_name((psc_escaping)99), "unknown");
}

static void test_opts_init(void **state)
{
    (void)state;
    psc_fetch_opts o;
    memset(&o, 0xff, sizeof o);
    psc_fetch_opts_init(&o);
    assert_int_equal(o.timeout_ms, 10000);
    assert_int_equal(o.connect_timeout_ms, 5000);
    assert_int_equal(o.low_speed_limit, 1);
    assert_int_equal(o.low_speed_time_s, 10);
    assert_true(o.max_body_bytes == (uint64_t)64 << 20);
    assert_int_equal(o.max_redirects, 5);
    assert_true(o.gzip);
    assert_false(o.scrape);
    assert_false(o.insecure);
    assert_null(o.bearer_token);
    assert_null(o.headers);
    assert_int_equal((int)o.fallback_format, (int)PSC_FORMAT_AUTO);
}

/* A port on 127.0.0.1 where nothing listens. */
static int dead_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
    close(s);
    return ntohs(a.sin_port);
}

static void expect_fail(const char *url, const psc_fetch_opts *o, psc_status want, const char *msg_part)
{
    psc_fetch_result r;
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_fetch(url, o, &r, &err);
    assert_int_equal(st, want);
    assert_int_equal(r.status, want);
    assert_non_null(r.error);
    if (!strstr(r.error, msg_part))
        fail_msg("error '%s' lacks '%s'", r.error, msg_part);
    assert_int_equal(err.status, want);
    assert_non_null(strstr(err.message, msg_part));
    assert_null(r.body);
    assert_int_equal(r.http_status, 0);
    psc_fetch_result_release(&r);
    psc_fetch_result_release(&r); /* twice is a no-op */
}

static void test_refused_before_connecting(void **state)
{
    (void)state;
    psc_fetch_opts o;
    psc_fetch_opts_init(&o);
    expect_fail("ftp://127.0.0.1/metrics", &o, PSC_E_ARG, "unsupported scheme 'ftp'");
    expect_fail("file:///etc/passwd", &o, PSC_E_ARG, "unsupported scheme 'file'");
    expect_fail("gopher://x/", &o, PSC_E_ARG, "unsupported scheme");
    expect_fail("http://", &o, PSC_E_ARG, "invalid URL");
    expect_fail("no-scheme", NULL, PSC_E_ARG, "invalid URL");

    const char *bad_headers[] = {"X-A: b\r\nInjected: 1"};
    o.headers = bad_headers;
    o.nheaders = 1;
    expect_fail("http://127.0.0.1/", &o, PSC_E_ARG, "invalid header 1");
    const char *no_colon[] = {"X-A b"};
    o.headers = no_colon;
    expect_fail("http://127.0.0.1/", &o, PSC_E_ARG, "invalid header 1");
    const char *bad_name[] = {"X A: b"};
    o.headers = bad_name;
    expect_fail("http://127.0.0.1/", &o, PSC_E_ARG, "invalid header name");
    o.headers = NULL;
    o.nheaders = 0;

    o.bearer_token = "abc\ndef";
    expect_fail("http://127.0.0.1/", &o, PSC_E_ARG, "invalid character in bearer token");
    o.bearer_token = "abc def";
    expect_fail("http://127.0.0.1/", &o, PSC_E_ARG, "invalid character in bearer token");
    o.bearer_token = "";
    expect_fail("http://127.0.0.1/", &o, PSC_E_ARG, "empty bearer token");
    o.bearer_token = NULL;
    o.basic_user = "a:b";
    expect_fail("http://127.0.0.1/", &o, PSC_E_ARG, "basic auth user");
    o.basic_user = "a";
    o.basic_password = "x\ry";
    expect_fail("http://127.0.0.1/", &o, PSC_E_ARG, "basic auth password");
    o.basic_user = NULL;
    o.basic_password = NULL;
    o.max_redirects = 21;
    expect_fail("http://127.0.0.1/", &o, PSC_E_ARG, "max_redirects");
}

static void test_connection_refused(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "http://user:secret@127.0.0.1:%d/metrics", dead_port());
    psc_fetch_opts o;
    psc_fetch_opts_init(&o);
    o.scrape = true;
    psc_fetch_result r;
    assert_int_equal(psc_fetch(url, &o, &r, NULL), PSC_E_NET);
    assert_non_null(strstr(r.error, "cannot connect"));
    assert_null(strstr(r.error, "secret"));
    assert_non_null(r.url);
    assert_non_null(strstr(r.url, "http://***@127.0.0.1:"));
    assert_null(strstr(r.effective_url, "secret"));
    assert_true(r.total_s >= 0 && r.total_s < 5);
    psc_fetch_result_release(&r);
}

struct done_log {
    size_t calls;
    size_t seen[4];
};

static void on_done(void *ctx, size_t i, psc_fetch_result *r)
{
    struct done_log *d = ctx;
    assert_true(i < 4);
    assert_true(r->status != PSC_OK);
    d->seen[i]++;
    d->calls++;
}

static void test_many_independent(void **state)
{
    (void)state;
    char dead[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d/", dead_port());
    const char *urls[4] = {"ftp://x/", dead, "http://", dead};
    psc_fetch_result res[4];
    struct done_log d = {0};
    psc_status st = psc_fetch_many(urls, 4, NULL, 2, res, on_done, NULL, &d);
    assert_int_equal(st, PSC_E_ARG); /* the failed target with the lowest index */
    assert_int_equal(d.calls, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(d.seen[i], 1);
    assert_int_equal(res[0].status, PSC_E_ARG);
    assert_int_equal(res[1].status, PSC_E_NET);
    assert_int_equal(res[2].status, PSC_E_ARG);
    assert_int_equal(res[3].status, PSC_E_NET);
    for (int i = 0; i < 4; i++)
        psc_fetch_result_release(&res[i]);
    assert_int_equal(psc_fetch_many(urls, 0, NULL, 0, res, NULL, NULL, NULL), PSC_OK);
}

/* Fail allocation 1, 2, ... until the fetch no longer reports out of
 * memory: every step must return a filled result and leak nothing (ASan). */
static void test_oom(void **state)
{
    (void)state;
    char url[96];
    snprintf(url, sizeof url, "http://u:p@127.0.0.1:%d/metrics", dead_port());
    psc_fetch_opts o;
    psc_fetch_opts_init(&o);
    o.scrape = true;
    o.bearer_token = "tok";
    const char *h[] = {"X-Test: 1", "Authorization: Bearer x"};
    o.headers = h;
    o.nheaders = 2;
    long n;
    for (n = 1; n < 1000; n++) {
        psc_alloc_fail_after(n);
        psc_fetch_result r;
        psc_status st = psc_fetch(url, &o, &r, NULL);
        psc_alloc_fail_after(0);
        assert_int_equal(r.status, st);
        if (st == PSC_E_NET) {
            assert_non_null(r.error);
            psc_fetch_result_release(&r);
            break;
        }
        assert_int_equal(st, PSC_E_NOMEM);
        psc_fetch_result_release(&r);
    }
    assert_true(n > 1 && n < 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_redact),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_opts_init),
        cmocka_unit_test(test_refused_before_connecting),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_many_independent),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
