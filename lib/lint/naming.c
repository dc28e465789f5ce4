/*
 * Naming and metadata rules. The first group has the semantics of
 * client_golang's promlint (what `promtool check metrics` runs), with the
 * same unit, prefix and abbreviation tables; the rest follow the Prometheus
 * naming conventions (prometheus.io "Metric and label naming") and
 * reference/OpenMetrics-1.0.md "Metric types".
 */
#include <string.h>

#include "lint/internal.h"
#include "util/alloc.h"
#include "util/hash.h"

/* promlint's unit table: unit -> base unit. */
static const struct {
    const char *unit, *base;
} units[] = {
    {"amperes", "amperes"}, {"bytes", "bytes"},     {"celsius", "celsius"},  {"grams", "grams"},
    {"joules", "joules"},   {"kelvin", "kelvin"},   {"meters", "meters"},    {"metres", "metres"},
    {"seconds", "seconds"}, {"volts", "volts"},     {"minutes", "seconds"},  {"hours", "seconds"},
    {"days", "seconds"},    {"weeks", "seconds"},   {"kelvins", "kelvin"},   {"fahrenheit", "celsius"},
    {"rankine", "celsius"}, {"inches", "meters"},   {"yards", "meters"},     {"miles", "meters"},
    {"bits", "bytes"},      {"calories", "joules"}, {"pounds", "grams"},     {"ounces", "grams"},
};

/* promlint's prefixes ("mibi" is promlint's spelling, kept for parity). */
static const char *const unit_prefixes[] = {
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo",
    "kibi", "mega", "mibi", "giga",  "gibi",  "tera", "tebi", "peta",  "pebi",
};

/* promlint's discouraged abbreviations. */
static const char *const unit_abbreviations[] = {
    "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
};

static const char *unit_base(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].unit) == n && memcmp(units[i].unit, w, n) == 0)
            return units[i].base;
    return NULL;
}

/* The first word of the name that is a known unit, bare or with a prefix. */
static bool find_unit(psc_str name, psc_str *unit, const char **base)
{
    const char *p = name.ptr, *end = name.ptr + name.len;
    while (p <= end) {
        const char *us = memchr(p, '_', (size_t)(end - p));
        const char *we = us ? us : end;
        size_t n = (size_t)(we - p);
        const char *b = unit_base(p, n);
        if (b) {
            *unit = (psc_str){p, n};
            *base = b;
            return true;
        }
        for (size_t k = 0; k < sizeof unit_prefixes / sizeof unit_prefixes[0]; k++) {
            size_t pl = strlen(unit_prefixes[k]);
            if (n > pl && memcmp(p, unit_prefixes[k], pl) == 0 && (b = unit_base(p + pl, n - pl))) {
                *unit = (psc_str){p, n};
                *base = b;
                return true;
            }
        }
        if (!us)
            break;
        p = us + 1;
    }
    return false;
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* Does lowercase(name) contain "_w_" or end with "_w"? */
static bool has_word(psc_str name, const char *w)
{
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl + 1 <= name.len; i++) {
        if (name.ptr[i] != '_')
            continue;
        size_t k = 0;
        while (k < wl && lower(name.ptr[i + 1 + k]) == w[k])
            k++;
        if (k < wl)
            continue;
        size_t after = i + 1 + wl;
        if (after == name.len || name.ptr[after] == '_')
            return true;
    }
    return false;
}

static bool camel(psc_str s)
{
    for (size_t i = 0; i + 1 < s.len; i++)
        if (s.ptr[i] >= 'a' && s.ptr[i] <= 'z' && s.ptr[i + 1] >= 'A' && s.ptr[i + 1] <= 'Z')
            return true;
    return false;
}

static bool untyped_like(psc_metric_type t)
{
    return t == PSC_TYPE_UNTYPED || t == PSC_TYPE_UNKNOWN;
}

static bool histogram_like(psc_metric_type t)
{
    return t == PSC_TYPE_HISTOGRAM || t == PSC_TYPE_GAUGEHISTOGRAM;
}

/* Labels seen in one family, to report each label rule once per name. */
typedef struct seen_labels {
    psc_str *names;
    unsigned *flags;
    size_t count, cap;
} seen_labels;

enum {
    SEEN_CAMEL = 1,
    SEEN_LE = 2,
    SEEN_QUANTILE = 4,
    SEEN_RESERVED = 8,
};

/* Returns true when `flag` was not yet recorded for label `n` (and records it). */
static bool first_time(lint_ctx *c, seen_labels *s, psc_str n, unsigned flag)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->names[i].len == n.len && memcmp(s->names[i].ptr, n.ptr, n.len) == 0) {
            if (s->flags[i] & flag)
                return false;
            s->flags[i] |= flag;
            return true;
        }
    }
    size_t cap = s->cap;
    if (psc_grow((void **)&s->names, &s->cap, s->count + 1, sizeof *s->names) ||
        psc_grow((void **)&s->flags, &cap, s->count + 1, sizeof *s->flags)) {
        c->st = PSC_E_NOMEM;
        return false;
    }
    s->names[s->count] = n;
    s->flags[s->count++] = flag;
    return true;
}

static const char *type_word(psc_metric_type t, const char **alt)
{
    *alt = NULL;
    switch (t) {
    case PSC_TYPE_COUNTER: return "counter";
    case PSC_TYPE_GAUGE: return "gauge";
    case PSC_TYPE_HISTOGRAM: return "histogram";
    case PSC_TYPE_SUMMARY: return "summary";
    case PSC_TYPE_GAUGEHISTOGRAM:
        *alt = "gauge_histogram";
        return "gaugehistogram";
    case PSC_TYPE_STATESET: return "stateset";
    default: return NULL; /* untyped, unknown; info requires its _info suffix */
    }
}

static void label_rules(lint_ctx *c, const psc_family *f)
{
    seen_labels seen = {0};
    psc_str fname = f->name;
    const char *tname = psc_metric_type_name(f->type);
    /* Label rules look at every label name once per family, at its first line. */
    const psc_label *last = NULL; /* a label array already looked at (shared by a metric's samples) */
    for (size_t j = 0; j < f->nmetrics && c->st == PSC_OK; j++) {
        const psc_metric *mt = &f->metrics[j];
        for (size_t k = 0; k < mt->nsamples && c->st == PSC_OK; k++) {
            const psc_sample *s = &mt->samples[k];
            if (s->labels == last)
                continue;
            last = s->labels;
            for (size_t l = 0; l < s->nlabels && c->st == PSC_OK; l++) {
                psc_str ln = s->labels[l].name;
                if (lint_on(c, PSC_LINT_CAMEL_CASE) && camel(ln) &&
                    first_time(c, &seen, ln, SEEN_CAMEL))
                    lint_emit(c, PSC_LINT_CAMEL_CASE, fname, s->line, lint_col_label(c, s->line, ln),
                              "label name '%s' of metric '%s' should be snake_case, not camelCase",
                              lint_q(c, 0, ln), lint_q(c, 1, fname));
                if (lint_on(c, PSC_LINT_RESERVED_LABEL) && !untyped_like(f->type)) {
                    if (lint_str_is(ln, "le") && !histogram_like(f->type) &&
                        first_time(c, &seen, ln, SEEN_LE))
                        lint_emit(c, PSC_LINT_RESERVED_LABEL, fname, s->line,
                                  lint_col_label(c, s->line, ln),
                                  "%s '%s' should not have the label 'le' (reserved for histogram buckets)",
                                  tname, lint_q(c, 0, fname));
                    if (lint_str_is(ln, "quantile") && f->type != PSC_TYPE_SUMMARY &&
                        first_time(c, &seen, ln, SEEN_QUANTILE))
                        lint_emit(c, PSC_LINT_RESERVED_LABEL, fname, s->line,
                                  lint_col_label(c, s->line, ln),
                                  "%s '%s' should not have the label 'quantile' (reserved for summaries)",
                                  tname, lint_q(c, 0, fname));
                }
                if (lint_on(c, PSC_LINT_RESERVED_LABEL_NAME) && ln.len >= 2 && ln.ptr[0] == '_' &&
                    ln.ptr[1] == '_' && first_time(c, &seen, ln, SEEN_RESERVED))
                    lint_emit(c, PSC_LINT_RESERVED_LABEL_NAME, fname, s->line,
                              lint_col_label(c, s->line, ln),
                              "label name '%s' of metric '%s' starts with '__', which is reserved for "
                              "Prometheus' internal use",
                              lint_q(c, 0, ln), lint_q(c, 1, fname));
            }
        }
    }
    psc_free(seen.names);
    psc_free(seen.flags);
}

void lint_naming(lint_ctx *c, const psc_family *f)
{
    psc_str n = f->name;
    uint64_t line = f->line;
    const char *q = lint_q(c, 3, n);
    psc_metric_type t = f->type;
    const char *tname = psc_metric_type_name(t);

    if (!f->has_help)
        lint_emit(c, PSC_LINT_HELP_MISSING, n, line, lint_col_name(c, line),
                  "metric '%s' has no HELP text", q);
    if (!f->has_type)
        lint_emit(c, PSC_LINT_UNTYPED, n, line, lint_col_name(c, line), "metric '%s' has no TYPE", q);

    psc_str unit;
    const char *base;
    if (find_unit(n, &unit, &base) && !lint_str_is(unit, base))
        lint_emit(c, PSC_LINT_BASE_UNIT, n, line, lint_col_name(c, line),
                  "metric '%s' should use the base unit \"%s\" instead of \"%s\"", q, base,
                  lint_q(c, 0, unit));

    bool total = lint_has_suffix(n, "_total");
    /* OpenMetrics puts _total on the samples, never on the family name. */
    if (t == PSC_TYPE_COUNTER && !total && c->fmt != PSC_FORMAT_OPENMETRICS_1_0)
        lint_emit(c, PSC_LINT_COUNTER_TOTAL, n, line, lint_col_name(c, line),
                  "counter '%s' should have the suffix '_total'", q);
    if (total && t != PSC_TYPE_COUNTER && !untyped_like(t))
        lint_emit(c, PSC_LINT_NON_COUNTER_TOTAL, n, line, lint_col_name(c, line),
                  "%s '%s' should not have the suffix '_total' (reserved for counters)", tname, q);

    if (!untyped_like(t)) {
        if (!histogram_like(t) && lint_has_suffix(n, "_bucket"))
            lint_emit(c, PSC_LINT_RESERVED_SUFFIX, n, line, lint_col_name(c, line),
                      "%s '%s' should not have the suffix '_bucket' (reserved for histograms)", tname, q);
        if (!histogram_like(t) && t != PSC_TYPE_SUMMARY && lint_has_suffix(n, "_count"))
            lint_emit(c, PSC_LINT_RESERVED_SUFFIX, n, line, lint_col_name(c, line),
                      "%s '%s' should not have the suffix '_count' (reserved for histograms and "
                      "summaries)",
                      tname, q);
        if (!histogram_like(t) && t != PSC_TYPE_SUMMARY && lint_has_suffix(n, "_sum"))
            lint_emit(c, PSC_LINT_RESERVED_SUFFIX, n, line, lint_col_name(c, line),
                      "%s '%s' should not have the suffix '_sum' (reserved for histograms and "
                      "summaries)",
                      tname, q);
        if ((t == PSC_TYPE_GAUGE || t == PSC_TYPE_INFO || t == PSC_TYPE_STATESET) &&
            lint_has_suffix(n, "_created"))
            lint_emit(c, PSC_LINT_RESERVED_SUFFIX, n, line, lint_col_name(c, line),
                      "%s '%s' should not have the suffix '_created' (reserved for creation "
                      "timestamps of counters, histograms and summaries)",
                      tname, q);
    }

    const char *alt;
    const char *tw = type_word(t, &alt);
    if (tw && (has_word(n, tw) || (alt && has_word(n, alt))))
        lint_emit(c, PSC_LINT_TYPE_IN_NAME, n, line, lint_col_name(c, line),
                  "metric '%s' should not include its type '%s' in the name", q,
                  has_word(n, tw) ? tw : alt);

    if (memchr(n.ptr, ':', n.len))
        lint_emit(c, PSC_LINT_COLON_IN_NAME, n, line, lint_col_name(c, line),
                  "metric '%s' should not contain ':' (reserved for recording rules)", q);

    if (camel(n))
        lint_emit(c, PSC_LINT_CAMEL_CASE, n, line, lint_col_name(c, line),
                  "metric name '%s' should be snake_case, not camelCase", q);

    for (size_t i = 0; i < sizeof unit_abbreviations / sizeof unit_abbreviations[0]; i++) {
        if (has_word(n, unit_abbreviations[i])) {
            lint_emit(c, PSC_LINT_UNIT_ABBREVIATION, n, line, lint_col_name(c, line),
                      "metric '%s' should not use the abbreviated unit '%s'; spell out the base unit",
                      q, unit_abbreviations[i]);
            break;
        }
    }

    if (has_word(n, "percent") || has_word(n, "percentage") || has_word(n, "pct") ||
        lint_str_is(f->unit, "percent"))
        lint_emit(c, PSC_LINT_PERCENT_UNIT, n, line, lint_col_name(c, line),
                  "metric '%s' is a percentage; expose a ratio from 0 to 1 with the suffix '_ratio'",
                  q);

    label_rules(c, f);
}

/* ---- escaping-collision ---- */

static bool legacy_char(unsigned char ch, bool first)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':' ||
           (!first && ch >= '0' && ch <= '9');
}

static bool needs_escaping(psc_str s)
{
    if (!s.len)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!legacy_char((unsigned char)s.ptr[i], i == 0))
            return true;
    return false;
}

/* Underscores escaping (prometheus-docs_escaping_schemes.md "Underscore
 * Escaping"): every code point outside the legacy set becomes one '_'; so
 * does a leading digit. Invalid UTF-8 bytes count as one code point each. */
static int escape_underscores(psc_buf *b, psc_str s)
{
    b->len = 0;
    for (size_t i = 0; i < s.len;) {
        unsigned char ch = (unsigned char)s.ptr[i];
        size_t l = 1;
        if (ch >= 0xc0) {
            l = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
            size_t k = 1;
            while (k < l && i + k < s.len && ((unsigned char)s.ptr[i + k] & 0xc0) == 0x80)
                k++;
            l = k;
        }
        if (psc_buf_putc(b, ch < 0x80 && legacy_char(ch, i == 0) ? (char)ch : '_'))
            return -1;
        i += l;
    }
    return psc_buf_putc(b, '\0');
}

struct esc_entry {
    char *escaped;
    size_t len;
    size_t family;
};

struct esc_key {
    const struct esc_entry *e;
    const char *s;
    size_t len;
};

static bool esc_eq(void *ctx, uint32_t id)
{
    const struct esc_key *k = ctx;
    return k->e[id].len == k->len && memcmp(k->e[id].escaped, k->s, k->len) == 0;
}

static void family_collisions(lint_ctx *c)
{
    size_t nf = psc_model_family_count(c->m);
    bool any = false;
    for (size_t i = 0; i < nf && !any; i++)
        any = needs_escaping(psc_model_family(c->m, i)->name);
    if (!any)
        return;
    struct esc_entry *e = psc_calloc(nf, sizeof *e);
    psc_hidx idx;
    psc_hidx_init(&idx);
    psc_buf b = {0};
    uint64_t seed = psc_hash_seed();
    size_t ne = 0;
    if (!e) {
        c->st = PSC_E_NOMEM;
        return;
    }
    for (size_t i = 0; i < nf && c->st == PSC_OK; i++) {
        const psc_family *f = psc_model_family(c->m, i);
        if (escape_underscores(&b, f->name)) {
            c->st = PSC_E_NOMEM;
            break;
        }
        size_t len = b.len - 1;
        uint64_t h = psc_hash_bytes(b.data, len, seed);
        struct esc_key k = {e, b.data, len};
        uint32_t id = psc_hidx_find(&idx, h, esc_eq, &k);
        if (id != UINT32_MAX) {
            const psc_family *g = psc_model_family(c->m, e[id].family);
            if (!c->ignored[i] && !psc_str_eq(g->name, f->name))
                lint_emit(c, PSC_LINT_ESCAPING_COLLISION, f->name, f->line, lint_col_name(c, f->line),
                          "metrics '%s' (line %llu) and '%s' both become '%s' under underscores "
                          "escaping",
                          lint_q(c, 0, g->name), (unsigned long long)g->line, lint_q(c, 1, f->name),
                          lint_q(c, 2, (psc_str){b.data, len}));
            continue;
        }
        e[ne].escaped = psc_malloc(len + 1);
        if (!e[ne].escaped || psc_hidx_insert(&idx, h, (uint32_t)ne)) {
            psc_free(e[ne].escaped);
            e[ne].escaped = NULL;
            c->st = PSC_E_NOMEM;
            break;
        }
        memcpy(e[ne].escaped, b.data, len + 1);
        e[ne].len = len;
        e[ne].family = i;
        ne++;
    }
    for (size_t i = 0; i < ne; i++)
        psc_free(e[i].escaped);
    psc_free(e);
    psc_hidx_release(&idx);
    psc_buf_release(&b);
}

static void label_collisions(lint_ctx *c, const psc_family *f)
{
    psc_buf a = {0}, b = {0};
    /* one finding per family is enough: the same label pair repeats on every series */
    const psc_label *last = NULL; /* samples of a metric share its label array: check it once */
    for (size_t j = 0; j < f->nmetrics && c->st == PSC_OK; j++) {
        const psc_metric *mt = &f->metrics[j];
        for (size_t k = 0; k < mt->nsamples && c->st == PSC_OK; k++) {
            const psc_sample *s = &mt->samples[k];
            if (s->labels == last)
                continue;
            last = s->labels;
            for (size_t x = 0; x < s->nlabels; x++) {
                if (!needs_escaping(s->labels[x].name))
                    continue;
                if (escape_underscores(&a, s->labels[x].name)) {
                    c->st = PSC_E_NOMEM;
                    goto out;
                }
                for (size_t y = 0; y < s->nlabels; y++) {
                    if (y == x)
                        continue;
                    if (escape_underscores(&b, s->labels[y].name)) {
                        c->st = PSC_E_NOMEM;
                        goto out;
                    }
                    if (a.len == b.len && memcmp(a.data, b.data, a.len) == 0) {
                        size_t later = x > y ? x : y, earlier = x > y ? y : x;
                        lint_emit(c, PSC_LINT_ESCAPING_COLLISION, f->name, s->line,
                                  lint_col_label(c, s->line, s->labels[later].name),
                                  "labels '%s' and '%s' of metric '%s' both become '%s' under "
                                  "underscores escaping",
                                  lint_q(c, 0, s->labels[earlier].name),
                                  lint_q(c, 1, s->labels[later].name), lint_q(c, 2, f->name),
                                  lint_q(c, 3, (psc_str){a.data, a.len - 1}));
                        goto out;
                    }
                }
            }
        }
    }
out:
    psc_buf_release(&a);
    psc_buf_release(&b);
}

void lint_escaping(lint_ctx *c)
{
    if (!lint_on(c, PSC_LINT_ESCAPING_COLLISION))
        return;
    family_collisions(c);
    size_t nf = psc_model_family_count(c->m);
    for (size_t i = 0; i < nf && c->st == PSC_OK; i++)
        if (!c->ignored[i])
            label_collisions(c, psc_model_family(c->m, i));
}
