/*
 * Cardinality rules: unbounded-label, max-series-per-metric,
 * max-label-values, max-series. Series are counted as Prometheus counts
 * them (promscope/model.h): every bucket, _sum and _count is a series.
 * Distinct label values come from the same statistics engine as
 * `promscope cardinality` (lib/card/lstats.h).
 */
#include <stdlib.h>
#include <string.h>

#include "card/lstats.h"
#include "lint/internal.h"
#include "util/alloc.h"

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Line of the (limit+1)-th series of family f in input order. */
static uint64_t nth_series_line(lint_ctx *c, const psc_family *f, uint64_t limit)
{
    uint64_t *lines = psc_malloc(f->nseries * sizeof *lines);
    if (!lines)
        return f->line; /* a position is a nicety: fall back to the family line */
    size_t n = 0;
    for (size_t j = 0; j < f->nmetrics; j++)
        for (size_t k = 0; k < f->metrics[j].nsamples && n < f->nseries; k++)
            lines[n++] = f->metrics[j].samples[k].line;
    uint64_t line = f->line;
    if (n > limit) {
        qsort(lines, n, sizeof *lines, cmp_u64);
        line = lines[limit];
    }
    psc_free(lines);
    (void)c;
    return line;
}

/* Line of the (limit+1)-th series of the whole model in input order. */
static uint64_t nth_model_line(lint_ctx *c, uint64_t limit)
{
    size_t nf = psc_model_family_count(c->m);
    uint64_t maxline = 0;
    for (size_t i = 0; i < nf; i++) {
        const psc_family *f = psc_model_family(c->m, i);
        for (size_t j = 0; j < f->nmetrics; j++)
            for (size_t k = 0; k < f->metrics[j].nsamples; k++)
                if (f->metrics[j].samples[k].line > maxline)
                    maxline = f->metrics[j].samples[k].line;
    }
    /* one bit per line: a sample is one line, so counting set bits finds it */
    size_t words = (size_t)(maxline / 64 + 1);
    uint64_t *bits = psc_calloc(words, sizeof *bits);
    if (!bits)
        return 0;
    for (size_t i = 0; i < nf; i++) {
        const psc_family *f = psc_model_family(c->m, i);
        for (size_t j = 0; j < f->nmetrics; j++)
            for (size_t k = 0; k < f->metrics[j].nsamples; k++) {
                uint64_t l = f->metrics[j].samples[k].line;
                bits[l / 64] |= 1ull << (l % 64);
            }
    }
    uint64_t seen = 0, line = 0;
    for (size_t w = 0; w < words && !line; w++) {
        uint64_t v = bits[w];
        uint64_t pc = (uint64_t)__builtin_popcountll(v);
        if (seen + pc <= limit) {
            seen += pc;
            continue;
        }
        for (int b = 0; b < 64; b++) {
            if (v & (1ull << b)) {
                if (seen == limit) {
                    line = (uint64_t)w * 64 + (uint64_t)b;
                    break;
                }
                seen++;
            }
        }
    }
    psc_free(bits);
    return line;
}

static const char *kind_plural(psc_value_kind k)
{
    switch (k) {
    case PSC_VALUE_UUID: return "UUIDs";
    case PSC_VALUE_IP: return "IP addresses";
    case PSC_VALUE_HEX: return "long hex ids";
    case PSC_VALUE_EMAIL: return "e-mail addresses";
    case PSC_VALUE_TIMESTAMP: return "Unix timestamps";
    case PSC_VALUE_URL_PATH: return "URL paths with ids";
    default: return "ids";
    }
}

static bool bucket_label(psc_str n)
{
    return lint_str_is(n, "le") || lint_str_is(n, "quantile");
}

void lint_cardinality(lint_ctx *c)
{
    const psc_lint_opts *o = c->o;
    size_t nf = psc_model_family_count(c->m);

    if (lint_on(c, PSC_LINT_MAX_SERIES) && o->max_series) {
        uint64_t total = psc_model_series_count(c->m);
        if (total > o->max_series) {
            uint64_t line = nth_model_line(c, o->max_series);
            lint_emit(c, PSC_LINT_MAX_SERIES, PSC_STR_NULL, line, line ? 1 : 0,
                      "the exposition has %llu series, more than the limit of %llu",
                      (unsigned long long)total, (unsigned long long)o->max_series);
        }
    }

    if (lint_on(c, PSC_LINT_MAX_SERIES_PER_METRIC) && o->max_series_per_metric) {
        for (size_t i = 0; i < nf && c->st == PSC_OK; i++) {
            const psc_family *f = psc_model_family(c->m, i);
            if (c->ignored[i] || f->nseries <= o->max_series_per_metric)
                continue;
            uint64_t line = nth_series_line(c, f, o->max_series_per_metric);
            lint_emit(c, PSC_LINT_MAX_SERIES_PER_METRIC, f->name, line, 1,
                      "metric '%s' has %zu series, more than the limit of %llu",
                      lint_q(c, 0, f->name), f->nseries,
                      (unsigned long long)o->max_series_per_metric);
        }
    }

    bool want_values = lint_on(c, PSC_LINT_MAX_LABEL_VALUES) && o->max_label_values;
    bool want_ids = lint_on(c, PSC_LINT_UNBOUNDED_LABEL);
    if (!want_values && !want_ids)
        return;

    psc_lstats ls;
    psc_lstats_init(&ls, want_values ? o->max_label_values : 0);
    for (size_t i = 0; i < nf && c->st == PSC_OK; i++) {
        const psc_family *f = psc_model_family(c->m, i);
        if (c->ignored[i])
            continue;
        for (size_t j = 0; j < f->nmetrics && c->st == PSC_OK; j++) {
            const psc_metric *mt = &f->metrics[j];
            for (size_t l = 0; l < mt->nlabels; l++) {
                if (bucket_label(mt->labels[l].name))
                    continue;
                if (psc_lstats_add(&ls, (uint32_t)i, mt->labels[l].name, mt->labels[l].value,
                                   mt->line)) {
                    c->st = PSC_E_NOMEM;
                    break;
                }
            }
        }
    }
    uint64_t min_ids = o->unbounded_min_values ? o->unbounded_min_values : 1;
    for (size_t k = 0; k < ls.count && c->st == PSC_OK; k++) {
        const psc_lstat *s = &ls.items[k];
        const psc_family *f = psc_model_family(c->m, s->group);
        if (want_values && s->exceed_line)
            lint_emit(c, PSC_LINT_MAX_LABEL_VALUES, f->name, s->exceed_line,
                      lint_col_label(c, s->exceed_line, s->name),
                      "label '%s' of metric '%s' has %llu distinct values, more than the limit of %llu",
                      lint_q(c, 0, s->name), lint_q(c, 1, f->name), (unsigned long long)s->values,
                      (unsigned long long)o->max_label_values);
        if (want_ids && s->id_values >= min_ids && s->id_values * 2 >= s->values)
            lint_emit(c, PSC_LINT_UNBOUNDED_LABEL, f->name, s->id_line,
                      lint_col_label(c, s->id_line, s->name),
                      "label '%s' of metric '%s' looks unbounded: %llu distinct values, %llu like "
                      "%s, e.g. \"%s\"",
                      lint_q(c, 0, s->name), lint_q(c, 1, f->name), (unsigned long long)s->values,
                      (unsigned long long)s->id_values, kind_plural(s->id_kind),
                      lint_q(c, 2, s->id_example));
    }
    psc_lstats_release(&ls);
}
