/*
 * psc_fetch_many() against an HTTP server of its own on 127.0.0.1 (a
 * thread of this test; port chosen by the kernel): the replacements of a
 * finished transfer are under way before the finished one reaches on_done,
 * callbacks come in completion order exactly once per target, transfers in
 * flight and finished results waiting for their callback are at most
 * 2 x parallel together, and every result is filled at its index (promscope/scrape.h, psc_fetch_many).
 *
 * The server answers GET /d/MS after MS milliseconds with a small text
 * exposition naming the path, and counts the connections it accepted.
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
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "promscope/scrape.h"

#define MAX_CONNS 64

static struct server {
    int fd;
    int port;
    pthread_t acceptor;
    pthread_t conns[MAX_CONNS];
    int nconns; /* accepted, under mu */
    pthread_mutex_t mu;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int accepted(void)
{
    pthread_mutex_lock(&srv.mu);
    int n = srv.nconns;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

/* One connection: read the request head, wait, answer, close. */
static void *serve_conn(void *arg)
{
    int c = (int)(intptr_t)arg;
    char req[2048];
    size_t have = 0;
    while (have + 1 < sizeof req) {
        ssize_t r = recv(c, req + have, sizeof req - 1 - have, 0);
        if (r <= 0)
            break;
        have += (size_t)r;
        req[have] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[have] = '\0';
    char path[64] = "";
    long delay = 0;
    if (sscanf(req, "GET %63s ", path) == 1 && strncmp(path, "/d/", 3) == 0)
        delay = strtol(path + 3, NULL, 10);
    if (delay > 0 && delay <= 5000)
        sleep_ms(delay);
    char body[160], resp[400];
    int bl = snprintf(body, sizeof body, "# TYPE served counter\nserved_total{path=\"%s\"} 1\n", path);
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                      bl, body);
    for (int off = 0; off < rl;) {
        ssize_t w = send(c, resp + off, (size_t)(rl - off), MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (int)w;
    }
    close(c);
    return NULL;
}

static void *accept_loop(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(srv.fd, NULL, NULL);
        if (c < 0)
            return NULL; /* shut down */
        pthread_mutex_lock(&srv.mu);
        int k = srv.nconns;
        if (k < MAX_CONNS && pthread_create(&srv.conns[k], NULL, serve_conn, (void *)(intptr_t)c) == 0)
            srv.nconns++;
        else
            close(c);
        pthread_mutex_unlock(&srv.mu);
    }
}

static int server_start(void **state)
{
    (void)state;
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv.fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (bind(srv.fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(srv.fd, 64) != 0 ||
        getsockname(srv.fd, (struct sockaddr *)&a, &l) != 0)
        return -1;
    srv.port = ntohs(a.sin_port);
    return pthread_create(&srv.acceptor, NULL, accept_loop, NULL) == 0 ? 0 : -1;
}

static int server_stop(void **state)
{
    (void)state;
    shutdown(srv.fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(srv.acceptor, NULL);
    close(srv.fd);
    for (int i = 0; i < srv.nconns; i++)
        pthread_join(srv.conns[i], NULL);
    return 0;
}

/* Wait (at most 5 s) until the server has accepted n connections since
 * `base`. */
static int wait_accepted(int base, int n)
{
    double end = now_ms() + 5000;
    while (accepted() - base < n && now_ms() < end)
        sleep_ms(2);
    return accepted() - base;
}

struct log {
    size_t n, parallel;
    size_t order[16];  /* indexes in callback order */
    size_t calls[16];  /* callbacks per index */
    size_t ncalls;
    size_t max_waiting; /* finished (progress) minus handed over, at most */
    size_t max_running;
    size_t max_held;    /* in flight plus waiting, at most */
    int base;           /* connections accepted before the call */
    int seen_next;      /* connections accepted while the first callback ran */
};

static void log_done(void *ctx, size_t i, psc_fetch_result *r)
{
    struct log *g = ctx;
    assert_true(i < g->n);
    assert_int_equal(r->status, PSC_OK);
    assert_non_null(r->body);
    g->calls[i]++;
    g->order[g->ncalls++] = i;
}

static void log_progress(void *ctx, size_t done, size_t total, size_t running)
{
    struct log *g = ctx;
    assert_int_equal(total, g->n);
    assert_true(done >= g->ncalls);
    if (done - g->ncalls > g->max_waiting)
        g->max_waiting = done - g->ncalls;
    if (running > g->max_running)
        g->max_running = running;
    if (running + done - g->ncalls > g->max_held)
        g->max_held = running + done - g->ncalls;
}

/* The first callback blocks until the server has accepted the connection
 * of the transfer that replaces the finished one: it must have been started
 * before the callback (at most 5 s, else the assertion fails). */
static void first_waits(void *ctx, size_t i, psc_fetch_result *r)
{
    struct log *g = ctx;
    if (g->ncalls == 0)
        g->seen_next = wait_accepted(g->base, 2);
    log_done(ctx, i, r);
}

static void make_urls(char buf[][64], const char **urls, const long *delays, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(buf[i], 64, "http://127.0.0.1:%d/d/%ld", srv.port, delays[i]);
        urls[i] = buf[i];
    }
}

static void check_results(psc_fetch_result *res, char buf[][64], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(res[i].status, PSC_OK);
        assert_int_equal(res[i].http_status, 200);
        assert_string_equal(res[i].url, buf[i]);
        assert_non_null(res[i].body);
        /* the body names the path of this index, not another's */
        assert_non_null(strstr(res[i].body, strchr(buf[i] + 7, '/')));
        assert_int_equal((int)res[i].format, (int)PSC_FORMAT_TEXT_0_0_4);
        psc_fetch_result_release(&res[i]);
    }
}

/* One at a time: the second transfer's connection is accepted while the
 * first result's callback still runs. */
static void test_next_started_before_callback(void **state)
{
    (void)state;
    static const long delays[2] = {0, 0};
    char buf[2][64];
    const char *urls[2];
    make_urls(buf, urls, delays, 2);
    psc_fetch_opts o;
    psc_fetch_opts_init(&o);
    o.scrape = true;
    psc_fetch_result res[2];
    struct log g = {.n = 2, .parallel = 1, .base = accepted()};
    assert_int_equal(psc_fetch_many(urls, 2, &o, 1, res, first_waits, log_progress, &g), PSC_OK);
    assert_int_equal(g.seen_next, 2);
    assert_int_equal(g.ncalls, 2);
    assert_int_equal(g.order[0], 0);
    assert_int_equal(g.order[1], 1);
    assert_true(g.max_running <= 1);
    check_results(res, buf, 2);
}

/* Completion order, not index order: the slow first target is handed over
 * last; every index exactly once. */
static void test_completion_order(void **state)
{
    (void)state;
    static const long delays[6] = {600, 0, 0, 0, 0, 0};
    char buf[6][64];
    const char *urls[6];
    make_urls(buf, urls, delays, 6);
    psc_fetch_opts o;
    psc_fetch_opts_init(&o);
    o.scrape = true;
    psc_fetch_result res[6];
    struct log g = {.n = 6, .parallel = 3, .base = accepted()};
    assert_int_equal(psc_fetch_many(urls, 6, &o, 3, res, log_done, log_progress, &g), PSC_OK);
    assert_int_equal(g.ncalls, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(g.calls[i], 1);
    assert_int_equal(g.order[5], 0);
    assert_true(g.max_running <= 3);
    assert_int_equal(accepted() - g.base, 6);
    check_results(res, buf, 6);
}

/* Slow callbacks: finished results wait for them, but transfers in flight
 * and results waiting are at most 2 x parallel together, and the transfers
 * never exceed `parallel`. */
static void slow_done(void *ctx, size_t i, psc_fetch_result *r)
{
    sleep_ms(50);
    log_done(ctx, i, r);
}

static void test_waiting_bounded(void **state)
{
    (void)state;
    enum { N = 12, P = 2 };
    long delays[N] = {0};
    char buf[N][64];
    const char *urls[N];
    make_urls(buf, urls, delays, N);
    psc_fetch_opts o;
    psc_fetch_opts_init(&o);
    o.scrape = true;
    psc_fetch_result res[N];
    struct log g = {.n = N, .parallel = P, .base = accepted()};
    assert_int_equal(psc_fetch_many(urls, N, &o, P, res, slow_done, log_progress, &g), PSC_OK);
    assert_int_equal(g.ncalls, N);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(g.calls[i], 1);
    assert_true(g.max_running <= P);
    /* more than parallel: replacements start while results wait */
    assert_true(g.max_held > P);
    assert_true(g.max_held <= 2 * P);
    assert_true(g.max_waiting >= 1);
    check_results(res, buf, N);
}

/* Without callbacks every result is still filled. */
static void test_no_callbacks(void **state)
{
    (void)state;
    static const long delays[5] = {50, 0, 20, 0, 10};
    char buf[5][64];
    const char *urls[5];
    make_urls(buf, urls, delays, 5);
    psc_fetch_result res[5];
    assert_int_equal(psc_fetch_many(urls, 5, NULL, 2, res, NULL, NULL, NULL), PSC_OK);
    for (size_t i = 0; i < 5; i++) {
        /* not in scrape mode: no format */
        assert_int_equal(res[i].status, PSC_OK);
        assert_non_null(strstr(res[i].body, strchr(buf[i] + 7, '/')));
        psc_fetch_result_release(&res[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_started_before_callback),
        cmocka_unit_test(test_completion_order),
        cmocka_unit_test(test_waiting_bounded),
        cmocka_unit_test(test_no_callbacks),
    };
    return cmocka_run_group_tests(tests, server_start, server_stop);
}
