/*
 * promscope diff: what changed between two snapshots of an exposition -
 * families, metadata, label names, bucket layouts, series and values, with
 * counter rates and resets, and percentiles of the histogram observations
 * made in between (docs/diff.md). The comparison is library code
 * (promscope/diff.h); this file loads the inputs and prints the result.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "netopts.h"
#include "parse_opts.h"
#include "promscope/diff.h"

static const char diff_options[] =
    "  --output FORMAT       text (default) or json\n"
    "  --only WHAT           report and count only these differences: families, metadata,\n"
    "                        series or values (comma-separated or repeated)\n"
    "  --ignore-label L      drop label L before matching series (repeatable)\n"
    "  --ignore-metric RE    leave out families and series whose name matches the POSIX\n"
    "                        extended regular expression RE, anchored (repeatable)\n"
    "  --interval D          time between the snapshots (e.g. 15s) for per-second rates of\n"
    "                        samples without timestamps\n"
    "  --after D             scrape the one URL given, wait D, scrape it again, and compare\n"
    "  --quantiles LIST      percentiles of the histogram observations made between the\n"
    "                        snapshots, e.g. 0.5,0.9,0.99\n"
    "  --min-change X        report a value change only when |new - old| >= X, or, as X%,\n"
    "                        >= X percent of |old| (resets are always reported)\n"
    "  --format F            input format: auto (default), text, text-0.0.4, text-1.0.0 or\n"
    "                        openmetrics\n"
    PARSE_LIMIT_OPTIONS_HELP
    "  -h, --help            show this help\n"
    NET_OPTIONS_HELP;

enum {
    ONLY_FAMILIES = 1u << 0,
    ONLY_METADATA = 1u << 1,
    ONLY_SERIES = 1u << 2,
    ONLY_VALUES = 1u << 3,
    ONLY_ALL = 0xf,
};

enum interval_source { IV_NONE, IV_OPTION, IV_MEASURED };

struct diff_run {
    const psc_diff *d;
    const char *old_source, *new_source;
    unsigned only;
    enum interval_source iv_source;
    double interval;
    const double *quantiles;
    size_t nquantiles;
    bool color;
};

/* ------------------------------------------------------------------ */
/* numbers */

/* Shortest decimal text that reads back exactly as v, as every promscope
 * output prints sample values (psc_format_double: "10", "0.25", "1e-05",
 * "1.23456789e+09", "NaN", "+Inf"). */
static void fmt_value(double v, char buf[40])
{
    psc_format_double(v, buf);
}

/* A difference, rounded to 15 significant digits to hide the float noise
 * of new - old (0.3 - 0.1), with an explicit sign. */
static double round15(double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.15g", v);
    return strtod(b, NULL);
}

static void fmt_delta(double v, char buf[40])
{
    char b[40];
    fmt_value(round15(v), b);
    if (isnan(v) || b[0] == '-' || b[0] == '+')
        snprintf(buf, 40, "%s", b);
    else
        snprintf(buf, 40, "+%.38s", b);
}

static void fmt_rate(double v, char buf[40])
{
    if (!isfinite(v))
        fmt_value(v, buf);
    else if (fabs(v) >= 1000)
        snprintf(buf, 40, "%.0f", v);
    else
        snprintf(buf, 40, "%.4g", v);
}

static void fmt_seconds(double s, char buf[40])
{
    snprintf(buf, 40, "%.4gs", s);
}

/* ------------------------------------------------------------------ */
/* text output */

static const char *col(const struct diff_run *r, const char *code)
{
    return r->color ? code : "";
}
#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"

/* Write a label value or help text as an exposition would quote it
 * (\\ \" \n), with control characters made visible (BAD-INPUTS H1). */
static void put_quoted(FILE *f, psc_str s)
{
    fputc('"', f);
    size_t start = 0;
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.ptr[i];
        if (ch == '\\' || ch == '"' || ch == '\n') {
            cli_print_escaped(f, s.ptr + start, i - start);
            fputs(ch == '\\' ? "\\\\" : ch == '"' ? "\\\"" : "\\n", f);
            start = i + 1;
        }
    }
    cli_print_escaped(f, s.ptr + start, s.len - start);
    fputc('"', f);
}

static void put_labels(FILE *f, const psc_label *l, size_t n)
{
    if (!n)
        return;
    fputc('{', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        cli_print_escaped(f, l[i].name.ptr, l[i].name.len);
        fputc('=', f);
        put_quoted(f, l[i].value);
    }
    fputc('}', f);
}

/* The series as text (name{labels}) in a malloc'ed string; its display
 * width (UTF-8 code points) in *width. NULL when out of memory. */
static char *series_text(psc_str name, const psc_label *l, size_t n, size_t *width)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    cli_print_escaped(f, name.ptr, name.len);
    put_labels(f, l, n);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    size_t w = 0;
    for (size_t i = 0; i < len; i++)
        w += ((unsigned char)buf[i] & 0xc0) != 0x80;
    *width = w;
    return buf;
}

static bool kind_selected(unsigned only, psc_diff_kind k)
{
    switch (k) {
    case PSC_DIFF_FAMILY_ADDED:
    case PSC_DIFF_FAMILY_REMOVED:
        return only & ONLY_FAMILIES;
    case PSC_DIFF_METADATA_CHANGED:
        return only & ONLY_METADATA;
    case PSC_DIFF_LABELS_CHANGED:
    case PSC_DIFF_BUCKETS_CHANGED:
    case PSC_DIFF_SERIES_ADDED:
    case PSC_DIFF_SERIES_REMOVED:
        return only & ONLY_SERIES;
    case PSC_DIFF_VALUE_CHANGED:
        return only & ONLY_VALUES;
    }
    return false;
}

struct summary {
    size_t fam_added, fam_removed, fam_changed;
    size_t metadata, labels, buckets;
    size_t series_added, series_removed;
    size_t values, resets;
    size_t total;
};

static void summarize(const struct diff_run *r, struct summary *s)
{
    memset(s, 0, sizeof *s);
    size_t nf = psc_diff_family_count(r->d);
    for (size_t i = 0; i < nf; i++) {
        const psc_diff_family *f = psc_diff_family_at(r->d, i);
        bool any = false;
        for (size_t j = f->first_change; j < f->first_change + f->nchanges; j++) {
            const psc_diff_change *c = psc_diff_change_at(r->d, j);
            if (!kind_selected(r->only, c->kind))
                continue;
            any = true;
            s->total++;
            switch (c->kind) {
            case PSC_DIFF_FAMILY_ADDED: s->fam_added++; break;
            case PSC_DIFF_FAMILY_REMOVED: s->fam_removed++; break;
            case PSC_DIFF_METADATA_CHANGED: s->metadata++; break;
            case PSC_DIFF_LABELS_CHANGED: s->labels++; break;
            case PSC_DIFF_BUCKETS_CHANGED: s->buckets++; break;
            case PSC_DIFF_SERIES_ADDED: s->series_added++; break;
            case PSC_DIFF_SERIES_REMOVED: s->series_removed++; break;
            case PSC_DIFF_VALUE_CHANGED:
                s->values++;
                s->resets += c->reset;
                break;
            }
        }
        if (any && f->in_old && f->in_new)
            s->fam_changed++;
    }
}

/* Column widths of a family's series lines. */
struct widths {
    size_t series, old, new_, delta, rate;
};

static void widen(size_t *w, size_t n)
{
    if (n > *w)
        *w = n;
}

static void print_bounds(FILE *f, char sign, const double *b, size_t n)
{
    char buf[40];
    for (size_t i = 0; i < n; i++) {
        fmt_value(b[i], buf);
        fprintf(f, " %c%s", sign, buf);
    }
}

static int print_family_text(FILE *f, const struct diff_run *r, const psc_diff_family *fam)
{
    const psc_diff *d = r->d;
    size_t first = fam->first_change, end = fam->first_change + fam->nchanges;
    bool any = false;
    for (size_t j = first; j < end; j++)
        any |= kind_selected(r->only, psc_diff_change_at(d, j)->kind);
    if (!any)
        return 0;

    if (!fam->in_old || !fam->in_new) {
        bool added = fam->in_new;
        fprintf(f, "%s%s%c ", col(r, C_BOLD), col(r, added ? C_GREEN : C_RED), added ? '+' : '-');
        cli_print_escaped(f, fam->name.ptr, fam->name.len);
        size_t n = added ? fam->new_series : fam->old_series;
        fprintf(f, "%s (%s, %zu series)\n", col(r, C_RESET),
                psc_metric_type_name(added ? fam->new_type : fam->old_type), n);
        return 0;
    }

    fprintf(f, "%s%s~ ", col(r, C_BOLD), col(r, C_YELLOW));
    cli_print_escaped(f, fam->name.ptr, fam->name.len);
    fprintf(f, "%s (%s)\n", col(r, C_RESET), psc_metric_type_name(fam->new_type));

    /* widths of the series lines */
    struct widths w = {0, 0, 0, 0, 0};
    for (size_t j = first; j < end; j++) {
        const psc_diff_change *c = psc_diff_change_at(d, j);
        if (!kind_selected(r->only, c->kind))
            continue;
        char buf[40];
        size_t sw;
        switch (c->kind) {
        case PSC_DIFF_SERIES_ADDED:
        case PSC_DIFF_SERIES_REMOVED:
        case PSC_DIFF_VALUE_CHANGED: {
            char *t = series_text(c->name, c->labels, c->nlabels, &sw);
            if (!t)
                return -1;
            free(t);
            widen(&w.series, sw > 100 ? 0 : sw);
            if (c->kind != PSC_DIFF_SERIES_ADDED) {
                fmt_value(c->old_value, buf);
                widen(&w.old, strlen(buf));
            }
            if (c->kind != PSC_DIFF_SERIES_REMOVED) {
                fmt_value(c->new_value, buf);
                widen(&w.new_, strlen(buf));
            }
            if (c->kind == PSC_DIFF_VALUE_CHANGED) {
                fmt_delta(c->delta, buf);
                widen(&w.delta, strlen(buf));
                if (c->has_rate) {
                    fmt_rate(c->rate, buf);
                    widen(&w.rate, strlen(buf) + 2);
                }
            }
            break;
        }
        default:
            break;
        }
    }

    for (size_t j = first; j < end; j++) {
        const psc_diff_change *c = psc_diff_change_at(d, j);
        if (!kind_selected(r->only, c->kind))
            continue;
        char a[40], b[40];
        switch (c->kind) {
        case PSC_DIFF_METADATA_CHANGED: {
            fprintf(f, "    %s~ %s%s ", col(r, C_YELLOW), c->field == PSC_DIFF_FIELD_TYPE ? "TYPE"
                                                        : c->field == PSC_DIFF_FIELD_HELP ? "HELP"
                                                                                          : "UNIT",
                    col(r, C_RESET));
            bool quote = c->field != PSC_DIFF_FIELD_TYPE;
            if (!c->has_old_text)
                fputs("(none)", f);
            else if (quote)
                put_quoted(f, c->old_text);
            else
                cli_print_escaped(f, c->old_text.ptr, c->old_text.len);
            fputs(" -> ", f);
            if (!c->has_new_text)
                fputs("(none)", f);
            else if (quote)
                put_quoted(f, c->new_text);
            else
                cli_print_escaped(f, c->new_text.ptr, c->new_text.len);
            fputc('\n', f);
            break;
        }
        case PSC_DIFF_LABELS_CHANGED:
            fprintf(f, "    %s~ label names%s", col(r, C_YELLOW), col(r, C_RESET));
            for (size_t i = 0; i < c->nnames_added; i++) {
                fputs(" +", f);
                cli_print_escaped(f, c->names_added[i].ptr, c->names_added[i].len);
            }
            for (size_t i = 0; i < c->nnames_removed; i++) {
                fputs(" -", f);
                cli_print_escaped(f, c->names_removed[i].ptr, c->names_removed[i].len);
            }
            fputc('\n', f);
            break;
        case PSC_DIFF_BUCKETS_CHANGED:
            fprintf(f, "    %s~ %s%s", col(r, C_YELLOW), c->quantiles ? "quantiles" : "buckets",
                    col(r, C_RESET));
            if (c->nmetrics == 1)
                put_labels(f, c->labels, c->nlabels);
            print_bounds(f, '+', c->bounds_added, c->nbounds_added);
            print_bounds(f, '-', c->bounds_removed, c->nbounds_removed);
            if (c->nmetrics > 1)
                fprintf(f, " (%zu label sets)", c->nmetrics);
            fputc('\n', f);
            break;
        case PSC_DIFF_SERIES_ADDED:
        case PSC_DIFF_SERIES_REMOVED:
        case PSC_DIFF_VALUE_CHANGED: {
            const char *colour = c->kind == PSC_DIFF_SERIES_ADDED     ? C_GREEN
                                 : c->kind == PSC_DIFF_SERIES_REMOVED ? C_RED
                                                                      : C_YELLOW;
            char marker = c->kind == PSC_DIFF_SERIES_ADDED     ? '+'
                          : c->kind == PSC_DIFF_SERIES_REMOVED ? '-'
                                                               : '~';
            size_t sw;
            char *t = series_text(c->name, c->labels, c->nlabels, &sw);
            if (!t)
                return -1;
            fprintf(f, "    %s%c %s%s", col(r, colour), marker, t, col(r, C_RESET));
            free(t);
            for (size_t p = sw; p < w.series; p++)
                fputc(' ', f);
            if (c->kind == PSC_DIFF_SERIES_REMOVED) {
                fmt_value(c->old_value, a);
                fprintf(f, "  %*s\n", (int)w.old, a);
                break;
            }
            if (c->kind == PSC_DIFF_SERIES_ADDED) {
                fmt_value(c->new_value, b);
                fprintf(f, "  %*s    %*s\n", (int)w.old, "", (int)w.new_, b);
                break;
            }
            fmt_value(c->old_value, a);
            fmt_value(c->new_value, b);
            fprintf(f, "  %*s -> %*s", (int)w.old, a, (int)w.new_, b);
            fmt_delta(c->delta, a);
            fprintf(f, "  %*s", (int)w.delta, a);
            if (c->has_rate) {
                fmt_rate(c->rate, a);
                strcat(a, "/s");
                fprintf(f, "  %*s", (int)w.rate, a);
            } else if (w.rate && c->reset) {
                fprintf(f, "  %*s", (int)w.rate, "");
            }
            if (c->reset)
                fprintf(f, "  %s%sreset%s", col(r, C_BOLD), col(r, C_RED), col(r, C_RESET));
            fputc('\n', f);
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

/* Mean observation: rate(x_sum) / rate(x_count), or per bucket observation
 * when the histogram has no _count. */
static double mean_of(const psc_diff_percentiles *p)
{
    return p->sum / (p->has_count && p->count > 0 ? p->count : p->observations);
}

static void quantile_title(double q, char buf[40])
{
    char v[32];
    if (q >= 0 && q <= 1) {
        /* q * 100 carries float noise for some q (0.29 * 100 = 28.999...):
         * 12 significant digits are plenty for a column title. */
        snprintf(v, sizeof v, "%.12g", q * 100);
        snprintf(buf, 40, "p%s", v);
    } else {
        char w[40];
        fmt_value(q, w);
        snprintf(v, sizeof v, "%.30s", w);
        snprintf(buf, 40, "q%s", v);
    }
}

static int print_percentiles_text(FILE *f, const struct diff_run *r)
{
    size_t n = psc_diff_percentiles_count(r->d);
    if (!n || !r->nquantiles)
        return 0;
    size_t nq = r->nquantiles, ncols = 3 + nq;
    /* column widths: histogram, observations, rate, mean, quantiles... */
    size_t *w = calloc(ncols + 1, sizeof *w);
    if (!w)
        return -1;
    const char *titles[3] = {"observations", "rate", "mean"};
    size_t hw = strlen("histogram");
    for (size_t i = 0; i < 3; i++)
        w[i + 1] = strlen(titles[i]);
    char buf[40];
    for (size_t q = 0; q < nq; q++) {
        quantile_title(r->quantiles[q], buf);
        w[4 + q] = strlen(buf);
    }
    for (size_t i = 0; i < n; i++) {
        const psc_diff_percentiles *p = psc_diff_percentiles_at(r->d, i);
        const psc_diff_family *fam = psc_diff_family_at(r->d, p->family);
        size_t sw;
        char *t = series_text(fam->name, p->labels, p->nlabels, &sw);
        if (!t) {
            free(w);
            return -1;
        }
        free(t);
        if (sw <= 100)
            widen(&hw, sw);
        fmt_value(p->observations, buf);
        widen(&w[1], strlen(buf));
        if (p->has_rate) {
            fmt_rate(p->rate, buf);
            widen(&w[2], strlen(buf) + 2);
        }
        if (p->has_sum) {
            fmt_rate(mean_of(p), buf);
            widen(&w[3], strlen(buf));
        }
        for (size_t q = 0; q < nq; q++) {
            fmt_rate(p->values[q], buf);
            widen(&w[4 + q], strlen(buf));
        }
    }
    fprintf(f, "\n%spercentiles of the observations between the snapshots%s\n", col(r, C_BOLD),
            col(r, C_RESET));
    fprintf(f, "  %-*s", (int)hw, "histogram");
    for (size_t i = 0; i < 3; i++)
        fprintf(f, "  %*s", (int)w[i + 1], titles[i]);
    for (size_t q = 0; q < nq; q++) {
        quantile_title(r->quantiles[q], buf);
        fprintf(f, "  %*s", (int)w[4 + q], buf);
    }
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        const psc_diff_percentiles *p = psc_diff_percentiles_at(r->d, i);
        const psc_diff_family *fam = psc_diff_family_at(r->d, p->family);
        size_t sw;
        char *t = series_text(fam->name, p->labels, p->nlabels, &sw);
        if (!t) {
            free(w);
            return -1;
        }
        fprintf(f, "  %s", t);
        free(t);
        for (size_t k = sw; k < hw; k++)
            fputc(' ', f);
        fmt_value(p->observations, buf);
        fprintf(f, "  %*s", (int)w[1], buf);
        if (p->has_rate) {
            fmt_rate(p->rate, buf);
            strcat(buf, "/s");
        } else {
            strcpy(buf, "-");
        }
        fprintf(f, "  %*s", (int)w[2], buf);
        if (p->has_sum)
            fmt_rate(mean_of(p), buf);
        else
            strcpy(buf, "-");
        fprintf(f, "  %*s", (int)w[3], buf);
        for (size_t q = 0; q < nq; q++) {
            fmt_rate(p->values[q], buf);
            fprintf(f, "  %*s", (int)w[4 + q], buf);
        }
        if (p->reset)
            fprintf(f, "  %s%sreset%s", col(r, C_BOLD), col(r, C_RED), col(r, C_RESET));
        if (p->forced_monotonic)
            fputs("  (buckets not monotonic: fixed as histogram_quantile does)", f);
        fputc('\n', f);
    }
    free(w);
    return 0;
}

static void print_interval_text(FILE *f, const struct diff_run *r, const psc_diff_counts *cn)
{
    char buf[40];
    bool counters = false;
    size_t nc = psc_diff_change_count(r->d);
    for (size_t i = 0; i < nc && !counters; i++) {
        const psc_diff_change *c = psc_diff_change_at(r->d, i);
        counters = c->kind == PSC_DIFF_VALUE_CHANGED && c->counter && kind_selected(r->only, c->kind);
    }
    if (r->iv_source == IV_MEASURED) {
        fmt_seconds(r->interval, buf);
        fprintf(f, "interval: %s, measured between the two scrapes\n", buf);
    } else if (r->iv_source == IV_OPTION) {
        fmt_seconds(r->interval, buf);
        fprintf(f, "interval: %s (--interval)%s\n", buf,
                cn->rates_from_timestamps ? "; sample timestamps where both snapshots have one" : "");
    } else if (cn->rates_from_timestamps) {
        fprintf(f, "interval: from the sample timestamps\n");
    } else if (counters) {
        fprintf(f, "interval: unknown (no sample timestamps); --interval D gives per-second rates\n");
    }
}

static int print_text(FILE *f, const struct diff_run *r)
{
    fprintf(f, "%s--- ", col(r, C_BOLD));
    cli_print_escaped(f, r->old_source, strlen(r->old_source));
    fprintf(f, "%s\n%s+++ ", col(r, C_RESET), col(r, C_BOLD));
    cli_print_escaped(f, r->new_source, strlen(r->new_source));
    fprintf(f, "%s\n", col(r, C_RESET));
    const psc_diff_counts *cn = psc_diff_get_counts(r->d);
    print_interval_text(f, r, cn);
    struct summary s;
    summarize(r, &s);
    if (s.total) {
        fputc('\n', f);
        size_t nf = psc_diff_family_count(r->d);
        for (size_t i = 0; i < nf; i++)
            if (print_family_text(f, r, psc_diff_family_at(r->d, i)))
                return -1;
    }
    if (print_percentiles_text(f, r))
        return -1;
    fputc('\n', f);
    if (!s.total) {
        fputs("no differences", f);
        if (r->only != ONLY_ALL) {
            static const char *const names[] = {"families", "metadata", "series", "values"};
            const char *sep = " in ";
            for (unsigned i = 0; i < 4; i++) {
                if (r->only & (1u << i)) {
                    fprintf(f, "%s%s", sep, names[i]);
                    sep = ", ";
                }
            }
        }
        fputc('\n', f);
        return 0;
    }
    /* families +a -r ~c, series +a -r, values changed N, resets N; the
     * rarer kinds only when present */
    const char *sep = "";
    if (r->only & (ONLY_FAMILIES | ONLY_METADATA)) {
        fprintf(f, "families +%zu -%zu ~%zu", s.fam_added, s.fam_removed, s.fam_changed);
        if (s.metadata)
            fprintf(f, " (metadata changed %zu)", s.metadata);
        sep = ", ";
    }
    if (r->only & ONLY_SERIES) {
        fprintf(f, "%sseries +%zu -%zu", sep, s.series_added, s.series_removed);
        if (s.labels)
            fprintf(f, ", label names changed %zu", s.labels);
        if (s.buckets)
            fprintf(f, ", bucket layouts changed %zu", s.buckets);
        sep = ", ";
    }
    if (r->only & ONLY_VALUES)
        fprintf(f, "%svalues changed %zu, resets %zu", sep, s.values, s.resets);
    fputc('\n', f);
    return 0;
}

/* ------------------------------------------------------------------ */
/* JSON output */

static void json_number(FILE *f, double v)
{
    char buf[40];
    fmt_value(v, buf);
    if (isfinite(v))
        fputs(buf, f);
    else
        fprintf(f, "\"%s\"", buf);
}

static void json_delta(FILE *f, double v)
{
    json_number(f, isfinite(v) ? round15(v) : v);
}

static void json_str(FILE *f, psc_str s)
{
    cli_json_string(f, s.ptr ? s.ptr : "", s.len);
}

/* A JSON array of strings or of numbers, e.g. ["a", "b"] or [0.5, 1]. */
static void json_str_array(FILE *f, const psc_str *v, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        json_str(f, v[i]);
    }
    fputc(']', f);
}

static void json_number_array(FILE *f, const double *v, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        json_number(f, v[i]);
    }
    fputc(']', f);
}

static void json_labels(FILE *f, const psc_label *l, size_t n)
{
    fputc('{', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        json_str(f, l[i].name);
        fputs(": ", f);
        json_str(f, l[i].value);
    }
    fputc('}', f);
}

struct json_list {
    FILE *f;
    bool first;
};

static void json_item(struct json_list *jl)
{
    fputs(jl->first ? "\n    " : ",\n    ", jl->f);
    jl->first = false;
}

static void json_close(struct json_list *jl)
{
    fputs(jl->first ? "]" : "\n  ]", jl->f);
}

static void json_section(FILE *f, const struct diff_run *r, psc_diff_kind k1, psc_diff_kind k2,
                         const char *key)
{
    if (!kind_selected(r->only, k1))
        return;
    const psc_diff *d = r->d;
    fprintf(f, ",\n  \"%s\": [", key);
    struct json_list jl = {f, true};
    size_t n = psc_diff_change_count(d);
    for (size_t i = 0; i < n; i++) {
        const psc_diff_change *c = psc_diff_change_at(d, i);
        if (c->kind != k1 && c->kind != k2)
            continue;
        const psc_diff_family *fam = psc_diff_family_at(d, c->family);
        json_item(&jl);
        fputs("{\"family\": ", f);
        json_str(f, fam->name);
        switch (c->kind) {
        case PSC_DIFF_FAMILY_ADDED:
        case PSC_DIFF_FAMILY_REMOVED: {
            bool added = c->kind == PSC_DIFF_FAMILY_ADDED;
            fprintf(f, ", \"type\": \"%s\", \"series\": %zu",
                    psc_metric_type_name(added ? fam->new_type : fam->old_type),
                    added ? fam->new_series : fam->old_series);
            break;
        }
        case PSC_DIFF_METADATA_CHANGED:
            fprintf(f, ", \"field\": \"%s\", \"old\": ", psc_diff_field_name(c->field));
            if (c->has_old_text)
                json_str(f, c->old_text);
            else
                fputs("null", f);
            fputs(", \"new\": ", f);
            if (c->has_new_text)
                json_str(f, c->new_text);
            else
                fputs("null", f);
            break;
        case PSC_DIFF_LABELS_CHANGED:
            fputs(", \"kind\": \"label_names\", \"added\": ", f);
            json_str_array(f, c->names_added, c->nnames_added);
            fputs(", \"removed\": ", f);
            json_str_array(f, c->names_removed, c->nnames_removed);
            fprintf(f, ", \"label_sets\": %zu", c->nmetrics);
            break;
        case PSC_DIFF_BUCKETS_CHANGED:
            fprintf(f, ", \"kind\": \"%s\", \"labels\": ", c->quantiles ? "quantiles" : "buckets");
            json_labels(f, c->labels, c->nlabels);
            fputs(", \"added\": ", f);
            json_number_array(f, c->bounds_added, c->nbounds_added);
            fputs(", \"removed\": ", f);
            json_number_array(f, c->bounds_removed, c->nbounds_removed);
            fprintf(f, ", \"label_sets\": %zu", c->nmetrics);
            break;
        case PSC_DIFF_SERIES_ADDED:
        case PSC_DIFF_SERIES_REMOVED:
            fputs(", \"name\": ", f);
            json_str(f, c->name);
            fputs(", \"labels\": ", f);
            json_labels(f, c->labels, c->nlabels);
            fputs(", \"value\": ", f);
            json_number(f, c->kind == PSC_DIFF_SERIES_ADDED ? c->new_value : c->old_value);
            break;
        case PSC_DIFF_VALUE_CHANGED:
            fputs(", \"name\": ", f);
            json_str(f, c->name);
            fputs(", \"labels\": ", f);
            json_labels(f, c->labels, c->nlabels);
            fputs(", \"old\": ", f);
            json_number(f, c->old_value);
            fputs(", \"new\": ", f);
            json_number(f, c->new_value);
            fputs(", \"delta\": ", f);
            json_delta(f, c->delta);
            if (c->has_rate) {
                fputs(", \"rate\": ", f);
                json_number(f, c->rate);
                fputs(", \"interval\": ", f);
                json_number(f, c->interval);
            }
            fprintf(f, ", \"reset\": %s", c->reset ? "true" : "false");
            break;
        }
        fputc('}', f);
    }
    json_close(&jl);
}

static void print_json(FILE *f, const struct diff_run *r)
{
    const psc_diff *d = r->d;
    const psc_diff_counts *cn = psc_diff_get_counts(d);
    fputs("{\n  \"old\": ", f);
    cli_json_string(f, r->old_source, strlen(r->old_source));
    fputs(",\n  \"new\": ", f);
    cli_json_string(f, r->new_source, strlen(r->new_source));
    fputs(",\n  \"interval\": ", f);
    if (r->iv_source != IV_NONE)
        json_number(f, r->interval);
    else
        fputs("null", f);
    fprintf(f, ",\n  \"interval_source\": \"%s\"",
            r->iv_source == IV_MEASURED ? "measured"
            : r->iv_source == IV_OPTION ? "option"
            : cn->rates_from_timestamps ? "timestamps"
                                        : "none");
    json_section(f, r, PSC_DIFF_FAMILY_ADDED, PSC_DIFF_FAMILY_ADDED, "families_added");
    json_section(f, r, PSC_DIFF_FAMILY_REMOVED, PSC_DIFF_FAMILY_REMOVED, "families_removed");
    json_section(f, r, PSC_DIFF_METADATA_CHANGED, PSC_DIFF_METADATA_CHANGED, "metadata_changed");
    json_section(f, r, PSC_DIFF_LABELS_CHANGED, PSC_DIFF_BUCKETS_CHANGED, "labels_changed");
    json_section(f, r, PSC_DIFF_SERIES_ADDED, PSC_DIFF_SERIES_ADDED, "series_added");
    json_section(f, r, PSC_DIFF_SERIES_REMOVED, PSC_DIFF_SERIES_REMOVED, "series_removed");
    json_section(f, r, PSC_DIFF_VALUE_CHANGED, PSC_DIFF_VALUE_CHANGED, "values_changed");
    if (r->nquantiles) {
        fputs(",\n  \"percentiles\": [", f);
        struct json_list jl = {f, true};
        size_t n = psc_diff_percentiles_count(d);
        for (size_t i = 0; i < n; i++) {
            const psc_diff_percentiles *p = psc_diff_percentiles_at(d, i);
            json_item(&jl);
            fputs("{\"family\": ", f);
            json_str(f, psc_diff_family_at(d, p->family)->name);
            fputs(", \"labels\": ", f);
            json_labels(f, p->labels, p->nlabels);
            fputs(", \"observations\": ", f);
            json_number(f, p->observations);
            if (p->has_rate) {
                fputs(", \"rate\": ", f);
                json_number(f, p->rate);
            }
            if (p->has_sum) {
                fputs(", \"mean\": ", f);
                json_number(f, mean_of(p));
            }
            fputs(", \"quantiles\": {", f);
            for (size_t q = 0; q < p->nvalues; q++) {
                char key[40];
                fmt_value(r->quantiles[q], key);
                fprintf(f, "%s\"%s\": ", q ? ", " : "", key);
                json_number(f, p->values[q]);
            }
            fprintf(f, "}, \"reset\": %s, \"forced_monotonic\": %s}", p->reset ? "true" : "false",
                    p->forced_monotonic ? "true" : "false");
        }
        json_close(&jl);
    }
    struct summary s;
    summarize(r, &s);
    fprintf(f,
            ",\n  \"summary\": {\"families_added\": %zu, \"families_removed\": %zu, "
            "\"families_changed\": %zu, \"metadata_changed\": %zu, \"labels_changed\": %zu, "
            "\"buckets_changed\": %zu, \"series_added\": %zu, \"series_removed\": %zu, "
            "\"values_changed\": %zu, \"resets\": %zu, \"different\": %s}\n}\n",
            s.fam_added, s.fam_removed, s.fam_changed, s.metadata, s.labels, s.buckets,
            s.series_added, s.series_removed, s.values, s.resets, s.total ? "true" : "false");
}

/* ------------------------------------------------------------------ */
/* options */

static int parse_only(const char *s, unsigned *only)
{
    char *copy = strdup(s);
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "families") == 0)
            *only |= ONLY_FAMILIES;
        else if (strcmp(tok, "metadata") == 0)
            *only |= ONLY_METADATA;
        else if (strcmp(tok, "series") == 0)
            *only |= ONLY_SERIES;
        else if (strcmp(tok, "values") == 0)
            *only |= ONLY_VALUES;
        else
            rc = -1;
    }
    if (!*only)
        rc = -1;
    free(copy);
    return rc;
}

static int parse_number(const char *s, double *out)
{
    if (!*s)
        return -1;
    psc_status st = psc_parse_double(s, strlen(s), out);
    return st == PSC_OK ? 0 : -1;
}

static int parse_quantiles(const char *s, double **out, size_t *n)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    double *q = realloc(*out, (*n + cap) * sizeof *q);
    if (!q)
        return -1;
    *out = q;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!len || psc_parse_double(p, len, &q[*n]) != PSC_OK || isnan(q[*n]))
            return -1;
        (*n)++;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static int parse_min_change(const char *s, psc_diff_opts *o)
{
    size_t len = strlen(s);
    double v;
    if (len > 1 && s[len - 1] == '%') {
        if (psc_parse_double(s, len - 1, &v) != PSC_OK || !(v >= 0) || !isfinite(v))
            return -1;
        o->min_change_ratio = v / 100;
        return 0;
    }
    if (parse_number(s, &v) || !(v >= 0) || !isfinite(v))
        return -1;
    o->min_change = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* inputs */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Load and parse INPUT (files and stdin streamed, cli_model_load); *t
 * receives the monotonic time when loading began. EXIT_OK or EXIT_RUNTIME. */
static int load(const char *arg, const struct cli_net_opts *net, const psc_parse_opts *popts,
                psc_model **model, char **source, double *t)
{
    *t = now_seconds();
    psc_diag_list diags;
    psc_diag_list_init(&diags);
    psc_status st;
    int rc = cli_model_load(arg, net, popts, false, model, &diags, &st, source);
    if (rc != EXIT_OK) {
        psc_diag_list_release(&diags);
        return rc;
    }
    if (st == PSC_E_NOMEM || !*model) {
        cli_errorf("%s: out of memory", *source);
        psc_diag_list_release(&diags);
        return EXIT_RUNTIME;
    }
    if (diags.nerrors) {
        psc_diag_list_sort(&diags);
        const psc_diag *first = NULL;
        for (size_t i = 0; i < diags.count && !first; i++)
            if (diags.items[i].severity == PSC_SEV_ERROR)
                first = &diags.items[i];
        if (first)
            cli_warnf("%s: %zu error%s in the input; the lines concerned are left out of the "
                      "comparison (first: %llu:%llu: %s [%s]; 'promscope validate' lists them)",
                      *source, diags.nerrors, diags.nerrors == 1 ? "" : "s",
                      (unsigned long long)first->line, (unsigned long long)first->column,
                      first->message, first->rule);
        else
            cli_warnf("%s: %zu errors in the input; the lines concerned are left out of the "
                      "comparison ('promscope validate' lists them)",
                      *source, diags.nerrors);
    }
    psc_diag_list_release(&diags);
    return EXIT_OK;
}

int cmd_diff(int argc, char **argv)
{
    const struct cli_command *self = cli_find_command("diff");
    psc_parse_opts popts;
    psc_parse_opts_init(&popts);
    struct cli_net_opts net;
    cli_net_opts_init(&net);
    psc_diff_opts dopts;
    psc_diff_opts_init(&dopts);
    bool json = false, have_interval = false;
    unsigned only = 0;
    long long interval_ms = 0, after_ms = -1;
    const char **ignore_labels = NULL, **ignore_metrics = NULL;
    size_t nil = 0, nim = 0;
    double *quantiles = NULL;
    size_t nq = 0;
    int status = EXIT_USAGE;
    psc_model *mo = NULL, *mn = NULL;
    char *so = NULL, *sn = NULL;
    psc_diff *d = NULL;

    enum {
        O_OUTPUT = 1000, O_ONLY, O_IGNORE_LABEL, O_IGNORE_METRIC, O_INTERVAL, O_AFTER,
        O_QUANTILES, O_MIN_CHANGE, O_FORMAT, PARSE_LIMIT_OPTION_IDS
    };
    static const struct option opts[] = {
        {"output", required_argument, NULL, O_OUTPUT},
        {"only", required_argument, NULL, O_ONLY},
        {"ignore-label", required_argument, NULL, O_IGNORE_LABEL},
        {"ignore-metric", required_argument, NULL, O_IGNORE_METRIC},
        {"interval", required_argument, NULL, O_INTERVAL},
        {"after", required_argument, NULL, O_AFTER},
        {"quantiles", required_argument, NULL, O_QUANTILES},
        {"min-change", required_argument, NULL, O_MIN_CHANGE},
        {"format", required_argument, NULL, O_FORMAT},
        PARSE_LIMIT_OPTIONS,
        NET_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_OUTPUT:
            if (strcmp(optarg, "text") == 0) {
                json = false;
            } else if (strcmp(optarg, "json") == 0) {
                json = true;
            } else {
                status = cli_usage_error("diff", "invalid --output '%s': expected text or json", optarg);
                goto out;
            }
            break;
        case O_ONLY:
            if (parse_only(optarg, &only)) {
                status = cli_usage_error("diff", "invalid --only '%s': expected families, metadata, "
                                         "series or values", optarg);
                goto out;
            }
            break;
        case O_IGNORE_LABEL:
        case O_IGNORE_METRIC: {
            const char ***arr = c == O_IGNORE_LABEL ? &ignore_labels : &ignore_metrics;
            size_t *n = c == O_IGNORE_LABEL ? &nil : &nim;
            if (!*optarg) {
                status = cli_usage_error("diff", "empty --%s", c == O_IGNORE_LABEL ? "ignore-label"
                                                                                   : "ignore-metric");
                goto out;
            }
            const char **na = realloc(*arr, (*n + 1) * sizeof *na);
            if (!na) {
                cli_errorf("out of memory");
                status = EXIT_RUNTIME;
                goto out;
            }
            na[(*n)++] = optarg;
            *arr = na;
            break;
        }
        case O_INTERVAL:
            if (cli_parse_duration_ms(optarg, &interval_ms) || interval_ms <= 0) {
                status = cli_usage_error("diff", "invalid --interval '%s': expected a duration "
                                         "such as 15s or 1m", optarg);
                goto out;
            }
            have_interval = true;
            break;
        case O_AFTER:
            if (cli_parse_duration_ms(optarg, &after_ms)) {
                status = cli_usage_error("diff", "invalid --after '%s': expected a duration such "
                                         "as 2s or 1m", optarg);
                goto out;
            }
            break;
        case O_QUANTILES:
            if (parse_quantiles(optarg, &quantiles, &nq)) {
                status = cli_usage_error("diff", "invalid --quantiles '%s': expected numbers "
                                         "such as 0.5,0.9,0.99", optarg);
                goto out;
            }
            break;
        case O_MIN_CHANGE:
            if (parse_min_change(optarg, &dopts)) {
                status = cli_usage_error("diff", "invalid --min-change '%s': expected a number "
                                         ">= 0 or a percentage such as 5%%", optarg);
                goto out;
            }
            break;
        case O_FORMAT:
            if (cli_parse_format(optarg, &popts.format)) {
                status = cli_usage_error("diff", "invalid --format '%s'", optarg);
                goto out;
            }
            break;
        case 'h':
            cli_print_command_help(stdout, self, diff_options);
            status = cli_finish(EXIT_OK);
            goto out;
        default:
            if ((rc = cli_parse_limit_option(c, optarg, &popts, "diff")) >= 0 ||
                (rc = cli_parse_net_option(c, optarg, &net, "diff")) >= 0) {
                if (rc) {
                    status = rc;
                    goto out;
                }
                break;
            }
            status = cli_usage_error("diff", "unknown option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    if (!only)
        only = ONLY_ALL;
    int nargs = argc - optind;
    if (after_ms >= 0) {
        if (nargs != 1 || !cli_is_url(argv[optind])) {
            status = cli_usage_error("diff", "--after needs exactly one URL (http:// or https://), "
                                     "not OLD and NEW");
            goto out;
        }
        if (have_interval) {
            status = cli_usage_error("diff", "--after measures the interval; do not give "
                                     "--interval as well");
            goto out;
        }
    } else if (nargs != 2) {
        status = cli_usage_error("diff", nargs < 2 ? "missing OLD and NEW (paths, '-' for stdin, or URLs)"
                                                   : "too many arguments: expected OLD and NEW");
        goto out;
    } else if (strcmp(argv[optind], "-") == 0 && strcmp(argv[optind + 1], "-") == 0) {
        status = cli_usage_error("diff", "OLD and NEW cannot both be '-' (stdin)");
        goto out;
    }
    if ((rc = cli_net_opts_finish(&net, "diff")) != 0) {
        status = rc;
        goto out;
    }
    for (size_t i = 0; i < nq; i++)
        if (quantiles[i] < 0 || quantiles[i] > 1)
            cli_warnf("quantile %g is outside [0, 1]: histogram_quantile gives %s for it",
                      quantiles[i], quantiles[i] < 0 ? "-Inf" : "+Inf");

    double t0, t1;
    enum interval_source ivs = IV_NONE;
    double interval = 0;
    if (after_ms >= 0) {
        const char *url = argv[optind];
        if ((status = load(url, &net, &popts, &mo, &so, &t0)) != EXIT_OK)
            goto out;
        sleep_ms(after_ms);
        if ((status = load(url, &net, &popts, &mn, &sn, &t1)) != EXIT_OK)
            goto out;
        ivs = IV_MEASURED;
        interval = t1 - t0;
        char *a = NULL, *b = NULL;
        size_t la = strlen(so) + 32, lb = strlen(sn) + 64;
        a = malloc(la);
        b = malloc(lb);
        if (!a || !b) {
            free(a);
            free(b);
            cli_errorf("out of memory");
            status = EXIT_RUNTIME;
            goto out;
        }
        snprintf(a, la, "%s (first scrape)", so);
        snprintf(b, lb, "%s (second scrape, %.3fs later)", sn, interval);
        free(so);
        free(sn);
        so = a;
        sn = b;
    } else {
        if ((status = load(argv[optind], &net, &popts, &mo, &so, &t0)) != EXIT_OK)
            goto out;
        if ((status = load(argv[optind + 1], &net, &popts, &mn, &sn, &t1)) != EXIT_OK)
            goto out;
        if (have_interval) {
            ivs = IV_OPTION;
            interval = (double)interval_ms / 1000.0;
        }
    }

    dopts.ignore_labels = ignore_labels;
    dopts.nignore_labels = nil;
    dopts.ignore_metrics = ignore_metrics;
    dopts.nignore_metrics = nim;
    dopts.interval = interval;
    dopts.quantiles = quantiles;
    dopts.nquantiles = nq;
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_diff_new(mo, mn, &dopts, &d, &err);
    if (st == PSC_E_ARG) {
        status = cli_usage_error("diff", "%s", err.message);
        goto out;
    }
    if (st != PSC_OK) {
        cli_errorf("%s", st == PSC_E_NOMEM ? "out of memory" : err.message);
        status = EXIT_RUNTIME;
        goto out;
    }
    const psc_diff_counts *cn = psc_diff_get_counts(d);
    if (cn->old_collisions)
        cli_warnf("%s: %zu series are equal to an earlier one once ignored or changed label names "
                  "are left out; only the first of each was compared", so, cn->old_collisions);
    if (cn->new_collisions)
        cli_warnf("%s: %zu series are equal to an earlier one once ignored or changed label names "
                  "are left out; only the first of each was compared", sn, cn->new_collisions);

    struct diff_run run = {d, so, sn, only, ivs, interval, quantiles, nq, g_cli.color_stdout};
    if (json)
        print_json(stdout, &run);
    else if (print_text(stdout, &run)) {
        cli_errorf("out of memory");
        status = EXIT_RUNTIME;
        goto out;
    }
    struct summary s;
    summarize(&run, &s);
    status = cli_finish(s.total ? EXIT_FINDINGS : EXIT_OK);
out:
    psc_diff_free(d);
    psc_model_free(mo);
    psc_model_free(mn);
    free(so);
    free(sn);
    free(ignore_labels);
    free(ignore_metrics);
    free(quantiles);
    cli_net_opts_release(&net);
    return status;
}
