/*
 * Guard-page test (the picohttpparser method, STYLE.md "Parsers"): every
 * input is parsed and validated with its last byte immediately before a
 * PROT_NONE page, so that reading even one byte past the end crashes the
 * test. Inputs are also placed right after a PROT_NONE page to catch reads
 * before the start.
 *
 *   test_guard DIR...
 *
 * Inputs: every testdata case (files ending in .prom, .om or .txt) and every
 * conformance case (files named `metrics`) found below the given folders,
 * plus the empty input. Each is run in every format (text 0.0.4, text 1.0.0,
 * OpenMetrics, auto-detected) through
 *   - the psc_parser_next() / psc_validator_feed() loop,
 *   - psc_validate_buffer(),
 * and, whole (not truncated), through psc_model_parse(), psc_lint_model()
 * with the input buffer (it reads the input again to point columns at
 * names and values) and psc_model_write() in each output format.
 * Every other file below the folders must be a known companion (golden
 * logs, expectations, arguments, documentation: see is_companion()); an
 * unknown kind of file is a failure, so that no new kind of input is left
 * out of this test silently.
 * Small inputs (up to 2 KiB) are also run truncated at every length, so that
 * the end of input falls inside every token (BAD-INPUTS A8, B1, B4);
 * larger ones at 256 pseudo-random lengths.
 * Exit status 0 when every run finished, 1 on a broken invariant; a crash
 * (SIGSEGV) is the failure this test exists to find.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "promscope/promscope.h"

static size_t g_page;
static unsigned long g_runs, g_files, g_failures;

/* A mapping with a PROT_NONE page after (or before) room for `cap` bytes. */
struct guarded {
    char *base;
    size_t total;
    char *data_end;   /* first byte of the trailing guard page */
    char *data_start; /* first byte after the leading guard page */
};

static size_t round_up(size_t n)
{
    return (n + g_page - 1) / g_page * g_page;
}

static int guarded_init(struct guarded *g, size_t cap)
{
    size_t room = round_up(cap ? cap : 1);
    g->total = g_page + room + g_page;
    g->base = mmap(NULL, g->total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->base == MAP_FAILED)
        return -1;
    if (mprotect(g->base, g_page, PROT_NONE) != 0 ||
        mprotect(g->base + g_page + room, g_page, PROT_NONE) != 0)
        return -1;
    g->data_start = g->base + g_page;
    g->data_end = g->base + g_page + room;
    return 0;
}

static void guarded_free(struct guarded *g)
{
    munmap(g->base, g->total);
}

/* Place n bytes so that the last one is right before the trailing guard. */
static const char *place_at_end(struct guarded *g, const char *src, size_t n)
{
    char *p = g->data_end - n;
    memcpy(p, src, n);
    return p;
}

static const char *place_at_start(struct guarded *g, const char *src, size_t n)
{
    memcpy(g->data_start, src, n);
    return g->data_start;
}

static void failure(const char *name, size_t len, const char *fmt_name, const char *what)
{
    fprintf(stderr, "test_guard: %s (first %zu bytes, format %s): %s\n", name, len, fmt_name, what);
    g_failures++;
}

static size_t count_lines(const char *b, size_t n)
{
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += b[i] == '\n';
    return lines;
}

static void run_one(const char *name, const char *buf, size_t len, psc_format fmt)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = fmt;
    const char *fname = psc_format_name(fmt);
    g_runs++;

    /* the pull loop + validator */
    psc_parser *p = psc_parser_new(&o);
    if (!p) {
        failure(name, len, fname, "psc_parser_new failed");
        return;
    }
    psc_parser_reset(p, buf, len);
    psc_format used = psc_parser_format(p);
    if (used == PSC_FORMAT_AUTO)
        failure(name, len, fname, "psc_parser_reset left the format AUTO");
    psc_diag_list diags;
    psc_diag_list_init(&diags);
    psc_validator *v = psc_validator_new(used == PSC_FORMAT_AUTO ? PSC_FORMAT_TEXT_1_0_0 : used,
                                         &o, &diags);
    if (!v) {
        failure(name, len, fname, "psc_validator_new failed");
        psc_parser_free(p);
        return;
    }
    size_t max_calls = count_lines(buf, len) + 2, calls = 0;
    size_t nerrors = 0;
    for (;;) {
        if (++calls > max_calls) {
            failure(name, len, fname, "psc_parser_next makes no progress");
            break;
        }
        psc_entry e;
        psc_error err;
        psc_error_clear(&err);
        psc_status st = psc_parser_next(p, &e, &err);
        if (st == PSC_DONE)
            break;
        if (st == PSC_E_NOMEM) {
            failure(name, len, fname, "psc_parser_next: out of memory");
            break;
        }
        if (st == PSC_OK) {
            /* touch every slice: an entry pointing outside the input or
             * scratch memory would crash or show under ASan here */
            volatile unsigned char sink = 0;
            for (size_t i = 0; i < e.name.len; i++)
                sink ^= (unsigned char)e.name.ptr[i];
            for (size_t i = 0; i < e.text.len; i++)
                sink ^= (unsigned char)e.text.ptr[i];
            for (size_t k = 0; e.kind == PSC_ENTRY_SAMPLE && k < e.nlabels; k++) {
                for (size_t i = 0; i < e.labels[k].name.len; i++)
                    sink ^= (unsigned char)e.labels[k].name.ptr[i];
                for (size_t i = 0; i < e.labels[k].value.len; i++)
                    sink ^= (unsigned char)e.labels[k].value.ptr[i];
            }
            (void)sink;
            if (e.offset > len || e.line == 0)
                failure(name, len, fname, "entry position outside the input");
            psc_validator_feed(v, &e);
        } else {
            nerrors++;
            if (err.offset > len || err.line == 0 || err.column == 0)
                failure(name, len, fname, "error position outside the input");
            psc_validator_parse_error(v, &err);
        }
    }
    size_t end_line = count_lines(buf, len), last_nl = 0;
    for (size_t i = len; i > 0; i--)
        if (buf[i - 1] == '\n') {
            last_nl = i;
            break;
        }
    psc_validator_finish(v, len, end_line, len - last_nl + 1);
    for (size_t i = 0; i < diags.count; i++)
        if (diags.items[i].offset > len)
            failure(name, len, fname, "validator finding beyond the input");
    psc_validator_free(v);
    psc_parser_free(p);
    nerrors += diags.nerrors;
    psc_diag_list_release(&diags);

    /* the convenience function */
    psc_diag_list d2;
    psc_diag_list_init(&d2);
    psc_status st = psc_validate_buffer(buf, len, &o, &d2);
    if (st == PSC_E_NOMEM)
        failure(name, len, fname, "psc_validate_buffer: out of memory");
    else if ((st == PSC_OK) != (d2.nerrors == 0))
        failure(name, len, fname, "psc_validate_buffer status disagrees with its findings");
    if ((d2.nerrors == 0) != (nerrors == 0))
        failure(name, len, fname, "psc_validate_buffer and the parser loop disagree on validity");
    psc_diag_list_release(&d2);
}

static int null_sink(void *ctx, const char *data, size_t len)
{
    (void)data;
    *(size_t *)ctx += len;
    return 0;
}

/* The model, lint with the input buffer, and the writers on a whole input. */
static void run_model(const char *name, const char *buf, size_t len, psc_format fmt)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = fmt;
    const char *fname = psc_format_name(fmt);
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_model *m = NULL;
    psc_status st = psc_model_parse(buf, len, &o, &m, &d);
    g_runs++;
    if (st == PSC_E_NOMEM || !m) {
        failure(name, len, fname, "psc_model_parse gave no model");
        psc_diag_list_release(&d);
        return;
    }
    psc_diag_list lint;
    psc_diag_list_init(&lint);
    if (psc_lint_parse_findings(&d, NULL, &lint) != PSC_OK || psc_lint_model(m, buf, len, NULL, &lint) != PSC_OK)
        failure(name, len, fname, "psc_lint_model failed");
    for (size_t i = 0; i < lint.count; i++)
        if (lint.items[i].offset > len)
            failure(name, len, fname, "lint finding beyond the input");
    psc_diag_list_release(&lint);
    for (int f = 0; f < 3; f++) {
        size_t written = 0;
        st = psc_model_write(m, (psc_out_format)f, null_sink, &written, NULL);
        if (st != PSC_OK && st != PSC_E_UNSUPPORTED)
            failure(name, len, fname, "psc_model_write failed");
    }
    psc_model_free(m);
    psc_diag_list_release(&d);
}

static void run_model_all_formats(const char *name, const char *buf, size_t len)
{
    static const psc_format fmts[] = {PSC_FORMAT_TEXT_0_0_4, PSC_FORMAT_TEXT_1_0_0,
                                      PSC_FORMAT_OPENMETRICS_1_0, PSC_FORMAT_AUTO};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
        run_model(name, buf, len, fmts[i]);
}

static void run_all_formats(const char *name, const char *buf, size_t len)
{
    static const psc_format fmts[] = {PSC_FORMAT_TEXT_0_0_4, PSC_FORMAT_TEXT_1_0_0,
                                      PSC_FORMAT_OPENMETRICS_1_0, PSC_FORMAT_AUTO};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
        run_one(name, buf, len, fmts[i]);
}

static uint64_t g_rng = 88172645463325252ull;
static uint64_t xorshift(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static int test_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "test_guard: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    char *src = malloc(n ? n : 1);
    if (!src || fread(src, 1, n, f) != n) {
        fprintf(stderr, "test_guard: cannot read '%s'\n", path);
        free(src);
        fclose(f);
        return -1;
    }
    fclose(f);
    g_files++;

    struct guarded g;
    if (guarded_init(&g, n) != 0) {
        fprintf(stderr, "test_guard: mmap: %s\n", strerror(errno));
        free(src);
        return -1;
    }
    /* whole input against the trailing and the leading guard */
    run_all_formats(path, place_at_end(&g, src, n), n);
    run_model_all_formats(path, place_at_end(&g, src, n), n);
    run_all_formats(path, place_at_start(&g, src, n), n);
    run_model_all_formats(path, place_at_start(&g, src, n), n);
    /* truncated inputs */
    if (n <= 2048) {
        for (size_t k = 0; k < n; k++)
            run_all_formats(path, place_at_end(&g, src, k), k);
    } else {
        for (int i = 0; i < 256; i++) {
            size_t k = (size_t)(xorshift() % n);
            run_all_formats(path, place_at_end(&g, src, k), k);
        }
    }
    guarded_free(&g);
    free(src);
    return 0;
}

static int is_input(const char *name)
{
    size_t n = strlen(name);
    if (strcmp(name, "metrics") == 0)
        return 1;
    static const char *const ext[] = {".prom", ".om", ".txt"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcmp(name + n - e, ext[i]) == 0)
            return 1;
    }
    return 0;
}

/* Files that are not expositions: golden logs and expectations of the
 * testdata cases, diff case arguments, the conformance suite's test.json,
 * documentation. */
static int is_companion(const char *name)
{
    static const char *const exact[] = {"args", "exit", "test.json", "LICENSE"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(name, exact[i]) == 0)
            return 1;
    size_t n = strlen(name);
    static const char *const ext[] = {".events", ".expect", ".json", ".md"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcmp(name + n - e, ext[i]) == 0)
            return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk a folder tree in sorted order (deterministic runs). */
static int walk(const char *dir, int depth)
{
    if (depth > 8)
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "test_guard: cannot open folder '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                closedir(d);
                return -1;
            }
            names = nn;
        }
        names[count++] = strdup(de->d_name);
    }
    closedir(d);
    if (count)
        qsort(names, count, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        size_t pl = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(pl);
        if (!path) {
            rc = -1;
            break;
        }
        snprintf(path, pl, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (walk(path, depth + 1) != 0)
                rc = -1;
        } else if (is_input(names[i])) {
            if (test_file(path) != 0)
                rc = -1;
        } else if (!is_companion(names[i])) {
            fprintf(stderr, "test_guard: '%s' is neither an input (.prom, .om, .txt, metrics) nor a "
                            "known companion file: teach is_input() or is_companion() about it\n", path);
            rc = -1;
        }
        free(path);
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    g_page = (size_t)sysconf(_SC_PAGESIZE);
    if (argc < 2) {
        fprintf(stderr, "usage: test_guard DIR...\n");
        return 2;
    }
    /* the empty input, at the very start of a guard page */
    struct guarded g;
    if (guarded_init(&g, 0) != 0)
        return 1;
    run_all_formats("<empty>", g.data_end, 0);
    run_model_all_formats("<empty>", g.data_end, 0);
    guarded_free(&g);
    g_files++;

    int rc = 0;
    for (int i = 1; i < argc; i++) {
        unsigned long before = g_files;
        if (walk(argv[i], 0) != 0)
            rc = 1;
        if (g_files == before) {
            fprintf(stderr, "test_guard: no inputs found below '%s'\n", argv[i]);
            rc = 1;
        }
    }
    printf("test_guard: %lu inputs, %lu parser runs, %lu failures\n", g_files, g_runs, g_failures);
    return rc || g_failures ? 1 : 0;
}
