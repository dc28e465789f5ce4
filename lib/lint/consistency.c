/*
 * Value rules: histogram-consistency, summary-consistency, info-value.
 *
 * Histograms: reference/OpenMetrics-1.0.md "Histogram" (buckets cumulative,
 * a +Inf bucket equal to _count) and exposition_formats.md "Histograms and
 * summaries". Summaries: OpenMetrics-1.0.md "Summary" (quantiles in 0..1).
 * Info: OpenMetrics-1.0.md "Info" (the value MUST be 1).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lint/internal.h"
#include "util/alloc.h"

typedef struct point {
    double bound;   /* le or quantile */
    double value;
    uint64_t line;
    psc_str text;   /* the le/quantile label value as written */
    size_t order;   /* input order, for a stable sort */
} point;

static int point_cmp(const void *x, const void *y)
{
    const point *a = x, *b = y;
    if (a->bound < b->bound)
        return -1;
    if (a->bound > b->bound)
        return 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

typedef struct points {
    point *p;
    size_t n, cap;
} points;

static bool push(lint_ctx *c, points *ps, const psc_sample *s)
{
    if (psc_grow((void **)&ps->p, &ps->cap, ps->n + 1, sizeof *ps->p)) {
        c->st = PSC_E_NOMEM;
        return false;
    }
    ps->p[ps->n] = (point){s->bound, s->value, s->line, s->bound_text, ps->n};
    ps->n++;
    return true;
}

static void histogram_metric(lint_ctx *c, const psc_family *f, const psc_metric *mt, points *ps)
{
    ps->n = 0;
    const psc_sample *count = NULL;
    for (size_t k = 0; k < mt->nsamples; k++) {
        const psc_sample *s = &mt->samples[k];
        if (s->kind == PSC_SAMPLE_BUCKET) {
            if (!isnan(s->bound) && !push(c, ps, s))
                return;
        } else if ((s->kind == PSC_SAMPLE_COUNT || s->kind == PSC_SAMPLE_GCOUNT) && !count) {
            count = s;
        }
    }
    if (!ps->n)
        return; /* no buckets: nothing to compare (the validator reports a missing +Inf) */
    char n1[32], n2[32];
    psc_lint_rule r = PSC_LINT_HISTOGRAM_CONSISTENCY;
    psc_str fn = f->name;

    for (size_t i = 1; i < ps->n; i++) {
        if (ps->p[i].bound < ps->p[i - 1].bound) {
            lint_emit(c, r, fn, ps->p[i].line, lint_col_label(c, ps->p[i].line, (psc_str){"le", 2}),
                      "buckets of '%s' are not sorted: le=\"%s\" comes after le=\"%s\" (line %llu)",
                      lint_series_of(c, fn, mt->labels, mt->nlabels), lint_q(c, 0, ps->p[i].text),
                      lint_q(c, 1, ps->p[i - 1].text), (unsigned long long)ps->p[i - 1].line);
            break;
        }
    }
    qsort(ps->p, ps->n, sizeof *ps->p, point_cmp);
    for (size_t i = 1; i < ps->n; i++) {
        if (ps->p[i].bound == ps->p[i - 1].bound) {
            lint_emit(c, r, fn, ps->p[i].line, lint_col_label(c, ps->p[i].line, (psc_str){"le", 2}),
                      "buckets le=\"%s\" and le=\"%s\" (line %llu) of '%s' have the same bound",
                      lint_q(c, 0, ps->p[i].text), lint_q(c, 1, ps->p[i - 1].text),
                      (unsigned long long)ps->p[i - 1].line,
                      lint_series_of(c, fn, mt->labels, mt->nlabels));
            break;
        }
    }
    for (size_t i = 1; i < ps->n; i++) {
        if (ps->p[i].value < ps->p[i - 1].value) {
            lint_emit(c, r, fn, ps->p[i].line, lint_col_value(c, ps->p[i].line),
                      "buckets of '%s' are not cumulative: le=\"%s\" counts %s, less than %s in "
                      "le=\"%s\" (line %llu)",
                      lint_series_of(c, fn, mt->labels, mt->nlabels), lint_q(c, 0, ps->p[i].text),
                      lint_num(ps->p[i].value, n1), lint_num(ps->p[i - 1].value, n2),
                      lint_q(c, 1, ps->p[i - 1].text), (unsigned long long)ps->p[i - 1].line);
            break;
        }
    }
    const point *inf = &ps->p[ps->n - 1];
    if (!(isinf(inf->bound) && inf->bound > 0)) {
        lint_emit(c, r, fn, mt->line, 1, "histogram '%s' has no +Inf bucket",
                  lint_series_of(c, fn, mt->labels, mt->nlabels));
    } else if (count && !isnan(count->value) && !isnan(inf->value) && count->value != inf->value) {
        lint_emit(c, r, fn, count->line, lint_col_value(c, count->line),
                  "'%s' is %s, but the +Inf bucket (line %llu) counts %s; they must be equal",
                  lint_series(c, count), lint_num(count->value, n1), (unsigned long long)inf->line,
                  lint_num(inf->value, n2));
    }
}

static void summary_metric(lint_ctx *c, const psc_family *f, const psc_metric *mt, points *ps)
{
    ps->n = 0;
    psc_lint_rule r = PSC_LINT_SUMMARY_CONSISTENCY;
    psc_str fn = f->name;
    char n1[32], n2[32];
    const psc_str qname = {"quantile", 8};
    for (size_t k = 0; k < mt->nsamples; k++) {
        const psc_sample *s = &mt->samples[k];
        if (s->kind == PSC_SAMPLE_QUANTILE) {
            if (isnan(s->bound) || s->bound < 0 || s->bound > 1) {
                lint_emit(c, r, fn, s->line, lint_col_label(c, s->line, qname),
                          "quantile=\"%s\" of '%s' is not a number from 0 to 1",
                          lint_q(c, 0, s->bound_text),
                          lint_series_of(c, fn, mt->labels, mt->nlabels));
                continue;
            }
            if (!push(c, ps, s))
                return;
        } else if (s->kind == PSC_SAMPLE_COUNT && (isnan(s->value) || s->value < 0)) {
            lint_emit(c, r, fn, s->line, lint_col_value(c, s->line),
                      "'%s' is %s; a count must be a non-negative number", lint_series(c, s),
                      lint_num(s->value, n1));
        }
    }
    if (ps->n < 2)
        return;
    qsort(ps->p, ps->n, sizeof *ps->p, point_cmp);
    for (size_t i = 1; i < ps->n; i++) {
        if (ps->p[i].bound == ps->p[i - 1].bound) {
            lint_emit(c, r, fn, ps->p[i].line, lint_col_label(c, ps->p[i].line, qname),
                      "quantile=\"%s\" and quantile=\"%s\" (line %llu) of '%s' are the same quantile",
                      lint_q(c, 0, ps->p[i].text), lint_q(c, 1, ps->p[i - 1].text),
                      (unsigned long long)ps->p[i - 1].line,
                      lint_series_of(c, fn, mt->labels, mt->nlabels));
            break;
        }
    }
    /* A higher quantile can never be a smaller value (NaN: no observations). */
    const point *prev = NULL;
    for (size_t i = 0; i < ps->n; i++) {
        const point *p = &ps->p[i];
        if (isnan(p->value))
            continue;
        if (prev && p->value < prev->value && p->bound != prev->bound) {
            lint_emit(c, r, fn, p->line, lint_col_value(c, p->line),
                      "quantiles of '%s' decrease: quantile=\"%s\" is %s, less than %s at "
                      "quantile=\"%s\" (line %llu)",
                      lint_series_of(c, fn, mt->labels, mt->nlabels), lint_q(c, 0, p->text),
                      lint_num(p->value, n1), lint_num(prev->value, n2), lint_q(c, 1, prev->text),
                      (unsigned long long)prev->line);
            break;
        }
        prev = p;
    }
}

static void info_values(lint_ctx *c, const psc_family *f)
{
    bool info = f->type == PSC_TYPE_INFO;
    bool by_name = (f->type == PSC_TYPE_GAUGE || f->type == PSC_TYPE_UNTYPED) &&
                   lint_has_suffix(f->name, "_info");
    if (!info && !by_name)
        return;
    char n1[32];
    for (size_t j = 0; j < f->nmetrics; j++) {
        const psc_metric *mt = &f->metrics[j];
        for (size_t k = 0; k < mt->nsamples; k++) {
            const psc_sample *s = &mt->samples[k];
            if (info && s->kind != PSC_SAMPLE_INFO)
                continue;
            if (s->value != 1) {
                lint_emit(c, PSC_LINT_INFO_VALUE, f->name, s->line, lint_col_value(c, s->line),
                          "info metric '%s' has the value %s; an info metric must be 1",
                          lint_series(c, s), lint_num(s->value, n1));
                return; /* once per family */
            }
        }
    }
}

void lint_consistency(lint_ctx *c, const psc_family *f)
{
    if (lint_on(c, PSC_LINT_INFO_VALUE))
        info_values(c, f);
    bool hist = f->type == PSC_TYPE_HISTOGRAM || f->type == PSC_TYPE_GAUGEHISTOGRAM;
    bool sum = f->type == PSC_TYPE_SUMMARY;
    if (!(hist && lint_on(c, PSC_LINT_HISTOGRAM_CONSISTENCY)) &&
        !(sum && lint_on(c, PSC_LINT_SUMMARY_CONSISTENCY)))
        return;
    points ps = {0};
    for (size_t j = 0; j < f->nmetrics && c->st == PSC_OK; j++) {
        if (hist)
            histogram_metric(c, f, &f->metrics[j], &ps);
        else
            summary_metric(c, f, &f->metrics[j], &ps);
    }
    psc_free(ps.p);
}
