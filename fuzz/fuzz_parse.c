/*
 * fuzz_parse - fuzz target over the parser, the validator, the model and the
 * writers.
 *
 * With -Dfuzzing_engine=libfuzzer (clang) this is a libFuzzer target:
 *   ./fuzz/fuzz_parse -max_len=65536 NEW_CORPUS_DIR ../fuzz/corpus
 * Otherwise it is an ordinary program that replays the files and folders
 * given on its command line (fuzz/corpus/ in the test suite), each in a
 * child process so that every failing input is named, and every input that
 * once crashed stays a regression test (STYLE.md "Tests").
 *
 * Each input is run in every format (text 0.0.4, text 1.0.0, OpenMetrics,
 * auto-detected):
 *   1. the psc_parser_next() / psc_validator_feed() loop, which must make
 *      progress on every call;
 *   2. psc_validate_buffer(), which must agree with the loop on validity;
 *   3. psc_model_parse() and, when the input had no error, the writers:
 *      text and OpenMetrics output must validate again and converting the
 *      output again must give the same bytes (issue 2 "Model and writers");
 *      JSON output is produced too.
 * A broken property aborts with a message, which libFuzzer (or the test)
 * reports as a crash. PSC_FUZZ_NO_ROUNDTRIP=1 skips the properties of step 3
 * (the writers still run).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promscope/promscope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* PSC_FUZZ_NO_ROUNDTRIP=1 in the environment skips the writer round-trip
 * properties, to fuzz the parser and validator alone while a known writer
 * problem is open. */
static int g_no_roundtrip = -1;

static void broken(const char *what, psc_format f)
{
    fprintf(stderr, "fuzz_parse: %s (format %s)\n", what, psc_format_name(f));
    abort();
}

struct sink {
    char *p;
    size_t len, cap;
};

static int sink_write(void *ctx, const char *d, size_t n)
{
    struct sink *s = ctx;
    if (n == 0)
        return 0;
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n)
            cap *= 2;
        char *np = realloc(s->p, cap);
        if (!np)
            return -1;
        s->p = np;
        s->cap = cap;
    }
    memcpy(s->p + s->len, d, n);
    s->len += n;
    return 0;
}

static size_t count_lines(const char *b, size_t n)
{
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += b[i] == '\n';
    return lines;
}

/* Parser + validator loop; returns the number of error findings, or
 * (size_t)-1 when memory ran out. */
static size_t pull_loop(const char *buf, size_t len, const psc_parse_opts *o)
{
    psc_parser *p = psc_parser_new(o);
    if (!p)
        return (size_t)-1;
    psc_parser_reset(p, buf, len);
    psc_format fmt = psc_parser_format(p);
    if (fmt == PSC_FORMAT_AUTO)
        broken("psc_parser_reset left the format AUTO", o->format);
    psc_diag_list diags;
    psc_diag_list_init(&diags);
    psc_validator *v = psc_validator_new(fmt, o, &diags);
    if (!v) {
        psc_parser_free(p);
        return (size_t)-1;
    }
    size_t errors = 0, calls = 0, max_calls = count_lines(buf, len) + 2;
    for (;;) {
        if (++calls > max_calls)
            broken("psc_parser_next makes no progress", fmt);
        psc_entry e;
        psc_error err;
        psc_error_clear(&err);
        psc_status st = psc_parser_next(p, &e, &err);
        if (st == PSC_DONE)
            break;
        if (st == PSC_E_NOMEM) {
            errors = (size_t)-1;
            break;
        }
        if (st == PSC_OK) {
            if (e.offset > len || e.line == 0)
                broken("entry position outside the input", fmt);
            if (psc_validator_feed(v, &e) != PSC_OK) {
                errors = (size_t)-1;
                break;
            }
        } else {
            if (err.offset > len || err.line == 0 || err.column == 0)
                broken("error position outside the input", fmt);
            errors++;
            psc_validator_parse_error(v, &err);
        }
    }
    if (errors != (size_t)-1) {
        size_t last_nl = 0;
        for (size_t i = len; i > 0; i--)
            if (buf[i - 1] == '\n') {
                last_nl = i;
                break;
            }
        psc_validator_finish(v, len, count_lines(buf, len), len - last_nl + 1);
        errors += diags.nerrors;
    }
    psc_validator_free(v);
    psc_diag_list_release(&diags);
    psc_parser_free(p);
    return errors;
}

/* Write @m as @f, parse the output again (as @reparse), write again: the
 * two outputs must be byte-identical and the output must be valid. */
static void roundtrip(const psc_model *m, psc_out_format f, psc_format reparse, psc_format from)
{
    struct sink a = {0}, b = {0};
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_model_write(m, f, sink_write, &a, &err);
    if (st == PSC_E_UNSUPPORTED || st == PSC_E_NOMEM || st == PSC_E_IO) {
        free(a.p);
        return; /* not expressible in f, or out of memory */
    }
    if (st != PSC_OK)
        broken("psc_model_write failed on a valid model", from);
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = reparse;
    o.max_samples = 0;
    psc_model *m2 = NULL;
    psc_diag_list d;
    psc_diag_list_init(&d);
    st = psc_model_parse(a.p ? a.p : "", a.len, &o, &m2, &d);
    if (st == PSC_OK) {
        psc_error_clear(&err);
        st = psc_model_write(m2, f, sink_write, &b, &err);
        if (st == PSC_OK && (a.len != b.len || (a.len && memcmp(a.p, b.p, a.len) != 0))) {
            fprintf(stderr, "first output:\n%.*s\nsecond output:\n%.*s\n", (int)a.len, a.p,
                    (int)b.len, b.p);
            broken(f == PSC_OUT_TEXT ? "text output is not idempotent"
                                     : "OpenMetrics output is not idempotent", from);
        }
    } else if (st != PSC_E_NOMEM) {
        fprintf(stderr, "output:\n%.*s\n", (int)a.len, a.p);
        for (size_t i = 0; i < d.count; i++)
            fprintf(stderr, "  %llu:%llu: %s [%s]\n", (unsigned long long)d.items[i].line,
                    (unsigned long long)d.items[i].column, d.items[i].message, d.items[i].rule);
        broken(f == PSC_OUT_TEXT ? "text output of a valid input does not validate"
                                 : "OpenMetrics output of a valid input does not validate", from);
    }
    psc_model_free(m2);
    psc_diag_list_release(&d);
    free(a.p);
    free(b.p);
}

static void run_format(const char *buf, size_t len, psc_format fmt)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = fmt;

    size_t loop_errors = pull_loop(buf, len, &o);

    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_validate_buffer(buf, len, &o, &d);
    if (st != PSC_E_NOMEM && loop_errors != (size_t)-1 && (d.nerrors == 0) != (loop_errors == 0))
        broken("psc_validate_buffer and the parser loop disagree on validity", fmt);
    psc_diag_list_release(&d);

    psc_model *m = NULL;
    psc_diag_list_init(&d);
    st = psc_model_parse(buf, len, &o, &m, &d);
    if (st == PSC_OK && m) {
        psc_format used = psc_model_format(m);
        if (!g_no_roundtrip) {
            roundtrip(m, PSC_OUT_TEXT, PSC_FORMAT_TEXT_1_0_0, used);
            roundtrip(m, PSC_OUT_OPENMETRICS, PSC_FORMAT_OPENMETRICS_1_0, used);
        }
        struct sink j = {0};
        psc_error err;
        psc_error_clear(&err);
        psc_model_write(m, PSC_OUT_JSON, sink_write, &j, &err);
        free(j.p);
    } else if (st != PSC_E_NOMEM && !m) {
        broken("psc_model_parse returned no model", fmt);
    }
    psc_model_free(m);
    psc_diag_list_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0; /* keep every run short; the limits tests cover big inputs */
    if (g_no_roundtrip < 0) {
        const char *e = getenv("PSC_FUZZ_NO_ROUNDTRIP");
        g_no_roundtrip = e && *e && strcmp(e, "0") != 0;
    }
    /* An exact-size copy: reads past the end show under AddressSanitizer. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    static const psc_format fmts[] = {PSC_FORMAT_TEXT_0_0_4, PSC_FORMAT_TEXT_1_0_0,
                                      PSC_FORMAT_OPENMETRICS_1_0, PSC_FORMAT_AUTO};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
        run_format(buf, size, fmts[i]);
    free(buf);
    return 0;
}

#ifndef PSC_LIBFUZZER
/* Replayer: run every file named on the command line, or found (one level
 * deep, sorted) in a folder named there. */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_parse: cannot open '%s'\n", path);
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (!b) {
            fclose(f);
            return -1;
        }
        if (n == cap) {
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                fclose(f);
                return -1;
            }
            b = nb;
            cap *= 2;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        fprintf(stderr, "fuzz_parse: cannot read '%s'\n", path);
        return -1;
    }
    /* Each input in its own process: a crash or a broken property is
     * reported with the input's name, and the other inputs still run. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        free(b);
        fprintf(stderr, "fuzz_parse: fork failed\n");
        return -1;
    }
    if (pid == 0) {
        LLVMFuzzerTestOneInput(b, n);
        fflush(NULL);
        _exit(0);
    }
    free(b);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "fuzz_parse: waitpid failed\n");
            return -1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status))
        fprintf(stderr, "FAILED %s: killed by signal %d\n", path, WTERMSIG(status));
    else
        fprintf(stderr, "FAILED %s: exit status %d\n", path, WEXITSTATUS(status));
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    size_t files = 0, failed = 0;
    int rc = 0, r;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz_parse: no such file or folder '%s'\n", argv[i]);
            rc = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if ((r = replay_file(argv[i])) != 0)
                rc = 1;
            failed += r > 0;
            files++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            rc = 1;
            continue;
        }
        char **names = NULL;
        size_t count = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0)
                continue;
            if (count == cap) {
                cap = cap ? cap * 2 : 256;
                char **nn = realloc(names, cap * sizeof *nn);
                if (!nn)
                    return 1;
                names = nn;
            }
            names[count++] = strdup(de->d_name);
        }
        closedir(d);
        if (count)
            qsort(names, count, sizeof *names, cmp_str);
        for (size_t k = 0; k < count; k++) {
            size_t pl = strlen(argv[i]) + strlen(names[k]) + 2;
            char *path = malloc(pl);
            if (path) {
                snprintf(path, pl, "%s/%s", argv[i], names[k]);
                if ((r = replay_file(path)) != 0)
                    rc = 1;
                failed += r > 0;
                files++;
            }
            free(path);
            free(names[k]);
        }
        free(names);
    }
    printf("fuzz_parse: replayed %zu inputs, %zu failed\n", files, failed);
    if (files == 0) {
        fprintf(stderr, "fuzz_parse: no inputs to replay\n");
        return 1;
    }
    return rc;
}
#endif
