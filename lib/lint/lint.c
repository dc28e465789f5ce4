/*
 * The lint engine (promscope/lint.h): runs the rule groups over a model,
 * converts parser and validator findings, and places findings on the input
 * (line and byte column).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint/internal.h"
#include "util/alloc.h"

/* ---- messages ---- */

static bool build_lines(lint_ctx *c);

void lint_emit(lint_ctx *c, psc_lint_rule r, psc_str metric, uint64_t line, uint64_t col,
               const char *fmt, ...)
{
    if (c->st != PSC_OK || !c->o->enabled[r])
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a column points into the line: without the input there is none
     * (lint.h: column 0, "whole line") */
    if (!c->buf && !c->line_fn)
        col = 0;
    uint64_t offset = 0;
    if (line && c->buf && build_lines(c) && line <= c->nlines)
        offset = c->line_starts[line - 1] + (col ? col - 1 : 0);
    psc_status st = psc_diag_add(c->out, c->o->severity[r], psc_lint_rule_name(r), metric, offset,
                                 line, col, "%s", msg);
    if (st != PSC_OK)
        c->st = st;
}

const char *lint_q(lint_ctx *c, int slot, psc_str s)
{
    psc_buf *b = &c->esc[slot & 3];
    b->len = 0;
    if (psc_buf_append_escaped(b, s.ptr ? s.ptr : "", s.len, 120) || psc_buf_putc(b, '\0')) {
        c->st = PSC_E_NOMEM;
        return "";
    }
    return b->data;
}

static const char *series_text(lint_ctx *c, psc_str name, const psc_label *labels, size_t n,
                               psc_label bound);

const char *lint_series(lint_ctx *c, const psc_sample *s)
{
    return series_text(c, s->name, s->labels, s->nlabels, psc_sample_bound_label(s));
}

const char *lint_num(double v, char out[32])
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    snprintf(out, 32, "%.15g", v);
    return out;
}

/* name{labels...,bound} for messages, with long parts cut; bound.name NULL
 * for none. */
static const char *series_text(lint_ctx *c, psc_str name, const psc_label *labels, size_t n,
                               psc_label bound)
{
    psc_buf *b = &c->series;
    b->len = 0;
    int e = psc_buf_append_escaped(b, name.ptr ? name.ptr : "", name.len, 120);
    size_t total = n + (bound.name.ptr ? 1 : 0);
    if (total) {
        e |= psc_buf_putc(b, '{');
        for (size_t i = 0; i < total && !e; i++) {
            if (b->len > 300) {
                e |= psc_buf_append(b, "...", 3);
                break;
            }
            const psc_label *l = i < n ? &labels[i] : &bound;
            if (i)
                e |= psc_buf_putc(b, ',');
            e |= psc_buf_append_escaped(b, l->name.ptr, l->name.len, 60);
            e |= psc_buf_append(b, "=\"", 2);
            e |= psc_buf_append_escaped(b, l->value.ptr, l->value.len, 60);
            e |= psc_buf_putc(b, '"');
        }
        e |= psc_buf_putc(b, '}');
    }
    e |= psc_buf_putc(b, '\0');
    if (e) {
        c->st = PSC_E_NOMEM;
        return "";
    }
    return b->data;
}

const char *lint_series_of(lint_ctx *c, psc_str name, const psc_label *labels, size_t n)
{
    return series_text(c, name, labels, n, (psc_label){PSC_STR_NULL, PSC_STR_NULL});
}

bool lint_has_suffix(psc_str s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && memcmp(s.ptr + s.len - n, suffix, n) == 0;
}

/* ---- columns ---- */

static bool build_lines(lint_ctx *c)
{
    if (c->lines_tried)
        return c->line_starts != NULL;
    c->lines_tried = true;
    if (!c->buf)
        return false;
    size_t n = 1;
    const char *end = c->buf + c->len;
    for (const char *p = c->buf; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        n++;
    c->line_starts = psc_malloc(n * sizeof *c->line_starts);
    if (!c->line_starts)
        return false; /* columns are optional: findings then carry column 0 */
    size_t i = 0;
    c->line_starts[i++] = 0;
    for (const char *p = c->buf; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        c->line_starts[i++] = (size_t)(p - c->buf) + 1;
    c->nlines = i;
    return true;
}

/* The bytes of line `line` (1-based) without its '\n'. */
static bool get_line(lint_ctx *c, uint64_t line, const char **p, size_t *n)
{
    if (c->line_fn)
        return line && c->line_fn(c->line_ctx, line, p, n);
    if (!line || !build_lines(c) || line > c->nlines)
        return false;
    size_t start = c->line_starts[line - 1];
    size_t end = line < c->nlines ? c->line_starts[line] - 1 : c->len;
    if (end > start && c->buf[end - 1] == '\r')
        end--;
    *p = c->buf + start;
    *n = end - start;
    return true;
}

uint64_t lint_col_name(lint_ctx *c, uint64_t line)
{
    const char *p;
    size_t n;
    if (!get_line(c, line, &p, &n))
        return 0;
    if (n >= 2 && p[0] == '#' && p[1] == ' ') {
        /* "# HELP name ..." / "# TYPE name ..." / "# UNIT name ..." */
        size_t i = 2;
        while (i < n && p[i] != ' ')
            i++;
        return i + 1 < n ? i + 2 : 1;
    }
    if (n && p[0] == '{')
        return 2;
    return 1;
}

static size_t skip_quoted(const char *p, size_t n, size_t i)
{
    /* p[i] == '"'; returns the index after the closing quote (or n) */
    for (i++; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return n;
}

static bool is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == ':';
}

/* Walk the label block of a sample line; calls visit(name span) for each
 * label name. Returns the index just after the label block (or after the
 * metric name when there is none). */
static size_t walk_labels(const char *p, size_t n, psc_str want, size_t *found)
{
    size_t i = 0;
    if (n && p[0] != '{') {
        while (i < n && p[i] != '{' && p[i] != ' ' && p[i] != '\t')
            i++;
    }
    if (i >= n || p[i] != '{')
        return i;
    i++;
    while (i < n && p[i] != '}') {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
            i++;
        if (i >= n || p[i] == '}')
            break;
        size_t start = i, nstart, nend;
        if (p[i] == '"') {
            nstart = i + 1;
            i = skip_quoted(p, n, i);
            nend = i > nstart ? i - 1 : nstart;
        } else {
            nstart = i;
            while (i < n && is_name_char(p[i]))
                i++;
            nend = i;
            if (i == start)
                i++; /* not a name: step over it */
        }
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        bool is_label = i < n && p[i] == '=';
        if (is_label) {
            i++;
            while (i < n && (p[i] == ' ' || p[i] == '\t'))
                i++;
            if (i < n && p[i] == '"')
                i = skip_quoted(p, n, i);
        }
        if (is_label && found && !*found && nend - nstart == want.len &&
            memcmp(p + nstart, want.ptr, want.len) == 0)
            *found = start + 1;
    }
    return i < n ? i + 1 : n;
}

uint64_t lint_col_label(lint_ctx *c, uint64_t line, psc_str label)
{
    const char *p;
    size_t n;
    if (!get_line(c, line, &p, &n))
        return 0;
    size_t found = 0;
    walk_labels(p, n, label, &found);
    return found ? found : 1;
}

uint64_t lint_col_value(lint_ctx *c, uint64_t line)
{
    const char *p;
    size_t n;
    if (!get_line(c, line, &p, &n))
        return 0;
    size_t i = walk_labels(p, n, PSC_STR_NULL, NULL);
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < n ? i + 1 : 1;
}

/* ---- running ---- */

static void ctx_release(lint_ctx *c)
{
    psc_free(c->line_starts);
    psc_free(c->ignored);
    for (int i = 0; i < 4; i++)
        psc_buf_release(&c->esc[i]);
    psc_buf_release(&c->series);
}

static psc_status lint_run(const psc_model *m, const char *buf, size_t len, psc_line_fn line_fn,
                           void *line_ctx, const psc_lint_opts *opts, psc_diag_list *out);

psc_status psc_lint_model(const psc_model *m, const char *buf, size_t len,
                          const psc_lint_opts *opts, psc_diag_list *out)
{
    return lint_run(m, buf, len, NULL, NULL, opts, out);
}

static psc_status lint_run(const psc_model *m, const char *buf, size_t len, psc_line_fn line_fn,
                           void *line_ctx, const psc_lint_opts *opts, psc_diag_list *out)
{
    psc_lint_opts defaults;
    if (!opts) {
        psc_lint_opts_init(&defaults);
        opts = &defaults;
    }
    lint_ctx c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.o = opts;
    c.out = out;
    c.fmt = psc_model_format(m);
    c.buf = buf;
    c.len = buf ? len : 0;
    c.line_fn = line_fn;
    c.line_ctx = line_ctx;
    c.st = PSC_OK;

    size_t nf = psc_model_family_count(m);
    c.ignored = psc_calloc(nf ? nf : 1, sizeof *c.ignored);
    if (!c.ignored)
        return PSC_E_NOMEM;
    if (opts->ignore) {
        for (size_t i = 0; i < nf; i++) {
            const psc_family *f = psc_model_family(m, i);
            c.ignored[i] = opts->ignore(opts->ignore_ctx, f->name.ptr ? f->name.ptr : "", f->name.len);
        }
    }
    for (size_t i = 0; i < nf && c.st == PSC_OK; i++) {
        if (c.ignored[i])
            continue;
        const psc_family *f = psc_model_family(m, i);
        lint_naming(&c, f);
        lint_consistency(&c, f);
    }
    if (c.st == PSC_OK)
        lint_escaping(&c);
    if (c.st == PSC_OK)
        lint_cardinality(&c);
    psc_status st = c.st;
    ctx_release(&c);
    return st;
}

/* Validator findings that belong to a lint rule other than `parse`. */
static psc_lint_rule rule_of_finding(const psc_diag *d)
{
    const char *code = d->rule ? d->rule : "";
    /* a bucket bound or quantile written twice ("1" and "1.0") is reported by
     * the validator as a duplicate series; lint files it with the histogram
     * and summary rules, where users look for it */
    if (strcmp(code, psc_code_name(PSC_C_DUPLICATE_SERIES)) == 0 && d->message) {
        if (strncmp(d->message, "bucket le=", 10) == 0)
            return PSC_LINT_HISTOGRAM_CONSISTENCY;
        if (strncmp(d->message, "quantile=", 9) == 0)
            return PSC_LINT_SUMMARY_CONSISTENCY;
    }
    static const struct {
        psc_code code;
        psc_lint_rule rule;
    } map[] = {
        {PSC_C_DUPLICATE_SERIES, PSC_LINT_DUPLICATE_SERIES},
        {PSC_C_HISTOGRAM_MISSING_INF, PSC_LINT_HISTOGRAM_CONSISTENCY},
        {PSC_C_HISTOGRAM_BUCKET_ORDER, PSC_LINT_HISTOGRAM_CONSISTENCY},
        {PSC_C_HISTOGRAM_NOT_CUMULATIVE, PSC_LINT_HISTOGRAM_CONSISTENCY},
        {PSC_C_HISTOGRAM_COUNT_MISMATCH, PSC_LINT_HISTOGRAM_CONSISTENCY},
        {PSC_C_SUMMARY_QUANTILE_ORDER, PSC_LINT_SUMMARY_CONSISTENCY},
        {PSC_C_INFO_INVALID, PSC_LINT_INFO_VALUE},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(code, psc_code_name(map[i].code)) == 0)
            return map[i].rule;
    return PSC_LINT_PARSE;
}

psc_status psc_lint_parse_findings(const psc_diag_list *in, const psc_lint_opts *opts,
                                   psc_diag_list *out)
{
    psc_lint_opts defaults;
    if (!opts) {
        psc_lint_opts_init(&defaults);
        opts = &defaults;
    }
    for (size_t i = 0; i < in->count; i++) {
        const psc_diag *d = &in->items[i];
        psc_lint_rule r = rule_of_finding(d);
        if (!opts->enabled[r])
            continue;
        psc_str metric = {d->metric ? d->metric : "", d->metric ? strlen(d->metric) : 0};
        if (r != PSC_LINT_PARSE && opts->ignore && metric.len &&
            opts->ignore(opts->ignore_ctx, metric.ptr, metric.len))
            continue;
        psc_severity sev = d->severity;
        if (r != PSC_LINT_PARSE || sev == PSC_SEV_ERROR)
            sev = opts->severity[r];
        psc_status st;
        if (r == PSC_LINT_PARSE)
            st = psc_diag_add(out, sev, psc_lint_rule_name(r), metric, d->offset, d->line, d->column,
                              "%s (%s)", d->message, d->rule ? d->rule : "unknown");
        else
            st = psc_diag_add(out, sev, psc_lint_rule_name(r), metric, d->offset, d->line, d->column,
                              "%s", d->message);
        if (st != PSC_OK)
            return st;
    }
    if (in->dropped) {
        psc_status st = psc_diag_add(out, PSC_SEV_ERROR, psc_lint_rule_name(PSC_LINT_PARSE),
                                     PSC_STR_NULL, 0, 0, 0,
                                     "%zu more format findings not recorded", in->dropped);
        if (st != PSC_OK)
            return st;
    }
    return PSC_OK;
}

/* Drop findings of the model pass that repeat a converted validator finding
 * (same rule, same line): the validator's wording wins. */
static void dedupe(psc_diag_list *out, size_t conv_begin, size_t conv_end)
{
    size_t w = conv_end;
    for (size_t i = conv_end; i < out->count; i++) {
        psc_diag *d = &out->items[i];
        bool dup = false;
        bool mappable = strcmp(d->rule, "duplicate-series") == 0 ||
                        strcmp(d->rule, "histogram-consistency") == 0 ||
                        strcmp(d->rule, "summary-consistency") == 0 || strcmp(d->rule, "info-value") == 0;
        for (size_t k = conv_begin; k < conv_end && mappable && !dup; k++) {
            const psc_diag *v = &out->items[k];
            dup = v->line == d->line && strcmp(v->rule, d->rule) == 0 &&
                  strcmp(v->rule, "parse") != 0;
        }
        if (dup) {
            if (d->severity == PSC_SEV_ERROR)
                out->nerrors--;
            else if (d->severity == PSC_SEV_WARNING)
                out->nwarnings--;
            psc_free(d->metric);
            psc_free(d->message);
        } else {
            out->items[w++] = *d;
        }
    }
    out->count = w;
}

/* psc_lint_buffer and psc_lint_stream once the model is built (or not). */
static psc_status lint_built(psc_model *m, psc_status st, psc_diag_list *pd, const char *buf,
                             size_t len, psc_line_fn line_fn, void *line_ctx,
                             const psc_lint_opts *opts, psc_diag_list *out)
{
    if (!m) {
        psc_diag_list_release(pd);
        return st == PSC_OK || st == PSC_E_SYNTAX ? PSC_E_NOMEM : st;
    }
    size_t begin = out->count;
    st = psc_lint_parse_findings(pd, opts, out);
    psc_diag_list_release(pd);
    size_t end = out->count;
    if (st == PSC_OK)
        st = lint_run(m, buf, len, line_fn, line_ctx, opts, out);
    psc_model_free(m);
    if (st != PSC_OK)
        return st;
    if (end > begin)
        dedupe(out, begin, end);
    psc_diag_list_sort(out);
    return PSC_OK;
}

psc_status psc_lint_buffer(const char *buf, size_t len, const psc_parse_opts *popts,
                           const psc_lint_opts *opts, psc_diag_list *out)
{
    psc_diag_list pd;
    psc_diag_list_init(&pd);
    psc_model *m = NULL;
    psc_status st = psc_model_parse(buf, len, popts, &m, &pd);
    return lint_built(m, st, &pd, buf, len, NULL, NULL, opts, out);
}

psc_status psc_lint_stream(psc_read_fn rd, void *rd_ctx, psc_line_fn line_fn, void *line_ctx,
                           const psc_parse_opts *popts, const psc_lint_opts *opts,
                           psc_diag_list *out, psc_error *err)
{
    psc_diag_list pd;
    psc_diag_list_init(&pd);
    psc_model *m = NULL;
    psc_status st = psc_model_parse_stream(rd, rd_ctx, popts, &m, &pd, err);
    if (st == PSC_E_IO) {
        psc_diag_list_release(&pd);
        return st;
    }
    return lint_built(m, st, &pd, NULL, 0, line_fn, line_ctx, opts, out);
}
