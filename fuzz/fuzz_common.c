/*
 * fuzz_common.c - shared code of the fuzz targets (fuzz_common.h) and, when
 * no fuzzing engine is linked, the corpus replayer (main).
 */
#include "fuzz_common.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/internal.h"

volatile uint64_t fz_sink;

_Noreturn void fz_broken(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_%s: ", fz_target);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

bool fz_strict(void)
{
    static int strict = -1;
    if (strict < 0) {
        const char *e = getenv("PSC_FUZZ_STRICT");
        strict = e && *e && strcmp(e, "0") != 0;
    }
    return strict;
}

/* ---- sink ------------------------------------------------------------ */

void fz_mix(uint64_t v)
{
    fz_sink = (fz_sink ^ v) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
}

void fz_mix_double(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    fz_mix(u);
}

uint64_t fz_hash(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void fz_mix_str(psc_str s)
{
    if (s.len && !s.ptr)
        fz_broken("slice with NULL pointer and length %zu", s.len);
    fz_mix(s.len);
    if (s.len)
        fz_mix(fz_hash(s.ptr, s.len));
}

void fz_mix_cstr(const char *s, const char *what)
{
    if (!s)
        fz_broken("%s is NULL", what);
    fz_mix_str((psc_str){s, strlen(s)});
}

/* ---- output buffer --------------------------------------------------- */

int fz_buf_write(void *ctx, const char *data, size_t n)
{
    fz_buf *b = ctx;
    b->calls++;
    if (n == 0)
        fz_broken("write callback called with 0 bytes (write.h: never 0)");
    if (!data)
        fz_broken("write callback called with NULL data");
    if (b->fail_at && b->len + n >= b->fail_at)
        return -1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

void fz_buf_free(fz_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

bool fz_buf_eq(const fz_buf *a, const fz_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* ---- inputs ----------------------------------------------------------- */

uint64_t fz_count_lines(const char *buf, size_t len)
{
    uint64_t n = 1;
    const char *p = buf, *e = buf + len;
    while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t l = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!l || l > n)
        return 0;
    for (size_t i = 1; i < l; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] >= 0x90))
        return 0;
    return l;
}

bool fz_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(p + i, n - i);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

size_t fz_utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xc0) != 0x80;
    return count;
}

bool fz_legacy_name(psc_str s, bool metric)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (metric && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

void fz_opts(psc_parse_opts *o, psc_format f, bool tight)
{
    psc_parse_opts_init(o);
    o->format = f;
    if (tight) {
        o->flags = PSC_PARSE_ALLOW_CRLF | PSC_PARSE_ALLOW_BOM | PSC_PARSE_STRICT;
        o->max_line_bytes = 200;
        o->max_labels = 4;
        o->max_label_name_bytes = 12;
        o->max_label_value_bytes = 40;
        o->max_samples = 24;
    }
}

/* ---- positions -------------------------------------------------------- */

/* Start offset and length (without '\n') of 1-based line @p line; false
 * when the input has no such line. Linear; inputs are small. */
static bool line_span(const char *buf, size_t len, uint64_t line, size_t *start, size_t *n)
{
    size_t s = 0;
    for (uint64_t l = 1; l < line; l++) {
        const char *nl = s < len ? memchr(buf + s, '\n', len - s) : NULL;
        if (!nl)
            return false;
        s = (size_t)(nl - buf) + 1;
    }
    const char *nl = s < len ? memchr(buf + s, '\n', len - s) : NULL;
    *start = s;
    *n = nl ? (size_t)(nl - buf) - s : len - s;
    return true;
}

/* A line index for many lookups. */
typedef struct lines {
    size_t *start; /* start[i]: offset of line i+1 */
    size_t n;
    size_t len;
} lines;

static void lines_build(lines *li, const char *buf, size_t len)
{
    li->n = (size_t)fz_count_lines(buf, len);
    li->len = len;
    li->start = malloc(li->n * sizeof *li->start);
    if (!li->start)
        fz_broken("out of memory in the harness");
    size_t k = 0;
    li->start[k++] = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n')
            li->start[k++] = i + 1;
}

/* Length of line l (1-based, <= n) without its '\n'. */
static size_t lines_len(const lines *li, uint64_t l)
{
    size_t s = li->start[l - 1];
    size_t e = l < li->n ? li->start[l] - 1 : li->len;
    return e - s;
}

/* ---- entries ----------------------------------------------------------- */

static void check_column(uint64_t col, size_t line_len, const char *what, const psc_entry *e)
{
    if (col == 0 || col > (uint64_t)line_len + 1)
        fz_broken("%s column %" PRIu64 " outside line %" PRIu64 " of %zu bytes", what, col, e->line,
                  line_len);
}

static void check_nan(double v, const char *what)
{
    if (isnan(v)) {
        uint64_t u;
        memcpy(&u, &v, sizeof u);
        if (u != 0x7ff8000000000000ull)
            fz_broken("%s is a NaN with bits %016" PRIx64 ", not the canonical quiet NaN (BAD-INPUTS C8)",
                      what, u);
    }
}

static void check_label_str(psc_str s, const char *what, psc_format fmt, bool name, bool metric)
{
    fz_mix_str(s);
    if (!fz_utf8_valid(s.ptr, s.len))
        fz_broken("accepted %s is not valid UTF-8 (BAD-INPUTS A6)", what);
    if (name && fmt != PSC_FORMAT_TEXT_1_0_0 && !fz_legacy_name(s, metric))
        fz_broken("accepted %s '%.*s' is not a legal %s name in %s", what, (int)(s.len > 64 ? 64 : s.len),
                  s.ptr, metric ? "metric" : "label", psc_format_name(fmt));
    if (name && s.len == 0)
        fz_broken("accepted empty %s", what);
}

void fz_check_entry(const psc_entry *e, const char *buf, size_t len, psc_format fmt)
{
    size_t ls, ll;
    if (e->line == 0 || !line_span(buf, len, e->line, &ls, &ll))
        fz_broken("entry on line %" PRIu64 ", outside the input", e->line);
    if (e->offset != ls && !(e->line == 1 && e->offset == 3 && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0))
        fz_broken("entry offset %" PRIu64 " is not the start %zu of its line %" PRIu64, e->offset, ls, e->line);
    fz_mix(e->kind);
    fz_mix(e->offset);
    fz_mix(e->line);
    fz_mix_cstr(psc_entry_kind_name(e->kind), "psc_entry_kind_name");
    const bool om = fmt == PSC_FORMAT_OPENMETRICS_1_0;
    switch (e->kind) {
    case PSC_ENTRY_HELP:
    case PSC_ENTRY_TYPE:
    case PSC_ENTRY_UNIT:
        check_label_str(e->name, "metadata name", fmt, true, true);
        check_column(e->name_column, ll, "metadata name", e);
        fz_mix_str(e->text);
        if (!fz_utf8_valid(e->text.ptr, e->text.len))
            fz_broken("accepted metadata text is not valid UTF-8");
        if (e->kind == PSC_ENTRY_TYPE) {
            fz_mix(e->type);
            fz_mix_cstr(psc_metric_type_name(e->type), "psc_metric_type_name");
            if ((int)e->type < PSC_TYPE_UNTYPED || e->type > PSC_TYPE_UNKNOWN)
                fz_broken("TYPE entry with type %d", (int)e->type);
            if (om && e->type == PSC_TYPE_UNTYPED)
                fz_broken("OpenMetrics TYPE entry of type untyped (BAD-INPUTS B18)");
        }
        if (e->kind == PSC_ENTRY_UNIT && !om)
            fz_broken("UNIT entry in %s", psc_format_name(fmt));
        break;
    case PSC_ENTRY_COMMENT:
        if (om)
            fz_broken("COMMENT entry in OpenMetrics");
        fz_mix_str(e->text);
        break;
    case PSC_ENTRY_EOF:
        if (!om)
            fz_broken("EOF entry in %s", psc_format_name(fmt));
        break;
    case PSC_ENTRY_SAMPLE:
        check_label_str(e->name, "metric name", fmt, true, true);
        check_column(e->name_column, ll, "metric name", e);
        if (e->nlabels && (!e->labels || !e->label_columns))
            fz_broken("sample with %zu labels but no label array", e->nlabels);
        for (size_t i = 0; i < e->nlabels; i++) {
            check_label_str(e->labels[i].name, "label name", fmt, true, false);
            check_label_str(e->labels[i].value, "label value", fmt, false, false);
            check_column(e->label_columns[i], ll, "label", e);
            fz_mix(e->label_columns[i]);
            for (size_t j = 0; j < i; j++)
                if (psc_str_eq(e->labels[i].name, e->labels[j].name))
                    fz_broken("accepted sample with label '%.*s' twice (BAD-INPUTS D9)",
                              (int)(e->labels[i].name.len > 64 ? 64 : e->labels[i].name.len),
                              e->labels[i].name.ptr);
        }
        fz_mix(e->nlabels);
        fz_mix_double(e->value);
        check_nan(e->value, "sample value");
        check_column(e->value_column, ll, "value", e);
        fz_mix(e->has_timestamp);
        if (e->has_timestamp) {
            fz_mix_double(e->timestamp);
            fz_mix((uint64_t)e->timestamp_ms);
            fz_mix(e->timestamp_ms_exact);
            check_column(e->timestamp_column, ll, "timestamp", e);
            if (!isfinite(e->timestamp))
                fz_broken("accepted timestamp %g (BAD-INPUTS C13)", e->timestamp);
            if (!om && (!e->timestamp_ms_exact || e->timestamp != (double)e->timestamp_ms / 1000.0))
                fz_broken("text timestamp %" PRId64 " ms is not exact or not ms / 1000 (%.17g)",
                          e->timestamp_ms, e->timestamp);
        }
        fz_mix(e->has_exemplar);
        if (e->has_exemplar) {
            if (!om)
                fz_broken("exemplar in %s", psc_format_name(fmt));
            const psc_exemplar *x = &e->exemplar;
            check_column(e->exemplar_column, ll, "exemplar", e);
            if (x->nlabels && !x->labels)
                fz_broken("exemplar with %zu labels but no array", x->nlabels);
            size_t cps = 0;
            for (size_t i = 0; i < x->nlabels; i++) {
                check_label_str(x->labels[i].name, "exemplar label name", fmt, true, false);
                check_label_str(x->labels[i].value, "exemplar label value", fmt, false, false);
                cps += fz_utf8_count(x->labels[i].name.ptr, x->labels[i].name.len) +
                       fz_utf8_count(x->labels[i].value.ptr, x->labels[i].value.len);
            }
            if (cps > 128)
                fz_broken("accepted exemplar label set of %zu code points (limit 128, BAD-INPUTS D13)", cps);
            fz_mix_double(x->value);
            check_nan(x->value, "exemplar value");
            fz_mix(x->has_timestamp);
            if (x->has_timestamp) {
                fz_mix_double(x->timestamp);
                if (!isfinite(x->timestamp))
                    fz_broken("accepted exemplar timestamp %g (BAD-INPUTS D13)", x->timestamp);
            }
        }
        break;
    default:
        fz_broken("entry of unknown kind %d", (int)e->kind);
    }
}

/* ---- diagnostics ------------------------------------------------------- */

static bool known_code(const char *rule)
{
    for (int c = 0; c < PSC_C__COUNT; c++)
        if (strcmp(psc_code_name((psc_code)c), rule) == 0)
            return true;
    return false;
}

static void check_text(const char *s, const char *what)
{
    fz_mix_cstr(s, what);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            fz_broken("%s contains control byte 0x%02x: '%s' (BAD-INPUTS H1)", what, *p, s);
}

void fz_check_diags(const psc_diag_list *l, const char *buf, size_t len)
{
    size_t errors = 0, warnings = 0;
    lines li = {0};
    if (buf)
        lines_build(&li, buf, len);
    if (l->count && !l->items)
        fz_broken("diagnostics list of %zu without items", l->count);
    for (size_t i = 0; i < l->count; i++) {
        const psc_diag *d = &l->items[i];
        fz_mix(d->severity);
        if (d->severity != PSC_SEV_INFO && d->severity != PSC_SEV_WARNING && d->severity != PSC_SEV_ERROR)
            fz_broken("diagnostic of severity %d", (int)d->severity);
        errors += d->severity == PSC_SEV_ERROR;
        warnings += d->severity == PSC_SEV_WARNING;
        fz_mix_cstr(psc_severity_name(d->severity), "psc_severity_name");
        fz_mix_cstr(d->rule, "diagnostic rule");
        check_text(d->message, "diagnostic message");
        if (!d->message[0])
            fz_broken("empty diagnostic message [%s]", d->rule);
        check_text(d->metric, "diagnostic metric");
        fz_mix(d->offset);
        fz_mix(d->line);
        fz_mix(d->column);
        if (!buf)
            continue;
        psc_lint_rule r;
        bool lint = psc_lint_rule_lookup((psc_str){d->rule, strlen(d->rule)}, &r);
        if (!lint && !known_code(d->rule))
            fz_broken("diagnostic rule '%s' is neither an error id nor a lint rule", d->rule);
        if (d->offset > len)
            fz_broken("diagnostic offset %" PRIu64 " past the end (%zu bytes): %s [%s]", d->offset, len,
                      d->message, d->rule);
        if (d->line > li.n)
            fz_broken("diagnostic line %" PRIu64 " past the last line %zu: %s [%s]", d->line, li.n,
                      d->message, d->rule);
        if (d->line == 0) {
            if (d->column != 0)
                fz_broken("diagnostic with column %" PRIu64 " but no line: %s [%s]", d->column, d->message,
                          d->rule);
            continue;
        }
        size_t ll = lines_len(&li, d->line);
        if (d->column > (uint64_t)ll + 1)
            fz_broken("diagnostic column %" PRIu64 " past the end of line %" PRIu64 " (%zu bytes): %s [%s]",
                      d->column, d->line, ll, d->message, d->rule);
        if (d->column && d->offset != li.start[d->line - 1] + d->column - 1)
            fz_broken("diagnostic at %" PRIu64 ":%" PRIu64 " has offset %" PRIu64 ", expected %zu: %s [%s]",
                      d->line, d->column, d->offset, li.start[d->line - 1] + (size_t)d->column - 1,
                      d->message, d->rule);
    }
    free(li.start);
    if (l->dropped == 0 && (errors != l->nerrors || warnings != l->nwarnings))
        fz_broken("diagnostics list counts %zu errors and %zu warnings, its items %zu and %zu", l->nerrors,
                  l->nwarnings, errors, warnings);
    if (l->dropped && (l->nerrors < errors || l->nwarnings < warnings))
        fz_broken("diagnostics list with dropped items counts fewer errors than it holds");
}

bool fz_diags_equal(const psc_diag_list *a, const psc_diag_list *b, char why[256])
{
    if (a->count != b->count || a->nerrors != b->nerrors || a->nwarnings != b->nwarnings ||
        a->dropped != b->dropped) {
        snprintf(why, 256, "%zu findings (%zu errors) against %zu (%zu errors)", a->count, a->nerrors, b->count,
                 b->nerrors);
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        const psc_diag *x = &a->items[i], *y = &b->items[i];
        if (x->severity != y->severity || strcmp(x->rule, y->rule) != 0 || x->line != y->line ||
            x->column != y->column || x->offset != y->offset || strcmp(x->message, y->message) != 0 ||
            strcmp(x->metric, y->metric) != 0) {
            snprintf(why, 256, "finding %zu: %" PRIu64 ":%" PRIu64 " %s [%s] against %" PRIu64 ":%" PRIu64 " %s [%s]",
                     i, x->line, x->column, x->message, x->rule, y->line, y->column, y->message, y->rule);
            return false;
        }
    }
    return true;
}

void fz_dump_diags(const psc_diag_list *l, size_t max)
{
    for (size_t i = 0; i < l->count && i < max; i++)
        fprintf(stderr, "  %" PRIu64 ":%" PRIu64 ": %s: %s [%s]\n", l->items[i].line, l->items[i].column,
                psc_severity_name(l->items[i].severity), l->items[i].message, l->items[i].rule);
}

/* ---- the pull loop ------------------------------------------------------ */

void fz_pull(const char *buf, size_t len, const psc_parse_opts *opts, fz_pull_result *out,
             psc_diag_list *diags)
{
    memset(out, 0, sizeof *out);
    psc_parser *p = psc_parser_new(opts);
    if (!p) {
        out->nomem = true;
        return;
    }
    psc_parser_reset(p, buf, len);
    psc_format fmt = psc_parser_format(p);
    out->format = fmt;
    if (fmt == PSC_FORMAT_AUTO)
        fz_broken("psc_parser_reset left the format AUTO");
    if (opts->format != PSC_FORMAT_AUTO && fmt != opts->format)
        fz_broken("psc_parser_reset changed the format %s to %s", psc_format_name(opts->format),
                  psc_format_name(fmt));
    psc_diag_list own;
    psc_diag_list_init(&own);
    psc_diag_list *dl = diags ? diags : &own;
    psc_validator *v = psc_validator_new(fmt, opts, dl);
    if (!v) {
        psc_parser_free(p);
        out->nomem = true;
        return;
    }
    uint64_t nlines = fz_count_lines(buf, len), max_calls = nlines + 2, calls = 0, last_line = 0;
    for (;;) {
        if (++calls > max_calls)
            fz_broken("psc_parser_next makes no progress (%" PRIu64 " calls for %" PRIu64 " lines)", calls,
                      nlines);
        psc_entry e;
        psc_error err;
        psc_error_clear(&err);
        psc_status st = psc_parser_next(p, &e, &err);
        if (st == PSC_DONE)
            break;
        if (st == PSC_E_NOMEM) {
            out->nomem = true;
            break;
        }
        if (st == PSC_OK) {
            if (out->saw_eof)
                fz_broken("entry on line %" PRIu64 " after # EOF", e.line);
            fz_check_entry(&e, buf, len, fmt);
            if (e.line <= last_line)
                fz_broken("entry on line %" PRIu64 " after line %" PRIu64, e.line, last_line);
            last_line = e.line;
            out->entries++;
            out->samples += e.kind == PSC_ENTRY_SAMPLE;
            out->saw_eof |= e.kind == PSC_ENTRY_EOF;
            if (psc_validator_feed(v, &e) != PSC_OK) {
                out->nomem = true;
                break;
            }
            continue;
        }
        /* parse.h lists SYNTAX, UTF8 and LIMIT; a reserved label name
         * (`__name__` in braces) comes as SEMANTIC, common.h's status for
         * "grammar ok, but a rule of the data model broken". */
        if (st != PSC_E_SYNTAX && st != PSC_E_UTF8 && st != PSC_E_LIMIT && st != PSC_E_SEMANTIC)
            fz_broken("psc_parser_next returned %s", psc_status_name(st));
        if (err.status != st)
            fz_broken("parser error status %s, returned %s", psc_status_name(err.status), psc_status_name(st));
        if (!memchr(err.message, '\0', sizeof err.message) || !err.message[0])
            fz_broken("parser error without a message");
        check_text(err.message, "parser error message");
        if (err.code <= PSC_C_NONE || err.code >= PSC_C__COUNT)
            fz_broken("parser error with code %d", err.code);
        size_t ls, ll;
        if (err.line == 0 || err.column == 0 || !line_span(buf, len, err.line, &ls, &ll))
            fz_broken("parser error at %" PRIu64 ":%" PRIu64 ", outside the input: %s", err.line, err.column,
                      err.message);
        if (err.column > (uint64_t)ll + 1 || err.offset != ls + err.column - 1)
            fz_broken("parser error at %" PRIu64 ":%" PRIu64 " offset %" PRIu64 " (line of %zu bytes at %zu): %s",
                      err.line, err.column, err.offset, ll, ls, err.message);
        /* Errors go by lines, like entries. The errors that end the input
         * may share the line of the entry or error before them: the sample
         * limit, a line over the limit (reported after a grammar error
         * found before the limit), a missing # EOF at the last line. */
        bool ends = err.code == PSC_C_SAMPLE_LIMIT || err.code == PSC_C_LINE_TOO_LONG ||
                    err.code == PSC_C_MISSING_EOF;
        if (err.line < last_line || (err.line == last_line && !ends))
            fz_broken("parser error on line %" PRIu64 " after line %" PRIu64 ": %s", err.line, last_line,
                      err.message);
        last_line = err.line;
        out->parse_errors++;
        if (psc_validator_parse_error(v, &err) != PSC_OK) {
            out->nomem = true;
            break;
        }
    }
    const psc_diag_list *w = psc_parser_warnings(p);
    if (!w)
        fz_broken("psc_parser_warnings returned NULL");
    fz_check_diags(w, buf, len);
    if (!out->nomem) {
        size_t last_nl = 0;
        for (size_t i = len; i > 0; i--)
            if (buf[i - 1] == '\n') {
                last_nl = i;
                break;
            }
        if (psc_validator_finish(v, len, nlines, len - last_nl + 1) != PSC_OK)
            out->nomem = true;
    }
    fz_check_diags(dl, buf, len);
    out->errors = out->parse_errors + dl->nerrors + w->nerrors;
    psc_validator_free(v);
    psc_diag_list_release(&own);
    psc_parser_free(p);
}

/* ---- streamed validation ------------------------------------------------- */

struct piece_reader {
    const char *b;
    size_t len, pos, max;
    uint64_t seed;
};

static long piece_read(void *ctx, char *buf, size_t cap, psc_error *err)
{
    struct piece_reader *r = ctx;
    (void)err;
    if (cap == 0)
        fz_broken("psc_validate_stream asked for 0 bytes");
    r->seed = r->seed * 6364136223846793005ull + 1442695040888963407ull;
    size_t n = 1 + (size_t)((r->seed >> 33) % r->max);
    if (n > r->len - r->pos)
        n = r->len - r->pos;
    if (n > cap)
        n = cap;
    memcpy(buf, r->b + r->pos, n);
    r->pos += n;
    return (long)n;
}

psc_status fz_validate_stream(const char *buf, size_t len, const psc_parse_opts *opts, size_t max_piece,
                              uint64_t seed, psc_diag_list *diags)
{
    struct piece_reader r = {buf, len, 0, max_piece ? max_piece : 1, seed};
    /* small internal chunks cross the chunk boundary code on small inputs */
    psc_test_set_stream_chunk(16 + (size_t)(seed % 200));
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_validate_stream(piece_read, &r, opts, diags, &err);
    psc_test_set_stream_chunk(0);
    /* the sample limit and an over-long line stop reading (the input may
     * be endless); after # EOF the rest is read and dropped */
    bool limit = false;
    for (size_t i = 0; i < diags->count; i++)
        limit |= strcmp(diags->items[i].rule, psc_code_name(PSC_C_SAMPLE_LIMIT)) == 0 ||
                 strcmp(diags->items[i].rule, psc_code_name(PSC_C_LINE_TOO_LONG)) == 0;
    if ((st == PSC_OK || st == PSC_E_SYNTAX) && !limit) {
        if (r.pos != len)
            fz_broken("psc_validate_stream stopped reading at %zu of %zu bytes without a limit", r.pos, len);
    }
    return st;
}

psc_status fz_model_parse_stream(const char *buf, size_t len, const psc_parse_opts *opts, size_t max_piece,
                                 uint64_t seed, psc_model **out, psc_diag_list *diags)
{
    struct piece_reader r = {buf, len, 0, max_piece ? max_piece : 1, seed};
    psc_test_set_stream_chunk(16 + (size_t)(seed % 200));
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_model_parse_stream(piece_read, &r, opts, out, diags, &err);
    psc_test_set_stream_chunk(0);
    if (st == PSC_E_IO)
        fz_broken("psc_model_parse_stream reports a read error the reader never gave: %s", err.message);
    return st;
}

/* ---- models ------------------------------------------------------------- */

/* Most labels of a series a lookup is tried with (opts: 256 by default). */
#define FZ_MAX_LABELS 300

static bool is_bound_label(psc_sample_kind k, psc_str name)
{
    return (k == PSC_SAMPLE_BUCKET && name.len == 2 && memcmp(name.ptr, "le", 2) == 0) ||
           (k == PSC_SAMPLE_QUANTILE && name.len == 8 && memcmp(name.ptr, "quantile", 8) == 0);
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void check_exemplar(const psc_exemplar *x)
{
    fz_mix(x->nlabels);
    for (size_t i = 0; i < x->nlabels; i++) {
        fz_mix_str(x->labels[i].name);
        fz_mix_str(x->labels[i].value);
    }
    fz_mix_double(x->value);
    fz_mix(x->has_timestamp);
    fz_mix_double(x->timestamp);
}

/* The documented meaning of timestamp_ms_exact: the text of timestamp_ms /
 * 1000 reads back as `timestamp`. */
static bool ms_text_reads_back(int64_t ms, double ts)
{
    char t[40];
    uint64_t u = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    int n = snprintf(t, sizeof t, "%s%" PRIu64 ".%03" PRIu64, ms < 0 ? "-" : "", u / 1000, u % 1000);
    double back;
    if (psc_parse_double(t, (size_t)n, &back) != PSC_OK)
        return false;
    return back == ts;
}

void fz_check_model(const psc_model *m, const char *buf, size_t len, bool valid)
{
    psc_format fmt = psc_model_format(m);
    fz_mix(fmt);
    if (fmt == PSC_FORMAT_AUTO)
        fz_broken("model of format AUTO");
    uint64_t nlines = buf ? fz_count_lines(buf, len) : UINT64_MAX;
    size_t nf = psc_model_family_count(m), total = 0;
    fz_mix(nf);
    if (psc_model_family(m, nf) != NULL)
        fz_broken("psc_model_family(count) is not NULL");
    uint64_t last_family_line = 0;
    for (size_t i = 0; i < nf; i++) {
        const psc_family *f = psc_model_family(m, i);
        if (!f)
            fz_broken("psc_model_family(%zu) of %zu is NULL", i, nf);
        fz_mix_str(f->name);
        fz_mix(f->type);
        fz_mix_cstr(psc_metric_type_name(f->type), "psc_metric_type_name");
        fz_mix(f->has_type);
        fz_mix(f->has_help);
        fz_mix(f->has_unit);
        fz_mix_str(f->help);
        fz_mix_str(f->unit);
        fz_mix(f->line);
        fz_mix(f->nmetrics);
        fz_mix(f->nseries);
        if (f->line == 0 || f->line > nlines)
            fz_broken("family '%.*s' on line %" PRIu64 " of %" PRIu64, (int)f->name.len, f->name.ptr, f->line,
                      nlines);
        if (f->line < last_family_line)
            fz_broken("family '%.*s' (line %" PRIu64 ") after a family of line %" PRIu64 ": not in input order",
                      (int)f->name.len, f->name.ptr, f->line, last_family_line);
        last_family_line = f->line;
        if (fmt == PSC_FORMAT_OPENMETRICS_1_0 && f->type == PSC_TYPE_UNTYPED)
            fz_broken("OpenMetrics family of type untyped");
        if (fmt != PSC_FORMAT_OPENMETRICS_1_0 && f->has_unit)
            fz_broken("text family with a unit");
        const psc_family *ff = psc_model_find_family(m, f->name);
        if (!ff || !psc_str_eq(ff->name, f->name))
            fz_broken("psc_model_find_family does not find family '%.*s'", (int)f->name.len, f->name.ptr);
        if (f->nmetrics && !f->metrics)
            fz_broken("family with %zu metrics but no array", f->nmetrics);
        size_t series = 0;
        for (size_t j = 0; j < f->nmetrics; j++) {
            const psc_metric *mt = &f->metrics[j];
            fz_mix(mt->nlabels);
            fz_mix(mt->nsamples);
            fz_mix(mt->line);
            for (size_t k = 0; k < mt->nlabels; k++) {
                fz_mix_str(mt->labels[k].name);
                fz_mix_str(mt->labels[k].value);
            }
            if (mt->nsamples == 0 || !mt->samples)
                fz_broken("metric %zu of '%.*s' has no samples", j, (int)f->name.len, f->name.ptr);
            /* In a model with errors the first sample may have been left
             * out for a finding reported at the end of the metric; the
             * metric keeps that sample's line. */
            if (valid ? mt->line != mt->samples[0].line : mt->line > mt->samples[0].line)
                fz_broken("metric line %" PRIu64 " is not the line %" PRIu64 " of its first sample", mt->line,
                          mt->samples[0].line);
            if (mt->line < f->line)
                fz_broken("metric on line %" PRIu64 " before its family's line %" PRIu64, mt->line, f->line);
            series += mt->nsamples;
            for (size_t k = 0; k < mt->nsamples; k++) {
                const psc_sample *s = &mt->samples[k];
                fz_mix_str(s->name);
                fz_mix(s->kind);
                fz_mix_cstr(psc_sample_kind_name(s->kind), "psc_sample_kind_name");
                fz_mix(s->nlabels);
                fz_mix_double(s->value);
                fz_mix_double(s->bound);
                fz_mix(s->has_timestamp);
                fz_mix_double(s->timestamp);
                fz_mix((uint64_t)s->timestamp_ms);
                fz_mix(s->timestamp_ms_exact);
                fz_mix(s->line);
                if (s->line == 0 || s->line > nlines)
                    fz_broken("sample on line %" PRIu64 " of %" PRIu64, s->line, nlines);
                check_nan(s->value, "model sample value");
                if (k && s->line <= mt->samples[k - 1].line && !s->has_timestamp)
                    fz_broken("samples of a metric out of input order (lines %" PRIu64 ", %" PRIu64 ")",
                              mt->samples[k - 1].line, s->line);
                psc_sample_kind kind;
                if (!psc_sample_in_family(fmt, f->type, f->name, s->name, &kind) || kind != s->kind)
                    fz_broken("sample '%.*s' (%s) in %s family '%.*s' does not belong there by "
                              "psc_sample_in_family",
                              (int)s->name.len, s->name.ptr, psc_sample_kind_name(s->kind),
                              psc_metric_type_name(f->type), (int)f->name.len, f->name.ptr);
                /* the metric's labels are the sample's but le/quantile, which
                 * is apart (bound_text), in any order */
                if (s->nlabels != mt->nlabels || (s->nlabels && !s->labels))
                    fz_broken("sample '%.*s' (line %" PRIu64 ") has %u labels, its metric %zu", (int)s->name.len,
                              s->name.ptr, s->line, (unsigned)s->nlabels, mt->nlabels);
                for (size_t q = 0; q < s->nlabels; q++) {
                    fz_mix_str(s->labels[q].name);
                    fz_mix_str(s->labels[q].value);
                    psc_str got = psc_labels_get(s->labels, s->nlabels, s->labels[q].name);
                    if (got.ptr != s->labels[q].value.ptr || got.len != s->labels[q].value.len)
                        fz_broken("psc_labels_get does not return the value of label '%.*s'",
                                  (int)s->labels[q].name.len, s->labels[q].name.ptr);
                    psc_str inm = psc_labels_get(mt->labels, mt->nlabels, s->labels[q].name);
                    if (!inm.ptr || !psc_str_eq(inm, s->labels[q].value))
                        fz_broken("label '%.*s' of sample '%.*s' (line %" PRIu64 ") is not its metric's",
                                  (int)s->labels[q].name.len, s->labels[q].name.ptr, (int)s->name.len, s->name.ptr,
                                  s->line);
                    if (is_bound_label((psc_sample_kind)s->kind, s->labels[q].name))
                        fz_broken("bound label among the labels of a %s sample", psc_sample_kind_name(s->kind));
                }
                psc_label bl = psc_sample_bound_label(s);
                fz_mix_str(s->bound_text);
                bool has_bound = s->kind == PSC_SAMPLE_BUCKET || s->kind == PSC_SAMPLE_QUANTILE;
                if (has_bound) {
                    double b;
                    if (!s->bound_text.ptr || !is_bound_label((psc_sample_kind)s->kind, bl.name) ||
                        bl.value.ptr != s->bound_text.ptr || bl.value.len != s->bound_text.len)
                        fz_broken("%s sample (line %" PRIu64 ") without its bound label", psc_sample_kind_name(s->kind),
                                  s->line);
                    if (psc_parse_double(s->bound_text.ptr, s->bound_text.len, &b) != PSC_OK || !same_double(b, s->bound))
                        fz_broken("sample bound %.17g is not its label value '%.*s'", s->bound,
                                  (int)s->bound_text.len, s->bound_text.ptr);
                } else {
                    if (s->bound_text.ptr || bl.name.ptr || bl.value.ptr)
                        fz_broken("%s sample with a bound label", psc_sample_kind_name(s->kind));
                    if (!isnan(s->bound))
                        fz_broken("%s sample with bound %g", psc_sample_kind_name(s->kind), s->bound);
                }
                psc_label full[FZ_MAX_LABELS + 1];
                size_t nfull = psc_sample_labels(s, full, FZ_MAX_LABELS + 1);
                if (nfull != s->nlabels + has_bound)
                    fz_broken("psc_sample_labels gives %zu labels for %u + %d", nfull, (unsigned)s->nlabels, has_bound);
                if (nfull > FZ_MAX_LABELS + 1)
                    nfull = FZ_MAX_LABELS + 1;
                for (size_t q = 0; q < nfull; q++) {
                    const psc_label *want = q < s->nlabels ? &s->labels[q] : &bl;
                    if (!psc_str_eq(full[q].name, want->name) || !psc_str_eq(full[q].value, want->value))
                        fz_broken("psc_sample_labels: label %zu is not the sample's", q);
                }
                if (s->has_timestamp && s->timestamp_ms_exact && !ms_text_reads_back(s->timestamp_ms, s->timestamp))
                    fz_broken("timestamp_ms %" PRId64 " marked exact but its text is not timestamp %.17g",
                              s->timestamp_ms, s->timestamp);
                if (s->has_timestamp && fmt != PSC_FORMAT_OPENMETRICS_1_0 && !s->timestamp_ms_exact)
                    fz_broken("text sample timestamp not exact");
                if (s->exemplar) {
                    if (fmt != PSC_FORMAT_OPENMETRICS_1_0)
                        fz_broken("exemplar in a text model");
                    check_exemplar(s->exemplar);
                }
                const psc_family *sf = NULL;
                const psc_sample *found =
                    nfull <= FZ_MAX_LABELS ? psc_model_find_series(m, s->name, full, nfull, &sf) : s;
                if (!found)
                    fz_broken("psc_model_find_series does not find '%.*s' of line %" PRIu64, (int)s->name.len,
                              s->name.ptr, s->line);
                if (found != s && (!psc_str_eq(found->name, s->name) || found->nlabels != s->nlabels ||
                                   found->line > s->line))
                    fz_broken("psc_model_find_series finds line %" PRIu64 " for the series of line %" PRIu64,
                              found->line, s->line);
                if (found == s && sf != f && nfull <= FZ_MAX_LABELS)
                    fz_broken("psc_model_find_series gives another family for '%.*s'", (int)s->name.len,
                              s->name.ptr);
                fz_mix(found->line);
            }
        }
        if (series != f->nseries)
            fz_broken("family '%.*s' counts %zu series, its metrics hold %zu", (int)f->name.len, f->name.ptr,
                      f->nseries, series);
        total += series;
    }
    if (total != psc_model_series_count(m))
        fz_broken("psc_model_series_count %zu, families hold %zu", psc_model_series_count(m), total);
}

static char g_why[1024];

#define DIFF(...) (snprintf(g_why, sizeof g_why, __VA_ARGS__), (const char *)g_why)
#define S(x) (int)((x).len > 80 ? 80 : (x).len), (x).ptr

static bool untyped(psc_metric_type t)
{
    return t == PSC_TYPE_UNTYPED || t == PSC_TYPE_UNKNOWN;
}

static bool label_eq(psc_sample_kind k, const psc_label *a, const psc_label *b)
{
    if (!psc_str_eq(a->name, b->name))
        return false;
    if (is_bound_label(k, a->name)) {
        double x, y;
        return psc_parse_double(a->value.ptr, a->value.len, &x) == PSC_OK &&
               psc_parse_double(b->value.ptr, b->value.len, &y) == PSC_OK && same_double(x, y);
    }
    return psc_str_eq(a->value, b->value);
}

static bool present(bool has, psc_str s)
{
    return has && s.len > 0;
}

const char *fz_model_diff_strict(const psc_model *a, const psc_model *b, unsigned flags)
{
    bool exemplars = flags & FZ_CMP_EXEMPLARS, by_line = flags & FZ_CMP_LINES;
    if (psc_model_format(a) != psc_model_format(b) && by_line)
        return DIFF("format %s against %s", psc_format_name(psc_model_format(a)), psc_format_name(psc_model_format(b)));
    size_t na = psc_model_family_count(a), nb = psc_model_family_count(b);
    if (na != nb)
        return DIFF("%zu families against %zu", na, nb);
    for (size_t i = 0; i < na; i++) {
        const psc_family *x = psc_model_family(a, i), *y = psc_model_family(b, i);
        if (!psc_str_eq(x->name, y->name))
            return DIFF("family %zu is '%.*s' against '%.*s'", i, S(x->name), S(y->name));
        if (x->type != y->type || (!untyped(x->type) && x->has_type != y->has_type))
            return DIFF("family '%.*s' is %s against %s", S(x->name), psc_metric_type_name(x->type),
                        psc_metric_type_name(y->type));
        if (present(x->has_help, x->help) != present(y->has_help, y->help) ||
            (present(x->has_help, x->help) && !psc_str_eq(x->help, y->help)))
            return DIFF("family '%.*s' has HELP '%.*s' against '%.*s'", S(x->name), S(x->help), S(y->help));
        if (present(x->has_unit, x->unit) != present(y->has_unit, y->unit) ||
            (present(x->has_unit, x->unit) && !psc_str_eq(x->unit, y->unit)))
            return DIFF("family '%.*s' has UNIT '%.*s' against '%.*s'", S(x->name), S(x->unit), S(y->unit));
        if (x->nmetrics != y->nmetrics || x->nseries != y->nseries)
            return DIFF("family '%.*s' has %zu metrics, %zu series against %zu, %zu", S(x->name), x->nmetrics,
                        x->nseries, y->nmetrics, y->nseries);
        if (by_line && x->line != y->line)
            return DIFF("family '%.*s' on line %" PRIu64 " against %" PRIu64, S(x->name), x->line, y->line);
        for (size_t j = 0; j < x->nmetrics; j++) {
            const psc_metric *p = &x->metrics[j], *q = &y->metrics[j];
            if (by_line && p->line != q->line)
                return DIFF("metric %zu of '%.*s' on line %" PRIu64 " against %" PRIu64, j, S(x->name), p->line,
                            q->line);
            if (p->nlabels != q->nlabels || p->nsamples != q->nsamples)
                return DIFF("metric %zu of '%.*s' has %zu labels and %zu samples against %zu and %zu", j,
                            S(x->name), p->nlabels, p->nsamples, q->nlabels, q->nsamples);
            for (size_t k = 0; k < p->nlabels; k++)
                if (!label_eq(PSC_SAMPLE_VALUE, &p->labels[k], &q->labels[k]))
                    return DIFF("metric %zu of '%.*s': label %.*s=\"%.*s\" against %.*s=\"%.*s\"", j, S(x->name),
                                S(p->labels[k].name), S(p->labels[k].value), S(q->labels[k].name),
                                S(q->labels[k].value));
            for (size_t k = 0; k < p->nsamples; k++) {
                const psc_sample *s = &p->samples[k], *t = &q->samples[k];
                if (!psc_str_eq(s->name, t->name) || s->kind != t->kind || s->nlabels != t->nlabels)
                    return DIFF("sample '%.*s' (%s, line %" PRIu64 ") against '%.*s' (%s)", S(s->name),
                                psc_sample_kind_name(s->kind), s->line, S(t->name), psc_sample_kind_name(t->kind));
                if (by_line && (s->line != t->line || !psc_str_eq(s->bound_text, t->bound_text)))
                    return DIFF("sample '%.*s' on line %" PRIu64 " against %" PRIu64 " (bound text '%.*s', '%.*s')",
                                S(s->name), s->line, t->line, S(s->bound_text), S(t->bound_text));
                if (!s->bound_text.ptr != !t->bound_text.ptr)
                    return DIFF("sample '%.*s' (line %" PRIu64 ") has a bound label in one model only", S(s->name),
                                s->line);
                for (size_t l = 0; l < s->nlabels; l++)
                    if (!label_eq(PSC_SAMPLE_VALUE, &s->labels[l], &t->labels[l]))
                        return DIFF("sample '%.*s' (line %" PRIu64 "): label %.*s=\"%.*s\" against %.*s=\"%.*s\"",
                                    S(s->name), s->line, S(s->labels[l].name), S(s->labels[l].value),
                                    S(t->labels[l].name), S(t->labels[l].value));
                if (!same_double(s->value, t->value) || !same_double(s->bound, t->bound))
                    return DIFF("sample '%.*s' (line %" PRIu64 ") value %.17g bound %.17g against %.17g, %.17g",
                                S(s->name), s->line, s->value, s->bound, t->value, t->bound);
                if (s->has_timestamp != t->has_timestamp ||
                    (s->has_timestamp && !same_double(s->timestamp, t->timestamp)))
                    return DIFF("sample '%.*s' (line %" PRIu64 ") timestamp %d %.17g against %d %.17g", S(s->name),
                                s->line, s->has_timestamp, s->timestamp, t->has_timestamp, t->timestamp);
                if (s->has_timestamp && s->timestamp_ms_exact && t->timestamp_ms_exact &&
                    s->timestamp_ms != t->timestamp_ms)
                    return DIFF("sample '%.*s' (line %" PRIu64 ") timestamp_ms %" PRId64 " against %" PRId64,
                                S(s->name), s->line, s->timestamp_ms, t->timestamp_ms);
                if (!exemplars)
                    continue;
                const psc_exemplar *e = s->exemplar, *g = t->exemplar;
                if (!e != !g)
                    return DIFF("sample '%.*s' (line %" PRIu64 ") exemplar %s against %s", S(s->name), s->line,
                                e ? "present" : "absent", g ? "present" : "absent");
                if (!e)
                    continue;
                if (e->nlabels != g->nlabels || !same_double(e->value, g->value) ||
                    e->has_timestamp != g->has_timestamp || (e->has_timestamp && !same_double(e->timestamp, g->timestamp)))
                    return DIFF("sample '%.*s' (line %" PRIu64 ") exemplar differs", S(s->name), s->line);
                for (size_t l = 0; l < e->nlabels; l++)
                    if (!label_eq(PSC_SAMPLE_VALUE, &e->labels[l], &g->labels[l]))
                        return DIFF("sample '%.*s' (line %" PRIu64 ") exemplar label differs", S(s->name), s->line);
            }
        }
    }
    return NULL;
}

/* ---- comparison across formats ------------------------------------------ */

/* A series record: a key of bytes (class, name, sorted labels, value,
 * timestamp) and the sample it came from. */
typedef struct rec {
    char *key;
    size_t len;
    const psc_sample *s;
    const psc_family *f;
} rec;

typedef struct recs {
    rec *r;
    size_t n, cap;
} recs;

static void kput(fz_buf *k, const void *p, size_t n)
{
    if (n && fz_buf_write(k, p, n) != 0)
        fz_broken("out of memory in the harness");
}

static void kput_str(fz_buf *k, const char *p, size_t n)
{
    uint64_t l = n;
    kput(k, &l, sizeof l);
    kput(k, p, n);
}

static bool ends_with(psc_str s, const char *suf)
{
    size_t n = strlen(suf);
    return s.len >= n && memcmp(s.ptr + s.len - n, suf, n) == 0;
}

/* The class of a sample after the type mapping of docs/convert.md. */
static char sample_class(const psc_family *f, const psc_sample *s)
{
    if (s->kind == PSC_SAMPLE_CREATED)
        return 'X';
    switch (f->type) {
    case PSC_TYPE_COUNTER: return 'C';
    case PSC_TYPE_HISTOGRAM: return 'H';
    case PSC_TYPE_SUMMARY: return 'S';
    case PSC_TYPE_GAUGE:
    case PSC_TYPE_UNTYPED:
    case PSC_TYPE_UNKNOWN:
        if (ends_with(s->name, "_created"))
            return 'X';
        return f->type == PSC_TYPE_GAUGE ? 'G' : 'U';
    case PSC_TYPE_INFO:
    case PSC_TYPE_STATESET:
    case PSC_TYPE_GAUGEHISTOGRAM:
        return 'G';
    }
    return '?';
}

static int label_name_cmp(const void *x, const void *y)
{
    const psc_label *a = *(const psc_label *const *)x, *b = *(const psc_label *const *)y;
    size_t n = a->name.len < b->name.len ? a->name.len : b->name.len;
    int c = n ? memcmp(a->name.ptr, b->name.ptr, n) : 0;
    return c ? c : (a->name.len < b->name.len ? -1 : a->name.len > b->name.len);
}

static void add_records(recs *out, const psc_model *m)
{
    size_t nf = psc_model_family_count(m);
    for (size_t i = 0; i < nf; i++) {
        const psc_family *f = psc_model_family(m, i);
        for (size_t j = 0; j < f->nmetrics; j++)
            for (size_t k = 0; k < f->metrics[j].nsamples; k++) {
                const psc_sample *s = &f->metrics[j].samples[k];
                fz_buf key = {0};
                char cls = sample_class(f, s);
                kput(&key, &cls, 1);
                psc_str name = s->name;
                if (cls == 'C' && ends_with(name, "_total"))
                    name.len -= 6;
                kput_str(&key, name.ptr, name.len);
                size_t nl = psc_sample_labels(s, NULL, 0);
                psc_label *all = malloc((nl + 1) * sizeof *all);
                const psc_label **ls = malloc((nl + 1) * sizeof *ls);
                if (!all || !ls)
                    fz_broken("out of memory in the harness");
                psc_sample_labels(s, all, nl);
                for (size_t l = 0; l < nl; l++)
                    ls[l] = &all[l];
                if (nl > 1)
                    qsort(ls, nl, sizeof *ls, label_name_cmp);
                for (size_t l = 0; l < nl; l++) {
                    kput_str(&key, ls[l]->name.ptr, ls[l]->name.len);
                    double b;
                    char t[32];
                    bool num = (ls[l]->name.len == 2 && memcmp(ls[l]->name.ptr, "le", 2) == 0) ||
                               (ls[l]->name.len == 8 && memcmp(ls[l]->name.ptr, "quantile", 8) == 0);
                    if (num && psc_parse_double(ls[l]->value.ptr, ls[l]->value.len, &b) == PSC_OK)
                        kput_str(&key, t, psc_format_double(b, t));
                    else
                        kput_str(&key, ls[l]->value.ptr, ls[l]->value.len);
                }
                free(ls);
                free(all);
                double v = isnan(s->value) ? NAN : s->value;
                kput(&key, &v, sizeof v);
                uint8_t ts = s->has_timestamp;
                kput(&key, &ts, 1);
                /* milliseconds where a double holds every one of them,
                 * else the seconds (both formats keep that double) */
                if (s->has_timestamp) {
                    if (s->timestamp_ms_exact && s->timestamp_ms > -(INT64_C(1) << 53) &&
                        s->timestamp_ms < (INT64_C(1) << 53))
                        kput(&key, &s->timestamp_ms, sizeof s->timestamp_ms);
                    else
                        kput(&key, &s->timestamp, sizeof s->timestamp);
                }
                if (out->n == out->cap) {
                    out->cap = out->cap ? out->cap * 2 : 64;
                    rec *nr = realloc(out->r, out->cap * sizeof *nr);
                    if (!nr)
                        fz_broken("out of memory in the harness");
                    out->r = nr;
                }
                out->r[out->n++] = (rec){key.p, key.len, s, f};
            }
    }
}

static int rec_cmp(const void *x, const void *y)
{
    const rec *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->key, b->key, n) : 0;
    return c ? c : (a->len < b->len ? -1 : a->len > b->len);
}

static void recs_free(recs *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->r[i].key);
    free(r->r);
}

const char *fz_model_diff_series(const psc_model *a, const psc_model *b)
{
    recs x = {0}, y = {0};
    add_records(&x, a);
    add_records(&y, b);
    if (x.n > 1)
        qsort(x.r, x.n, sizeof *x.r, rec_cmp);
    if (y.n > 1)
        qsort(y.r, y.n, sizeof *y.r, rec_cmp);
    const char *why = NULL;
    size_t i = 0;
    for (; i < x.n && i < y.n; i++)
        if (rec_cmp(&x.r[i], &y.r[i]) != 0)
            break;
    if (i < x.n || i < y.n) {
        if (i < x.n && i < y.n)
            why = DIFF("%zu against %zu series; first difference: '%.*s' of %s '%.*s' (line %" PRIu64
                       ", value %.17g) against '%.*s' of %s '%.*s' (line %" PRIu64 ", value %.17g)",
                       x.n, y.n, S(x.r[i].s->name), psc_metric_type_name(x.r[i].f->type), S(x.r[i].f->name),
                       x.r[i].s->line, x.r[i].s->value, S(y.r[i].s->name), psc_metric_type_name(y.r[i].f->type),
                       S(y.r[i].f->name), y.r[i].s->line, y.r[i].s->value);
        else if (i < x.n)
            why = DIFF("%zu against %zu series; '%.*s' (line %" PRIu64 ") only in the first", x.n, y.n,
                       S(x.r[i].s->name), x.r[i].s->line);
        else
            why = DIFF("%zu against %zu series; '%.*s' (line %" PRIu64 ") only in the second", x.n, y.n,
                       S(y.r[i].s->name), y.r[i].s->line);
    }
    recs_free(&x);
    recs_free(&y);
    return why;
}

psc_status fz_write(const psc_model *m, psc_out_format f, fz_buf *out, psc_error *err)
{
    fz_buf_free(out);
    psc_error_clear(err);
    psc_status st = psc_model_write(m, f, fz_buf_write, out, err);
    if (st == PSC_E_UNSUPPORTED && out->len)
        fz_broken("psc_model_write wrote %zu bytes before returning not-expressible (write.h: nothing is "
                  "written)", out->len);
    if (st != PSC_OK && st != PSC_E_NOMEM && st != PSC_E_UNSUPPORTED && st != PSC_E_IO)
        fz_broken("psc_model_write (%s) returned %s: %s", psc_out_format_name(f), psc_status_name(st),
                  err->message);
    if (st != PSC_OK && (err->status != st || !err->message[0]))
        fz_broken("psc_model_write returned %s, its error says %s '%s'", psc_status_name(st),
                  psc_status_name(err->status), err->message);
    if (st == PSC_E_UNSUPPORTED && err->code != PSC_C_NOT_EXPRESSIBLE)
        fz_broken("psc_model_write not-expressible with code %s", psc_code_name((psc_code)err->code));
    return st;
}

/* ---- the replayer ------------------------------------------------------ */

#ifndef PSC_LIBFUZZER
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int read_file(const char *path, uint8_t **out, size_t *outlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        if (n == cap) {
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    int bad = !b || ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return -1;
    }
    /* an exact-size copy, so that reads past the end show under ASan */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(b);
        return -1;
    }
    if (n)
        memcpy(exact, b, n);
    free(b);
    *out = exact;
    *outlen = n;
    return 0;
}

/* Run one input in a child process: a crash or a broken property is
 * reported with the input's name, and the other inputs still run.
 * Returns 0 passed, 1 failed, -1 unreadable. */
static int replay_file(const char *path, double *slowest, const char **slowest_name)
{
    uint8_t *b;
    size_t n;
    if (read_file(path, &b, &n) != 0) {
        fprintf(stderr, "fuzz_%s: cannot read '%s'\n", fz_target, path);
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        free(b);
        fprintf(stderr, "fuzz_%s: fork failed\n", fz_target);
        return -1;
    }
    if (pid == 0) {
        LLVMFuzzerTestOneInput(b, n);
        free(b);
        exit(0); /* not _exit: LeakSanitizer checks at exit */
    }
    free(b);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "fuzz_%s: waitpid failed\n", fz_target);
            return -1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (s > *slowest) {
        *slowest = s;
        *slowest_name = path;
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

/* Usage: fuzz_TARGET FILE|DIR... -- every file named, and every file of a
 * folder named (one level, sorted, README.md and dot files skipped). */
int main(int argc, char **argv)
{
    size_t files = 0, failed = 0;
    int rc = 0;
    double slowest = 0;
    const char *slowest_name = "";
    char *slowest_copy = NULL;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz_%s: no such file or folder '%s'\n", fz_target, argv[i]);
            rc = 1;
            continue;
        }
        char **paths = NULL;
        size_t count = 0, cap = 0;
        if (!S_ISDIR(st.st_mode)) {
            paths = malloc(sizeof *paths);
            if (!paths || !(paths[0] = strdup(argv[i])))
                return 1;
            count = 1;
        } else {
            DIR *d = opendir(argv[i]);
            if (!d) {
                rc = 1;
                continue;
            }
            struct dirent *de;
            while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0)
                    continue;
                if (count == cap) {
                    cap = cap ? cap * 2 : 256;
                    char **np = realloc(paths, cap * sizeof *np);
                    if (!np)
                        return 1;
                    paths = np;
                }
                size_t pl = strlen(argv[i]) + strlen(de->d_name) + 2;
                if (!(paths[count] = malloc(pl)))
                    return 1;
                snprintf(paths[count++], pl, "%s/%s", argv[i], de->d_name);
            }
            closedir(d);
            if (count)
                qsort(paths, count, sizeof *paths, cmp_str);
        }
        for (size_t k = 0; k < count; k++) {
            struct stat fs;
            if (stat(paths[k], &fs) == 0 && S_ISDIR(fs.st_mode)) {
                free(paths[k]);
                continue;
            }
            int r = replay_file(paths[k], &slowest, &slowest_name);
            if (r != 0)
                rc = 1;
            failed += r > 0;
            files++;
            if (slowest_name == paths[k]) {
                free(slowest_copy);
                slowest_copy = paths[k];
                slowest_name = slowest_copy;
            } else {
                free(paths[k]);
            }
        }
        free(paths);
    }
    printf("fuzz_%s: replayed %zu inputs, %zu failed; slowest %.3f s (%s)\n", fz_target, files, failed, slowest,
           slowest_name);
    free(slowest_copy);
    if (files == 0) {
        fprintf(stderr, "fuzz_%s: no inputs to replay\n", fz_target);
        return 1;
    }
    return rc;
}
#endif
