/*
 * Serializers (promscope/write.h): Prometheus text 0.0.4 (with the quoted
 * names of text 1.0.0 only where a name needs them) and OpenMetrics 1.0.
 * JSON is in write_json.c. The type mapping between the formats is
 * documented in docs/convert.md.
 *
 * Every writer first checks that the whole model can be expressed in the
 * target format and only then writes, so that a conversion that cannot be
 * done produces no output at all.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fmtnum.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/hash.h"
#include "writer.h"

const char *psc_out_format_name(psc_out_format f)
{
    switch (f) {
    case PSC_OUT_TEXT: return "text";
    case PSC_OUT_OPENMETRICS: return "openmetrics";
    case PSC_OUT_JSON: return "json";
    }
    return "unknown";
}

/* ------------------------------------------------------------------ */
/* buffered output */

void wo_init(wout *w, psc_write_fn fn, void *ctx)
{
    w->fn = fn;
    w->ctx = ctx;
    w->failed = 0;
    w->len = 0;
    w->nflush = 0;
    memset(w->bound, 0, sizeof w->bound);
    memset(w->names, 0, sizeof w->names);
    w->lab_ptr = w->legacy_ptr = NULL;
    w->lab_n = w->lab_len = w->legacy_n = 0;
}

int wo_flush(wout *w)
{
    w->nflush++;
    if (w->len && !w->failed && w->fn(w->ctx, w->buf, w->len) != 0)
        w->failed = 1;
    w->len = 0;
    return w->failed;
}

void wo_put_slow(wout *w, const char *p, size_t n)
{
    if (w->failed || n == 0)
        return;
    if (n > sizeof w->buf - w->len) {
        wo_flush(w);
        if (n >= sizeof w->buf) {
            if (!w->failed && w->fn(w->ctx, p, n) != 0)
                w->failed = 1;
            return;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

void wo_puts(wout *w, const char *s)
{
    wo_put(w, s, strlen(s));
}

const char *wo_bound(wout *w, double v, int form, size_t *len)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    wbound *e = &w->bound[((bits ^ (uint64_t)form) * 0x9e3779b97f4a7c15u) >> 58]; /* 64 slots */
    if (e->len == 0 || e->bits != bits || e->form != form) {
        size_t n = form == WB_OM ? psc_format_double_om(v, e->text) : psc_format_double(v, e->text);
        e->bits = bits;
        e->form = (uint8_t)form;
        e->len = (uint8_t)n;
    }
    *len = e->len;
    return e->text;
}

/* ------------------------------------------------------------------ */
/* errors */

psc_status psc_write_fail(psc_error *err, psc_status st, psc_code code, uint64_t line,
                          const char *fmt, ...)
{
    if (err) {
        const char *source = err->source;
        memset(err, 0, sizeof *err);
        err->source = source;
        err->status = st;
        err->code = (int)code;
        err->line = line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

const char *psc_msg_name(char buf[128], psc_str s)
{
    size_t n = s.len > 120 ? 120 : s.len;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        buf[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (s.len > n) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

/* ------------------------------------------------------------------ */
/* names */

static bool legacy_metric_name(psc_str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static bool legacy_label_name(psc_str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

bool wo_legacy_name(wout *w, psc_str s, bool label)
{
    uintptr_t a = (uintptr_t)s.ptr;
    wname *e = &w->names[((a ^ (a >> 7) ^ s.len) * 0x9e3779b97f4a7c15u) >> 57]; /* 128 slots */
    if (e->ptr != s.ptr || e->len != s.len || e->label != label || !s.ptr) {
        e->ptr = s.ptr;
        e->len = s.len;
        e->label = label;
        e->legacy = label ? legacy_label_name(s) : legacy_metric_name(s);
    }
    return e->legacy;
}

/* Are the names of l[0..n) all legacy label names? */
static bool labels_legacy(wout *w, const psc_label *l, size_t n)
{
    if (l == w->legacy_ptr && n == w->legacy_n)
        return true;
    for (size_t i = 0; i < n; i++)
        if (!wo_legacy_name(w, l[i].name, true))
            return false;
    w->legacy_ptr = l;
    w->legacy_n = n;
    return true;
}

static bool has_suffix(psc_str s, const char *suf)
{
    size_t n = strlen(suf);
    return s.len > n && memcmp(s.ptr + s.len - n, suf, n) == 0;
}

static bool src_om(const psc_model *m)
{
    return psc_model_format(m) == PSC_FORMAT_OPENMETRICS_1_0;
}

/* The OpenMetrics family name of f: a Prometheus text counter `x_total`
 * is the OpenMetrics counter `x` (OpenMetrics-1.0.md "Counter"). */
static psc_str om_base(const psc_model *m, const psc_family *f)
{
    if (!src_om(m) && f->type == PSC_TYPE_COUNTER && has_suffix(f->name, "_total"))
        return (psc_str){f->name.ptr, f->name.len - 6};
    return f->name;
}

static psc_metric_type om_type(const psc_model *m, const psc_family *f)
{
    if (!src_om(m) && f->type == PSC_TYPE_UNTYPED)
        return PSC_TYPE_UNKNOWN;
    return f->type;
}

/* Does s print braces: labels or a bound label? */
static bool has_labels(const psc_sample *s)
{
    return s->nlabels > 0 || s->bound_text.ptr != NULL;
}

/* ------------------------------------------------------------------ */
/* text parts */

bool psc_part_selects(part_sel sel, psc_sample_kind k)
{
    switch (sel) {
    case SEL_ALL: return true;
    case SEL_NOT_CREATED: return k != PSC_SAMPLE_CREATED;
    case SEL_CREATED: return k == PSC_SAMPLE_CREATED;
    case SEL_BUCKET: return k == PSC_SAMPLE_BUCKET;
    case SEL_GCOUNT: return k == PSC_SAMPLE_GCOUNT;
    case SEL_GSUM: return k == PSC_SAMPLE_GSUM;
    }
    return false;
}

bool psc_part_has_samples(const psc_family *f, part_sel sel)
{
    for (size_t i = 0; i < f->nmetrics; i++)
        for (size_t j = 0; j < f->metrics[i].nsamples; j++)
            if (psc_part_selects(sel, f->metrics[i].samples[j].kind))
                return true;
    return false;
}

static part mkpart(psc_str base, const char *suffix, const char *tt, const char *jt, json_shape sh,
                   part_sel sel, bool always)
{
    part p = {base, suffix, tt, jt, sh, sel, always};
    return p;
}

size_t psc_text_parts(const psc_model *m, const psc_family *f, bool json, part out[3])
{
    psc_str n = f->name;
    psc_str ob = om_base(m, f);
    bool om = src_om(m);
    switch (f->type) {
    case PSC_TYPE_COUNTER:
        if (!om && !json) {
            out[0] = mkpart(n, "", "counter", "COUNTER", SHAPE_METRIC, SEL_ALL, true);
            return 1;
        }
        out[0] = mkpart(n, om ? "_total" : "", "counter", "COUNTER", SHAPE_METRIC, SEL_NOT_CREATED, true);
        out[1] = mkpart(ob, "_created", "gauge", "GAUGE", SHAPE_METRIC, SEL_CREATED, false);
        return 2;
    case PSC_TYPE_HISTOGRAM:
    case PSC_TYPE_SUMMARY: {
        bool h = f->type == PSC_TYPE_HISTOGRAM;
        const char *tt = h ? "histogram" : "summary", *jt = h ? "HISTOGRAM" : "SUMMARY";
        json_shape sh = h ? SHAPE_HISTOGRAM : SHAPE_SUMMARY;
        if (!om && !json) {
            out[0] = mkpart(n, "", tt, jt, sh, SEL_ALL, true);
            return 1;
        }
        out[0] = mkpart(n, "", tt, jt, sh, SEL_NOT_CREATED, true);
        out[1] = mkpart(ob, "_created", "gauge", "GAUGE", SHAPE_METRIC, SEL_CREATED, false);
        return 2;
    }
    case PSC_TYPE_GAUGE:
    case PSC_TYPE_STATESET:
        out[0] = mkpart(n, "", "gauge", "GAUGE", SHAPE_METRIC, SEL_ALL, true);
        return 1;
    case PSC_TYPE_INFO:
        out[0] = mkpart(n, "_info", "gauge", "GAUGE", SHAPE_METRIC, SEL_ALL, true);
        return 1;
    case PSC_TYPE_GAUGEHISTOGRAM:
        if (json) {
            out[0] = mkpart(n, "", "gaugehistogram", "GAUGE_HISTOGRAM", SHAPE_HISTOGRAM, SEL_ALL, true);
            return 1;
        }
        out[0] = mkpart(n, "_bucket", "gauge", "GAUGE", SHAPE_METRIC, SEL_BUCKET, true);
        out[1] = mkpart(n, "_gcount", "gauge", "GAUGE", SHAPE_METRIC, SEL_GCOUNT, false);
        out[2] = mkpart(n, "_gsum", "gauge", "GAUGE", SHAPE_METRIC, SEL_GSUM, false);
        return 3;
    case PSC_TYPE_UNTYPED:
    case PSC_TYPE_UNKNOWN:
    default:
        out[0] = mkpart(n, "", "untyped", "UNTYPED", SHAPE_METRIC, SEL_ALL, true);
        return 1;
    }
}

psc_status psc_check_ms_timestamps(const psc_model *m, const char *target, psc_error *err)
{
    if (!src_om(m))
        return PSC_OK; /* text timestamps are int64 milliseconds already */
    size_t nf = psc_model_family_count(m);
    for (size_t i = 0; i < nf; i++) {
        const psc_family *f = psc_model_family(m, i);
        for (size_t j = 0; j < f->nmetrics; j++) {
            const psc_metric *mt = &f->metrics[j];
            for (size_t k = 0; k < mt->nsamples; k++) {
                const psc_sample *s = &mt->samples[k];
                if (s->has_timestamp && !s->timestamp_ms_exact) {
                    char ts[PSC_NUM_MAX], a[128];
                    psc_format_double_plain(s->timestamp, ts);
                    return psc_write_fail(err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, s->line,
                                          "timestamp %.40s of '%s' on line %llu is not a whole number of "
                                          "milliseconds, which %s cannot express",
                                          ts, psc_msg_name(a, s->name), (unsigned long long)s->line,
                                          target);
                }
            }
        }
    }
    return PSC_OK;
}

/* ------------------------------------------------------------------ */
/* name clash checks */

enum { NS_FAMILY = 1, NS_SAMPLE = 2 };

typedef struct centry {
    psc_str name;
    uint32_t owner;
    uint32_t ns;
} centry;

typedef struct clash {
    const psc_model *m;
    psc_arena arena;
    psc_hidx idx;
    centry *e;
    size_t n, cap;
    uint64_t seed;
    const char *target;
    psc_error *err;
    /* lookup key */
    psc_str key;
    uint32_t key_ns;
} clash;

static bool clash_eq(void *ctx, uint32_t id)
{
    clash *c = ctx;
    return c->e[id].ns == c->key_ns && psc_str_eq(c->e[id].name, c->key);
}

static const char *type_of(const psc_model *m, uint32_t owner)
{
    return psc_metric_type_name(psc_model_family(m, owner)->type);
}

/* Reserve base+suffix in namespace ns for family `owner`. */
static psc_status clash_add(clash *c, psc_str base, const char *suffix, uint32_t ns, uint32_t owner)
{
    size_t sl = strlen(suffix);
    char *p = psc_arena_alloc(&c->arena, base.len + sl + 1);
    if (!p)
        return PSC_E_NOMEM;
    memcpy(p, base.ptr, base.len);
    memcpy(p + base.len, suffix, sl + 1);
    psc_str name = {p, base.len + sl};
    uint64_t h = psc_hash_mix(psc_hash_bytes(name.ptr, name.len, c->seed), ns);
    c->key = name;
    c->key_ns = ns;
    uint32_t id = psc_hidx_find(&c->idx, h, clash_eq, c);
    if (id != UINT32_MAX) {
        uint32_t other = c->e[id].owner;
        if (other == owner)
            return PSC_OK;
        const psc_family *fa = psc_model_family(c->m, other), *fb = psc_model_family(c->m, owner);
        char a[128], b[128], x[128];
        if (ns == NS_FAMILY)
            return psc_write_fail(c->err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, fb->line,
                                  "%s '%s' (line %llu) and %s '%s' (line %llu) would both become the %s "
                                  "family '%s'",
                                  type_of(c->m, other), psc_msg_name(a, fa->name),
                                  (unsigned long long)fa->line, type_of(c->m, owner),
                                  psc_msg_name(b, fb->name), (unsigned long long)fb->line, c->target,
                                  psc_msg_name(x, name));
        return psc_write_fail(c->err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, fb->line,
                              "%s '%s' (line %llu) and %s '%s' (line %llu) would both use the sample "
                              "name '%s' in %s",
                              type_of(c->m, other), psc_msg_name(a, fa->name),
                              (unsigned long long)fa->line, type_of(c->m, owner),
                              psc_msg_name(b, fb->name), (unsigned long long)fb->line,
                              psc_msg_name(x, name), c->target);
    }
    if (c->n >= UINT32_MAX - 1 || psc_grow((void **)&c->e, &c->cap, c->n + 1, sizeof *c->e) ||
        psc_hidx_insert(&c->idx, h, (uint32_t)c->n))
        return PSC_E_NOMEM;
    c->e[c->n++] = (centry){name, owner, ns};
    return PSC_OK;
}

static void clash_init(clash *c, const psc_model *m, const char *target, psc_error *err)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    psc_arena_init(&c->arena);
    psc_hidx_init(&c->idx);
    c->seed = psc_hash_seed();
    c->target = target;
    c->err = err;
}

static void clash_release(clash *c)
{
    psc_arena_release(&c->arena);
    psc_hidx_release(&c->idx);
    psc_free(c->e);
}

/* ------------------------------------------------------------------ */
/* shared line writing */

/* Bytes of x equal to c have their high bit set in the result; a byte
 * right after an equal one may be flagged too, never one before it, and
 * every flagged word is scanned again byte by byte. */
static inline uint64_t bytes_equal(uint64_t x, unsigned char c)
{
    uint64_t y = x ^ (0x0101010101010101u * c);
    return (y - 0x0101010101010101u) & ~y & 0x8080808080808080u;
}

/* Index of the first byte of p[0..n) that put_escaped replaces, or n;
 * eight bytes at a time up to the first word that may hold one. */
static size_t plain_run(const char *p, size_t n, bool quote)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        if (bytes_equal(x, '\\') | bytes_equal(x, '\n') | (quote ? bytes_equal(x, '"') : 0))
            break;
    }
    for (; i < n; i++)
        if (p[i] == '\\' || p[i] == '\n' || (quote && p[i] == '"'))
            break;
    return i;
}

/* Escape backslash, line feed and (when quote) double quote: the escaping
 * of label values and quoted names in both formats, of HELP in OpenMetrics
 * (quote true) and in Prometheus text (quote false). */
static void put_escaped(wout *w, psc_str s, bool quote)
{
    const char *p = s.ptr;
    size_t n = s.len;
    for (;;) {
        size_t k = plain_run(p, n, quote);
        wo_put(w, p, k);
        if (k == n)
            return;
        wo_put(w, p[k] == '\\' ? "\\\\" : p[k] == '\n' ? "\\n" : "\\\"", 2);
        p += k + 1;
        n -= k + 1;
    }
}

static void put_quoted(wout *w, psc_str s)
{
    wo_putc(w, '"');
    put_escaped(w, s, true);
    wo_putc(w, '"');
}

/* A metric name in HELP/TYPE: quoted (text 1.0.0) when not a legacy name.
 * Suffixes are legacy characters, so base decides. */
static void put_meta_name(wout *w, psc_str base, const char *suffix)
{
    if (wo_legacy_name(w, base, false)) {
        wo_put(w, base.ptr, base.len);
        wo_puts(w, suffix);
    } else {
        wo_putc(w, '"');
        put_escaped(w, base, true);
        wo_puts(w, suffix);
        wo_putc(w, '"');
    }
}

static void put_label_name(wout *w, psc_str name)
{
    if (wo_legacy_name(w, name, true))
        wo_put(w, name.ptr, name.len);
    else
        put_quoted(w, name);
}

/* The labels of s, its bound label (le, quantile) last: its value as the
 * canonical number when it parsed as one, else as written. */
static void put_labels(wout *w, const psc_sample *s, bool om, bool first)
{
    if (s->nlabels > 0) {
        if (!first)
            wo_putc(w, ',');
        if (s->labels == w->lab_ptr && s->nlabels == w->lab_n) {
            wo_put(w, w->lab_text, w->lab_len);
        } else {
            size_t start = w->len;
            unsigned long nflush = w->nflush;
            for (size_t i = 0; i < s->nlabels; i++) {
                const psc_label *l = &s->labels[i];
                if (i > 0)
                    wo_putc(w, ',');
                put_label_name(w, l->name);
                wo_putc(w, '=');
                put_quoted(w, l->value);
            }
            /* remembered when it is all in the buffer and fits */
            if (w->nflush == nflush && w->len - start <= sizeof w->lab_text) {
                memcpy(w->lab_text, w->buf + start, w->len - start);
                w->lab_ptr = s->labels;
                w->lab_n = s->nlabels;
                w->lab_len = w->len - start;
            }
        }
    }
    psc_label bl = psc_sample_bound_label(s);
    if (!bl.name.ptr)
        return;
    if (!first || s->nlabels > 0)
        wo_putc(w, ',');
    put_label_name(w, bl.name);
    wo_putc(w, '=');
    if (!isnan(s->bound)) {
        size_t n;
        const char *b = wo_bound(w, s->bound, om ? WB_OM : WB_TEXT, &n);
        wo_putc(w, '"');
        wo_put(w, b, n);
        wo_putc(w, '"');
    } else {
        put_quoted(w, bl.value);
    }
}

/* ------------------------------------------------------------------ */
/* Prometheus text */

static void text_sample(wout *w, const psc_sample *s)
{
    if (wo_legacy_name(w, s->name, false)) {
        wo_put(w, s->name.ptr, s->name.len);
        if (has_labels(s)) {
            wo_putc(w, '{');
            put_labels(w, s, false, true);
            wo_putc(w, '}');
        }
    } else {
        /* exposition_formats.md "Line format": the quoted name goes inside */
        wo_putc(w, '{');
        put_quoted(w, s->name);
        put_labels(w, s, false, false);
        wo_putc(w, '}');
    }
    char *o = wo_room(w, 1 + 32 + 1 + 24 + 1);
    size_t n = 0;
    o[n++] = ' ';
    n += psc_format_double(s->value, o + n);
    if (s->has_timestamp) {
        o[n++] = ' ';
        n += psc_format_int64(s->timestamp_ms, o + n);
    }
    o[n++] = '\n';
    w->len += n;
}

/* The Prometheus text format has one sample per series ("Each line must
 * have a unique combination of a metric name and labels"); OpenMetrics may
 * have several MetricPoints, with timestamps. */
static psc_status text_check_points(const psc_model *m, psc_error *err)
{
    size_t nf = psc_model_family_count(m);
    for (size_t i = 0; i < nf; i++) {
        const psc_family *f = psc_model_family(m, i);
        for (size_t j = 0; j < f->nmetrics; j++) {
            const psc_metric *mt = &f->metrics[j];
            if (mt->nsamples < 2 || !mt->samples[0].has_timestamp)
                continue;
            for (size_t k = 0; k < mt->nsamples; k++) {
                const psc_sample *s = &mt->samples[k];
                psc_label one[16], *full = one;
                size_t n = psc_sample_labels(s, one, 16);
                if (n > 16) {
                    if (!(full = psc_malloc(n * sizeof *full)))
                        return PSC_E_NOMEM;
                    psc_sample_labels(s, full, n);
                }
                const psc_sample *first = psc_model_find_series(m, s->name, full, n, NULL);
                if (full != one)
                    psc_free(full);
                if (first && first != s) {
                    char a[128];
                    return psc_write_fail(err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, s->line,
                                          "'%s' on line %llu is a second point of the series of line %llu, "
                                          "which the text format cannot express (one sample per series)",
                                          psc_msg_name(a, s->name), (unsigned long long)s->line,
                                          (unsigned long long)first->line);
                }
            }
        }
    }
    return PSC_OK;
}

static psc_status write_text(const psc_model *m, wout *w, psc_error *err)
{
    size_t nf = psc_model_family_count(m);
    psc_status st;
    if (src_om(m)) {
        if ((st = psc_check_ms_timestamps(m, "the text format", err)) != PSC_OK ||
            (st = text_check_points(m, err)) != PSC_OK)
            return st;
        clash c;
        clash_init(&c, m, "text", err);
        for (size_t i = 0; i < nf && st == PSC_OK; i++) {
            const psc_family *f = psc_model_family(m, i);
            part parts[3];
            size_t np = psc_text_parts(m, f, false, parts);
            for (size_t k = 0; k < np && st == PSC_OK; k++)
                if (parts[k].always || psc_part_has_samples(f, parts[k].sel))
                    st = clash_add(&c, parts[k].base, parts[k].suffix, NS_FAMILY, (uint32_t)i);
        }
        clash_release(&c);
        if (st != PSC_OK)
            return st;
    }
    for (size_t i = 0; i < nf; i++) {
        const psc_family *f = psc_model_family(m, i);
        part parts[3];
        size_t np = psc_text_parts(m, f, false, parts);
        for (size_t k = 0; k < np; k++) {
            const part *p = &parts[k];
            if (!p->always && !psc_part_has_samples(f, p->sel))
                continue;
            if (f->has_help) {
                wo_puts(w, "# HELP ");
                put_meta_name(w, p->base, p->suffix);
                wo_putc(w, ' ');
                put_escaped(w, f->help, false);
                wo_putc(w, '\n');
            }
            wo_puts(w, "# TYPE ");
            put_meta_name(w, p->base, p->suffix);
            wo_putc(w, ' ');
            wo_puts(w, p->text_type);
            wo_putc(w, '\n');
            for (size_t j = 0; j < f->nmetrics; j++) {
                const psc_metric *mt = &f->metrics[j];
                for (size_t q = 0; q < mt->nsamples; q++)
                    if (psc_part_selects(p->sel, mt->samples[q].kind))
                        text_sample(w, &mt->samples[q]);
            }
            if (w->failed)
                return psc_write_fail(err, PSC_E_IO, PSC_C_IO, 0, "writing the output failed");
        }
    }
    return PSC_OK;
}

/* ------------------------------------------------------------------ */
/* OpenMetrics */

static bool is_count_kind(psc_sample_kind k)
{
    return k == PSC_SAMPLE_BUCKET || k == PSC_SAMPLE_COUNT || k == PSC_SAMPLE_GCOUNT;
}

/* Can a sample of a Prometheus text model be written as OpenMetrics?
 * OpenMetrics-1.0.md "Counter", "Histogram", "Summary": totals, buckets,
 * counts and sums are counters (not NaN, not negative; counts integers),
 * quantile values are not negative. */
static psc_status om_check_value(const psc_family *f, const psc_sample *s, psc_error *err)
{
    const char *why = NULL;
    double v = s->value;
    switch (f->type) {
    case PSC_TYPE_COUNTER:
        if (s->kind != PSC_SAMPLE_CREATED && (isnan(v) || v < 0))
            why = "a counter value must not be negative or NaN";
        break;
    case PSC_TYPE_HISTOGRAM:
    case PSC_TYPE_SUMMARY:
        if (is_count_kind(s->kind) && !psc_double_is_count(v))
            why = "bucket and count values must be non-negative integers";
        else if (s->kind == PSC_SAMPLE_SUM && (isnan(v) || v < 0))
            why = "a sum must not be negative or NaN";
        else if (s->kind == PSC_SAMPLE_QUANTILE && v < 0)
            why = "a quantile value must not be negative";
        break;
    default:
        break;
    }
    if (!why)
        return PSC_OK;
    char a[128], b[PSC_NUM_MAX];
    psc_format_double(v, b);
    return psc_write_fail(err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, s->line,
                          "%s '%s' on line %llu has the value %s, which openmetrics cannot express: %s",
                          psc_metric_type_name(f->type), psc_msg_name(a, s->name),
                          (unsigned long long)s->line, b, why);
}

/*
 * Folding `x_created` gauges back (Prometheus text to OpenMetrics only).
 * client_python and client_java write the `_created` samples of a counter,
 * histogram or summary `x` as a separate gauge family `x_created` in the
 * text format, and so does our own OpenMetrics-to-text conversion. In
 * OpenMetrics such a family would clash with `x`; when each of its samples
 * matches a metric of `x` (same label set, no `_created` of its own), its
 * samples are written as the `_created` samples of those metrics instead.
 */
typedef struct fentry {
    const psc_metric *mt;
    const psc_sample *created;
    uint32_t fam;
} fentry;

typedef struct omfold {
    const psc_model *m;
    bool *companion;    /* per family: folded into its base */
    uint32_t *base_of;  /* per family: the base of a companion */
    psc_hidx idx;       /* (family, label set) -> fentry */
    fentry *e;
    size_t n, cap;
    uint32_t *indexed;  /* per family: its metrics are in idx */
    uint64_t seed;
    /* lookup key */
    uint32_t kfam;
    const psc_label *kl;
    size_t kn;
} omfold;

static bool label_sets_equal(const psc_label *a, size_t na, const psc_label *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        size_t j = i < nb && psc_str_eq(a[i].name, b[i].name) ? i : 0;
        while (j < nb && !psc_str_eq(a[i].name, b[j].name))
            j++;
        if (j == nb || !psc_str_eq(a[i].value, b[j].value))
            return false;
    }
    return true;
}

static uint64_t fold_hash(const omfold *o, uint32_t fam, const psc_label *l, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += psc_hash_mix(psc_hash_bytes(l[i].name.ptr, l[i].name.len, o->seed),
                            psc_hash_bytes(l[i].value.ptr, l[i].value.len, o->seed));
    return psc_hash_mix(sum, (uint64_t)fam + 1);
}

static bool fold_eq(void *ctx, uint32_t id)
{
    omfold *o = ctx;
    const fentry *e = &o->e[id];
    return e->fam == o->kfam && label_sets_equal(e->mt->labels, e->mt->nlabels, o->kl, o->kn);
}

static fentry *fold_find(omfold *o, uint32_t fam, const psc_label *l, size_t n)
{
    o->kfam = fam;
    o->kl = l;
    o->kn = n;
    uint32_t id = psc_hidx_find(&o->idx, fold_hash(o, fam, l, n), fold_eq, o);
    return id == UINT32_MAX ? NULL : &o->e[id];
}

static psc_status fold_index(omfold *o, uint32_t fam)
{
    if (o->indexed[fam])
        return PSC_OK;
    o->indexed[fam] = 1;
    const psc_family *f = psc_model_family(o->m, fam);
    for (size_t j = 0; j < f->nmetrics; j++) {
        const psc_metric *mt = &f->metrics[j];
        if (o->n >= UINT32_MAX - 1 || psc_grow((void **)&o->e, &o->cap, o->n + 1, sizeof *o->e) ||
            psc_hidx_insert(&o->idx, fold_hash(o, fam, mt->labels, mt->nlabels), (uint32_t)o->n))
            return PSC_E_NOMEM;
        const psc_sample *own = NULL;
        for (size_t q = 0; q < mt->nsamples && !own; q++)
            if (mt->samples[q].kind == PSC_SAMPLE_CREATED)
                own = &mt->samples[q];
        o->e[o->n++] = (fentry){mt, own, fam};
    }
    return PSC_OK;
}

/* The base family of a `<b>_created` gauge or untyped family, or UINT32_MAX. */
static uint32_t fold_base(const psc_model *m, size_t i)
{
    const psc_family *f = psc_model_family(m, i);
    if ((f->type != PSC_TYPE_GAUGE && f->type != PSC_TYPE_UNTYPED) || !has_suffix(f->name, "_created"))
        return UINT32_MAX;
    psc_str b = {f->name.ptr, f->name.len - 8};
    const psc_family *base = psc_model_find_family(m, b);
    if (!base || (base->type != PSC_TYPE_HISTOGRAM && base->type != PSC_TYPE_SUMMARY &&
                  base->type != PSC_TYPE_COUNTER)) {
        /* a counter is usually named <b>_total */
        char tmp[1024];
        if (b.len + 6 > sizeof tmp)
            return UINT32_MAX;
        memcpy(tmp, b.ptr, b.len);
        memcpy(tmp + b.len, "_total", 6);
        base = psc_model_find_family(m, (psc_str){tmp, b.len + 6});
        if (!base || base->type != PSC_TYPE_COUNTER)
            return UINT32_MAX;
    }
    return (uint32_t)(base - psc_model_family(m, 0));
}

static psc_status fold_prepare(omfold *o, const psc_model *m)
{
    memset(o, 0, sizeof *o);
    o->m = m;
    o->seed = psc_hash_seed();
    psc_hidx_init(&o->idx);
    size_t nf = psc_model_family_count(m);
    o->companion = psc_calloc(nf ? nf : 1, sizeof *o->companion);
    o->base_of = psc_calloc(nf ? nf : 1, sizeof *o->base_of);
    o->indexed = psc_calloc(nf ? nf : 1, sizeof *o->indexed);
    if (!o->companion || !o->base_of || !o->indexed)
        return PSC_E_NOMEM;
    for (size_t i = 0; i < nf; i++) {
        uint32_t b = fold_base(m, i);
        if (b == UINT32_MAX)
            continue;
        psc_status st = fold_index(o, b);
        if (st != PSC_OK)
            return st;
        const psc_family *f = psc_model_family(m, i);
        /* every sample must find its own metric of the base, one without a
         * _created sample; then (second pass) they are claimed */
        bool ok = f->nmetrics > 0;
        for (size_t j = 0; ok && j < f->nmetrics; j++) {
            const psc_metric *mt = &f->metrics[j];
            const fentry *e = fold_find(o, b, mt->labels, mt->nlabels);
            ok = mt->nsamples == 1 && !mt->samples[0].exemplar && e && !e->created;
        }
        for (size_t j = 0; ok && j < f->nmetrics; j++)
            fold_find(o, b, f->metrics[j].labels, f->metrics[j].nlabels)->created = &f->metrics[j].samples[0];
        o->companion[i] = ok;
        o->base_of[i] = b;
    }
    return PSC_OK;
}

static void fold_release(omfold *o)
{
    psc_free(o->companion);
    psc_free(o->base_of);
    psc_free(o->indexed);
    psc_free(o->e);
    psc_hidx_release(&o->idx);
}

/* OpenMetrics-1.0.md "Histogram": _count and _sum both or neither, and no
 * _sum when a bucket threshold is negative. The Prometheus text format has
 * neither rule. One metric of a text model is one MetricPoint. */
static psc_status om_check_histogram(const psc_family *f, const psc_metric *mt, psc_error *err)
{
    const psc_sample *count = NULL, *sum = NULL, *neg = NULL;
    for (size_t q = 0; q < mt->nsamples; q++) {
        const psc_sample *s = &mt->samples[q];
        if (s->kind == PSC_SAMPLE_COUNT)
            count = s;
        else if (s->kind == PSC_SAMPLE_SUM)
            sum = s;
        else if (s->kind == PSC_SAMPLE_BUCKET && s->bound < 0 && !neg)
            neg = s;
    }
    char a[128];
    if ((count == NULL) != (sum == NULL)) {
        const psc_sample *s = count ? count : sum;
        return psc_write_fail(err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, s->line,
                              "histogram '%s' has %s on line %llu but no %s, which openmetrics cannot "
                              "express: it needs both or neither",
                              psc_msg_name(a, f->name), count ? "_count" : "_sum",
                              (unsigned long long)s->line, count ? "_sum" : "_count");
    }
    if (sum && neg)
        return psc_write_fail(err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, sum->line,
                              "histogram '%s' has a bucket with a negative threshold (line %llu) and a "
                              "_sum (line %llu), which openmetrics forbids",
                              psc_msg_name(a, f->name), (unsigned long long)neg->line,
                              (unsigned long long)sum->line);
    return PSC_OK;
}

/* OpenMetrics-1.0.md "Timestamps": the samples of a MetricPoint have a
 * timestamp all or none; the text formats allow each line its own. */
static psc_status om_check_timestamps(const psc_metric *mt, psc_error *err)
{
    for (size_t q = 1; q < mt->nsamples; q++) {
        const psc_sample *s = &mt->samples[q];
        if (s->has_timestamp != mt->samples[0].has_timestamp) {
            char a[128];
            return psc_write_fail(err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, s->line,
                                  "'%s' on line %llu has %s timestamp but the sample of line %llu of "
                                  "the same metric %s, which openmetrics cannot express: the samples "
                                  "of a metric have timestamps all or none",
                                  psc_msg_name(a, s->name), (unsigned long long)s->line,
                                  s->has_timestamp ? "a" : "no",
                                  (unsigned long long)mt->samples[0].line,
                                  mt->samples[0].has_timestamp ? "has one" : "has none");
        }
    }
    return PSC_OK;
}

/* OpenMetrics-1.0.md "Counter", "Histogram": a MetricPoint has its Total,
 * resp. its buckets; a `_created` alone (which the text formats allow, a
 * gauge of its own there) is no MetricPoint. */
static psc_status om_check_created_alone(const psc_family *f, const psc_metric *mt, psc_error *err)
{
    if (f->type != PSC_TYPE_COUNTER && f->type != PSC_TYPE_HISTOGRAM)
        return PSC_OK;
    const psc_sample *created = NULL;
    for (size_t q = 0; q < mt->nsamples; q++) {
        psc_sample_kind k = (psc_sample_kind)mt->samples[q].kind;
        if (k == PSC_SAMPLE_CREATED)
            created = &mt->samples[q];
        else if (f->type == PSC_TYPE_COUNTER ? k == PSC_SAMPLE_TOTAL || k == PSC_SAMPLE_VALUE
                                              : k == PSC_SAMPLE_BUCKET)
            return PSC_OK;
    }
    if (!created)
        return PSC_OK;
    char a[128];
    return psc_write_fail(err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, created->line,
                          "'%s' on line %llu has no %s for the same labels, which openmetrics "
                          "cannot express: a %s point needs %s",
                          psc_msg_name(a, created->name), (unsigned long long)created->line,
                          f->type == PSC_TYPE_COUNTER ? "_total" : "buckets",
                          psc_metric_type_name(f->type),
                          f->type == PSC_TYPE_COUNTER ? "its total" : "its buckets");
}

static psc_status om_check(const psc_model *m, const omfold *fold, wout *w, psc_error *err)
{
    static const char *const sufs[][5] = {
        [PSC_TYPE_COUNTER] = {"_total", "_created", NULL},
        [PSC_TYPE_GAUGE] = {"", NULL},
        [PSC_TYPE_HISTOGRAM] = {"_bucket", "_count", "_sum", "_created", NULL},
        [PSC_TYPE_GAUGEHISTOGRAM] = {"_bucket", "_gcount", "_gsum", NULL},
        [PSC_TYPE_SUMMARY] = {"", "_count", "_sum", "_created", NULL},
        [PSC_TYPE_INFO] = {"_info", NULL},
        [PSC_TYPE_STATESET] = {"", NULL},
        [PSC_TYPE_UNKNOWN] = {"", NULL},
        [PSC_TYPE_UNTYPED] = {"", NULL},
    };
    size_t nf = psc_model_family_count(m);
    psc_status st = PSC_OK;
    clash c;
    clash_init(&c, m, "openmetrics", err);
    char a[128], b[128];
    for (size_t i = 0; i < nf && st == PSC_OK; i++) {
        if (fold->companion[i])
            continue;
        const psc_family *f = psc_model_family(m, i);
        psc_str base = om_base(m, f);
        if (!legacy_metric_name(base)) {
            st = psc_write_fail(err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, f->line,
                                "metric name '%s' (line %llu) is not expressible in openmetrics 1.0, "
                                "which allows only [a-zA-Z_:][a-zA-Z0-9_:]*",
                                psc_msg_name(a, f->name), (unsigned long long)f->line);
            break;
        }
        st = clash_add(&c, base, "", NS_FAMILY, (uint32_t)i);
        psc_metric_type t = om_type(m, f);
        for (size_t k = 0; st == PSC_OK && (unsigned)t < sizeof sufs / sizeof sufs[0] && sufs[t][k]; k++)
            st = clash_add(&c, base, sufs[t][k], NS_SAMPLE, (uint32_t)i);
        for (size_t j = 0; st == PSC_OK && j < f->nmetrics; j++) {
            const psc_metric *mt = &f->metrics[j];
            for (size_t q = 0; st == PSC_OK && q < mt->nsamples; q++) {
                const psc_sample *s = &mt->samples[q];
                if (!labels_legacy(w, s->labels, s->nlabels)) {
                    for (size_t l = 0; l < s->nlabels; l++) {
                        if (!wo_legacy_name(w, s->labels[l].name, true)) {
                            st = psc_write_fail(err, PSC_E_UNSUPPORTED, PSC_C_NOT_EXPRESSIBLE, s->line,
                                                "label name '%s' of '%s' on line %llu is not expressible "
                                                "in openmetrics 1.0, which allows only "
                                                "[a-zA-Z_][a-zA-Z0-9_]*",
                                                psc_msg_name(a, s->labels[l].name),
                                                psc_msg_name(b, s->name), (unsigned long long)s->line);
                            break;
                        }
                    }
                }
                if (st == PSC_OK)
                    st = om_check_value(f, s, err);
            }
            if (st == PSC_OK)
                st = om_check_timestamps(mt, err);
            if (st == PSC_OK)
                st = om_check_created_alone(f, mt, err);
            if (st == PSC_OK && f->type == PSC_TYPE_HISTOGRAM)
                st = om_check_histogram(f, mt, err);
        }
    }
    clash_release(&c);
    return st;
}

/* Is the exact seconds text of `ms` read back as the same whole number of
 * milliseconds? Not for |ms| beyond 2^53, where the double of the seconds
 * cannot tell neighbouring milliseconds apart: such timestamps are written
 * as the shortest text of the double, so that converting again gives the
 * same bytes. */
static bool ms_seconds_round_trip(int64_t ms)
{
    if (ms > ((int64_t)1 << 53) || ms < -((int64_t)1 << 53))
        return false;
    double d = (double)ms / 1000.0;
    double back = d * 1000.0;
    return back >= -9.2e18 && back <= 9.2e18 && llround(back) == ms;
}

/* One sample line of family f; `kind` is the role it is written in (a
 * folded `_created` gauge sample is written as the _created of f). */
static void om_sample(wout *w, const psc_model *m, const psc_family *f, const psc_sample *s,
                      psc_sample_kind kind)
{
    if (!src_om(m) && f->type == PSC_TYPE_COUNTER) {
        psc_str base = om_base(m, f);
        wo_put(w, base.ptr, base.len);
        wo_puts(w, kind == PSC_SAMPLE_CREATED ? "_created" : "_total");
    } else if (kind == PSC_SAMPLE_CREATED && s->kind != PSC_SAMPLE_CREATED) {
        wo_put(w, f->name.ptr, f->name.len); /* folded from a gauge <f>_created */
        wo_puts(w, "_created");
    } else {
        wo_put(w, s->name.ptr, s->name.len);
    }
    if (has_labels(s)) {
        wo_putc(w, '{');
        put_labels(w, s, true, true);
        wo_putc(w, '}');
    }
    char *o = wo_room(w, 1 + PSC_NUM_MAX + 1 + PSC_NUM_MAX);
    size_t n = 0;
    o[n++] = ' ';
    if (is_count_kind(s->kind) && psc_double_is_count(s->value))
        n += psc_format_double_plain(s->value, o + n); /* integers: "17", never "1.7e+07" */
    else
        n += psc_format_double_om(s->value, o + n);
    if (s->has_timestamp) {
        o[n++] = ' ';
        if (s->timestamp_ms_exact && ms_seconds_round_trip(s->timestamp_ms))
            n += psc_format_ms_as_seconds(s->timestamp_ms, o + n);
        else
            n += psc_format_double_plain(s->timestamp, o + n);
    }
    w->len += n;
    if (s->exemplar) {
        char b[PSC_NUM_MAX];
        const psc_exemplar *x = s->exemplar;
        wo_puts(w, " # {");
        for (size_t i = 0; i < x->nlabels; i++) {
            if (i)
                wo_putc(w, ',');
            wo_put(w, x->labels[i].name.ptr, x->labels[i].name.len);
            wo_putc(w, '=');
            put_quoted(w, x->labels[i].value);
        }
        wo_puts(w, "} ");
        wo_put(w, b, psc_format_double_om(x->value, b));
        if (x->has_timestamp) {
            wo_putc(w, ' ');
            wo_put(w, b, psc_format_double_plain(x->timestamp, b));
        }
    }
    wo_putc(w, '\n');
}

static psc_status write_om_families(const psc_model *m, wout *w, omfold *fold, psc_error *err)
{
    size_t nf = psc_model_family_count(m);
    for (size_t i = 0; i < nf; i++) {
        if (fold && fold->companion[i])
            continue;
        const psc_family *f = psc_model_family(m, i);
        psc_str base = om_base(m, f);
        /* OpenMetrics-1.0.md "MetricFamily metadata": TYPE, UNIT, HELP */
        wo_puts(w, "# TYPE ");
        wo_put(w, base.ptr, base.len);
        wo_putc(w, ' ');
        wo_puts(w, psc_metric_type_name(om_type(m, f)));
        wo_putc(w, '\n');
        /* an empty UNIT or HELP is as if absent (OpenMetrics-1.0.md
         * "MetricFamily metadata"): not written, so that a second conversion
         * gives the same bytes */
        if (f->has_unit && f->unit.len) {
            wo_puts(w, "# UNIT ");
            wo_put(w, base.ptr, base.len);
            wo_putc(w, ' ');
            wo_put(w, f->unit.ptr, f->unit.len);
            wo_putc(w, '\n');
        }
        if (f->has_help && f->help.len) {
            wo_puts(w, "# HELP ");
            wo_put(w, base.ptr, base.len);
            wo_putc(w, ' ');
            put_escaped(w, f->help, true);
            wo_putc(w, '\n');
        }
        bool folds = fold && fold->indexed[i];
        for (size_t j = 0; j < f->nmetrics; j++) {
            const psc_metric *mt = &f->metrics[j];
            for (size_t q = 0; q < mt->nsamples; q++)
                om_sample(w, m, f, &mt->samples[q], mt->samples[q].kind);
            if (folds) {
                const fentry *e = fold_find(fold, (uint32_t)i, mt->labels, mt->nlabels);
                if (e && e->created && e->created->kind != PSC_SAMPLE_CREATED)
                    om_sample(w, m, f, e->created, PSC_SAMPLE_CREATED);
            }
        }
        if (w->failed)
            return psc_write_fail(err, PSC_E_IO, PSC_C_IO, 0, "writing the output failed");
    }
    wo_puts(w, "# EOF\n");
    return PSC_OK;
}

static psc_status write_om(const psc_model *m, wout *w, psc_error *err)
{
    if (src_om(m))
        return write_om_families(m, w, NULL, err);
    omfold fold;
    psc_status st = fold_prepare(&fold, m);
    if (st == PSC_E_NOMEM)
        st = psc_write_fail(err, PSC_E_NOMEM, PSC_C_NOMEM, 0, "out of memory");
    if (st == PSC_OK) {
        st = om_check(m, &fold, w, err);
        /* om_check's name-clash table can run out of memory too */
        if (st == PSC_E_NOMEM)
            st = psc_write_fail(err, PSC_E_NOMEM, PSC_C_NOMEM, 0, "out of memory");
    }
    if (st == PSC_OK)
        st = write_om_families(m, w, &fold, err);
    fold_release(&fold);
    return st;
}

/* ------------------------------------------------------------------ */

psc_status psc_model_write(const psc_model *m, psc_out_format f, psc_write_fn fn, void *ctx,
                           psc_error *err)
{
    if (!m || !fn)
        return psc_write_fail(err, PSC_E_ARG, PSC_C_NONE, 0, "no model or no output function");
    wout *w = psc_malloc(sizeof *w);
    if (!w)
        return psc_write_fail(err, PSC_E_NOMEM, PSC_C_NOMEM, 0, "out of memory");
    wo_init(w, fn, ctx);
    psc_status st;
    switch (f) {
    case PSC_OUT_TEXT: st = write_text(m, w, err); break;
    case PSC_OUT_OPENMETRICS: st = write_om(m, w, err); break;
    case PSC_OUT_JSON: st = psc_write_json(m, w, err); break;
    default:
        st = psc_write_fail(err, PSC_E_ARG, PSC_C_NONE, 0, "unknown output format %d", (int)f);
        break;
    }
    if (st == PSC_OK && wo_flush(w))
        st = psc_write_fail(err, PSC_E_IO, PSC_C_IO, 0, "writing the output failed");
    /* some allocation failures deep in the writers return the status alone:
     * write.h promises a filled err */
    if (st == PSC_E_NOMEM && err && (err->status != PSC_E_NOMEM || err->code != (int)PSC_C_NOMEM))
        psc_write_fail(err, PSC_E_NOMEM, PSC_C_NOMEM, 0, "out of memory");
    psc_free(w);
    return st;
}
