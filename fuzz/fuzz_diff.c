/*
 * fuzz_diff - the differ (promscope/diff.h) and psc_histogram_quantile().
 *
 * Input: OLD 0xFF NEW. The input is split at its first 0xFF byte, which
 * never occurs in UTF-8 and so in no valid exposition; the bytes before
 * are the old snapshot, the bytes after the new one (format detected for
 * each). An input without 0xFF is compared with itself.
 *
 *   1. psc_diff_new() of the two models, with the default options and with
 *      labels ignored, metrics ignored by regular expression, an interval,
 *      a minimum change and quantiles: every family, change and percentile
 *      entry is read; families are ordered by name and own contiguous runs
 *      of changes; each change fits its kind (lines, texts, sorted names
 *      and bounds, delta = new - old, resets only of counters, rates only
 *      with an interval); every count of psc_diff_get_counts() equals the
 *      changes it counts; percentiles rise with the quantile;
 *   2. a snapshot compared with itself has no change;
 *   3. old -> new and new -> old mirror each other: families and series
 *      added one way are removed the other way, value, metadata, label and
 *      bucket changes are as many;
 *   4. psc_histogram_quantile() over the buckets of every histogram metric
 *      of both snapshots: NaN without a +Inf bucket or with fewer than two
 *      buckets, -Inf/+Inf for q < 0 / q > 1, non-decreasing in q;
 *   5. invalid options (a negative interval, a pattern regcomp() rejects)
 *      give PSC_E_ARG;
 *   6. with the n-th allocation failing psc_diff_new() returns PSC_E_NOMEM
 *      cleanly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util/alloc.h"

const char fz_target[] = "diff";

static const double g_quantiles[] = {0, 0.25, 0.5, 0.9, 0.99, 1};

static int str_cmp(psc_str a, psc_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return c ? c : (a.len < b.len ? -1 : a.len > b.len);
}

static void opts_for(psc_diff_opts *o, int pass)
{
    static const char *const labels[] = {"instance", "job", "le", "pod"};
    static const char *const metrics[] = {"go_.*", "(process|promhttp)_[a-z_]+", "x+_total"};
    psc_diff_opts_init(o);
    if (pass == 0)
        return;
    o->ignore_labels = labels;
    o->nignore_labels = sizeof labels / sizeof labels[0];
    o->ignore_metrics = metrics;
    o->nignore_metrics = sizeof metrics / sizeof metrics[0];
    o->interval = 15;
    o->min_change = 0.5;
    o->min_change_ratio = 0.01;
    o->quantiles = g_quantiles;
    o->nquantiles = sizeof g_quantiles / sizeof g_quantiles[0];
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void check_change(const psc_diff_change *c, const psc_diff_family *f)
{
    fz_mix(c->kind);
    fz_mix_cstr(psc_diff_kind_name(c->kind), "psc_diff_kind_name");
    if (strcmp(psc_diff_kind_name(c->kind), "unknown") == 0)
        fz_broken("change of unknown kind %d", (int)c->kind);
    fz_mix(c->field);
    fz_mix(c->has_old_text);
    fz_mix(c->has_new_text);
    fz_mix_str(c->old_text);
    fz_mix_str(c->new_text);
    for (size_t i = 0; i < c->nnames_added; i++) {
        fz_mix_str(c->names_added[i]);
        if (i && str_cmp(c->names_added[i - 1], c->names_added[i]) >= 0)
            fz_broken("added label names not sorted");
    }
    for (size_t i = 0; i < c->nnames_removed; i++) {
        fz_mix_str(c->names_removed[i]);
        if (i && str_cmp(c->names_removed[i - 1], c->names_removed[i]) >= 0)
            fz_broken("removed label names not sorted");
    }
    /* open: a bound written twice in different groups of an interleaved
     * text family ("0.5" and "0.50") is not reported as a duplicate series
     * (lib/parse/validator.c), the model keeps both and the bound is listed
     * twice; until then equal neighbours are let through */
    bool dup_ok = !fz_strict();
    for (size_t i = 0; i < c->nbounds_added; i++) {
        fz_mix_double(c->bounds_added[i]);
        if (i && !(c->bounds_added[i - 1] < c->bounds_added[i]) &&
            !(dup_ok && c->bounds_added[i - 1] == c->bounds_added[i]))
            fz_broken("added bounds not ascending");
    }
    for (size_t i = 0; i < c->nbounds_removed; i++) {
        fz_mix_double(c->bounds_removed[i]);
        if (i && !(c->bounds_removed[i - 1] < c->bounds_removed[i]) &&
            !(dup_ok && c->bounds_removed[i - 1] == c->bounds_removed[i]))
            fz_broken("removed bounds not ascending");
    }
    fz_mix(c->quantiles);
    fz_mix(c->nmetrics);
    fz_mix_str(c->name);
    for (size_t i = 0; i < c->nlabels; i++) {
        fz_mix_str(c->labels[i].name);
        fz_mix_str(c->labels[i].value);
    }
    fz_mix(c->sample_kind);
    fz_mix(c->old_line);
    fz_mix(c->new_line);
    fz_mix_double(c->old_value);
    fz_mix_double(c->new_value);
    fz_mix_double(c->delta);
    fz_mix(c->counter);
    fz_mix(c->reset);
    fz_mix(c->has_rate);
    fz_mix_double(c->rate);
    fz_mix_double(c->interval);
    fz_mix(c->interval_from_timestamps);
    switch (c->kind) {
    case PSC_DIFF_FAMILY_ADDED:
        if (!f->in_new || f->in_old)
            fz_broken("family-added of a family in_old=%d in_new=%d", f->in_old, f->in_new);
        break;
    case PSC_DIFF_FAMILY_REMOVED:
        if (f->in_new || !f->in_old)
            fz_broken("family-removed of a family in_old=%d in_new=%d", f->in_old, f->in_new);
        break;
    case PSC_DIFF_METADATA_CHANGED:
        if (strcmp(psc_diff_field_name(c->field), "unknown") == 0)
            fz_broken("metadata change of unknown field %d", (int)c->field);
        fz_mix_cstr(psc_diff_field_name(c->field), "psc_diff_field_name");
        if ((!c->has_old_text && c->old_text.len) || (!c->has_new_text && c->new_text.len))
            fz_broken("metadata change with an absent text of %zu/%zu bytes", c->old_text.len, c->new_text.len);
        if (c->has_old_text == c->has_new_text && psc_str_eq(c->old_text, c->new_text))
            fz_broken("metadata change '%s' with equal old and new text", psc_diff_field_name(c->field));
        break;
    case PSC_DIFF_LABELS_CHANGED:
        if (c->nnames_added + c->nnames_removed == 0)
            fz_broken("labels-changed without a name added or removed");
        break;
    case PSC_DIFF_BUCKETS_CHANGED:
        if (c->nbounds_added + c->nbounds_removed == 0)
            fz_broken("buckets-changed without a bound added or removed");
        break;
    case PSC_DIFF_SERIES_ADDED:
        if (c->new_line == 0 || c->old_line != 0)
            fz_broken("series-added with lines old %llu new %llu", (unsigned long long)c->old_line,
                      (unsigned long long)c->new_line);
        break;
    case PSC_DIFF_SERIES_REMOVED:
        if (c->old_line == 0 || c->new_line != 0)
            fz_broken("series-removed with lines old %llu new %llu", (unsigned long long)c->old_line,
                      (unsigned long long)c->new_line);
        break;
    case PSC_DIFF_VALUE_CHANGED:
        if (c->old_line == 0 || c->new_line == 0)
            fz_broken("value-changed without both lines");
        if (!same_double(c->delta, c->new_value - c->old_value))
            fz_broken("delta %.17g is not new - old (%.17g - %.17g)", c->delta, c->new_value, c->old_value);
        if (same_double(c->old_value, c->new_value) && !c->reset)
            fz_broken("value-changed of '%.*s' with equal values %.17g", (int)c->name.len, c->name.ptr,
                      c->old_value);
        if (c->reset && !c->counter)
            fz_broken("reset of a series that is not a counter");
        if (c->has_rate && !(c->interval > 0))
            fz_broken("rate with interval %g", c->interval);
        if (c->has_rate && !c->counter)
            fz_broken("rate of a series that is not a counter");
        break;
    }
}

static void check_diff(const psc_diff *d, const psc_diff_opts *o, const psc_diff_counts **counts_out)
{
    size_t nf = psc_diff_family_count(d), nc = psc_diff_change_count(d), np = psc_diff_percentiles_count(d);
    if (psc_diff_family_at(d, nf) || psc_diff_change_at(d, nc) || psc_diff_percentiles_at(d, np))
        fz_broken("an accessor does not give NULL at its count");
    size_t next = 0, changed = 0;
    size_t kinds[PSC_DIFF_VALUE_CHANGED + 1] = {0};
    size_t resets = 0, rates = 0, rates_ts = 0;
    for (size_t i = 0; i < nf; i++) {
        const psc_diff_family *f = psc_diff_family_at(d, i);
        if (!f)
            fz_broken("psc_diff_family_at(%zu) of %zu is NULL", i, nf);
        fz_mix_str(f->name);
        fz_mix(f->in_old);
        fz_mix(f->in_new);
        fz_mix(f->old_type);
        fz_mix(f->new_type);
        fz_mix(f->old_series);
        fz_mix(f->new_series);
        if (!f->in_old && !f->in_new)
            fz_broken("diff family in neither snapshot");
        changed += f->in_old && f->in_new;
        if (i && str_cmp(psc_diff_family_at(d, i - 1)->name, f->name) > 0)
            fz_broken("diff families not ordered by name");
        if (f->first_change != next || f->nchanges == 0 || f->first_change + f->nchanges > nc)
            fz_broken("diff family %zu owns changes [%zu, +%zu) of %zu, expected to start at %zu", i,
                      f->first_change, f->nchanges, nc, next);
        next += f->nchanges;
        for (size_t k = f->first_change; k < f->first_change + f->nchanges; k++) {
            const psc_diff_change *c = psc_diff_change_at(d, k);
            if (!c)
                fz_broken("psc_diff_change_at(%zu) of %zu is NULL", k, nc);
            if (c->family != i)
                fz_broken("change %zu names family %zu, it is in the run of family %zu", k, c->family, i);
            check_change(c, f);
            if ((int)c->kind >= 0 && c->kind <= PSC_DIFF_VALUE_CHANGED)
                kinds[c->kind]++;
            if (c->kind == PSC_DIFF_VALUE_CHANGED) {
                resets += c->reset;
                rates += c->has_rate;
                rates_ts += c->has_rate && c->interval_from_timestamps;
            }
        }
    }
    if (next != nc)
        fz_broken("families own %zu of %zu changes", next, nc);
    const psc_diff_counts *k = psc_diff_get_counts(d);
    if (!k)
        fz_broken("psc_diff_get_counts is NULL");
    *counts_out = k;
    struct {
        const char *what;
        size_t count, seen;
    } pairs[] = {
        {"families_added", k->families_added, kinds[PSC_DIFF_FAMILY_ADDED]},
        {"families_removed", k->families_removed, kinds[PSC_DIFF_FAMILY_REMOVED]},
        {"families_changed", k->families_changed, changed},
        {"metadata_changed", k->metadata_changed, kinds[PSC_DIFF_METADATA_CHANGED]},
        {"labels_changed", k->labels_changed, kinds[PSC_DIFF_LABELS_CHANGED]},
        {"buckets_changed", k->buckets_changed, kinds[PSC_DIFF_BUCKETS_CHANGED]},
        {"series_added", k->series_added, kinds[PSC_DIFF_SERIES_ADDED]},
        {"series_removed", k->series_removed, kinds[PSC_DIFF_SERIES_REMOVED]},
        {"values_changed", k->values_changed, kinds[PSC_DIFF_VALUE_CHANGED]},
        {"resets", k->resets, resets},
        {"rates", k->rates, rates},
        {"rates_from_timestamps", k->rates_from_timestamps, rates_ts},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i].count != pairs[i].seen)
            fz_broken("diff counts %s = %zu, the changes show %zu", pairs[i].what, pairs[i].count, pairs[i].seen);
    fz_mix(k->values_below_min_change);
    fz_mix(k->series_unchanged);
    fz_mix(k->old_collisions);
    fz_mix(k->new_collisions);
    if (np && o->nquantiles == 0)
        fz_broken("%zu percentile entries without quantiles", np);
    for (size_t i = 0; i < np; i++) {
        const psc_diff_percentiles *p = psc_diff_percentiles_at(d, i);
        if (!p)
            fz_broken("psc_diff_percentiles_at(%zu) of %zu is NULL", i, np);
        fz_mix(p->family);
        for (size_t l = 0; l < p->nlabels; l++) {
            fz_mix_str(p->labels[l].name);
            fz_mix_str(p->labels[l].value);
        }
        fz_mix_double(p->observations);
        fz_mix(p->has_sum);
        fz_mix_double(p->sum);
        fz_mix(p->has_count);
        fz_mix_double(p->count);
        fz_mix(p->reset);
        fz_mix(p->has_rate);
        fz_mix_double(p->rate);
        fz_mix_double(p->interval);
        fz_mix(p->forced_monotonic);
        if (p->nvalues != o->nquantiles)
            fz_broken("percentile entry with %zu values for %zu quantiles", p->nvalues, o->nquantiles);
        for (size_t q = 0; q < p->nvalues; q++) {
            fz_mix_double(p->values[q]);
            if (q && !isnan(p->values[q]) && !isnan(p->values[q - 1]) && p->values[q] < p->values[q - 1])
                fz_broken("percentile of q=%g (%.17g) below that of q=%g (%.17g)", o->quantiles[q], p->values[q],
                          o->quantiles[q - 1], p->values[q - 1]);
        }
    }
}

/* psc_histogram_quantile over the buckets of every histogram metric. */
static void check_quantiles(const psc_model *m)
{
    for (size_t i = 0; i < psc_model_family_count(m); i++) {
        const psc_family *f = psc_model_family(m, i);
        if (f->type != PSC_TYPE_HISTOGRAM && f->type != PSC_TYPE_GAUGEHISTOGRAM)
            continue;
        for (size_t j = 0; j < f->nmetrics; j++) {
            const psc_metric *mt = &f->metrics[j];
            double *b = malloc((mt->nsamples + 1) * sizeof *b), *c = malloc((mt->nsamples + 1) * sizeof *c);
            if (!b || !c)
                fz_broken("out of memory in the harness");
            size_t n = 0;
            bool inf = false;
            double hi = -INFINITY;
            for (size_t k = 0; k < mt->nsamples; k++)
                if (mt->samples[k].kind == PSC_SAMPLE_BUCKET) {
                    b[n] = mt->samples[k].bound;
                    c[n++] = mt->samples[k].value;
                    inf |= mt->samples[k].bound == INFINITY;
                    if (mt->samples[k].bound > hi)
                        hi = mt->samples[k].bound;
                }
            double prev = -INFINITY, v;
            bool fm;
            for (size_t q = 0; q < sizeof g_quantiles / sizeof g_quantiles[0]; q++) {
                if (psc_histogram_quantile(g_quantiles[q], b, c, n, &v, &fm) != PSC_OK)
                    break;
                fz_mix_double(v);
                if ((!inf || n < 2) && !isnan(v))
                    fz_broken("histogram_quantile %.17g without +Inf bucket or with %zu buckets", v, n);
                if (!isnan(v) && v < prev)
                    fz_broken("histogram_quantile(%g) = %.17g below %.17g of a lower q", g_quantiles[q], v, prev);
                if (!isnan(v))
                    prev = v;
            }
            if (n) {
                if (psc_histogram_quantile(-0.5, b, c, n, &v, NULL) == PSC_OK && v != -INFINITY && !isnan(v))
                    fz_broken("histogram_quantile(-0.5) = %.17g", v);
                if (psc_histogram_quantile(1.5, b, c, n, &v, NULL) == PSC_OK && v != INFINITY && !isnan(v))
                    fz_broken("histogram_quantile(1.5) = %.17g", v);
                if (psc_histogram_quantile(NAN, b, c, n, &v, NULL) == PSC_OK && !isnan(v))
                    fz_broken("histogram_quantile(NaN) = %.17g", v);
            }
            free(b);
            free(c);
        }
    }
}

static void check_bad_opts(const psc_model *a)
{
    static bool done;
    if (done)
        return;
    done = true;
    psc_diff_opts o;
    psc_diff *d = NULL;
    psc_error err;
    psc_diff_opts_init(&o);
    o.interval = -1;
    psc_error_clear(&err);
    if (psc_diff_new(a, a, &o, &d, &err) != PSC_E_ARG)
        fz_broken("a negative interval is accepted");
    psc_diff_free(d);
    d = NULL;
    static const char *const bad[] = {"a("};
    psc_diff_opts_init(&o);
    o.ignore_metrics = bad;
    o.nignore_metrics = 1;
    psc_error_clear(&err);
    if (psc_diff_new(a, a, &o, &d, &err) != PSC_E_ARG || !strstr(err.message, "a("))
        fz_broken("the pattern 'a(' is accepted, or the message does not quote it: %s", err.message);
    psc_diff_free(d);
}

static void oom(const psc_model *a, const psc_model *b, const psc_diff_opts *o, uint64_t seed)
{
    psc_diff *d = NULL;
    psc_alloc_fail_after(0);
    psc_status st = psc_diff_new(a, b, o, &d, NULL);
    long n = psc_alloc_count();
    psc_diff_free(d);
    d = NULL;
    if (st != PSC_OK || n <= 0)
        return;
    psc_alloc_fail_after(1 + (long)(seed % (uint64_t)n));
    st = psc_diff_new(a, b, o, &d, NULL);
    psc_alloc_fail_after(0);
    if (st != PSC_OK && st != PSC_E_NOMEM)
        fz_broken("psc_diff_new with an allocation failing returned %s", psc_status_name(st));
    psc_diff_free(d);
}

static psc_status diff(const psc_model *a, const psc_model *b, const psc_diff_opts *o, psc_diff **d)
{
    psc_error err;
    psc_error_clear(&err);
    *d = NULL;
    psc_status st = psc_diff_new(a, b, o, d, &err);
    if (st != PSC_OK && st != PSC_E_NOMEM)
        fz_broken("psc_diff_new returned %s: %s", psc_status_name(st), err.message);
    if (st == PSC_OK && !*d)
        fz_broken("psc_diff_new returned PSC_OK and no diff");
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    const uint8_t *ff = memchr(data, 0xff, size);
    size_t la = ff ? (size_t)(ff - data) : size, lb = ff ? size - la - 1 : size;
    /* exact-size copies: over-reads show under ASan */
    char *a = malloc(la ? la : 1), *b = malloc(lb ? lb : 1);
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    if (la)
        memcpy(a, data, la);
    if (lb)
        memcpy(b, ff ? ff + 1 : data, lb);
    uint64_t seed = fz_hash(data, size);
    psc_model *ma = NULL, *mb = NULL;
    if (psc_model_parse(a, la, NULL, &ma, NULL) == PSC_E_NOMEM ||
        psc_model_parse(b, lb, NULL, &mb, NULL) == PSC_E_NOMEM)
        goto out;
    check_bad_opts(ma);
    for (int pass = 0; pass < 2; pass++) {
        psc_diff_opts o;
        opts_for(&o, pass);
        psc_diff *d = NULL, *r = NULL, *self = NULL;
        const psc_diff_counts *kd = NULL, *kr = NULL, *ks = NULL;
        if (diff(ma, mb, &o, &d) == PSC_OK)
            check_diff(d, &o, &kd);
        if (diff(mb, ma, &o, &r) == PSC_OK)
            check_diff(r, &o, &kr);
        if (diff(ma, ma, &o, &self) == PSC_OK) {
            check_diff(self, &o, &ks);
            if (psc_diff_change_count(self) || psc_diff_family_count(self))
                fz_broken("a snapshot compared with itself has %zu changes in %zu families",
                          psc_diff_change_count(self), psc_diff_family_count(self));
        }
        if (kd && kr) {
            if (kd->families_added != kr->families_removed || kd->families_removed != kr->families_added ||
                kd->series_added != kr->series_removed || kd->series_removed != kr->series_added ||
                kd->families_changed != kr->families_changed || kd->metadata_changed != kr->metadata_changed ||
                kd->labels_changed != kr->labels_changed || kd->buckets_changed != kr->buckets_changed ||
                kd->values_changed + kd->values_below_min_change != kr->values_changed + kr->values_below_min_change)
                fz_broken("old -> new and new -> old do not mirror each other: families +%zu -%zu ~%zu, series "
                          "+%zu -%zu, metadata %zu, labels %zu, buckets %zu, values %zu+%zu against families +%zu "
                          "-%zu ~%zu, series +%zu -%zu, metadata %zu, labels %zu, buckets %zu, values %zu+%zu",
                          kd->families_added, kd->families_removed, kd->families_changed, kd->series_added,
                          kd->series_removed, kd->metadata_changed, kd->labels_changed, kd->buckets_changed,
                          kd->values_changed, kd->values_below_min_change, kr->families_added,
                          kr->families_removed, kr->families_changed, kr->series_added, kr->series_removed,
                          kr->metadata_changed, kr->labels_changed, kr->buckets_changed, kr->values_changed,
                          kr->values_below_min_change);
        }
        psc_diff_free(d);
        psc_diff_free(r);
        psc_diff_free(self);
        if (pass == 1)
            oom(ma, mb, &o, seed);
    }
    check_quantiles(ma);
    check_quantiles(mb);
out:
    psc_model_free(ma);
    psc_model_free(mb);
    free(a);
    free(b);
    return 0;
}
