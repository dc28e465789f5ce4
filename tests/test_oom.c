/*
 * Out-of-memory test (the SQLite method, STYLE.md "Tests"; BAD-INPUTS E6):
 * every operation of the library that allocates is run on a set of inputs
 * (valid and invalid, each format) with allocation 1 failing, then 2, ...
 * until it succeeds. Every run must
 *   - return PSC_E_NOMEM (allocations that are failed before the operation
 *     succeeds can only end that way),
 *   - leak nothing (LeakSanitizer checks at exit in the ASan build),
 *   - leave the objects it was given usable: the parser is reset and run
 *     again, the diagnostics list is reused, the model is written or
 *     compared again, and the result equals the one of a fresh run.
 * The run that fails allocation N+1, where N is the number of allocations of
 * an unconstrained run, must succeed with exactly the unconstrained result,
 * which also proves that each of the N allocations was failed once.
 *
 * Operations: the parser pull loop (psc_parser_new/next, also retrying the
 * call that failed), the parser + validator loop, psc_validate_buffer,
 * psc_validate_stream (64-byte chunks; also with the parsing in a second
 * thread), psc_model_parse, psc_model_parse and
 * psc_model_parse_stream building in two threads, psc_model_write in
 * each output format, psc_lint_buffer, psc_lint_model, psc_card_new/add,
 * psc_diff_new, psc_histogram_quantile, psc_diag_add and psc_api_decode for
 * every endpoint, valid answers and error answers.
 *
 *   test_oom [FILE...]    extra exposition files (e.g. testdata/corpus)
 *
 * Exit status 0 when every loop held, 1 otherwise (each broken expectation
 * is printed); a crash or a leak report is a failure too.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/internal.h"
#include "promscope/promscope.h"
#include "util/alloc.h"

/* Bound on the allocations of one operation: the loop never runs longer. */
#define MAX_ALLOCS 20000

static unsigned long g_loops, g_runs, g_failures;

static void failure(const char *op, const char *input, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void failure(const char *op, const char *input, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "test_oom: %s on %s: ", op, input);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    g_failures++;
}

/* ---- transcripts: what an operation produced, as text (plain malloc) ---- */

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void t_put(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t nc = t->cap ? t->cap : 256;
        while (nc < t->len + n + 1)
            nc *= 2;
        char *np = realloc(t->p, nc);
        if (!np)
            abort();
        t->p = np;
        t->cap = nc;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void t_printf(text *t, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void t_printf(text *t, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    t_put(t, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void t_str(text *t, psc_str s)
{
    t_put(t, "\"", 1);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)
            t_printf(t, "\\x%02x", c);
        else
            t_put(t, (const char *)&c, 1);
    }
    t_put(t, "\"", 1);
}

static void t_num(text *t, double v)
{
    char b[32];
    size_t n = psc_format_double(v, b);
    t_put(t, b, n);
}

static void t_reset(text *t)
{
    t->len = 0;
    if (t->p)
        t->p[0] = '\0';
}

static void t_free(text *t)
{
    free(t->p);
    memset(t, 0, sizeof *t);
}

static void t_diags(text *t, const psc_diag_list *d)
{
    for (size_t i = 0; i < d->count; i++) {
        const psc_diag *x = &d->items[i];
        t_printf(t, "%llu:%llu@%llu %s %s [%s] %s\n", (unsigned long long)x->line,
                 (unsigned long long)x->column, (unsigned long long)x->offset,
                 psc_severity_name(x->severity), x->rule, x->metric, x->message);
    }
    t_printf(t, "errors=%zu warnings=%zu dropped=%zu\n", d->nerrors, d->nwarnings, d->dropped);
}

static void t_labels(text *t, const psc_label *l, size_t n)
{
    t_put(t, "{", 1);
    for (size_t i = 0; i < n; i++) {
        t_str(t, l[i].name);
        t_put(t, "=", 1);
        t_str(t, l[i].value);
        t_put(t, ",", 1);
    }
    t_put(t, "}", 1);
}

static void t_entry(text *t, const psc_entry *e)
{
    t_printf(t, "%s off=%llu line=%llu col=%llu ", psc_entry_kind_name(e->kind),
             (unsigned long long)e->offset, (unsigned long long)e->line,
             (unsigned long long)e->name_column);
    t_str(t, e->name);
    t_str(t, e->text);
    if (e->kind == PSC_ENTRY_TYPE)
        t_printf(t, " type=%s", psc_metric_type_name(e->type));
    if (e->kind == PSC_ENTRY_SAMPLE) {
        t_labels(t, e->labels, e->nlabels);
        for (size_t i = 0; i < e->nlabels; i++)
            t_printf(t, "@%u", e->label_columns[i]);
        t_put(t, " v=", 3);
        t_num(t, e->value);
        if (e->has_timestamp) {
            t_put(t, " ts=", 4);
            t_num(t, e->timestamp);
        }
        if (e->has_exemplar) {
            t_put(t, " ex=", 4);
            t_labels(t, e->exemplar.labels, e->exemplar.nlabels);
            t_num(t, e->exemplar.value);
        }
    }
    t_put(t, "\n", 1);
}

static void t_error(text *t, psc_status st, const psc_error *e)
{
    t_printf(t, "ERROR %s code=%d %llu:%llu@%llu %s\n", psc_status_name(st), e->code,
             (unsigned long long)e->line, (unsigned long long)e->column,
             (unsigned long long)e->offset, e->message);
}

static void t_model(text *t, const psc_model *m)
{
    t_printf(t, "format=%s families=%zu samples=%zu\n", psc_format_name(psc_model_format(m)),
             psc_model_family_count(m), psc_model_series_count(m));
    for (size_t i = 0; i < psc_model_family_count(m); i++) {
        const psc_family *f = psc_model_family(m, i);
        t_str(t, f->name);
        t_printf(t, " %s line=%llu help=%d", psc_metric_type_name(f->type), (unsigned long long)f->line,
                 f->has_help);
        t_str(t, f->help);
        t_str(t, f->unit);
        t_put(t, "\n", 1);
        for (size_t j = 0; j < f->nmetrics; j++) {
            const psc_metric *mt = &f->metrics[j];
            t_put(t, " ", 1);
            t_labels(t, mt->labels, mt->nlabels);
            t_put(t, "\n", 1);
            for (size_t k = 0; k < mt->nsamples; k++) {
                const psc_sample *s = &mt->samples[k];
                t_put(t, "  ", 2);
                t_str(t, s->name);
                t_printf(t, " %s line=%llu ", psc_sample_kind_name(s->kind), (unsigned long long)s->line);
                t_labels(t, s->labels, s->nlabels);
                t_put(t, " ", 1);
                t_num(t, s->value);
                if (s->has_timestamp) {
                    t_put(t, " ts=", 4);
                    t_num(t, s->timestamp);
                }
                if (s->exemplar) {
                    t_put(t, " ex=", 4);
                    t_labels(t, s->exemplar->labels, s->exemplar->nlabels);
                }
                t_put(t, "\n", 1);
            }
        }
    }
}

/* ---- inputs ---------------------------------------------------------------- */

typedef struct input {
    const char *name;
    psc_format format; /* AUTO: detected */
    const char *data;
    size_t len;
} input;

#define IN(name, fmt, s) {name, fmt, s, sizeof s - 1}

static const char text_ok[] =
    "# HELP http_requests_total Requests \\\\ with \\n escapes.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
    "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
    "http_requests_total{method=\"get\",path=\"C:\\\\DIR\\\\\",quote=\"a\\\"b\\nc\"} 7\n"
    "# TYPE rpc_seconds histogram\n"
    "rpc_seconds_bucket{le=\"0.05\"} 24054\n"
    "rpc_seconds_bucket{le=\"0.1\"} 33444\n"
    "rpc_seconds_bucket{le=\"+Inf\"} 144320\n"
    "rpc_seconds_sum 53423\n"
    "rpc_seconds_count 144320\n"
    "# TYPE rpc_summary summary\n"
    "rpc_summary{quantile=\"0.5\"} 4773\n"
    "rpc_summary{quantile=\"0.99\"} 76656\n"
    "rpc_summary_sum 1.7560473e+07\n"
    "rpc_summary_count 2693\n"
    "# a comment\n"
    "\n"
    "untyped_metric{a=\"\"} NaN\n"
    "gauge_inf -Inf -3982045\n";

static const char text_bad[] =
    "# TYPE h histogram\n"
    "h_bucket{le=\"1\"} 3\n"
    "h_bucket{le=\"0.5\"} 2\n"
    "h_count 4\n"
    "a{x=\"1\"} 1\n"
    "a{x=\"1\"} 1\n"
    "b{ 1\n"
    "c{x=\"\\xff\"} 1e400\n"
    "d{x=\"1\",x=\"2\"} 0x1p3\n"
    "a{x=\"2\"} 1\n"
    "# TYPE a gauge\n"
    "# HELP a late\n"
    "e 1 1.5\n"
    "f{__name__=\"g\"} 1\n"
    "s{quantile=\"2\"} 1\n"
    "last_line 1";

static const char text_utf8[] =
    "# HELP \"my.metric\" A metric with a dot \\\\ in it.\n"
    "# TYPE \"my.metric\" gauge\n"
    "{\"my.metric\", \"error.message\"=\"Not \\\"Found\\\"\", code=\"404\"} 1\n"
    "{\"my.metric\", \"error.message\"=\"ok\",} 2\n"
    "plain{\"a.b\"=\"x\"} 3\n";

static const char om_ok[] =
    "# TYPE foo_seconds histogram\n"
    "# UNIT foo_seconds seconds\n"
    "# HELP foo_seconds help \\\" with \\n escapes\n"
    "foo_seconds_bucket{a=\"x\",le=\"0.1\"} 8 # {trace_id=\"KOO5S4vxi0o\"} 0.067 1520879607.789\n"
    "foo_seconds_bucket{le=\"+Inf\",a=\"x\"} 17\n"
    "foo_seconds_count{a=\"x\"} 17\n"
    "foo_seconds_sum{a=\"x\"} 324789.3\n"
    "foo_seconds_created{a=\"x\"} 1520430000.123\n"
    "# TYPE c counter\n"
    "c_total{v=\"a\\\\b\"} 1 1520879607.5 # {} 1\n"
    "c_created{v=\"a\\\\b\"} 1520430000\n"
    "# TYPE i info\n"
    "i_info{v=\"1\"} 1\n"
    "# TYPE s stateset\n"
    "s{s=\"a\"} 1\n"
    "s{s=\"b\"} 0\n"
    "# TYPE g gaugehistogram\n"
    "g_bucket{le=\"1\"} 2\n"
    "g_bucket{le=\"+Inf\"} 3\n"
    "g_gcount 3\n"
    "g_gsum 4\n"
    "# TYPE q summary\n"
    "q{quantile=\"0.5\"} 1\n"
    "q_sum 2\n"
    "q_count 3\n"
    "# TYPE u unknown\n"
    "u 1\n"
    "# EOF\n";

static const char om_bad[] =
    "# TYPE a counter\n"
    "a 1\n"
    "a_total -1\n"
    "# TYPE a_created gauge\n"
    "# TYPE h histogram\n"
    "h_bucket{le=\"1\"} 1.5\n"
    "h_sum -1\n"
    "# TYPE i info\n"
    "i_info 2\n"
    "x 1\n"
    "\n"
    "y{a=\"b\",} 1\n"
    "z  1\n"
    "# UNIT z seconds\n"
    "w 1 NaN\n"
    "v_total 1 # {a=\"b\"} 1\n"
    "x 2\n";

static const input builtin[] = {
    IN("text-0.0.4 valid", PSC_FORMAT_TEXT_0_0_4, text_ok),
    IN("text-0.0.4 invalid", PSC_FORMAT_TEXT_0_0_4, text_bad),
    IN("text-1.0.0 quoted names", PSC_FORMAT_TEXT_1_0_0, text_utf8),
    IN("openmetrics valid", PSC_FORMAT_OPENMETRICS_1_0, om_ok),
    IN("openmetrics invalid", PSC_FORMAT_OPENMETRICS_1_0, om_bad),
    IN("auto-detected openmetrics", PSC_FORMAT_AUTO, om_ok),
    IN("empty", PSC_FORMAT_AUTO, ""),
};

static psc_parse_opts opts_for(const input *in)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = in->format;
    return o;
}

/* ---- the driver ---------------------------------------------------------- */

/*
 * An operation: run it once and append its result to @p out; return its
 * status. Called with allocation failure armed; must clean up everything
 * itself (the checks of reuse happen inside the operation, with failure
 * disarmed through disarm()).
 */
typedef psc_status (*op_fn)(const void *ctx, text *out);

static void disarm(void)
{
    psc_alloc_fail_after(0);
}

/*
 * Fail allocation n = 1, 2, ... of @p fn until it succeeds. A failed
 * allocation must end the operation with PSC_E_NOMEM, unless the library
 * has a fallback for it (shrinking an array, a sort buffer): then the
 * result must be exactly the unconstrained one. Such optional allocations
 * are counted and listed with PSC_OOM_VERBOSE=1.
 */
static unsigned long g_optional;

static void oom_loop(const char *opname, const char *inname, op_fn fn, const void *ctx)
{
    g_loops++;
    text ref = {0}, got = {0};
    disarm();
    psc_status ref_st = fn(ctx, &ref);
    long allocs = psc_alloc_count();
    g_runs++;
    if (ref_st == PSC_E_NOMEM) {
        failure(opname, inname, "PSC_E_NOMEM without any failing allocation");
        goto out;
    }
    if (allocs < 1 || allocs > MAX_ALLOCS) {
        failure(opname, inname, "%ld allocations: outside 1..%d", allocs, MAX_ALLOCS);
        goto out;
    }
    for (long n = 1; n <= allocs + 1; n++) {
        t_reset(&got);
        psc_alloc_fail_after(n);
        psc_status st = fn(ctx, &got);
        disarm();
        g_runs++;
        bool same = st == ref_st && got.len == ref.len && (ref.len == 0 || memcmp(got.p, ref.p, ref.len) == 0);
        if (n <= allocs && st == PSC_E_NOMEM)
            continue;
        if (n <= allocs && same) {
            g_optional++;
            if (getenv("PSC_OOM_VERBOSE"))
                printf("optional allocation %ld of %ld: %s on %s\n", n, allocs, opname, inname);
            continue;
        }
        if (!same) {
            failure(opname, inname,
                    "allocation %ld of %ld failing gives status %s and a result that differs from a "
                    "fresh run (status %s)\n--- fresh\n%.2000s\n--- with allocation %ld failing\n%.2000s",
                    n, allocs, psc_status_name(st), psc_status_name(ref_st), ref.p ? ref.p : "", n,
                    got.p ? got.p : "");
            break;
        }
    }
out:
    t_free(&ref);
    t_free(&got);
}

/* ---- operations ---------------------------------------------------------- */

/* Run the pull loop of @p p over @p in; on PSC_E_NOMEM from next(), stop
 * (return NOMEM) unless @p retry, in which case failure is disarmed and the
 * same call repeated (psc_parser_next documents that retrying is safe). */
static psc_status pull_all(psc_parser *p, const input *in, text *out, bool retry, bool *hit)
{
    /* retrying: messages are left out of the transcript (a message may
     * lose its quoted token when the allocation that renders it fails: the
     * finding itself, its code and position stay) */
    psc_parser_reset(p, in->data, in->len);
    t_printf(out, "format=%s\n", psc_format_name(psc_parser_format(p)));
    for (size_t guard = 0; guard < 100000; guard++) {
        psc_entry e;
        psc_error err;
        psc_error_clear(&err);
        psc_status st = psc_parser_next(p, &e, &err);
        if (st == PSC_E_NOMEM) {
            *hit = true;
            if (!retry)
                return st;
            disarm();
            continue;
        }
        if (st == PSC_DONE)
            break;
        if (st == PSC_OK) {
            t_entry(out, &e);
        } else if (retry) {
            err.message[0] = '\0';
            t_error(out, st, &err);
        } else {
            t_error(out, st, &err);
        }
    }
    const psc_diag_list *w = psc_parser_warnings(p);
    if (w && !retry) {
        t_diags(out, w);
    } else if (w) {
        for (size_t i = 0; i < w->count; i++)
            t_printf(out, "WARNING %llu:%llu %s\n", (unsigned long long)w->items[i].line,
                     (unsigned long long)w->items[i].column, w->items[i].rule);
    }
    return PSC_OK;
}

/* Parser loop; after a NOMEM, the same parser is reset and run again. */
static psc_status op_parser_reset(const void *ctx, text *out)
{
    const input *in = ctx;
    psc_parse_opts o = opts_for(in);
    psc_parser *p = psc_parser_new(&o);
    if (!p)
        return PSC_E_NOMEM;
    bool hit = false;
    psc_status st = pull_all(p, in, out, false, &hit);
    if (st == PSC_E_NOMEM) {
        /* reusable: reset and run to the end with allocations possible */
        disarm();
        text again = {0};
        psc_status st2 = pull_all(p, in, &again, false, &hit);
        text fresh = {0};
        psc_parser *q = psc_parser_new(&o);
        if (!q)
            abort();
        pull_all(q, in, &fresh, false, &hit);
        psc_parser_free(q);
        if (st2 != PSC_OK || again.len != fresh.len || memcmp(again.p, fresh.p, fresh.len) != 0)
            failure("parser reset after nomem", in->name, "a reset parser gives a different result");
        t_free(&again);
        t_free(&fresh);
    }
    psc_parser_free(p);
    return st;
}

/* Parser loop; a NOMEM from next() is followed by further calls with
 * allocations possible again. */
static psc_status op_parser_retry(const void *ctx, text *out)
{
    const input *in = ctx;
    psc_parse_opts o = opts_for(in);
    psc_parser *p = psc_parser_new(&o);
    if (!p)
        return PSC_E_NOMEM;
    bool hit = false;
    pull_all(p, in, out, true, &hit);
    psc_parser_free(p);
    return hit ? PSC_E_NOMEM : PSC_OK;
}

/* Lines of @p got, in order, are lines of @p ref; returns how many lines of
 * @p ref are missing, or -1 when @p got has a line @p ref lacks. */
static long missing_lines(const text *ref, const text *got)
{
    const char *r = ref->p ? ref->p : "", *g = got->p ? got->p : "";
    long missing = 0;
    while (*r) {
        const char *re = strchr(r, '\n'), *ge = strchr(g, '\n');
        size_t rl = re ? (size_t)(re - r) + 1 : strlen(r), gl = ge ? (size_t)(ge - g) + 1 : strlen(g);
        if (*g && rl == gl && memcmp(r, g, rl) == 0)
            g += gl;
        else
            missing++;
        r += rl;
    }
    return *g ? -1 : missing;
}

/*
 * psc_parser_next() after a PSC_E_NOMEM: the parser goes on and ends, and
 * the entries it gives are those of a fresh run (parse.h: the parser stays
 * at the start of the line, so the retry reads it again), warnings
 * included.
 */
static void retry_check(const input *in)
{
    text ref = {0};
    disarm();
    op_parser_retry(in, &ref);
    long allocs = psc_alloc_count();
    for (long n = 1; n <= allocs; n++) {
        text got = {0};
        psc_alloc_fail_after(n);
        psc_status st = op_parser_retry(in, &got);
        disarm();
        g_runs++;
        long missing = missing_lines(&ref, &got);
        /* psc_parser_new itself failing: no transcript at all */
        bool new_failed = got.len == 0 && st == PSC_E_NOMEM;
        if (!new_failed && missing != 0)
            failure("parser retry after nomem", in->name,
                    "calling psc_parser_next again after allocation %ld failed gives other entries "
                    "(%ld missing):\n--- fresh\n%.1500s\n--- retried\n%.1500s", n, missing, ref.p, got.p);
        t_free(&got);
    }
    g_loops++;
    t_free(&ref);
}

/* Parser + validator, as promscope validate runs them on a buffer. */
static psc_status op_parse_validate(const void *ctx, text *out)
{
    const input *in = ctx;
    psc_parse_opts o = opts_for(in);
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_parser *p = psc_parser_new(&o);
    psc_validator *v = NULL;
    psc_status rc = PSC_OK;
    if (!p) {
        rc = PSC_E_NOMEM;
        goto out;
    }
    psc_parser_reset(p, in->data, in->len);
    v = psc_validator_new(psc_parser_format(p), &o, &d);
    if (!v) {
        rc = PSC_E_NOMEM;
        goto out;
    }
    uint64_t line = 1, col = 1;
    for (size_t i = 0; i < in->len; i++) {
        if (in->data[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    for (size_t guard = 0; guard < 100000; guard++) {
        psc_entry e;
        psc_error err;
        psc_error_clear(&err);
        psc_status st = psc_parser_next(p, &e, &err);
        if (st == PSC_DONE)
            break;
        if (st == PSC_E_NOMEM) {
            rc = st;
            goto out;
        }
        st = st == PSC_OK ? psc_validator_feed(v, &e) : psc_validator_parse_error(v, &err);
        if (st != PSC_OK) {
            rc = st;
            goto out;
        }
    }
    rc = psc_validator_finish(v, in->len, line, col);
    if (rc == PSC_OK)
        t_diags(out, &d);
out:
    psc_validator_free(v);
    psc_parser_free(p);
    psc_diag_list_release(&d);
    return rc;
}

/* psc_validate_buffer; after NOMEM the same (released) diag list is used
 * again and must give the fresh result. two_threads: with the parsing in a
 * second thread (forced on, batches of 2), which takes over the allocation
 * countdown. */
static psc_status validate_buffer(const input *in, text *out, bool two_threads)
{
    psc_parse_opts o = opts_for(in);
    if (two_threads) {
        o.max_threads = 2;
        psc_test_set_pipeline(1, 2);
    }
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_validate_buffer(in->data, in->len, &o, &d);
    if (st == PSC_E_NOMEM) {
        psc_diag_list_release(&d);
        disarm();
        psc_status again = psc_validate_buffer(in->data, in->len, &o, &d);
        if (again == PSC_E_NOMEM)
            failure("validate_buffer reuse", in->name, "nomem with every allocation possible");
    } else {
        t_printf(out, "status=%s\n", psc_status_name(st));
        t_diags(out, &d);
    }
    psc_test_set_pipeline(0, 0);
    psc_diag_list_release(&d);
    return st;
}

static psc_status op_validate_buffer(const void *ctx, text *out)
{
    return validate_buffer(ctx, out, false);
}

static psc_status op_validate_buffer_two(const void *ctx, text *out)
{
    return validate_buffer(ctx, out, true);
}

struct mem_reader {
    const char *b;
    size_t len, pos;
};

static long mem_read(void *ctx, char *buf, size_t cap, psc_error *err)
{
    struct mem_reader *r = ctx;
    (void)err;
    size_t n = r->len - r->pos;
    if (n > cap)
        n = cap;
    if (n > 13)
        n = 13; /* short reads: lines cross reads and chunks */
    memcpy(buf, r->b + r->pos, n);
    r->pos += n;
    return (long)n;
}

/* psc_validate_stream in one thread, or with the parsing in a second
 * thread (forced on), which takes over the test's allocation countdown
 * (util/alloc.h), so its allocations fail in turn too; split: 1 the
 * caller validates the entries handed back in batches of `batch` (0: the
 * default), 2 the second thread validates. */
static psc_status validate_stream(const input *in, text *out, int split, size_t batch)
{
    psc_parse_opts o = opts_for(in);
    if (split) {
        o.max_threads = 2;
        psc_test_set_pipeline(1, batch);
        psc_test_set_validate_split(split);
    }
    psc_diag_list d;
    psc_diag_list_init(&d);
    struct mem_reader r = {in->data, in->len, 0};
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_validate_stream(mem_read, &r, &o, &d, &err);
    psc_test_set_pipeline(0, 0);
    psc_test_set_validate_split(0);
    if (st != PSC_E_NOMEM) {
        t_printf(out, "status=%s\n", psc_status_name(st));
        t_diags(out, &d);
    }
    psc_diag_list_release(&d);
    return st;
}

static psc_status op_validate_stream(const void *ctx, text *out)
{
    return validate_stream(ctx, out, 0, 0);
}

static psc_status op_validate_stream_two(const void *ctx, text *out)
{
    return validate_stream(ctx, out, 1, 0);
}

static psc_status op_validate_stream_two_small(const void *ctx, text *out)
{
    return validate_stream(ctx, out, 1, 2);
}

static psc_status op_validate_stream_two_second(const void *ctx, text *out)
{
    return validate_stream(ctx, out, 2, 0);
}

/* psc_model_parse in one thread, or with the model built in two threads
 * (the pipeline forced on, batches of 2 entries) by psc_model_parse or
 * psc_model_parse_stream; the builder thread takes over the allocation
 * countdown as above. */
enum model_way { MODEL_ONE_THREAD, MODEL_TWO_THREADS, MODEL_STREAM_TWO_THREADS };

static psc_status model_parse(const input *in, text *out, enum model_way way)
{
    static const char *const ops[] = {"model_parse", "model_parse (two threads)",
                                      "model_parse_stream (two threads)"};
    psc_parse_opts o = opts_for(in);
    if (way != MODEL_ONE_THREAD) {
        o.max_threads = 2;
        psc_test_set_pipeline(1, 2);
    }
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_model *m = (psc_model *)&d; /* must become NULL on failure */
    struct mem_reader r = {in->data, in->len, 0};
    psc_error err;
    psc_error_clear(&err);
    psc_status st = way == MODEL_STREAM_TWO_THREADS
                        ? psc_model_parse_stream(mem_read, &r, &o, &m, &d, &err)
                        : psc_model_parse(in->data, in->len, &o, &m, &d);
    psc_test_set_pipeline(0, 0);
    if (st == PSC_E_NOMEM) {
        if (m != NULL)
            failure(ops[way], in->name, "PSC_E_NOMEM but *out is not NULL");
    } else if (m) {
        t_model(out, m);
        psc_diag_list_sort(&d);
        t_diags(out, &d);
        psc_model_free(m);
    } else {
        failure(ops[way], in->name, "status %s without a model", psc_status_name(st));
    }
    psc_diag_list_release(&d);
    return st;
}

static psc_status op_model_parse(const void *ctx, text *out)
{
    return model_parse(ctx, out, MODEL_ONE_THREAD);
}

static psc_status op_model_parse_two(const void *ctx, text *out)
{
    return model_parse(ctx, out, MODEL_TWO_THREADS);
}

static psc_status op_model_stream_two(const void *ctx, text *out)
{
    return model_parse(ctx, out, MODEL_STREAM_TWO_THREADS);
}

/* Writers: a prebuilt model written in one format. After NOMEM the same
 * model is written again with allocations possible: same bytes as fresh. */
struct write_ctx {
    const input *in;
    const psc_model *m;
    psc_out_format f;
};

static int sink(void *ctx, const char *data, size_t len)
{
    t_put(ctx, data, len);
    return 0;
}

static psc_status op_write(const void *ctx, text *out)
{
    const struct write_ctx *w = ctx;
    text bytes = {0};
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_model_write(w->m, w->f, sink, &bytes, &err);
    /* on PSC_E_NOMEM, write.h promises a filled err */
    if (st == PSC_E_NOMEM && (err.status != PSC_E_NOMEM || !err.message[0]))
        failure("psc_model_write", psc_out_format_name(w->f), "PSC_E_NOMEM with err status %s and message '%s'",
                psc_status_name(err.status), err.message);
    if (st != PSC_E_NOMEM) {
        t_printf(out, "status=%s %s\n", psc_status_name(st), st == PSC_OK ? "" : err.message);
        if (bytes.p)
            t_put(out, bytes.p, bytes.len);
    }
    t_free(&bytes);
    return st;
}

static psc_status op_lint_buffer(const void *ctx, text *out)
{
    const input *in = ctx;
    psc_parse_opts o = opts_for(in);
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_lint_buffer(in->data, in->len, &o, NULL, &d);
    if (st != PSC_E_NOMEM)
        t_diags(out, &d);
    psc_diag_list_release(&d);
    return st;
}

/* psc_lint_model with small thresholds (so that the cardinality rules run
 * and allocate) on a prebuilt model, then psc_lint_parse_findings. */
struct lint_ctx {
    const input *in;
    const psc_model *m;
    const psc_diag_list *parse_diags;
};

static psc_status op_lint_model(const void *ctx, text *out)
{
    const struct lint_ctx *l = ctx;
    psc_lint_opts lo;
    psc_lint_opts_init(&lo);
    lo.max_series_per_metric = 2;
    lo.max_label_values = 1;
    lo.max_series = 3;
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_lint_parse_findings(l->parse_diags, &lo, &d);
    if (st == PSC_OK)
        st = psc_lint_model(l->m, l->in->data, l->in->len, &lo, &d);
    if (st == PSC_OK) {
        psc_diag_list_sort(&d);
        t_diags(out, &d);
    }
    psc_diag_list_release(&d);
    return st;
}

struct card_ctx {
    const input *in;
    const psc_model *m1, *m2;
};

static psc_status op_card(const void *ctx, text *out)
{
    const struct card_ctx *c = ctx;
    psc_card *card = psc_card_new(NULL);
    if (!card)
        return PSC_E_NOMEM;
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_card_add(card, c->m1, &err);
    if (st == PSC_OK)
        st = psc_card_add(card, c->m2, &err);
    if (st == PSC_OK) {
        t_printf(out, "total=%llu\n", (unsigned long long)psc_card_total_series(card));
        for (size_t i = 0; i < psc_card_family_count(card); i++) {
            const psc_card_family *f = psc_card_family_at(card, i);
            t_str(out, f->name);
            t_printf(out, " %llu\n", (unsigned long long)f->series);
        }
        for (size_t i = 0; i < psc_card_label_count(card); i++) {
            const psc_card_label *lb = psc_card_label_at(card, i);
            t_str(out, lb->name);
            t_printf(out, " values=%llu series=%llu unbounded=%d", (unsigned long long)lb->values,
                     (unsigned long long)lb->series, lb->unbounded);
            for (size_t k = 0; k < lb->nexamples; k++)
                t_str(out, lb->examples[k]);
            t_put(out, "\n", 1);
        }
    }
    psc_card_free(card);
    return st;
}

struct diff_ctx {
    const char *name;
    const psc_model *a, *b;
};

static psc_status op_diff(const void *ctx, text *out)
{
    const struct diff_ctx *c = ctx;
    static const double qs[] = {0.5, 0.9, 0.99};
    static const char *const ignore[] = {"instance"};
    static const char *const ignore_metrics[] = {"skip_.*"};
    psc_diff_opts o;
    psc_diff_opts_init(&o);
    o.quantiles = qs;
    o.nquantiles = 3;
    o.ignore_labels = ignore;
    o.nignore_labels = 1;
    o.ignore_metrics = ignore_metrics;
    o.nignore_metrics = 1;
    o.interval = 15;
    psc_diff *d = (psc_diff *)&o; /* must become NULL on failure */
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_diff_new(c->a, c->b, &o, &d, &err);
    if (st == PSC_E_NOMEM) {
        if (d != NULL)
            failure("diff_new", c->name, "PSC_E_NOMEM but *out is not NULL");
        return st;
    }
    if (st != PSC_OK) {
        t_printf(out, "status=%s %s\n", psc_status_name(st), err.message);
        return st;
    }
    for (size_t i = 0; i < psc_diff_change_count(d); i++) {
        const psc_diff_change *ch = psc_diff_change_at(d, i);
        t_printf(out, "%s family=%zu ", psc_diff_kind_name(ch->kind), ch->family);
        t_str(out, ch->name);
        t_labels(out, ch->labels, ch->nlabels);
        t_num(out, ch->old_value);
        t_put(out, " ", 1);
        t_num(out, ch->new_value);
        t_printf(out, " names+%zu-%zu bounds+%zu-%zu\n", ch->nnames_added, ch->nnames_removed,
                 ch->nbounds_added, ch->nbounds_removed);
    }
    for (size_t i = 0; i < psc_diff_percentiles_count(d); i++) {
        const psc_diff_percentiles *p = psc_diff_percentiles_at(d, i);
        t_printf(out, "percentiles family=%zu", p->family);
        for (size_t k = 0; k < p->nvalues; k++) {
            t_put(out, " ", 1);
            t_num(out, p->values[k]);
        }
        t_put(out, "\n", 1);
    }
    const psc_diff_counts *n = psc_diff_get_counts(d);
    t_printf(out, "added=%zu removed=%zu changed=%zu\n", n->series_added, n->series_removed,
             n->values_changed);
    psc_diff_free(d);
    return st;
}

/* psc_histogram_quantile allocates for more than 64 buckets. */
static psc_status op_quantile(const void *ctx, text *out)
{
    (void)ctx;
    double bounds[100], counts[100];
    for (int i = 0; i < 100; i++) {
        bounds[i] = i == 99 ? INFINITY : (double)(100 - i); /* unsorted on purpose */
        counts[i] = i == 99 ? 1000 : (double)(1000 - 10 * i);
    }
    double q = 0;
    psc_status st = psc_histogram_quantile(0.9, bounds, counts, 100, &q, NULL);
    if (st == PSC_OK)
        t_num(out, q);
    return st;
}

/* psc_diag_add into a list; after NOMEM the list is unchanged and usable. */
static psc_status op_diag_add(const void *ctx, text *out)
{
    (void)ctx;
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = PSC_OK;
    for (int i = 0; i < 40 && st == PSC_OK; i++) {
        size_t before = d.count;
        st = psc_diag_add(&d, i % 3 == 0 ? PSC_SEV_ERROR : PSC_SEV_WARNING, "rule",
                          (psc_str){"m\x1b[2Jx", 7}, (uint64_t)i, (uint64_t)i + 1, 1, "finding %d: %s", i,
                          "\r\x1b]52;c;AAAA\x07 text");
        if (st == PSC_E_NOMEM && d.count != before)
            failure("diag_add", "40 findings", "PSC_E_NOMEM but the list changed");
    }
    if (st == PSC_E_NOMEM) {
        /* still usable */
        disarm();
        if (psc_diag_add(&d, PSC_SEV_INFO, "rule", PSC_STR_NULL, 0, 1, 1, "after") != PSC_OK)
            failure("diag_add", "40 findings", "the list is not usable after nomem");
    } else {
        t_diags(out, &d);
    }
    psc_diag_list_release(&d);
    return st;
}

struct api_case {
    const char *name;
    psc_api_endpoint ep;
    int http;
    const char *body;
};

static const struct api_case api_cases[] = {
    {"vector", PSC_API_QUERY, 200,
     "{\"status\":\"success\",\"warnings\":[\"w1\",\"w2\"],\"infos\":[\"i\"],\"data\":{\"resultType\":\"vector\","
     "\"result\":[{\"metric\":{\"__name__\":\"up\",\"job\":\"a\\u0000b\",\"z\":\"1\"},\"value\":[1700000000.5,\"NaN\"]},"
     "{\"metric\":{},\"value\":[1700000000,\"+Inf\"]}]}}"},
    {"matrix with histograms", PSC_API_QUERY_RANGE, 200,
     "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
     "{\"metric\":{\"a\":\"1\",\"b\":\"2\"},\"values\":[[1,\"1\"],[3,\"2\"]],"
     "\"histograms\":[[2,{\"count\":\"4\",\"sum\":\"1.5\",\"buckets\":[[0,\"0\",\"1\",\"1\"],[0,\"1\",\"2\",\"3\"]]}]]},"
     "{\"metric\":{\"c\":\"3\"},\"values\":[[1,\"5\"]]}],\"stats\":{\"timings\":{\"evalTotalTime\":0.1}}}}"},
    {"scalar", PSC_API_QUERY, 200, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"42\"]}}"},
    {"string", PSC_API_QUERY, 200,
     "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1,\"hello\"]}}"},
    {"series", PSC_API_SERIES, 200,
     "{\"status\":\"success\",\"data\":[{\"__name__\":\"up\",\"job\":\"a\"},{\"__name__\":\"up\",\"job\":\"b\"}]}"},
    {"labels", PSC_API_LABELS, 200, "{\"status\":\"success\",\"data\":[\"__name__\",\"job\",\"instance\"]}"},
    {"label values", PSC_API_LABEL_VALUES, 200, "{\"status\":\"success\",\"data\":[\"a\",\"b\"]}"},
    {"metadata", PSC_API_METADATA, 200,
     "{\"status\":\"success\",\"data\":{\"zeta\":[{\"type\":\"gauge\",\"help\":\"z\",\"unit\":\"\"}],"
     "\"alpha\":[{\"type\":\"counter\",\"help\":\"a1\",\"unit\":\"\"},{\"type\":\"gauge\",\"help\":\"a2\",\"unit\":\"s\"}]}}"},
    {"targets", PSC_API_TARGETS, 200,
     "{\"status\":\"success\",\"data\":{\"activeTargets\":[{\"labels\":{\"job\":\"j\",\"instance\":\"h:1\"},"
     "\"scrapePool\":\"j\",\"scrapeUrl\":\"http://h/metrics\",\"health\":\"down\",\"lastError\":\"refused\","
     "\"lastScrape\":\"2024-01-01T00:00:00Z\",\"lastScrapeDuration\":0.25,\"scrapeInterval\":\"15s\"}],"
     "\"droppedTargets\":[{},{}]}}"},
    {"tsdb status", PSC_API_TSDB_STATUS, 200,
     "{\"status\":\"success\",\"data\":{\"headStats\":{\"numSeries\":12,\"chunkCount\":30,\"minTime\":1,"
     "\"maxTime\":2},\"seriesCountByMetricName\":[{\"name\":\"up\",\"value\":5},{\"name\":\"x\",\"value\":2}],"
     "\"labelValueCountByLabelName\":[{\"name\":\"job\",\"value\":3}],"
     "\"seriesCountByLabelValuePair\":[{\"name\":\"job=a\",\"value\":123456789012345678901}]}}"},
    {"buildinfo", PSC_API_BUILDINFO, 200,
     "{\"status\":\"success\",\"data\":{\"version\":\"2.42.0\",\"revision\":\"abc\",\"goVersion\":\"go1.19\"}}"},
    {"api error", PSC_API_QUERY, 422,
     "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"too many samples\",\"warnings\":[\"w\"]}"},
    {"wrong type", PSC_API_QUERY, 200,
     "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"a\":\"1\"},"
     "\"value\":[1,\"1\"]},{\"metric\":{\"job\":1},\"value\":[1,\"1\"]}]}}"},
    {"bad value", PSC_API_QUERY, 200,
     "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,\"0x1p3\"]}]}}"},
};

static psc_status op_api_decode(const void *ctx, text *out)
{
    const struct api_case *c = ctx;
    psc_api_response r;
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_api_decode(c->ep, c->body, strlen(c->body), c->http, &r, &err);
    if (st != PSC_E_NOMEM) {
        t_printf(out, "status=%s %s type=%s series=%zu strings=%zu labelsets=%zu metadata=%zu targets=%zu "
                      "warnings=%zu infos=%zu\n",
                 psc_status_name(st), st == PSC_OK ? "" : err.message,
                 psc_api_result_type_name(r.result_type), r.nseries, r.nstrings, r.nlabelsets, r.nmetadata,
                 r.ntargets, r.nwarnings, r.ninfos);
        for (size_t i = 0; i < r.nseries; i++) {
            t_labels(out, r.series[i].metric.labels, r.series[i].metric.nlabels);
            for (size_t k = 0; k < r.series[i].npoints; k++) {
                t_put(out, " ", 1);
                t_num(out, r.series[i].points[k].t);
                t_put(out, "=", 1);
                t_num(out, r.series[i].points[k].h ? r.series[i].points[k].h->count : r.series[i].points[k].v);
            }
            t_put(out, "\n", 1);
        }
        for (size_t i = 0; i < r.nstrings; i++)
            t_str(out, r.strings[i]);
        for (size_t i = 0; i < r.nmetadata; i++)
            t_str(out, r.metadata[i].metric);
        for (size_t i = 0; i < r.nwarnings; i++)
            t_str(out, r.warnings[i]);
        t_str(out, r.stats);
        t_str(out, r.version);
    }
    psc_api_response_release(&r);
    return st;
}

/* ---- main ------------------------------------------------------------------ */

static void run_input(const input *in)
{
    oom_loop("parser loop + reset", in->name, op_parser_reset, in);
    retry_check(in);
    oom_loop("parser + validator loop", in->name, op_parse_validate, in);
    oom_loop("psc_validate_buffer", in->name, op_validate_buffer, in);
    oom_loop("psc_validate_buffer (two threads)", in->name, op_validate_buffer_two, in);
    oom_loop("psc_validate_stream", in->name, op_validate_stream, in);
    oom_loop("psc_validate_stream (two threads)", in->name, op_validate_stream_two, in);
    oom_loop("psc_validate_stream (two threads, batches of 2)", in->name,
             op_validate_stream_two_small, in);
    oom_loop("psc_validate_stream (two threads, the second validating)", in->name,
             op_validate_stream_two_second, in);
    oom_loop("psc_model_parse", in->name, op_model_parse, in);
    oom_loop("psc_model_parse (two threads)", in->name, op_model_parse_two, in);
    oom_loop("psc_model_parse_stream (two threads)", in->name, op_model_stream_two, in);
    oom_loop("psc_lint_buffer", in->name, op_lint_buffer, in);

    psc_parse_opts o = opts_for(in);
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_model *m = NULL;
    if (psc_model_parse(in->data, in->len, &o, &m, &d) == PSC_E_NOMEM || !m) {
        failure("psc_model_parse", in->name, "no model without failing allocations");
        psc_diag_list_release(&d);
        return;
    }
    static const char *const fnames[] = {"psc_model_write text", "psc_model_write openmetrics",
                                         "psc_model_write json"};
    for (int f = 0; f < 3; f++) {
        struct write_ctx w = {in, m, (psc_out_format)f};
        oom_loop(fnames[f], in->name, op_write, &w);
    }
    struct lint_ctx l = {in, m, &d};
    oom_loop("psc_lint_parse_findings + psc_lint_model", in->name, op_lint_model, &l);
    struct card_ctx c = {in, m, m};
    oom_loop("psc_card_new + psc_card_add", in->name, op_card, &c);
    psc_model_free(m);
    psc_diag_list_release(&d);
}

static psc_model *must_parse(const char *s, psc_format f)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = f;
    psc_model *m = NULL;
    disarm();
    if (psc_model_parse(s, strlen(s), &o, &m, NULL) == PSC_E_NOMEM || !m) {
        fprintf(stderr, "test_oom: cannot build a model\n");
        exit(1);
    }
    return m;
}

static void run_diffs(void)
{
    psc_model *a = must_parse("# HELP h H.\n# TYPE h histogram\n"
                              "h_bucket{instance=\"x\",p=\"a\",le=\"1\"} 1\nh_bucket{instance=\"x\",p=\"a\",le=\"+Inf\"} 2\n"
                              "h_sum{instance=\"x\",p=\"a\"} 3\nh_count{instance=\"x\",p=\"a\"} 2\n"
                              "# TYPE s gauge\ns{a=\"1\"} 1\ns{a=\"2\"} 2\n"
                              "# TYPE c counter\nc_total{k=\"v\"} 10 1000\n"
                              "# TYPE q summary\nq{quantile=\"0.5\"} 1\nq_sum 1\nq_count 1\n"
                              "# TYPE gone gauge\ngone 1\n# TYPE skip_me gauge\nskip_me 1\n",
                              PSC_FORMAT_TEXT_0_0_4);
    psc_model *b = must_parse("# HELP h H2.\n# TYPE h histogram\n"
                              "h_bucket{instance=\"y\",p=\"a\",le=\"1\"} 3\nh_bucket{instance=\"y\",p=\"a\",le=\"+Inf\"} 5\n"
                              "h_sum{instance=\"y\",p=\"a\"} 8\nh_count{instance=\"y\",p=\"a\"} 5\n"
                              "h_bucket{p=\"b\",le=\"2\"} 3\nh_bucket{p=\"b\",le=\"+Inf\"} 5\nh_count{p=\"b\"} 5\n"
                              "# TYPE s gauge\ns{a=\"1\",b=\"x\"} 2\ns{a=\"3\",b=\"y\"} 2\n"
                              "# TYPE c counter\nc_total{k=\"v\"} 4 16000\n"
                              "# TYPE q summary\nq{quantile=\"0.9\"} 1\nq_sum 1\nq_count 1\n"
                              "# TYPE fresh counter\nfresh 1\n# TYPE skip_me gauge\nskip_me 2\n",
                              PSC_FORMAT_TEXT_0_0_4);
    psc_model *om = must_parse(om_ok, PSC_FORMAT_OPENMETRICS_1_0);
    psc_model *txt = must_parse(text_ok, PSC_FORMAT_TEXT_0_0_4);
    struct diff_ctx cases[] = {
        {"two text snapshots", a, b},
        {"reversed", b, a},
        {"identical", a, a},
        {"text against openmetrics", txt, om},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        oom_loop("psc_diff_new", cases[i].name, op_diff, &cases[i]);
    psc_model_free(a);
    psc_model_free(b);
    psc_model_free(om);
    psc_model_free(txt);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

int main(int argc, char **argv)
{
    /* small stream chunks: the carry-over of partial lines allocates too */
    psc_test_set_stream_chunk(64);
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        run_input(&builtin[i]);
    for (int i = 1; i < argc; i++) {
        size_t len = 0;
        char *data = read_file(argv[i], &len);
        if (!data) {
            fprintf(stderr, "test_oom: cannot read '%s'\n", argv[i]);
            return 1;
        }
        input in = {argv[i], PSC_FORMAT_AUTO, data, len};
        run_input(&in);
        free(data);
    }
    run_diffs();
    oom_loop("psc_histogram_quantile", "100 unsorted buckets", op_quantile, NULL);
    oom_loop("psc_diag_add", "40 findings", op_diag_add, NULL);
    for (size_t i = 0; i < sizeof api_cases / sizeof api_cases[0]; i++)
        oom_loop("psc_api_decode", api_cases[i].name, op_api_decode, &api_cases[i]);
    printf("test_oom: %lu loops, %lu runs, %lu optional allocations, %lu failures\n", g_loops, g_runs,
           g_optional, g_failures);
    return g_failures ? 1 : 0;
}
