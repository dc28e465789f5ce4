/*
 * psc_validate_stream() must report exactly what psc_validate_buffer()
 * reports (same findings, lines, columns, byte offsets, order), whatever the
 * chunk size and however the reads are cut: run every file given on the
 * command line (directories are walked) through both, in both formats, at
 * chunk sizes from 1 byte to 4 KiB, with a 64-byte line limit so that the
 * over-long-line skipping path is crossed too. Likewise
 * psc_model_parse_stream() and psc_model_parse(): same status, findings and
 * model (compared through its OpenMetrics and JSON serialisations), and the
 * same again with a second thread (psc_validate_stream's reader and parser
 * in turn, the model's parser and builder: forced on for small inputs).
 *
 * usage: test_stream PATH...
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse/internal.h"
#include "promscope/promscope.h"

struct reader {
    const char *b;
    size_t len, pos, step;
};

static long rd(void *ctx, char *buf, size_t cap, psc_error *err)
{
    struct reader *r = ctx;
    (void)err;
    size_t n = r->len - r->pos;
    if (n > cap)
        n = cap;
    if (n > r->step)
        n = r->step;
    memcpy(buf, r->b + r->pos, n);
    r->pos += n;
    return (long)n;
}

static char *render(const psc_diag_list *d)
{
    size_t cap = 256 + d->count * 700, o = 0;
    char *out = malloc(cap);
    if (!out)
        abort();
    out[0] = '\0';
    for (size_t i = 0; i < d->count; i++)
        o += (size_t)snprintf(out + o, cap - o, "%llu:%llu:%llu %s %s %s\n",
                              (unsigned long long)d->items[i].line,
                              (unsigned long long)d->items[i].column,
                              (unsigned long long)d->items[i].offset, d->items[i].rule,
                              psc_severity_name(d->items[i].severity), d->items[i].message);
    return out;
}

static int files, mismatches;

struct sink {
    char *p;
    size_t len, cap;
};

static int sink_put(void *ctx, const char *d, size_t n)
{
    struct sink *k = ctx;
    if (k->len + n + 1 > k->cap) {
        k->cap = (k->len + n + 1) * 2;
        k->p = realloc(k->p, k->cap);
        if (!k->p)
            abort();
    }
    memcpy(k->p + k->len, d, n);
    k->len += n;
    k->p[k->len] = '\0';
    return 0;
}

/* findings, then the model as OpenMetrics and as JSON (or why not) */
static char *render_model(psc_status st, const psc_model *m, const psc_diag_list *d)
{
    char *r = render(d);
    struct sink k = {NULL, 0, 0};
    sink_put(&k, r, strlen(r));
    free(r);
    char head[64];
    snprintf(head, sizeof head, "status %s\n", psc_status_name(st));
    sink_put(&k, head, strlen(head));
    if (m) {
        psc_out_format fs[] = {PSC_OUT_OPENMETRICS, PSC_OUT_JSON};
        for (size_t i = 0; i < 2; i++) {
            psc_error e;
            psc_error_clear(&e);
            psc_status ws = psc_model_write(m, fs[i], sink_put, &k, &e);
            snprintf(head, sizeof head, "\nwrite %s\n", psc_status_name(ws));
            sink_put(&k, head, strlen(head));
        }
    }
    return k.p;
}

static void check_buffer(const char *path, const char *b, long n);

static void check_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(b);
        return;
    }
    fclose(f);
    check_buffer(path, b, n);
    free(b);
}

/* The builder's own findings (a duplicate series across the groups of an
 * interleaved family, a sample its family cannot take), each after a
 * validator warning on the same line: in two threads they come from the
 * builder thread and are merged into place, also when the list is capped
 * (check_capped). */
static const char builder_findings[] =
    "# TYPE a counter\n"
    "a_total{x=\"1\"} 1\n"
    "b 2\n"
    "a_total{x=\"1\"} 3\n"
    "a_total{x=\"2\"} 4\n"
    "# TYPE h histogram\n"
    "h_bucket{le=\"+Inf\"} 1\n"
    "h_count 1\n"
    "h_sum 1\n"
    "z 1\n"
    "h 5\n"
    "b 7\n"
    "b{y=\"1\"} 8\n";

/* Lines the parser rejects among lines the validator finds fault with: in
 * two threads the parser thread hands both over in one batch, and they must
 * come out in line order. */
static const char errors_and_findings[] =
    "# TYPE a counter\n"
    "a_total 1\n"
    "a_total{ 2\n"
    "a_total 3\n"
    "b{x=\"1\"} 1\n"
    "b{x=\"1\"} 2\n"
    "b{x=\"1\" 3\n"
    "b{x=\"2\"} 4\n"
    "b{x=\"2\"} 5\n";

/* A findings list capped at 1..8 entries: the same kept and dropped ones in
 * one thread and in two. */
static void check_capped(const char *path, const char *b, long n, psc_parse_opts o)
{
    for (size_t max = 1; max <= 8; max++) {
        char *r[2];
        for (int piped = 0; piped < 2; piped++) {
            o.max_threads = piped ? 2 : 1;
            psc_test_set_pipeline(piped ? 1 : 0, 1);
            psc_diag_list d;
            psc_diag_list_init(&d);
            d.max = max;
            psc_model *m = NULL;
            psc_status st = psc_model_parse(b, (size_t)n, &o, &m, &d);
            char counts[128];
            snprintf(counts, sizeof counts, "errors %zu warnings %zu dropped %zu\n", d.nerrors,
                     d.nwarnings, d.dropped);
            char *body = render_model(st, m, &d);
            r[piped] = malloc(strlen(counts) + strlen(body) + 1);
            if (!r[piped])
                abort();
            strcpy(r[piped], counts);
            strcat(r[piped], body);
            free(body);
            psc_model_free(m);
            psc_diag_list_release(&d);
        }
        psc_test_set_pipeline(0, 0);
        if (strcmp(r[0], r[1]) != 0) {
            mismatches++;
            fprintf(stderr, "CAPPED MISMATCH %s (%s, max %zu)\n--- one thread\n%s\n--- two\n%s\n", path,
                    psc_format_name(o.format), max, r[0], r[1]);
        }
        free(r[0]);
        free(r[1]);
    }
}

static void check_buffer(const char *path, const char *b, long n)
{
    files++;
    static const size_t chunks[] = {1, 3, 17, 100, 4096};
    for (int fmt = 0; fmt < 2; fmt++) {
        psc_parse_opts o;
        psc_parse_opts_init(&o);
        o.format = fmt ? PSC_FORMAT_OPENMETRICS_1_0 : PSC_FORMAT_TEXT_1_0_0;
        o.max_line_bytes = 64;
        o.max_threads = 1;
        psc_diag_list d1;
        psc_diag_list_init(&d1);
        psc_status s1 = psc_validate_buffer(b, (size_t)n, &o, &d1);
        char *r1 = render(&d1);
        /* one thread, then two: the reading and the validating in one,
         * the parsing in the other, in batches of the default size, then
         * of 1 and 3 entries to turn the ring over; the reading in one,
         * the parsing and the validating in the other */
        static const char *const modes[] = {"one thread", "two threads", "two threads, small batches",
                                            "two threads, the second validating"};
        for (unsigned mode = 0; mode < 4; mode++) {
            o.max_threads = mode ? 2 : 1;
            psc_test_set_validate_split(mode == 3 ? 2 : 1);
            if (mode == 1 || mode == 2) {
                /* psc_validate_buffer hands its one chunk over in batches */
                psc_test_set_pipeline(1, mode == 2 ? 3 : 0);
                psc_diag_list d2;
                psc_diag_list_init(&d2);
                psc_status s2 = psc_validate_buffer(b, (size_t)n, &o, &d2);
                char *r2 = render(&d2);
                if (s1 != s2 || strcmp(r1, r2) != 0) {
                    mismatches++;
                    fprintf(stderr, "MISMATCH %s (%s, buffer, %s)\n--- one thread (%s)\n%s--- %s\n%s",
                            path, psc_format_name(o.format), modes[mode], psc_status_name(s1), r1,
                            psc_status_name(s2), r2);
                }
                free(r2);
                psc_diag_list_release(&d2);
            }
            for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
                psc_test_set_pipeline(mode ? 1 : 0, mode == 2 ? (c % 2 ? 1 : 3) : 0);
                psc_test_set_stream_chunk(chunks[c]);
                struct reader r = {b, (size_t)n, 0, c * 7 + 1};
                psc_diag_list d2;
                psc_diag_list_init(&d2);
                psc_status s2 = psc_validate_stream(rd, &r, &o, &d2, NULL);
                char *r2 = render(&d2);
                if (s1 != s2 || strcmp(r1, r2) != 0) {
                    mismatches++;
                    fprintf(stderr, "MISMATCH %s (%s, chunk %zu, %s)\n--- buffer (%s)\n%s--- stream (%s)\n%s",
                            path, psc_format_name(o.format), chunks[c], modes[mode],
                            psc_status_name(s1), r1, psc_status_name(s2), r2);
                }
                free(r2);
                psc_diag_list_release(&d2);
            }
        }
        psc_test_set_pipeline(0, 0);
        psc_test_set_validate_split(0);
        o.max_threads = 0;
        psc_test_set_stream_chunk(0);
        free(r1);
        psc_diag_list_release(&d1);

        /* the model: serial from the buffer is the reference; then from
         * the stream, and in two threads (the pipeline forced on, with
         * batches of 1 and 3 entries to turn the ring over) */
        psc_model *m1 = NULL;
        psc_diag_list_init(&d1);
        o.max_threads = 1;
        s1 = psc_model_parse(b, (size_t)n, &o, &m1, &d1);
        r1 = render_model(s1, m1, &d1);
        for (int piped = 0; piped < 2; piped++) {
            o.max_threads = piped ? 2 : 1;
            psc_test_set_pipeline(piped ? 1 : 0, piped ? 3 : 0);
            if (piped) {
                psc_diag_list d2;
                psc_diag_list_init(&d2);
                psc_model *m2 = NULL;
                psc_status s2 = psc_model_parse(b, (size_t)n, &o, &m2, &d2);
                char *r2 = render_model(s2, m2, &d2);
                if (strcmp(r1, r2) != 0) {
                    mismatches++;
                    fprintf(stderr, "MODEL MISMATCH %s (%s, buffer, two threads)\n--- one\n%s\n--- two\n%s\n",
                            path, psc_format_name(o.format), r1, r2);
                }
                free(r2);
                psc_model_free(m2);
                psc_diag_list_release(&d2);
            }
            for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
                psc_test_set_stream_chunk(chunks[c]);
                if (piped)
                    psc_test_set_pipeline(1, c % 2 ? 1 : 3);
                struct reader r = {b, (size_t)n, 0, c * 7 + 1};
                psc_diag_list d2;
                psc_diag_list_init(&d2);
                psc_model *m2 = NULL;
                psc_status s2 = psc_model_parse_stream(rd, &r, &o, &m2, &d2, NULL);
                char *r2 = render_model(s2, m2, &d2);
                if (strcmp(r1, r2) != 0) {
                    mismatches++;
                    fprintf(stderr, "MODEL MISMATCH %s (%s, chunk %zu, %s)\n--- buffer\n%s\n--- stream\n%s\n",
                            path, psc_format_name(o.format), chunks[c],
                            piped ? "two threads" : "one thread", r1, r2);
                }
                free(r2);
                psc_model_free(m2);
                psc_diag_list_release(&d2);
            }
        }
        psc_test_set_pipeline(0, 0);
        psc_test_set_stream_chunk(0);
        free(r1);
        psc_model_free(m1);
        psc_diag_list_release(&d1);
        o.max_threads = 0;
        if (strcmp(path, "builtin:builder-findings") == 0)
            check_capped(path, b, n, o);
    }
}

static void walk(const char *path, int depth)
{
    struct stat st;
    if (depth > 8 || stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        check_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        walk(sub, depth + 1);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    check_buffer("builtin:builder-findings", builder_findings, (long)strlen(builder_findings));
    check_buffer("builtin:errors-and-findings", errors_and_findings, (long)strlen(errors_and_findings));
    for (int i = 1; i < argc; i++)
        walk(argv[i], 0);
    printf("%d files, %d mismatches\n", files, mismatches);
    if (files == 0) {
        fprintf(stderr, "no input files found\n");
        return 1;
    }
    return mismatches != 0;
}
