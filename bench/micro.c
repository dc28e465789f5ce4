/*
 * micro: in-process benchmarks of the library on one input held in memory.
 *
 * usage: micro [--runs N] [--format auto|text|openmetrics] [--json FILE]
 *              [--only STAGE,...] FILE
 *
 * Each stage runs N times (default 5) and reports the median wall time, MB/s
 * of input (1 MB = 10^6 bytes), samples/s, the library's allocations per
 * sample (psc_alloc_count(), lib/util/alloc.h) and heap bytes:
 *
 *   parse              psc_parser_next() over the whole input, nothing else
 *   validate           psc_validate_buffer(): parser + validator
 *   model              psc_model_parse(): parser + validator + model
 *   write-text         psc_model_write() of the built model to a null sink,
 *   write-openmetrics    one per output format
 *   write-json
 *   lint-rules         psc_lint_model() on the built model (every rule)
 *   lint               psc_lint_buffer(): parse, model, every rule, sort
 *   cardinality        psc_card_new() + psc_card_add() with label statistics
 *
 * --only runs the named stages alone (bench/profile uses it); a stage that
 * needs a model then gets one built outside the measurement.
 *
 * Heap bytes are counted exactly: the program is linked with
 * -Wl,--wrap=malloc,calloc,realloc,free (bench/meson.build), so every
 * allocation of the statically linked library passes through the counters
 * below, which add and subtract malloc_usable_size(). "peak" is the highest
 * heap in use during a run above what was in use when it started; "kept" is
 * what the run left allocated (for model: the model itself).
 */
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "promscope/promscope.h"
#include "util/alloc.h"

/* ---- heap accounting (linker --wrap) ----------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

/* atomic: the library allocates from its own threads too (parse.h
 * max_threads) */
static _Atomic int64_t heap_live, heap_peak;

static void heap_add(int64_t d)
{
    int64_t now = atomic_fetch_add(&heap_live, d) + d;
    int64_t peak = atomic_load(&heap_peak);
    while (now > peak && !atomic_compare_exchange_weak(&heap_peak, &peak, now))
        ;
}

void *__wrap_malloc(size_t n)
{
    void *p = __real_malloc(n);
    if (p)
        heap_add((int64_t)malloc_usable_size(p));
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    void *p = __real_calloc(n, size);
    if (p)
        heap_add((int64_t)malloc_usable_size(p));
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    int64_t old = p ? (int64_t)malloc_usable_size(p) : 0;
    void *q = __real_realloc(p, n);
    if (q)
        heap_add((int64_t)malloc_usable_size(q) - old);
    else if (n == 0)
        heap_add(-old); /* realloc(p, 0) freed p */
    return q;
}

void __wrap_free(void *p)
{
    if (p)
        heap_add(-(int64_t)malloc_usable_size(p));
    __real_free(p);
}

/* ---- measurement ------------------------------------------------------------- */

#define MAX_RUNS 101

typedef struct stage {
    const char *name;
    double secs[MAX_RUNS];
    int nruns;
    long allocs;          /* library allocations of the last run */
    int64_t peak_bytes;   /* heap peak above the start of the last run */
    int64_t kept_bytes;   /* heap still in use after the last run */
    uint64_t out_bytes;   /* writers: bytes written */
    const char *failed;   /* NULL when every run succeeded */
    bool skipped;         /* left out by --only */
} stage;

static const char *in_buf;
static size_t in_len;
static psc_parse_opts popts;
static psc_model *model; /* built by the model stage, used by the later ones */
static uint64_t nsamples;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const stage *s)
{
    double v[MAX_RUNS];
    memcpy(v, s->secs, sizeof(double) * (size_t)s->nruns);
    qsort(v, (size_t)s->nruns, sizeof v[0], cmp_double);
    int n = s->nruns;
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One run of a stage: returns NULL or a reason for failure. */
typedef const char *(*stage_fn)(stage *s);
static const char *st_model(stage *s);

static void run_stage(stage *s, stage_fn fn, int runs)
{
    for (int r = 0; r < runs; r++) {
        if (fn == st_model) {
            /* the previous run's model goes first, outside the measurement */
            psc_model_free(model);
            model = NULL;
        }
        int64_t start = heap_live;
        heap_peak = heap_live;
        psc_alloc_fail_after(0); /* resets psc_alloc_count() */
        double t0 = now();
        const char *why = fn(s);
        double t1 = now();
        s->allocs = psc_alloc_count();
        s->peak_bytes = heap_peak - start;
        s->kept_bytes = heap_live - start;
        s->secs[s->nruns++] = t1 - t0;
        if (why) {
            s->failed = why;
            return;
        }
    }
}

static const char *st_parse(stage *s)
{
    (void)s;
    psc_parser *p = psc_parser_new(&popts);
    if (!p)
        return "out of memory";
    psc_parser_reset(p, in_buf, in_len);
    psc_entry ent;
    psc_error err;
    psc_status st;
    uint64_t n = 0, bad = 0;
    while ((st = psc_parser_next(p, &ent, &err)) != PSC_DONE) {
        if (st == PSC_OK)
            n += ent.kind == PSC_ENTRY_SAMPLE;
        else
            bad++;
    }
    psc_parser_free(p);
    nsamples = n;
    return bad ? "the parser reported errors" : NULL;
}

static const char *st_validate(stage *s)
{
    (void)s;
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_validate_buffer(in_buf, in_len, &popts, &d);
    psc_diag_list_release(&d);
    return st == PSC_OK ? NULL : "the validator reported errors";
}

static const char *st_model(stage *s)
{
    (void)s;
    psc_status st = psc_model_parse(in_buf, in_len, &popts, &model, NULL);
    return st == PSC_OK ? NULL : "psc_model_parse failed";
}

static int null_sink(void *ctx, const char *data, size_t len)
{
    (void)data;
    *(uint64_t *)ctx += len;
    return 0;
}

static const char *write_as(stage *s, psc_out_format f)
{
    uint64_t n = 0;
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_model_write(model, f, null_sink, &n, &err);
    s->out_bytes = n;
    if (st != PSC_OK) {
        static char why[600];
        snprintf(why, sizeof why, "psc_model_write: %s", err.message);
        return why;
    }
    return NULL;
}

static const char *st_write_text(stage *s)
{
    return write_as(s, PSC_OUT_TEXT);
}

static const char *st_write_om(stage *s)
{
    return write_as(s, PSC_OUT_OPENMETRICS);
}

static const char *st_write_json(stage *s)
{
    return write_as(s, PSC_OUT_JSON);
}

static const char *st_lint_rules(stage *s)
{
    (void)s;
    psc_lint_opts lo;
    psc_lint_opts_init(&lo);
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_lint_model(model, in_buf, in_len, &lo, &d);
    psc_diag_list_release(&d);
    return st == PSC_OK ? NULL : "psc_lint_model failed";
}

static const char *st_lint(stage *s)
{
    (void)s;
    psc_lint_opts lo;
    psc_lint_opts_init(&lo);
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_lint_buffer(in_buf, in_len, &popts, &lo, &d);
    psc_diag_list_release(&d);
    return st == PSC_OK ? NULL : "psc_lint_buffer failed";
}

static const char *st_card(stage *s)
{
    (void)s;
    psc_card_opts co;
    psc_card_opts_init(&co);
    co.by_label = true;
    psc_card *c = psc_card_new(&co);
    if (!c)
        return "out of memory";
    psc_status st = psc_card_add(c, model, NULL);
    uint64_t total = psc_card_total_series(c);
    psc_card_free(c);
    if (st != PSC_OK)
        return "psc_card_add failed";
    return total == psc_model_series_count(model) ? NULL : "series total differs from the model";
}

/* ---- main ---------------------------------------------------------------------- */

static char *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    *len = n;
    return buf;
}

/* Is @name one of the comma-separated names of @list (NULL: all)? */
static bool selected(const char *list, const char *name)
{
    if (!list)
        return true;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

int main(int argc, char **argv)
{
    int runs = 5;
    const char *fmt = "auto", *json = NULL, *path = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            fmt = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            path = NULL;
            break;
        }
    }
    if (!path || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: micro [--runs N (1..%d)] [--format auto|text|openmetrics] "
                        "[--json FILE] [--only STAGE,...] FILE\n", MAX_RUNS);
        return 2;
    }
    char *buf = load(path, &in_len);
    if (!buf) {
        fprintf(stderr, "micro: %s: %s\n", path, strerror(errno));
        return 1;
    }
    in_buf = buf;
    psc_parse_opts_init(&popts);
    popts.max_samples = 0;
    if (strcmp(fmt, "text") == 0)
        popts.format = PSC_FORMAT_TEXT_1_0_0;
    else if (strcmp(fmt, "openmetrics") == 0)
        popts.format = PSC_FORMAT_OPENMETRICS_1_0;
    else
        popts.format = psc_format_detect(in_buf, in_len);

    static const struct {
        const char *name;
        stage_fn fn;
    } plan[] = {
        {"parse", st_parse},
        {"validate", st_validate},
        {"model", st_model},
        {"write-text", st_write_text},
        {"write-openmetrics", st_write_om},
        {"write-json", st_write_json},
        {"lint-rules", st_lint_rules},
        {"lint", st_lint},
        {"cardinality", st_card},
    };
    enum { NSTAGES = sizeof plan / sizeof plan[0] };
    static stage stages[NSTAGES];
    int64_t model_bytes = 0, model_peak = 0;
    bool model_failed = false;
    for (size_t i = 0; i < NSTAGES; i++) {
        stage *s = &stages[i];
        s->name = plan[i].name;
        if (!selected(only, s->name)) {
            s->skipped = true;
            continue;
        }
        if (i > 2 && !model && !model_failed && !selected(only, "model")) {
            /* the model stage was left out: build the model untimed */
            if (psc_model_parse(in_buf, in_len, &popts, &model, NULL) != PSC_OK) {
                psc_model_free(model);
                model = NULL;
            }
            model_failed = !model;
        }
        if (i > 2 && !model) {
            s->failed = "no model";
            continue;
        }
        run_stage(s, plan[i].fn, runs);
        if (plan[i].fn == st_model) {
            /* the model of the last run stays allocated: that is its size */
            model_bytes = s->kept_bytes;
            model_peak = s->peak_bytes;
            if (s->failed) {
                psc_model_free(model);
                model = NULL;
                model_failed = true;
            }
        }
    }
    size_t series = model ? psc_model_series_count(model) : 0;
    if (stages[0].skipped)
        nsamples = series; /* for the samples/s column only */
    psc_model_free(model);
    free(buf);
    if (heap_live != 0)
        fprintf(stderr, "micro: warning: %lld heap bytes unaccounted for at exit\n", (long long)heap_live);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mb = (double)in_len / 1e6;
    printf("%s: %.1f MB, %s, %llu samples (%zu in the model), median of %d runs\n", path, mb,
           psc_format_name(popts.format), (unsigned long long)nsamples, series, runs);
    printf("%-18s %9s %9s %12s %11s %12s %12s\n", "stage", "median s", "MB/s", "samples/s", "allocs/smp",
           "peak MB", "kept MB");
    for (size_t i = 0; i < NSTAGES; i++) {
        const stage *s = &stages[i];
        if (s->skipped)
            continue;
        if (s->failed) {
            printf("%-18s FAILED: %s\n", s->name, s->failed);
            continue;
        }
        double t = median(s);
        printf("%-18s %9.4f %9.1f %12.0f %11.4f %12.1f %12.1f\n", s->name, t, mb / t,
               (double)nsamples / t, nsamples ? (double)s->allocs / (double)nsamples : 0.0,
               (double)s->peak_bytes / 1e6, (double)s->kept_bytes / 1e6);
    }
    printf("model: %.1f MB kept (%.2f x input), peak %.1f MB while building (%.2f x input); "
           "process max RSS %.1f MB\n",
           (double)model_bytes / 1e6, (double)model_bytes / (double)in_len, (double)model_peak / 1e6,
           (double)model_peak / (double)in_len, (double)ru.ru_maxrss * 1024 / 1e6);

    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            fprintf(stderr, "micro: %s: %s\n", json, strerror(errno));
            return 1;
        }
        fprintf(f, "{\"file\": ");
        json_str(f, path);
        fprintf(f, ", \"format\": \"%s\", \"bytes\": %zu, \"samples\": %llu, \"runs\": %d, "
                   "\"model_bytes\": %lld, \"model_peak_bytes\": %lld, \"stages\": [",
                psc_format_name(popts.format), in_len, (unsigned long long)nsamples, runs,
                (long long)model_bytes, (long long)model_peak);
        bool first = true;
        for (size_t i = 0; i < NSTAGES; i++) {
            const stage *s = &stages[i];
            if (s->skipped)
                continue;
            fprintf(f, "%s\n  {\"name\": \"%s\"", first ? "" : ",", s->name);
            first = false;
            if (s->failed) {
                fprintf(f, ", \"failed\": ");
                json_str(f, s->failed);
                fputc('}', f);
                continue;
            }
            fprintf(f, ", \"seconds\": [");
            for (int r = 0; r < s->nruns; r++)
                fprintf(f, "%s%.6f", r ? ", " : "", s->secs[r]);
            fprintf(f, "], \"median_s\": %.6f, \"allocs\": %ld, \"peak_bytes\": %lld, "
                       "\"kept_bytes\": %lld, \"out_bytes\": %llu}",
                    median(s), s->allocs, (long long)s->peak_bytes, (long long)s->kept_bytes,
                    (unsigned long long)s->out_bytes);
        }
        fprintf(f, "\n]}\n");
        if (fclose(f) != 0) {
            fprintf(stderr, "micro: %s: %s\n", json, strerror(errno));
            return 1;
        }
    }
    for (size_t i = 0; i < NSTAGES; i++)
        if (stages[i].failed)
            return 1;
    return 0;
}
