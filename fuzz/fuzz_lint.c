/*
 * fuzz_lint - the linter (every rule) and the cardinality statistics.
 *
 * The input is an exposition (format detected). The library's lint output
 * is a list of findings (promscope/lint.h); the CLI prints them in its
 * formats, which fuzz_diagout covers. Each input is linted twice: with the
 * defaults, and with a configuration drawn from the input's hash (rules
 * switched off, severities moved, thresholds low enough for the cardinality
 * rules to fire, families ignored by a callback):
 *   1. psc_lint_buffer() succeeds; its findings are sound (fz_check_diags),
 *      sorted by position, name only lint rules, none of a rule switched
 *      off, each with the severity configured for its rule (`parse`:
 *      configured for errors, warnings stay warnings), none of an ignored
 *      family outside `parse`;
 *   2. psc_lint_buffer() equals psc_model_parse() + psc_lint_parse_findings()
 *      + psc_lint_model() + psc_diag_list_sort(), less the findings of the
 *      model pass that repeat a converted validator finding (same rule and
 *      line);
 *   3. psc_lint_model() without the input buffer reports the same findings
 *      with every column 0;
 *   4. the rule table: every id looks up to its rule, has a summary and a
 *      valid default severity;
 *   5. cardinality (promscope/card.h) over the model added twice: totals
 *      and shares add up, families and labels come in report order, the
 *      examples are distinct values, unbounded follows its definition, and
 *      every id example is classified as its kind;
 *   6. with the n-th allocation failing, psc_lint_buffer() and
 *      psc_card_add() return PSC_E_NOMEM cleanly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util/alloc.h"

const char fz_target[] = "lint";

static uint64_t g_ignore_mask; /* a family is ignored when (hash & mask) == 0 */

static bool ignore_name(const char *name, size_t len)
{
    return g_ignore_mask && (fz_hash(name, len) & g_ignore_mask) == 0;
}

static bool ignore_cb(void *ctx, const char *name, size_t len)
{
    if (name[len] != '\0')
        fz_broken("ignore callback: name of %zu bytes not NUL-terminated", len);
    (void)ctx;
    return ignore_name(name, len);
}

static void check_rule_table(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    for (int r = 0; r < PSC_LINT__COUNT; r++) {
        const char *id = psc_lint_rule_name((psc_lint_rule)r);
        psc_lint_rule back;
        if (!psc_lint_rule_lookup((psc_str){id, strlen(id)}, &back) || back != (psc_lint_rule)r)
            fz_broken("lint rule '%s' does not look up to itself", id);
        const char *sum = psc_lint_rule_summary((psc_lint_rule)r);
        if (!sum || !sum[0])
            fz_broken("lint rule '%s' without summary", id);
        psc_severity sev = psc_lint_rule_default_severity((psc_lint_rule)r);
        if (sev != PSC_SEV_INFO && sev != PSC_SEV_WARNING && sev != PSC_SEV_ERROR)
            fz_broken("lint rule '%s' default severity %d", id, (int)sev);
    }
}

/* A configuration drawn from the seed; `defaults` gives psc_lint_opts_init. */
static void draw_opts(psc_lint_opts *o, uint64_t seed, bool defaults)
{
    psc_lint_opts_init(o);
    g_ignore_mask = 0;
    if (defaults)
        return;
    for (int r = 0; r < PSC_LINT__COUNT; r++) {
        uint64_t x = fz_hash(&seed, sizeof seed) ^ (uint64_t)r * 0x9e3779b97f4a7c15ull;
        x = fz_hash(&x, sizeof x);
        o->enabled[r] = (x & 7) != 0;
        o->severity[r] = (psc_severity)((x >> 3) % 3);
    }
    o->max_series_per_metric = 1 + seed % 5;
    o->max_label_values = 1 + (seed >> 4) % 4;
    o->max_series = 1 + (seed >> 8) % 20;
    o->unbounded_min_values = 1 + (seed >> 12) % 3;
    g_ignore_mask = (seed >> 16) & 1 ? 3 : 0;
    o->ignore = ignore_cb;
    o->ignore_ctx = NULL;
}

static void check_findings(const psc_diag_list *l, const char *buf, size_t len, const psc_lint_opts *o,
                           const psc_model *m)
{
    fz_check_diags(l, buf, len);
    for (size_t i = 0; i < l->count; i++) {
        const psc_diag *d = &l->items[i];
        psc_lint_rule r;
        if (!psc_lint_rule_lookup((psc_str){d->rule, strlen(d->rule)}, &r))
            fz_broken("lint finding of rule '%s', which is not a lint rule", d->rule);
        if (!o->enabled[r])
            fz_broken("finding of the disabled rule '%s': %s", d->rule, d->message);
        if (r == PSC_LINT_PARSE) {
            if (d->severity == PSC_SEV_ERROR && o->severity[r] != PSC_SEV_ERROR)
                fz_broken("parse error finding with severity error, configured %s",
                          psc_severity_name(o->severity[r]));
        } else {
            if (d->severity != o->severity[r])
                fz_broken("finding of '%s' with severity %s, configured %s: %s", d->rule,
                          psc_severity_name(d->severity), psc_severity_name(o->severity[r]), d->message);
            size_t ml = strlen(d->metric);
            if (ml && ignore_name(d->metric, ml) && psc_model_find_family(m, (psc_str){d->metric, ml}))
                fz_broken("finding of '%s' for the ignored family '%s': %s", d->rule, d->metric, d->message);
        }
        if (i && (d->line < l->items[i - 1].line ||
                  (d->line == l->items[i - 1].line && d->column < l->items[i - 1].column)))
            fz_broken("lint findings not sorted by position");
    }
}

static bool same_finding(const psc_diag *a, const psc_diag *b, bool columns)
{
    return a->severity == b->severity && strcmp(a->rule, b->rule) == 0 && a->line == b->line &&
           (!columns || (a->column == b->column && a->offset == b->offset)) && strcmp(a->metric, b->metric) == 0 &&
           strcmp(a->message, b->message) == 0;
}

static bool mappable(const char *rule)
{
    return strcmp(rule, "duplicate-series") == 0 || strcmp(rule, "histogram-consistency") == 0 ||
           strcmp(rule, "summary-consistency") == 0 || strcmp(rule, "info-value") == 0;
}

/* psc_lint_buffer() against its documented steps. */
static void check_steps(const char *buf, size_t len, const psc_lint_opts *o, const psc_diag_list *whole)
{
    psc_model *m = NULL;
    psc_diag_list pd, conv, mod, nobuf;
    psc_diag_list_init(&pd);
    psc_diag_list_init(&conv);
    psc_diag_list_init(&mod);
    psc_diag_list_init(&nobuf);
    if (psc_model_parse(buf, len, NULL, &m, &pd) == PSC_E_NOMEM)
        goto out;
    if (psc_lint_parse_findings(&pd, o, &conv) != PSC_OK || psc_lint_model(m, buf, len, o, &mod) != PSC_OK ||
        psc_lint_model(m, NULL, 0, o, &nobuf) != PSC_OK)
        goto out;
    fz_check_diags(&conv, buf, len);
    fz_check_diags(&mod, buf, len);
    /* without the buffer: the same findings, columns 0 */
    if (nobuf.count != mod.count)
        fz_broken("psc_lint_model found %zu without the buffer, %zu with it", nobuf.count, mod.count);
    for (size_t i = 0; i < mod.count; i++) {
        if (nobuf.items[i].column != 0)
            fz_broken("psc_lint_model without the buffer gives column %llu [%s]",
                      (unsigned long long)nobuf.items[i].column, nobuf.items[i].rule);
        if (!same_finding(&nobuf.items[i], &mod.items[i], false))
            fz_broken("psc_lint_model without the buffer: finding %zu '%s [%s]' against '%s [%s]'", i,
                      nobuf.items[i].message, nobuf.items[i].rule, mod.items[i].message, mod.items[i].rule);
    }
    /* every finding of the steps is in the whole, unless it repeats a
     * converted one; every finding of the whole comes from the steps */
    size_t expect = conv.count;
    for (size_t i = 0; i < mod.count; i++) {
        bool dup = false;
        for (size_t k = 0; k < conv.count && !dup; k++)
            dup = mappable(mod.items[i].rule) && conv.items[k].line == mod.items[i].line &&
                  strcmp(conv.items[k].rule, mod.items[i].rule) == 0;
        expect += !dup;
    }
    if (whole->count != expect)
        fz_broken("psc_lint_buffer found %zu, its steps %zu (%zu converted, %zu of the model)", whole->count,
                  expect, conv.count, mod.count);
    for (size_t i = 0; i < whole->count; i++) {
        bool found = false;
        for (size_t k = 0; k < conv.count && !found; k++)
            found = same_finding(&whole->items[i], &conv.items[k], true);
        for (size_t k = 0; k < mod.count && !found; k++)
            found = same_finding(&whole->items[i], &mod.items[k], true);
        if (!found)
            fz_broken("psc_lint_buffer finding '%s [%s]' comes from none of its steps", whole->items[i].message,
                      whole->items[i].rule);
    }
out:
    psc_model_free(m);
    psc_diag_list_release(&pd);
    psc_diag_list_release(&conv);
    psc_diag_list_release(&mod);
    psc_diag_list_release(&nobuf);
}

static void check_value_kind(psc_str v)
{
    psc_value_kind k = psc_value_classify(v);
    fz_mix(k);
    fz_mix_cstr(psc_value_kind_name(k), "psc_value_kind_name");
    if ((int)k < PSC_VALUE_PLAIN || k > PSC_VALUE_URL_PATH)
        fz_broken("psc_value_classify returned %d", (int)k);
    if (k == PSC_VALUE_UUID && v.len != 36)
        fz_broken("uuid of %zu bytes", v.len);
    if (k == PSC_VALUE_HEX && v.len < 16)
        fz_broken("hex id of %zu bytes", v.len);
    if (k == PSC_VALUE_EMAIL && !memchr(v.ptr, '@', v.len))
        fz_broken("email without '@'");
    if (k == PSC_VALUE_URL_PATH && !(v.len && (v.ptr[0] == '/' || memchr(v.ptr, ':', v.len))))
        fz_broken("url-path '%.*s' without '/' or scheme", (int)v.len, v.ptr);
}

static int name_cmp(psc_str a, psc_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return c ? c : (a.len < b.len ? -1 : a.len > b.len);
}

static void check_card(const psc_model *m, bool by_label, uint64_t min_values)
{
    psc_card_opts co;
    psc_card_opts_init(&co);
    co.by_label = by_label;
    co.unbounded_min_values = min_values;
    psc_card *c = psc_card_new(&co);
    if (!c)
        return;
    psc_error err;
    psc_error_clear(&err);
    if (psc_card_add(c, m, &err) != PSC_OK || psc_card_add(c, m, &err) != PSC_OK) {
        psc_card_free(c);
        return;
    }
    uint64_t total = psc_card_total_series(c);
    if (total != 2 * (uint64_t)psc_model_series_count(m))
        fz_broken("cardinality total %llu of a model of %zu series added twice", (unsigned long long)total,
                  psc_model_series_count(m));
    size_t nf = psc_card_family_count(c);
    uint64_t sum = 0;
    double share = 0;
    for (size_t i = 0; i < nf; i++) {
        const psc_card_family *f = psc_card_family_at(c, i);
        if (!f)
            fz_broken("psc_card_family_at(%zu) of %zu is NULL", i, nf);
        fz_mix_str(f->name);
        fz_mix(f->type);
        fz_mix(f->series);
        fz_mix_double(f->share);
        if (f->name.ptr[f->name.len] != '\0')
            fz_broken("cardinality family name not NUL-terminated");
        sum += f->series;
        share += f->share;
        if (f->share < 0 || f->share > 1)
            fz_broken("cardinality share %g", f->share);
        if (i) {
            const psc_card_family *p = psc_card_family_at(c, i - 1);
            if (p->series < f->series || (p->series == f->series && name_cmp(p->name, f->name) >= 0))
                fz_broken("cardinality families not in report order at %zu", i);
        }
        if (!psc_model_find_family(m, f->name))
            fz_broken("cardinality family '%.*s' is not in the model", (int)f->name.len, f->name.ptr);
    }
    if (psc_card_family_at(c, nf))
        fz_broken("psc_card_family_at(count) is not NULL");
    if (sum != total)
        fz_broken("cardinality families hold %llu series, total %llu", (unsigned long long)sum,
                  (unsigned long long)total);
    if (total && fabs(share - 1) > 1e-9)
        fz_broken("cardinality shares add up to %.17g", share);
    size_t nl = psc_card_label_count(c);
    if (!by_label && nl)
        fz_broken("%zu label statistics without by_label", nl);
    for (size_t i = 0; i < nl; i++) {
        const psc_card_label *l = psc_card_label_at(c, i);
        if (!l)
            fz_broken("psc_card_label_at(%zu) of %zu is NULL", i, nl);
        fz_mix_str(l->name);
        fz_mix(l->values);
        fz_mix(l->series);
        fz_mix(l->nexamples);
        fz_mix(l->id_values);
        fz_mix(l->id_kind);
        fz_mix_str(l->id_example);
        fz_mix(l->unbounded);
        if (l->values == 0 || l->values > l->series || l->series > total)
            fz_broken("label '%.*s': %llu values in %llu series of %llu", (int)l->name.len, l->name.ptr,
                      (unsigned long long)l->values, (unsigned long long)l->series, (unsigned long long)total);
        if (l->nexamples > PSC_CARD_MAX_EXAMPLES || l->nexamples > l->values ||
            (l->nexamples < PSC_CARD_MAX_EXAMPLES && l->nexamples != l->values))
            fz_broken("label '%.*s': %zu examples of %llu values", (int)l->name.len, l->name.ptr, l->nexamples,
                      (unsigned long long)l->values);
        for (size_t a = 0; a < l->nexamples; a++) {
            fz_mix_str(l->examples[a]);
            check_value_kind(l->examples[a]);
            for (size_t b = 0; b < a; b++)
                if (psc_str_eq(l->examples[a], l->examples[b]))
                    fz_broken("label '%.*s': example value twice", (int)l->name.len, l->name.ptr);
        }
        if (l->id_values > l->values)
            fz_broken("label '%.*s': %llu id-like of %llu values", (int)l->name.len, l->name.ptr,
                      (unsigned long long)l->id_values, (unsigned long long)l->values);
        if ((l->id_values == 0) != (l->id_kind == PSC_VALUE_PLAIN) || (l->id_values == 0) != (l->id_example.ptr == NULL))
            fz_broken("label '%.*s': %llu id-like values, kind %s", (int)l->name.len, l->name.ptr,
                      (unsigned long long)l->id_values, psc_value_kind_name(l->id_kind));
        if (l->id_values && psc_value_classify(l->id_example) != l->id_kind)
            fz_broken("label '%.*s': id example is %s, kind says %s", (int)l->name.len, l->name.ptr,
                      psc_value_kind_name(psc_value_classify(l->id_example)), psc_value_kind_name(l->id_kind));
        bool bound = (l->name.len == 2 && memcmp(l->name.ptr, "le", 2) == 0) ||
                     (l->name.len == 8 && memcmp(l->name.ptr, "quantile", 8) == 0);
        bool unb = l->id_values >= min_values && l->id_values * 2 >= l->values;
        if (l->unbounded && (bound || !unb))
            fz_broken("label '%.*s' called unbounded with %llu id-like of %llu values (min %llu)", (int)l->name.len,
                      l->name.ptr, (unsigned long long)l->id_values, (unsigned long long)l->values,
                      (unsigned long long)min_values);
        if (!l->unbounded && unb && !bound)
            fz_broken("label '%.*s' not called unbounded with %llu id-like of %llu values (min %llu)",
                      (int)l->name.len, l->name.ptr, (unsigned long long)l->id_values,
                      (unsigned long long)l->values, (unsigned long long)min_values);
        if (i) {
            const psc_card_label *p = psc_card_label_at(c, i - 1);
            if (p->values < l->values || (p->values == l->values && p->series < l->series) ||
                (p->values == l->values && p->series == l->series && name_cmp(p->name, l->name) >= 0))
                fz_broken("cardinality labels not in report order at %zu", i);
        }
    }
    psc_card_free(c);
}

static void oom(const char *buf, size_t len, const psc_lint_opts *o, uint64_t seed)
{
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_alloc_fail_after(0);
    psc_status st = psc_lint_buffer(buf, len, NULL, o, &d);
    long n = psc_alloc_count();
    psc_diag_list_release(&d);
    if (st != PSC_OK || n <= 0)
        return;
    psc_alloc_fail_after(1 + (long)(seed % (uint64_t)n));
    st = psc_lint_buffer(buf, len, NULL, o, &d);
    psc_alloc_fail_after(0);
    if (st != PSC_OK && st != PSC_E_NOMEM)
        fz_broken("psc_lint_buffer with an allocation failing returned %s", psc_status_name(st));
    psc_diag_list_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    check_rule_table();
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    uint64_t seed = fz_hash(buf, size);
    psc_model *m = NULL;
    psc_diag_list pd;
    psc_diag_list_init(&pd);
    if (psc_model_parse(buf, size, NULL, &m, &pd) == PSC_E_NOMEM)
        goto out;
    for (int pass = 0; pass < 2; pass++) {
        psc_lint_opts o;
        draw_opts(&o, seed, pass == 0);
        psc_diag_list l;
        psc_diag_list_init(&l);
        psc_status st = psc_lint_buffer(buf, size, NULL, &o, &l);
        if (st != PSC_OK && st != PSC_E_NOMEM)
            fz_broken("psc_lint_buffer returned %s", psc_status_name(st));
        if (st == PSC_OK) {
            check_findings(&l, buf, size, &o, m);
            check_steps(buf, size, &o, &l);
        }
        psc_diag_list_release(&l);
        if (pass == 1)
            oom(buf, size, &o, seed);
    }
    for (size_t i = 0; i < psc_model_family_count(m); i++) {
        const psc_family *f = psc_model_family(m, i);
        for (size_t j = 0; j < f->nmetrics; j++)
            for (size_t k = 0; k < f->metrics[j].nlabels; k++)
                check_value_kind(f->metrics[j].labels[k].value);
    }
    check_card(m, true, 1 + seed % 3);
    check_card(m, false, 2);
out:
    psc_model_free(m);
    psc_diag_list_release(&pd);
    free(buf);
    return 0;
}
