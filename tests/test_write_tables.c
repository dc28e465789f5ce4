/*
 * test_write_tables: the writers' shortcuts (lib/write: the table of
 * rendered bounds, the rendering of the last label array, the remembered
 * name checks, the word-at-a-time escape scans, numbers formatted straight
 * into the buffer) do not change a byte. A canonical input is written back
 * exactly: the text writer must reproduce canonical Prometheus text and the
 * OpenMetrics writer canonical OpenMetrics. The inputs have more distinct
 * bounds than the table has slots, escapes on both sides of every 8-byte
 * boundary, a label array too long to be remembered, names that need
 * quoting, and are long enough for many buffer flushes to fall inside
 * label sets.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promscope/promscope.h"

static int failures;

typedef struct out {
    char *p;
    size_t len, cap;
    size_t calls, longest;
} out;

static void grow(out *o, size_t n)
{
    if (o->len + n + 1 <= o->cap)
        return;
    size_t c = (o->len + n + 1) * 2;
    char *p = realloc(o->p, c);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    o->p = p;
    o->cap = c;
}

static void add(out *o, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void add(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    grow(o, (size_t)n);
    vsnprintf(o->p + o->len, (size_t)n + 1, fmt, ap);
    o->len += (size_t)n;
    va_end(ap);
}

static int sink(void *ctx, const char *p, size_t n)
{
    out *o = ctx;
    grow(o, n);
    memcpy(o->p + o->len, p, n);
    o->len += n;
    o->p[o->len] = '\0';
    o->calls++;
    if (n > o->longest)
        o->longest = n;
    return 0;
}

/* A label value of length len with the escape esc (text of the input:
 * `\\`, `\"` or `\n`) at offset at, plain letters elsewhere. */
static void value_with_escape(out *o, size_t len, size_t at, const char *esc)
{
    for (size_t i = 0; i < len; i++) {
        if (i == at)
            add(o, "%s", esc);
        else
            add(o, "%c", 'a' + (int)(i % 26));
    }
}

/* Bounds 0.25, 0.5, ..., 25 (canonical in both formats: the text format
 * writes 1 as "1", OpenMetrics as "1.0"), then +Inf. */
static void bound_text(char *b, size_t n, int i, bool om)
{
    int q = i + 1; /* quarters */
    if (q % 4 == 0)
        snprintf(b, n, om ? "%d.0" : "%d", q / 4);
    else
        snprintf(b, n, "%d.%s", q / 4, q % 4 == 1 ? "25" : q % 4 == 2 ? "5" : "75");
}

static void make_input(out *o, bool om)
{
    static const char *const esc[] = {"\\\\", "\\\"", "\\n"};
    enum { NB = 100 }; /* more than the 64 slots of the bound table */
    /* metadata: HELP, TYPE in the text format; TYPE, HELP in OpenMetrics */
    if (om)
        add(o, "# TYPE req_seconds histogram\n# HELP req_seconds Latency with a \\\\ backslash\n");
    else
        add(o, "# HELP req_seconds Latency with a \\\\ backslash\n# TYPE req_seconds histogram\n");
    for (int s = 0; s < 60; s++) {
        /* labels: escapes at every offset 0..19 of values 5..24 bytes long */
        out lab = {0};
        add(&lab, "path=\"");
        value_with_escape(&lab, 5 + (size_t)(s % 20), (size_t)(s % 20) % (5 + (size_t)(s % 20)),
                          esc[s % 3]);
        add(&lab, "\",pod=\"pod-%d\"", s);
        if (s == 7) { /* a label array whose rendering is longer than 2048 bytes */
            add(&lab, ",long=\"");
            value_with_escape(&lab, 3000, 2500, esc[0]);
            add(&lab, "\"");
        }
        /* every bound, or 12 of them shifted by series: ascending either way */
        int nb = s % 2 ? NB : 12;
        for (int b = 0; b < nb; b++) {
            char bt[32];
            bound_text(bt, sizeof bt, nb == NB ? b : b * 8 + s % 8, om);
            add(o, "req_seconds_bucket{%s,le=\"%s\"} %d\n", lab.p, bt, b);
        }
        add(o, "req_seconds_bucket{%s,le=\"+Inf\"} %d\n", lab.p, nb);
        add(o, "req_seconds_count{%s} %d\n", lab.p, nb);
        add(o, "req_seconds_sum{%s} %d.25\n", lab.p, s);
        free(lab.p);
    }
    /* summaries: quantiles repeat across series */
    add(o, "# TYPE rpc_seconds summary\n");
    for (int s = 0; s < 40; s++) {
        const char *q[] = {"0.5", "0.9", "0.99", "0.999"};
        for (int i = 0; i < 4; i++)
            add(o, "rpc_seconds{svc=\"s%d\",quantile=\"%s\"} 0.%03d\n", s, q[i], 125 + i);
        add(o, "rpc_seconds_count{svc=\"s%d\"} %d\n", s, 100 + s);
        add(o, "rpc_seconds_sum{svc=\"s%d\"} 1.5e-05\n", s);
    }
    /* gauges: exponent forms, negative values, escapes at the 8-byte
     * boundaries of a label value */
    add(o, "# TYPE temp gauge\n");
    for (int s = 0; s < 40; s++) {
        add(o, "temp{room=\"");
        value_with_escape(o, 16, (size_t)(s % 16), esc[s % 3]);
        add(o, "\"} %s%d.5e+%d\n", s % 2 ? "-" : "", 1 + s % 9, 10 + s);
    }
    if (om)
        add(o, "# EOF\n");
}

static void check(bool om)
{
    out in = {0};
    make_input(&in, om);
    psc_parse_opts opts;
    psc_parse_opts_init(&opts);
    opts.format = om ? PSC_FORMAT_OPENMETRICS_1_0 : PSC_FORMAT_TEXT_0_0_4;
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_model *m = NULL;
    psc_status st = psc_model_parse(in.p, in.len, &opts, &m, &d);
    for (size_t i = 0; i < d.count && i < 10; i++)
        fprintf(stderr, "input line %llu: %s\n", (unsigned long long)d.items[i].line, d.items[i].message);
    if (st != PSC_OK || d.count) {
        fprintf(stderr, "FAIL: the %s input does not parse cleanly\n", om ? "OpenMetrics" : "text");
        failures++;
        psc_diag_list_release(&d);
        psc_model_free(m);
        free(in.p);
        return;
    }
    psc_diag_list_release(&d);
    out o = {0};
    psc_error err;
    psc_error_clear(&err);
    st = psc_model_write(m, om ? PSC_OUT_OPENMETRICS : PSC_OUT_TEXT, sink, &o, &err);
    const char *what = om ? "OpenMetrics" : "text";
    if (st != PSC_OK) {
        fprintf(stderr, "FAIL: writing %s: %s\n", what, err.message);
        failures++;
    } else if (o.len != in.len || memcmp(o.p, in.p, in.len) != 0) {
        size_t i = 0;
        while (i < o.len && i < in.len && o.p[i] == in.p[i])
            i++;
        size_t from = i > 60 ? i - 60 : 0;
        fprintf(stderr, "FAIL: %s written back differs at byte %zu of %zu (%zu written):\n"
                        "  input:  %.120s\n  output: %.120s\n",
                what, i, in.len, o.len, in.p + from, o.len > from ? o.p + from : "");
        failures++;
    } else if (o.calls < 10 || o.longest > 16384) {
        fprintf(stderr, "FAIL: %s: %zu calls of the output function, the longest %zu bytes "
                        "(want at least 10 calls of at most 16 KiB)\n", what, o.calls, o.longest);
        failures++;
    } else {
        printf("%s: %zu bytes written back exactly in %zu pieces\n", what, in.len, o.calls);
    }
    psc_model_free(m);
    free(in.p);
    free(o.p);
}

int main(void)
{
    check(false);
    check(true);
    return failures ? 1 : 0;
}
