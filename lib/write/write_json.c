/*
 * JSON output in the schema of prom2json (github.com/prometheus/prom2json):
 *
 *   [{"name":..., "help":..., "type":"COUNTER", "metrics":[
 *       {"labels":{...}, "timestamp_ms":"...", "value":"..."}, ...]}, ...]
 *
 * histograms {labels, timestamp_ms, buckets:{"0.5":"3",...}, count, sum},
 * summaries {labels, timestamp_ms, quantiles:{...}, count, sum}; every
 * number a string. Like Go's encoding/json (which prom2json uses): compact,
 * map keys sorted bytewise, empty maps and absent timestamps left out, <, >
 * and & escaped. Numbers are rendered as Go's fmt.Sprint renders float64
 * and uint64. Where we deviate (absent _count/_sum left out rather than
 * "0"; OpenMetrics types) is written down in docs/convert.md.
 */
#include <math.h>
#include <string.h>

#include "fmtnum.h"
#include "util/alloc.h"
#include "writer.h"

typedef struct jentry {
    double value;
    size_t len;
    char text[32]; /* the le or quantile as Go prints it: the map key */
} jentry;

typedef struct jctx {
    wout *w;
    const psc_label **lab;
    size_t cap_lab;
    jentry *ent;
    size_t nent, cap_ent;
} jctx;

/* Length of a valid UTF-8 sequence at p, 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t l = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!l || l > n)
        return 0;
    for (size_t i = 1; i < l; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] >= 0x90))
        return 0;
    return l;
}

/* Bytes of x equal to c have their high bit set in the result (and
 * possibly a byte right after one: jplain_run scans again byte by byte). */
static inline uint64_t bytes_equal(uint64_t x, unsigned char c)
{
    uint64_t y = x ^ (0x0101010101010101u * c);
    return (y - 0x0101010101010101u) & ~y & 0x8080808080808080u;
}

/* Index of the first byte at or after i in p[0..n) that is not printable
 * ASCII left as is by jstr_body, or n; eight bytes at a time up to the
 * first word that may hold one. */
static size_t jplain_run(const unsigned char *p, size_t i, size_t n)
{
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t below_space = (x - 0x2020202020202020u) & ~x & 0x8080808080808080u;
        if ((x & 0x8080808080808080u) | below_space | bytes_equal(x, '"') | bytes_equal(x, '\\') |
            bytes_equal(x, '<') | bytes_equal(x, '>') | bytes_equal(x, '&'))
            break;
    }
    for (; i < n; i++) {
        unsigned c = p[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&')
            break;
    }
    return i;
}

/* The inside of a JSON string the way Go's encoding/json writes it. */
static void jstr_body(wout *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < n) {
        i = jplain_run(p, i, n);
        if (i == n)
            break;
        unsigned c = p[i];
        char esc[8];
        size_t el = 0, adv = 1;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            el = 2;
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
            el = 2;
        } else if (c < 0x80) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) {
                memcpy(esc, "\\ufffd", 6);
                el = 6;
            } else if (l == 3 && c == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
                memcpy(esc, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
                el = 6;
                adv = 3;
            } else {
                i += l;
                continue;
            }
        }
        wo_put(w, s + run, i - run);
        wo_put(w, esc, el);
        i += adv;
        run = i;
    }
    wo_put(w, s + run, n - run);
}

static void jstr(wout *w, const char *s, size_t n)
{
    wo_putc(w, '"');
    jstr_body(w, s, n);
    wo_putc(w, '"');
}

/* "k": preceded by a comma unless it is the first member of its object. */
static void jkey(wout *w, const char *k, bool *first)
{
    if (!*first)
        wo_putc(w, ',');
    *first = false;
    wo_putc(w, '"');
    wo_puts(w, k);
    wo_puts(w, "\":");
}

static int lab_cmp(const psc_label *a, const psc_label *b)
{
    size_t n = a->name.len < b->name.len ? a->name.len : b->name.len;
    int c = n ? memcmp(a->name.ptr, b->name.ptr, n) : 0;
    if (c)
        return c;
    return a->name.len < b->name.len ? -1 : a->name.len > b->name.len;
}

/* Sort by name, bytewise. A sample has a handful of labels, usually in
 * order already, and no two with the same name: an insertion sort. */
static void sort_labels(const psc_label **l, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const psc_label *x = l[i];
        size_t j = i;
        while (j > 0 && lab_cmp(l[j - 1], x) > 0) {
            l[j] = l[j - 1];
            j--;
        }
        l[j] = x;
    }
}

/* "labels":{...}, sorted by name; nothing when there are no labels. With
 * bound_of, the labels of that sample, its bound label included.
 * Returns false when out of memory. */
static bool jlabels(jctx *c, const psc_label *labels, size_t n, const psc_sample *bound_of,
                    bool *first)
{
    size_t k = 0;
    psc_label bl = {PSC_STR_NULL, PSC_STR_NULL};
    if (bound_of)
        bl = psc_sample_bound_label(bound_of);
    if (n + 1 > c->cap_lab && psc_grow((void **)&c->lab, &c->cap_lab, n + 1, sizeof *c->lab))
        return false;
    for (size_t i = 0; i < n; i++)
        c->lab[k++] = &labels[i];
    if (bl.name.ptr)
        c->lab[k++] = &bl;
    if (k == 0)
        return true;
    if (k > 1)
        sort_labels(c->lab, k);
    wout *w = c->w;
    jkey(w, "labels", first);
    wo_putc(w, '{');
    for (size_t i = 0; i < k; i++) {
        const psc_label *l = c->lab[i];
        if (i)
            wo_putc(w, ',');
        jstr(w, l->name.ptr, l->name.len);
        wo_putc(w, ':');
        /* a bucket's le and a quantile's quantile as Go prints the float */
        if (bound_of && !isnan(bound_of->bound) &&
            ((bound_of->kind == PSC_SAMPLE_BUCKET && l->name.len == 2 && memcmp(l->name.ptr, "le", 2) == 0) ||
             (bound_of->kind == PSC_SAMPLE_QUANTILE && l->name.len == 8 &&
              memcmp(l->name.ptr, "quantile", 8) == 0))) {
            size_t bn;
            const char *b = wo_bound(w, bound_of->bound, WB_TEXT, &bn);
            jstr(w, b, bn);
        } else {
            jstr(w, l->value.ptr, l->value.len);
        }
    }
    wo_putc(w, '}');
    return true;
}

static void jnum(wout *w, double v, bool count)
{
    char *o = wo_room(w, 2 + PSC_NUM_MAX);
    size_t n = 1;
    o[0] = '"';
    n += count && psc_double_is_count(v) ? psc_format_double_plain(v, o + 1) : psc_format_double(v, o + 1);
    o[n++] = '"';
    w->len += n;
}

static void jts(wout *w, bool has, int64_t ms, bool *first)
{
    if (!has)
        return;
    jkey(w, "timestamp_ms", first);
    char *o = wo_room(w, 2 + 24);
    size_t n = 1;
    o[0] = '"';
    n += psc_format_int64(ms, o + 1);
    o[n++] = '"';
    w->len += n;
}

/* Sort by text, bytewise (Go sorts map keys so). The entries of one object
 * have distinct bounds, hence distinct texts; a histogram has a dozen
 * buckets: an insertion sort. */
static void sort_entries(jentry *e, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (strcmp(e[i - 1].text, e[i].text) <= 0)
            continue;
        jentry x = e[i];
        size_t j = i;
        while (j > 0 && strcmp(e[j - 1].text, x.text) > 0) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = x;
    }
}

/* One histogram/summary object being collected. */
typedef struct jobj {
    bool any, has_count, has_sum, has_ts;
    double count, sum;
    int64_t ts;
    double last_key;
} jobj;

static bool jobj_flush(jctx *c, const psc_metric *mt, json_shape shape, jobj *o, bool *first)
{
    if (!o->any)
        return true;
    wout *w = c->w;
    if (!*first)
        wo_putc(w, ',');
    *first = false;
    wo_putc(w, '{');
    bool fm = true;
    if (!jlabels(c, mt->labels, mt->nlabels, NULL, &fm))
        return false;
    jts(w, o->has_ts, o->ts, &fm);
    if (c->nent) {
        sort_entries(c->ent, c->nent);
        jkey(w, shape == SHAPE_HISTOGRAM ? "buckets" : "quantiles", &fm);
        wo_putc(w, '{');
        for (size_t i = 0; i < c->nent; i++) {
            if (i)
                wo_putc(w, ',');
            jstr(w, c->ent[i].text, c->ent[i].len);
            wo_putc(w, ':');
            jnum(w, c->ent[i].value, shape == SHAPE_HISTOGRAM);
        }
        wo_putc(w, '}');
    }
    if (o->has_count) {
        jkey(w, "count", &fm);
        jnum(w, o->count, true);
    }
    if (o->has_sum) {
        jkey(w, "sum", &fm);
        jnum(w, o->sum, false);
    }
    wo_putc(w, '}');
    memset(o, 0, sizeof *o);
    c->nent = 0;
    return true;
}

/* Histogram or summary objects of one metric. A metric with several
 * points (OpenMetrics timestamps) gives one object per point: a new object
 * starts when a slot of the current one is taken again. */
static bool jpoints(jctx *c, const psc_metric *mt, const part *p, bool *first)
{
    jobj o;
    memset(&o, 0, sizeof o);
    c->nent = 0;
    for (size_t q = 0; q < mt->nsamples; q++) {
        const psc_sample *s = &mt->samples[q];
        if (!psc_part_selects(p->sel, s->kind))
            continue;
        bool keyed = s->kind == PSC_SAMPLE_BUCKET || s->kind == PSC_SAMPLE_QUANTILE;
        bool is_count = s->kind == PSC_SAMPLE_COUNT || s->kind == PSC_SAMPLE_GCOUNT;
        bool is_sum = s->kind == PSC_SAMPLE_SUM || s->kind == PSC_SAMPLE_GSUM;
        if (!keyed && !is_count && !is_sum)
            continue;
        bool taken = (keyed && c->nent && !(s->bound > o.last_key)) || (is_count && o.has_count) ||
                     (is_sum && o.has_sum);
        if (taken && !jobj_flush(c, mt, p->shape, &o, first))
            return false;
        if (keyed) {
            if (psc_grow((void **)&c->ent, &c->cap_ent, c->nent + 1, sizeof *c->ent))
                return false;
            jentry *e = &c->ent[c->nent++];
            e->value = s->value;
            size_t bn;
            const char *b = wo_bound(c->w, s->bound, WB_TEXT, &bn);
            memcpy(e->text, b, bn + 1);
            e->len = bn;
            o.last_key = s->bound;
        } else if (is_count) {
            o.has_count = true;
            o.count = s->value;
        } else {
            o.has_sum = true;
            o.sum = s->value;
        }
        if (!o.has_ts && s->has_timestamp) {
            o.has_ts = true;
            o.ts = s->timestamp_ms;
        }
        o.any = true;
    }
    return jobj_flush(c, mt, p->shape, &o, first);
}

static bool jpart(jctx *c, const psc_family *f, const part *p, bool *first_family)
{
    wout *w = c->w;
    if (!*first_family)
        wo_putc(w, ',');
    *first_family = false;
    wo_puts(w, "{\"name\":");
    wo_putc(w, '"');
    jstr_body(w, p->base.ptr, p->base.len);
    wo_puts(w, p->suffix); /* suffixes need no escaping */
    wo_putc(w, '"');
    wo_puts(w, ",\"help\":");
    if (f->has_help)
        jstr(w, f->help.ptr, f->help.len);
    else
        wo_puts(w, "\"\"");
    wo_puts(w, ",\"type\":\"");
    wo_puts(w, p->json_type);
    wo_putc(w, '"');
    if (psc_part_has_samples(f, p->sel)) {
        wo_puts(w, ",\"metrics\":[");
        bool first = true;
        for (size_t j = 0; j < f->nmetrics; j++) {
            const psc_metric *mt = &f->metrics[j];
            if (p->shape != SHAPE_METRIC) {
                if (!jpoints(c, mt, p, &first))
                    return false;
                continue;
            }
            for (size_t q = 0; q < mt->nsamples; q++) {
                const psc_sample *s = &mt->samples[q];
                if (!psc_part_selects(p->sel, s->kind))
                    continue;
                if (!first)
                    wo_putc(w, ',');
                first = false;
                wo_putc(w, '{');
                bool fm = true;
                if (!jlabels(c, s->labels, s->nlabels, s, &fm))
                    return false;
                jts(w, s->has_timestamp, s->timestamp_ms, &fm);
                jkey(w, "value", &fm);
                jnum(w, s->value, false);
                wo_putc(w, '}');
            }
        }
        wo_putc(w, ']');
    }
    wo_putc(w, '}');
    return true;
}

psc_status psc_write_json(const psc_model *m, wout *w, psc_error *err)
{
    psc_status st = psc_check_ms_timestamps(m, "json output", err);
    if (st != PSC_OK)
        return st;
    jctx c;
    memset(&c, 0, sizeof c);
    c.w = w;
    bool first = true;
    wo_putc(w, '[');
    size_t nf = psc_model_family_count(m);
    for (size_t i = 0; i < nf && st == PSC_OK; i++) {
        const psc_family *f = psc_model_family(m, i);
        part parts[3];
        size_t np = psc_text_parts(m, f, true, parts);
        for (size_t k = 0; k < np; k++) {
            if (!parts[k].always && !psc_part_has_samples(f, parts[k].sel))
                continue;
            if (!jpart(&c, f, &parts[k], &first)) {
                st = psc_write_fail(err, PSC_E_NOMEM, PSC_C_NOMEM, 0, "out of memory");
                break;
            }
        }
        if (w->failed)
            st = psc_write_fail(err, PSC_E_IO, PSC_C_IO, 0, "writing the output failed");
    }
    if (st == PSC_OK)
        wo_puts(w, "]\n");
    psc_free(c.lab);
    psc_free(c.ent);
    return st;
}
