/*
 * dump_events - print the golden event log of an exposition, using only the
 * public parser and validator API (STYLE.md "Golden event logs").
 *
 *   dump_events [--format F] [--strict] [--allow-crlf] [--allow-bom]
 *               [--max-line-bytes N] [--max-labels N] [--max-label-name-bytes N]
 *               [--max-label-value-bytes N] [--max-samples N] FILE|-
 *
 * Output, one line per parser entry or finding, in the order they happen:
 *   FORMAT openmetrics-1.0
 *   off=97 line=3 SAMPLE name="a_total" labels={method="post"} value=1027 ts_ms=1395066363000
 *   off=0 line=1 HELP name="a" text="help"
 *   ERROR 3 5 expected-equals <message>        (parser error)
 *   ERROR 7 1 duplicate-series <message>       (validator finding)
 *   WARNING 9 4 missing-newline <message>
 *   DONE
 * Strings are printed between double quotes with `"`, `\` and every byte
 * outside printable ASCII escaped (\n, \t, \xNN), so that a log is plain ASCII.
 * Numbers are printed as the shortest text that reads back to the same double
 * ("NaN", "+Inf", "-Inf" for the specials).
 *
 * The program also checks invariants of the API and exits 2 when one fails
 * (the golden test then fails with the reason on stderr):
 *   - every entry's and error's byte offset agrees with its line and column;
 *   - psc_parser_next() makes progress (at most one call per input line + 2);
 *   - psc_validate_buffer() reports exactly the findings of the parser +
 *     validator loop below (same severity, line, column and id).
 * Exit status: 0 log printed (whatever the input's validity), 2 invariant
 * broken or bad usage, 3 out of memory or unreadable input.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promscope/promscope.h"

static const char *g_buf;
static size_t g_len;
static size_t *g_line_starts; /* offsets of each line start */
static size_t g_nlines;
static int g_broken;          /* an invariant failed */

#ifdef __GNUC__
__attribute__((format(printf, 2, 3), noreturn))
#endif
static void die(int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "dump_events: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die(3, "%s", "out of memory");
    return p;
}

/* ---- input ---- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        die(3, "cannot open '%s'", path);
    size_t cap = 4096, n = 0;
    char *b = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb)
                die(3, "%s", "out of memory");
            b = nb;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f))
                die(3, "cannot read '%s'", path);
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    /* Exactly n bytes, no terminator: any read past the end is a heap
     * overflow that AddressSanitizer reports. */
    char *exact = xmalloc(n);
    if (n)
        memcpy(exact, b, n);
    free(b);
    *len = n;
    return exact;
}

static void index_lines(void)
{
    size_t cap = 64;
    g_line_starts = xmalloc(cap * sizeof *g_line_starts);
    g_line_starts[0] = 0;
    g_nlines = 1;
    for (size_t i = 0; i < g_len; i++) {
        if (g_buf[i] != '\n')
            continue;
        if (g_nlines == cap) {
            cap *= 2;
            size_t *n = realloc(g_line_starts, cap * sizeof *n);
            if (!n)
                die(3, "%s", "out of memory");
            g_line_starts = n;
        }
        g_line_starts[g_nlines++] = i + 1;
    }
}

/* 1-based line and byte column of byte offset @off (off == len allowed). */
static void position_of(uint64_t off, uint64_t *line, uint64_t *col)
{
    size_t lo = 0, hi = g_nlines; /* last start <= off */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (g_line_starts[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    *line = lo + 1;
    *col = off - g_line_starts[lo] + 1;
}

static void check_position(const char *what, uint64_t off, uint64_t line, uint64_t col)
{
    if (line == 0)
        return; /* "no position" */
    uint64_t l, c;
    if (off > g_len) {
        fprintf(stderr, "dump_events: %s: offset %llu beyond input length %zu\n", what,
                (unsigned long long)off, g_len);
        g_broken = 1;
        return;
    }
    position_of(off, &l, &c);
    if (l != line || c != col) {
        fprintf(stderr,
                "dump_events: %s: offset %llu is %llu:%llu but was reported as %llu:%llu\n",
                what, (unsigned long long)off, (unsigned long long)l, (unsigned long long)c,
                (unsigned long long)line, (unsigned long long)col);
        g_broken = 1;
    }
}

/* ---- printing ---- */

static void put_str(psc_str s)
{
    putchar('"');
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        switch (c) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (c < 0x20 || c >= 0x7f)
                printf("\\x%02x", c);
            else
                putchar(c);
        }
    }
    putchar('"');
}

/* Shortest text that reads back to v: the fewest significant digits that
 * round-trip, in positional notation for exponents -4..20, else d.ddde+XX
 * (Go's strconv 'g' -1 style with a wider positional range). */
static void put_double(double v)
{
    if (isnan(v)) {
        fputs("NaN", stdout);
        return;
    }
    if (isinf(v)) {
        fputs(v > 0 ? "+Inf" : "-Inf", stdout);
        return;
    }
    char tmp[48];
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* tmp: [-]d[.ddd]e[+-]XX */
    const char *t = tmp;
    if (*t == '-') {
        putchar('-');
        t++;
    }
    char digits[24];
    size_t nd = 0;
    for (; *t && *t != 'e'; t++)
        if (*t != '.' && nd < sizeof digits - 1)
            digits[nd++] = *t;
    int exp = atoi(t + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    if (exp >= -4 && exp < 21) {
        if (exp >= 0) {
            for (int i = 0; i <= exp || (size_t)i < nd; i++) {
                if (i == exp + 1)
                    putchar('.');
                putchar((size_t)i < nd ? digits[i] : '0');
            }
        } else {
            fputs("0.", stdout);
            for (int i = -1; i > exp; i--)
                putchar('0');
            fputs(digits, stdout);
        }
    } else {
        putchar(digits[0]);
        if (nd > 1)
            printf(".%s", digits + 1);
        printf("e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
}

static int is_plain_name(psc_str s)
{
    if (s.len == 0)
        return 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static void put_labels(const psc_label *l, size_t n)
{
    putchar('{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            putchar(',');
        /* a plain name as is; others (text 1.0.0 allows any UTF-8) quoted */
        if (is_plain_name(l[i].name))
            fwrite(l[i].name.ptr, 1, l[i].name.len, stdout);
        else
            put_str(l[i].name);
        putchar('=');
        put_str(l[i].value);
    }
    putchar('}');
}

static void put_entry(const psc_entry *e, psc_format fmt)
{
    printf("off=%llu line=%llu %s", (unsigned long long)e->offset, (unsigned long long)e->line,
           psc_entry_kind_name(e->kind));
    switch (e->kind) {
    case PSC_ENTRY_HELP:
        fputs(" name=", stdout);
        put_str(e->name);
        fputs(" text=", stdout);
        put_str(e->text);
        break;
    case PSC_ENTRY_TYPE:
        fputs(" name=", stdout);
        put_str(e->name);
        printf(" type=%s", psc_metric_type_name(e->type));
        break;
    case PSC_ENTRY_UNIT:
        fputs(" name=", stdout);
        put_str(e->name);
        fputs(" unit=", stdout);
        put_str(e->text);
        break;
    case PSC_ENTRY_COMMENT:
        fputs(" text=", stdout);
        put_str(e->text);
        break;
    case PSC_ENTRY_EOF:
        break;
    case PSC_ENTRY_SAMPLE:
        fputs(" name=", stdout);
        put_str(e->name);
        fputs(" labels=", stdout);
        put_labels(e->labels, e->nlabels);
        fputs(" value=", stdout);
        put_double(e->value);
        if (e->has_timestamp) {
            if (fmt == PSC_FORMAT_OPENMETRICS_1_0) {
                fputs(" ts=", stdout);
                put_double(e->timestamp);
                if (e->timestamp_ms_exact)
                    printf(" ts_ms=%lld", (long long)e->timestamp_ms);
            } else {
                printf(" ts_ms=%lld", (long long)e->timestamp_ms);
            }
        }
        if (e->has_exemplar) {
            fputs(" exemplar=", stdout);
            put_labels(e->exemplar.labels, e->exemplar.nlabels);
            fputs(" value=", stdout);
            put_double(e->exemplar.value);
            if (e->exemplar.has_timestamp) {
                fputs(" ts=", stdout);
                put_double(e->exemplar.timestamp);
            }
        }
        break;
    }
    putchar('\n');
}

/* Every finding, whichever way it was reported, for the cross-check. */
struct finding {
    int sev;
    uint64_t line, col;
    const char *rule; /* static: psc_code_name() */
};
static struct finding *g_found;
static size_t g_nfound, g_capfound;

static const char *rule_static(const char *rule)
{
    for (int c = 0; c < (int)PSC_C__COUNT; c++)
        if (strcmp(psc_code_name((psc_code)c), rule) == 0)
            return psc_code_name((psc_code)c);
    return "unknown";
}

static void record(int sev, uint64_t line, uint64_t col, const char *rule)
{
    if (g_nfound == g_capfound) {
        g_capfound = g_capfound ? 2 * g_capfound : 64;
        struct finding *n = realloc(g_found, g_capfound * sizeof *n);
        if (!n)
            die(3, "%s", "out of memory");
        g_found = n;
    }
    g_found[g_nfound++] = (struct finding){sev, line, col, rule_static(rule)};
}

static void put_diags(const psc_diag_list *l, size_t from)
{
    for (size_t i = from; i < l->count; i++) {
        const psc_diag *d = &l->items[i];
        const char *sev = d->severity == PSC_SEV_ERROR     ? "ERROR"
                          : d->severity == PSC_SEV_WARNING ? "WARNING"
                                                           : "INFO";
        printf("%s %llu %llu %s %s\n", sev, (unsigned long long)d->line,
               (unsigned long long)d->column, d->rule, d->message);
        check_position(d->rule, d->offset, d->line, d->column);
        record((int)d->severity, d->line, d->column, d->rule);
    }
}

static int cmp_finding(const void *a, const void *b)
{
    const struct finding *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    if (x->sev != y->sev)
        return x->sev < y->sev ? -1 : 1;
    return strcmp(x->rule, y->rule);
}

/* psc_validate_buffer() must agree with the loop. */
static void cross_check(const psc_parse_opts *opts)
{
    psc_diag_list l;
    psc_diag_list_init(&l);
    psc_status st = psc_validate_buffer(g_buf, g_len, opts, &l);
    if (st == PSC_E_NOMEM)
        die(3, "%s", "out of memory in psc_validate_buffer");
    size_t n = l.count;
    struct finding *f = xmalloc((n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (struct finding){(int)l.items[i].severity, l.items[i].line, l.items[i].column,
                                rule_static(l.items[i].rule)};
    if (n)
        qsort(f, n, sizeof *f, cmp_finding);
    if (g_nfound)
        qsort(g_found, g_nfound, sizeof *g_found, cmp_finding);
    int same = n == g_nfound;
    for (size_t i = 0; same && i < n; i++)
        same = cmp_finding(&f[i], &g_found[i]) == 0;
    size_t nerr = 0;
    for (size_t i = 0; i < g_nfound; i++)
        nerr += g_found[i].sev == PSC_SEV_ERROR;
    if ((st == PSC_OK) != (nerr == 0) || (st != PSC_OK && st != PSC_E_SYNTAX)) {
        fprintf(stderr, "dump_events: psc_validate_buffer returned '%s' with %zu error findings\n",
                psc_status_name(st), nerr);
        g_broken = 1;
    }
    if (!same) {
        fprintf(stderr, "dump_events: psc_validate_buffer disagrees with the parser+validator loop\n");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "  validate_buffer: %d %llu:%llu %s\n", f[i].sev,
                    (unsigned long long)f[i].line, (unsigned long long)f[i].col, f[i].rule);
        for (size_t i = 0; i < g_nfound; i++)
            fprintf(stderr, "  loop:            %d %llu:%llu %s\n", g_found[i].sev,
                    (unsigned long long)g_found[i].line, (unsigned long long)g_found[i].col,
                    g_found[i].rule);
        g_broken = 1;
    }
    free(f);
    psc_diag_list_release(&l);
}

/* ---- options ---- */

static size_t parse_size(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        die(2, "invalid value for %s", opt);
    return (size_t)v;
}

static int parse_format(const char *s, psc_format *f)
{
    static const struct {
        const char *name;
        psc_format f;
    } names[] = {
        {"auto", PSC_FORMAT_AUTO},
        {"text-0.0.4", PSC_FORMAT_TEXT_0_0_4},
        {"text-1.0.0", PSC_FORMAT_TEXT_1_0_0},
        {"openmetrics", PSC_FORMAT_OPENMETRICS_1_0},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *f = names[i].f;
            return 0;
        }
    return -1;
}

int main(int argc, char **argv)
{
    psc_parse_opts opts;
    psc_parse_opts_init(&opts);
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--strict") == 0)
            opts.flags |= PSC_PARSE_STRICT;
        else if (strcmp(a, "--allow-crlf") == 0)
            opts.flags |= PSC_PARSE_ALLOW_CRLF;
        else if (strcmp(a, "--allow-bom") == 0)
            opts.flags |= PSC_PARSE_ALLOW_BOM;
        else if (a[0] == '-' && a[1] == '-' && !v)
            die(2, "option '%s' needs a value", a);
        else if (strcmp(a, "--format") == 0) {
            if (parse_format(v, &opts.format))
                die(2, "invalid --format '%s'", v);
            i++;
        } else if (strcmp(a, "--max-line-bytes") == 0) {
            opts.max_line_bytes = parse_size(a, v);
            i++;
        } else if (strcmp(a, "--max-labels") == 0) {
            opts.max_labels = parse_size(a, v);
            i++;
        } else if (strcmp(a, "--max-label-name-bytes") == 0) {
            opts.max_label_name_bytes = parse_size(a, v);
            i++;
        } else if (strcmp(a, "--max-label-value-bytes") == 0) {
            opts.max_label_value_bytes = parse_size(a, v);
            i++;
        } else if (strcmp(a, "--max-samples") == 0) {
            opts.max_samples = parse_size(a, v);
            i++;
        } else if (a[0] == '-' && a[1] == '-')
            die(2, "unknown option '%s'", a);
        else if (path)
            die(2, "%s", "expected exactly one FILE");
        else
            path = a;
    }
    if (!path)
        die(2, "%s", "usage: dump_events [--format F] [--strict] [limits] FILE|-");

    char *buf = read_all(path, &g_len);
    g_buf = buf;
    index_lines();

    psc_parser *p = psc_parser_new(&opts);
    if (!p)
        die(3, "%s", "out of memory");
    psc_parser_reset(p, g_buf, g_len);
    psc_format fmt = psc_parser_format(p);
    printf("FORMAT %s\n", psc_format_name(fmt));

    psc_diag_list vdiags;
    psc_diag_list_init(&vdiags);
    psc_validator *v = psc_validator_new(fmt, &opts, &vdiags);
    if (!v)
        die(3, "%s", "out of memory");

    size_t nwarn = 0, nv = 0;
    /* Every call consumes at least one line (or reports an error on it);
     * a parser that does not is stuck. */
    uint64_t max_calls = (uint64_t)g_nlines + 2;
    uint64_t calls = 0;
    for (;;) {
        if (++calls > max_calls) {
            fprintf(stderr, "dump_events: psc_parser_next made no progress after %llu calls\n",
                    (unsigned long long)max_calls);
            return 2;
        }
        psc_entry e;
        psc_error err;
        psc_error_clear(&err);
        psc_status st = psc_parser_next(p, &e, &err);
        if (st == PSC_E_NOMEM)
            die(3, "%s", "out of memory in psc_parser_next");
        if (st == PSC_OK) {
            put_entry(&e, fmt);
            check_position(psc_entry_kind_name(e.kind), e.offset, e.line, 1);
            if (psc_validator_feed(v, &e) != PSC_OK)
                die(3, "%s", "out of memory in psc_validator_feed");
        } else if (st != PSC_DONE) {
            const char *code = psc_code_name((psc_code)err.code);
            printf("ERROR %llu %llu %s %s\n", (unsigned long long)err.line,
                   (unsigned long long)err.column, code, err.message);
            check_position(code, err.offset, err.line, err.column);
            if (err.line == 0) {
                fprintf(stderr, "dump_events: parser error '%s' without a position\n", code);
                g_broken = 1;
            }
            record(PSC_SEV_ERROR, err.line, err.column, code);
            if (psc_validator_parse_error(v, &err) != PSC_OK)
                die(3, "%s", "out of memory in psc_validator_parse_error");
        }
        const psc_diag_list *w = psc_parser_warnings(p);
        if (w && w->count > nwarn) {
            put_diags(w, nwarn);
            nwarn = w->count;
        }
        if (vdiags.count > nv) {
            put_diags(&vdiags, nv);
            nv = vdiags.count;
        }
        if (st == PSC_DONE)
            break;
    }
    uint64_t end_line, end_col;
    position_of(g_len, &end_line, &end_col);
    if (psc_validator_finish(v, g_len, end_line, end_col) != PSC_OK)
        die(3, "%s", "out of memory in psc_validator_finish");
    put_diags(&vdiags, nv);
    puts("DONE");

    cross_check(&opts);

    psc_validator_free(v);
    psc_diag_list_release(&vdiags);
    psc_parser_free(p);
    free(g_found);
    free(g_line_starts);
    free(buf);
    if (fflush(stdout) != 0 || ferror(stdout))
        return 3;
    return g_broken ? 2 : 0;
}
