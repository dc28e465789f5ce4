/*
 * The streaming validator (promscope/parse.h): rules that need more than one
 * line.
 *
 * OpenMetrics 1.0 (reference/OpenMetrics-1.0.md): "MetricFamily" (unique
 * names, no interleaving, metadata first and once, "Suffixes" clashes),
 * "Unit", "Metric" (unique label sets, MetricPoints with increasing
 * timestamps, not interleaved), "Metric types" (counter, histogram,
 * gaugehistogram, summary, stateset, info rules), "Exemplars".
 * Prometheus text (reference/exposition_formats.md): "Grouping and sorting"
 * (one group per metric; unique name+labels) and "Histograms and summaries".
 *
 * Identity of a metric (label set) is a 128-bit seeded fingerprint: the
 * order-independent sum of per-label hashes. Memory is O(families + metrics
 * of the current family), independent of the rest of the input. Duplicate
 * series are found per metric: each sample role (value, _total, _count, ...)
 * once per metric (per MetricPoint in OpenMetrics), buckets and quantiles by
 * their order rules.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse/internal.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/bytes.h"
#include "util/handoff.h"
#include "util/hash.h"

#define NONE UINT32_MAX
#define LC_LABELS 16 /* label positions whose hashes are remembered */
#define LC_BYTES 96  /* up to this many bytes of name="value */

typedef struct vfam {
    const char *name;
    size_t len;
    psc_metric_type type;
    bool has_type, has_help, has_unit, samples_seen, warned;
    bool claimless; /* a second family of an already used name: claims nothing */
    psc_str unit;
    uint64_t line;
} vfam;

typedef struct claim {
    uint32_t fam;
    const char *name;
    size_t len;
} claim;

/* Histogram, summary and multi-role state of one metric. Only the metrics
 * that need it have one: those with a bucket, quantile, _count or _sum, or
 * with samples of more than one role (_total and _created). A family of a
 * million single-role series (a counter, a gauge) keeps none. */
typedef struct mext {
    uint64_t kind_line[11]; /* last line per psc_sample_kind, where kinds says */
    /* histogram / gaugehistogram */
    bool any_bucket, has_inf, neg_bucket, has_count, has_sum;
    /* summary quantiles of this point (bounded list) */
    bool any_q;
    uint32_t nq;
    double last_le, last_bucket, inf_value, count, sum, last_q;
    uint64_t inf_line, count_line, sum_line, last_bucket_line;
    uint64_t count_off, sum_off;
    double q[16];
} mext;

/* State of one metric (label set) of the current family: 56 bytes, the
 * validator's memory per series of the largest family. */
typedef struct mstate {
    psc_fp fp;
    uint64_t line, line_off;   /* first sample: line and byte offset of its start */
    double ts;                 /* last timestamp */
    uint64_t kline;            /* the last line of the one role seen, while ext == NONE */
    uint32_t ext;              /* index into psc_validator.ext, or NONE */
    uint16_t kinds;            /* bit per psc_sample_kind seen in the current MetricPoint */
    bool ts_set, has_ts;       /* timestamp presence decided for this metric */
} mstate;

static const mext mext_zero;

struct psc_validator {
    psc_format fmt;
    bool om, strict;
    psc_diag_list *d;
    psc_fp seed;
    psc_arena arena;
    vfam *fams;
    size_t nfams, capf;
    claim *claims;
    size_t nclaims, capc;
    psc_hidx claim_idx;
    uint32_t cur;
    bool tainted;         /* a parse error hit the current family */
    /* per family */
    mstate *ms;
    size_t nms, capms;
    psc_hidx ms_idx;
    mext *ext;
    size_t next, capext;
    uint32_t cur_metric;
    char *tmp;            /* scratch for fingerprints of escaped labels */
    size_t tmpcap;
    /* the label hashes of the previous sample, by position: consecutive
     * samples (the buckets of a histogram, the codes of a counter) repeat
     * most of their labels */
    struct lcache {
        uint32_t len;     /* bytes of name="value held in lbytes; 0 = empty */
        psc_fp fp;
    } lc[LC_LABELS];
    char lbytes[LC_LABELS][LC_BYTES];
    /* lookup context */
    const char *key;
    size_t keylen;
    psc_fp keyfp;
};

/* --------------------------------------------------------------- helpers */

static psc_status addf(psc_validator *v, psc_code code, const char *metric, size_t mlen,
                       uint64_t line, uint64_t lineoff, uint64_t col, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 8, 9)))
#endif
    ;

/* A finding at 1-based line/column; lineoff is the byte offset of the line
 * start, so the finding's offset is lineoff + col - 1. */
static psc_status addf(psc_validator *v, psc_code code, const char *metric, size_t mlen,
                       uint64_t line, uint64_t lineoff, uint64_t col, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    psc_str m = {metric, mlen};
    return psc_diag_add(v->d, PSC_SEV_ERROR, psc_code_name(code), m, lineoff + (col ? col - 1 : 0), line,
                        col, "%s", msg);
}

static psc_status warnf(psc_validator *v, psc_code code, const char *metric, size_t mlen,
                        uint64_t line, uint64_t lineoff, uint64_t col, const char *msg)
{
    psc_str m = {metric, mlen};
    return psc_diag_add(v->d, v->strict ? PSC_SEV_ERROR : PSC_SEV_WARNING, psc_code_name(code), m,
                        lineoff + (col ? col - 1 : 0), line, col, "%s", msg);
}

/* Escaped, bounded rendering of a name for messages. */
static const char *nm(char *dst, size_t cap, const char *s, size_t n)
{
    psc_buf b = {0};
    if (psc_buf_append_escaped(&b, s, n, 80) || !b.data)
        snprintf(dst, cap, "?");
    else
        snprintf(dst, cap, "%s", b.data);
    psc_buf_release(&b);
    return dst;
}

psc_validator *psc_validator_new(psc_format format, const psc_parse_opts *opts, psc_diag_list *diags)
{
    psc_validator *v = psc_calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->fmt = format;
    v->om = format == PSC_FORMAT_OPENMETRICS_1_0;
    v->strict = opts && (opts->flags & PSC_PARSE_STRICT);
    v->d = diags;
    uint64_t s = psc_hash_seed();
    v->seed.a = s;
    v->seed.b = s * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
    psc_arena_init(&v->arena);
    psc_hidx_init(&v->claim_idx);
    psc_hidx_init(&v->ms_idx);
    v->cur = NONE;
    v->cur_metric = NONE;
    return v;
}

void psc_validator_free(psc_validator *v)
{
    if (!v)
        return;
    psc_arena_release(&v->arena);
    psc_free(v->fams);
    psc_free(v->claims);
    psc_hidx_release(&v->claim_idx);
    psc_free(v->ms);
    psc_free(v->ext);
    psc_hidx_release(&v->ms_idx);
    psc_free(v->tmp);
    psc_free(v);
}

/* --------------------------------------------------------------- claims */

static bool claim_eq(void *ctx, uint32_t id)
{
    psc_validator *v = ctx;
    const claim *c = &v->claims[id];
    return c->len == v->keylen && memcmp(c->name, v->key, c->len) == 0;
}

static uint32_t claim_find(psc_validator *v, const char *s, size_t n)
{
    v->key = s;
    v->keylen = n;
    return psc_hidx_find(&v->claim_idx, psc_hash_bytes(s, n, v->seed.a), claim_eq, v);
}

static psc_status claim_add(psc_validator *v, uint32_t fam, const char *s, size_t n)
{
    if (psc_grow((void **)&v->claims, &v->capc, v->nclaims + 1, sizeof *v->claims))
        return PSC_E_NOMEM;
    char *copy = psc_arena_memdup(&v->arena, s, n ? n : 1);
    if (!copy)
        return PSC_E_NOMEM;
    if (psc_hidx_insert(&v->claim_idx, psc_hash_bytes(s, n, v->seed.a), (uint32_t)v->nclaims))
        return PSC_E_NOMEM;
    v->claims[v->nclaims].fam = fam;
    v->claims[v->nclaims].name = copy;
    v->claims[v->nclaims].len = n;
    v->nclaims++;
    return PSC_OK;
}

/*
 * Sample names a family of type t reserves (OpenMetrics-1.0.md "Suffixes").
 * In the text formats only the names of exposition_formats.md "Histograms
 * and summaries" are reserved: `x_created` is not, because client_python and
 * client_java write it there as a gauge family of its own.
 */
static const char *const *suffixes_of(psc_format fmt, psc_metric_type t)
{
    static const char *const counter[] = {"_total", "_created", NULL};
    static const char *const hist[] = {"_bucket", "_count", "_sum", "_created", NULL};
    static const char *const ghist[] = {"_bucket", "_gcount", "_gsum", NULL};
    static const char *const summary[] = {"_count", "_sum", "_created", NULL};
    static const char *const info[] = {"_info", NULL};
    static const char *const none[] = {NULL};
    static const char *const text_counter[] = {"_total", NULL};
    static const char *const text_hist[] = {"_bucket", "_count", "_sum", NULL};
    static const char *const text_summary[] = {"_count", "_sum", NULL};
    bool om = fmt == PSC_FORMAT_OPENMETRICS_1_0;
    switch (t) {
    case PSC_TYPE_COUNTER: return om ? counter : text_counter;
    case PSC_TYPE_HISTOGRAM: return om ? hist : text_hist;
    case PSC_TYPE_GAUGEHISTOGRAM: return ghist;
    case PSC_TYPE_SUMMARY: return om ? summary : text_summary;
    case PSC_TYPE_INFO: return info;
    default: return none;
    }
}

/* Claim the sample names of family f's type; report clashes. */
static psc_status claim_type_names(psc_validator *v, uint32_t f, uint64_t line, uint64_t lineoff, uint64_t col)
{
    vfam *fam = &v->fams[f];
    for (const char *const *sfx = suffixes_of(v->fmt, fam->type); *sfx; sfx++) {
        char name[1100];
        size_t sl = strlen(*sfx);
        if (fam->len + sl >= sizeof name) {
            continue; /* names that long cannot be compared cheaply; the family name itself is claimed */
        }
        memcpy(name, fam->name, fam->len);
        memcpy(name + fam->len, *sfx, sl);
        size_t n = fam->len + sl;
        uint32_t c = claim_find(v, name, n);
        if (c != NONE) {
            if (v->claims[c].fam == f)
                continue;
            const vfam *o = &v->fams[v->claims[c].fam];
            char a[96], b[96], x[96];
            psc_status st = addf(v, PSC_C_NAME_CLASH, fam->name, fam->len, line, lineoff, col,
                                 "%s family '%s' would expose samples named '%s', which clash with "
                                 "family '%s' (line %llu)",
                                 psc_metric_type_name(fam->type), nm(a, sizeof a, fam->name, fam->len),
                                 nm(x, sizeof x, name, n), nm(b, sizeof b, o->name, o->len),
                                 (unsigned long long)o->line);
            if (st)
                return st;
            continue;
        }
        psc_status st = claim_add(v, f, name, n);
        if (st)
            return st;
    }
    return PSC_OK;
}

/* --------------------------------------------------------------- families */

static void reset_family_state(psc_validator *v)
{
    v->nms = 0;
    v->next = 0;
    psc_hidx_clear(&v->ms_idx);
    v->cur_metric = NONE;
    v->tainted = false;
}

static bool is_hist(psc_metric_type t)
{
    return t == PSC_TYPE_HISTOGRAM || t == PSC_TYPE_GAUGEHISTOGRAM;
}

/* The extended state of m, read-only: all zero when it has none. */
static const mext *ext_of(const psc_validator *v, const mstate *m)
{
    return m->ext == NONE ? &mext_zero : &v->ext[m->ext];
}

/* The extended state of m, made on first use; NULL when out of memory. */
static mext *ext_need(psc_validator *v, mstate *m)
{
    if (m->ext != NONE)
        return &v->ext[m->ext];
    if (v->next >= NONE - 1 || psc_grow((void **)&v->ext, &v->capext, v->next + 1, sizeof *v->ext))
        return NULL;
    mext *x = &v->ext[v->next];
    *x = mext_zero;
    for (unsigned k = 0; k < 11; k++)
        if ((m->kinds >> k) & 1u)
            x->kind_line[k] = m->kline;
    m->ext = (uint32_t)v->next++;
    return x;
}

/* The line of the last sample of role kind in the current point (kinds has
 * its bit). */
static uint64_t kline_get(const psc_validator *v, const mstate *m, unsigned kind)
{
    return m->ext == NONE ? m->kline : v->ext[m->ext].kind_line[kind];
}

/* Record line L for role kind, before kinds gets its bit. */
static psc_status kline_set(psc_validator *v, mstate *m, unsigned kind, uint64_t L)
{
    if (m->ext == NONE && (m->kinds & ~(1u << kind)) == 0) {
        m->kline = L;
        return PSC_OK;
    }
    mext *x = ext_need(v, m);
    if (!x)
        return PSC_E_NOMEM;
    x->kind_line[kind] = L;
    return PSC_OK;
}

/* End-of-MetricPoint checks of a histogram metric. */
static psc_status finish_point(psc_validator *v, mstate *m)
{
    if (v->cur == NONE || v->tainted)
        goto reset;
    const vfam *f = &v->fams[v->cur];
    const mext *x = ext_of(v, m);
    char a[96];
    psc_status st = PSC_OK;
    const bool created = (m->kinds >> PSC_SAMPLE_CREATED) & 1u;
    if (v->om && created && f->type == PSC_TYPE_COUNTER && !((m->kinds >> PSC_SAMPLE_TOTAL) & 1u)) {
        /* OpenMetrics-1.0.md "Counter": a MetricPoint has a Total; the
         * created timestamp alone is no point */
        st = addf(v, PSC_C_CREATED_INVALID, f->name, f->len, m->line, m->line_off, 1,
                  "counter '%s' has a _created sample but no _total for the same labels",
                  nm(a, sizeof a, f->name, f->len));
        if (st)
            return st;
    }
    if (v->om && created && is_hist(f->type) && !x->any_bucket && !x->has_count && !x->has_sum) {
        /* "Histogram": a MetricPoint has buckets, the +Inf one at least */
        st = addf(v, PSC_C_HISTOGRAM_MISSING_INF, f->name, f->len, m->line, m->line_off, 1,
                  "%s '%s' has a _created sample but no buckets for the same labels",
                  psc_metric_type_name(f->type), nm(a, sizeof a, f->name, f->len));
        if (st)
            return st;
    }
    if (is_hist(f->type) && (x->any_bucket || x->has_count || x->has_sum)) {
        bool gauge = f->type == PSC_TYPE_GAUGEHISTOGRAM;
        const char *cnt = gauge ? "_gcount" : "_count", *sum = gauge ? "_gsum" : "_sum";
        if (!x->has_inf) {
            st = addf(v, PSC_C_HISTOGRAM_MISSING_INF, f->name, f->len, m->line, m->line_off, 1,
                      "%s '%s' has no bucket with le=\"+Inf\"", psc_metric_type_name(f->type),
                      nm(a, sizeof a, f->name, f->len));
        } else if (x->has_count && !isnan(x->count) && x->count != x->inf_value) {
            char cs[32], is[32];
            snprintf(cs, sizeof cs, "%.17g", x->count);
            snprintf(is, sizeof is, "%.17g", x->inf_value);
            st = addf(v, PSC_C_HISTOGRAM_COUNT_MISMATCH, f->name, f->len, x->count_line, x->count_off, 1,
                      "%s of %s '%s' is %s but its le=\"+Inf\" bucket (line %llu) is %s", cnt,
                      psc_metric_type_name(f->type), nm(a, sizeof a, f->name, f->len), cs, (unsigned long long)x->inf_line, is);
        }
        if (st)
            return st;
        if (v->om) {
            if (x->has_sum && !x->has_count)
                st = addf(v, PSC_C_HISTOGRAM_COUNT_MISMATCH, f->name, f->len, x->sum_line, x->sum_off, 1,
                          "%s '%s' has %s but no %s: OpenMetrics requires both or neither",
                          psc_metric_type_name(f->type), nm(a, sizeof a, f->name, f->len), sum, cnt);
            else if (x->has_count && !x->has_sum)
                st = addf(v, PSC_C_HISTOGRAM_COUNT_MISMATCH, f->name, f->len, x->count_line, x->count_off, 1,
                          "%s '%s' has %s but no %s: OpenMetrics requires both or neither",
                          psc_metric_type_name(f->type), nm(a, sizeof a, f->name, f->len), cnt, sum);
            else if (!gauge && x->has_sum && x->neg_bucket)
                st = addf(v, PSC_C_HISTOGRAM_INVALID_VALUE, f->name, f->len, x->sum_line, x->sum_off, 1,
                          "histogram '%s' has buckets with negative thresholds and must not have a _sum",
                          nm(a, sizeof a, f->name, f->len));
            else if (gauge && x->has_sum && x->sum < 0 && !x->neg_bucket)
                st = addf(v, PSC_C_HISTOGRAM_INVALID_VALUE, f->name, f->len, x->sum_line, x->sum_off, 1,
                          "_gsum of gaugehistogram '%s' is negative but no bucket has a negative threshold",
                          nm(a, sizeof a, f->name, f->len));
        }
        if (st)
            return st;
    }
reset:
    m->kinds = 0;
    if (m->ext != NONE) {
        mext *w = &v->ext[m->ext];
        w->any_bucket = w->has_inf = w->neg_bucket = w->has_count = w->has_sum = false;
        w->any_q = false;
        w->nq = 0;
    }
    return PSC_OK;
}

static psc_status finish_family(psc_validator *v)
{
    if (v->cur == NONE)
        return PSC_OK;
    for (size_t i = 0; i < v->nms; i++) {
        psc_status st = finish_point(v, &v->ms[i]);
        if (st)
            return st;
    }
    reset_family_state(v);
    return PSC_OK;
}

static psc_status new_family(psc_validator *v, const char *name, size_t n, psc_metric_type t,
                             uint64_t line, uint32_t *out)
{
    if (v->nfams >= NONE - 1 || psc_grow((void **)&v->fams, &v->capf, v->nfams + 1, sizeof *v->fams))
        return PSC_E_NOMEM;
    char *copy = psc_arena_memdup(&v->arena, name, n ? n : 1);
    if (!copy)
        return PSC_E_NOMEM;
    vfam *f = &v->fams[v->nfams];
    memset(f, 0, sizeof *f);
    f->name = copy;
    f->len = n;
    f->type = t;
    f->line = line;
    *out = (uint32_t)v->nfams++;
    return PSC_OK;
}

/* Switch to family `name` for a metadata line. */
static psc_status meta_family(psc_validator *v, const psc_entry *ent, uint32_t *out)
{
    char a[96];
    psc_status st;
    if (v->cur != NONE) {
        vfam *f = &v->fams[v->cur];
        if (f->len == ent->name.len && memcmp(f->name, ent->name.ptr, f->len) == 0) {
            *out = v->cur;
            return PSC_OK;
        }
    }
    if ((st = finish_family(v)))
        return st;
    uint32_t c = claim_find(v, ent->name.ptr, ent->name.len);
    if (c != NONE) {
        uint32_t of = v->claims[c].fam;
        const vfam *o = &v->fams[of];
        if (o->len == ent->name.len && memcmp(o->name, ent->name.ptr, o->len) == 0) {
            st = addf(v, o->samples_seen ? PSC_C_METADATA_AFTER_SAMPLES : PSC_C_DUPLICATE_METADATA, o->name, o->len, ent->line, ent->offset, ent->name_column,
                      "%s for '%s' appears again after other families: the family started at line %llu "
                      "and all its lines must form one group",
                      psc_entry_kind_name(ent->kind), nm(a, sizeof a, o->name, o->len),
                      (unsigned long long)o->line);
        } else {
            char b[96];
            st = addf(v, PSC_C_NAME_CLASH, ent->name.ptr, ent->name.len, ent->line, ent->offset, ent->name_column,
                      "family name '%s' clashes with the samples of %s family '%s' (line %llu)",
                      nm(a, sizeof a, ent->name.ptr, ent->name.len), psc_metric_type_name(o->type),
                      nm(b, sizeof b, o->name, o->len), (unsigned long long)o->line);
        }
        if (st)
            return st;
        /* go on with a fresh family of that name so later lines are checked */
        if ((st = new_family(v, ent->name.ptr, ent->name.len,
                             v->om ? PSC_TYPE_UNKNOWN : PSC_TYPE_UNTYPED, ent->line, out)))
            return st;
        v->cur = *out;
        return PSC_OK;
    }
    if ((st = new_family(v, ent->name.ptr, ent->name.len, v->om ? PSC_TYPE_UNKNOWN : PSC_TYPE_UNTYPED,
                         ent->line, out)))
        return st;
    if ((st = claim_add(v, *out, ent->name.ptr, ent->name.len)))
        return st;
    v->cur = *out;
    return PSC_OK;
}

static psc_status unit_checks(psc_validator *v, vfam *f, uint64_t line, uint64_t lineoff, uint64_t col)
{
    char a[96], b[96];
    if (!f->has_unit || f->unit.len == 0)
        return PSC_OK;
    if (f->has_type && (f->type == PSC_TYPE_INFO || f->type == PSC_TYPE_STATESET))
        return addf(v, PSC_C_UNIT_NOT_ALLOWED, f->name, f->len, line, lineoff, col,
                    "%s family '%s' must have an empty unit", psc_metric_type_name(f->type),
                    nm(a, sizeof a, f->name, f->len));
    return PSC_OK;
    (void)b;
}

static psc_status on_metadata(psc_validator *v, const psc_entry *ent)
{
    uint32_t fi;
    psc_status st = meta_family(v, ent, &fi);
    if (st)
        return st;
    vfam *f = &v->fams[fi];
    char a[96];
    const char *kw = psc_entry_kind_name(ent->kind);
    if (f->samples_seen) {
        /* A metadata block for a name whose samples were already seen: two
         * families share the name (the Go client's gauge 'x' and counter
         * 'x_total' in OpenMetrics, corpus/README.md). Report it once and
         * go on with a new family of that name, so that its own lines are
         * checked and not reported again. */
        char hint[640] = "";
        /* the hint explains the Go client's clash; a repeated TYPE of the
         * same type is just a misplaced line */
        if (v->om && !(ent->kind == PSC_ENTRY_TYPE && f->has_type && ent->type == f->type) &&
            ent->kind != PSC_ENTRY_UNIT)
            snprintf(hint, sizeof hint,
                     ": two metric families are named '%s' (in OpenMetrics a counter '%s_total' has the "
                     "family name '%s', so it clashes with a gauge '%s')",
                     nm(a, sizeof a, f->name, f->len), a, a, a);
        st = addf(v, PSC_C_METADATA_AFTER_SAMPLES, f->name, f->len, ent->line, ent->offset, ent->name_column,
                  "%s for '%s' after its samples (the family started at line %llu)%s", kw,
                  nm(a, sizeof a, f->name, f->len), (unsigned long long)f->line, hint);
        if (st)
            return st;
        if ((st = finish_family(v)))
            return st;
        if ((st = new_family(v, f->name, f->len, v->om ? PSC_TYPE_UNKNOWN : PSC_TYPE_UNTYPED, ent->line, &fi)))
            return st;
        v->cur = fi;
        f = &v->fams[fi];
        f->claimless = true;
    }
    bool *flag = ent->kind == PSC_ENTRY_TYPE ? &f->has_type
               : ent->kind == PSC_ENTRY_HELP ? &f->has_help : &f->has_unit;
    if (*flag)
        return addf(v, PSC_C_DUPLICATE_METADATA, f->name, f->len, ent->line, ent->offset, ent->name_column,
                    "second %s line for '%s'", kw, nm(a, sizeof a, f->name, f->len));
    *flag = true;
    if (ent->kind == PSC_ENTRY_TYPE) {
        f->type = ent->type;
        if (!f->claimless && (st = claim_type_names(v, fi, ent->line, ent->offset, ent->name_column)))
            return st;
        return unit_checks(v, f, ent->line, ent->offset, ent->name_column);
    }
    if (ent->kind == PSC_ENTRY_UNIT) {
        /* OpenMetrics "Unit": a non-empty unit must be a suffix of the name */
        f->unit = ent->text;
        if (ent->text.len) {
            size_t u = ent->text.len;
            bool ok = f->len > u + 1 && f->name[f->len - u - 1] == '_' &&
                      memcmp(f->name + f->len - u, ent->text.ptr, u) == 0;
            if (!ok) {
                char b[96];
                return addf(v, PSC_C_UNIT_MISMATCH, f->name, f->len, ent->line, ent->offset, ent->name_column,
                            "unit '%s' is not a suffix of the metric name '%s' (expected a name ending in '_%s')",
                            nm(b, sizeof b, ent->text.ptr, ent->text.len), nm(a, sizeof a, f->name, f->len),
                            nm(b, sizeof b, ent->text.ptr, ent->text.len));
            }
        }
        return unit_checks(v, f, ent->line, ent->offset, ent->name_column);
    }
    return PSC_OK;
}

/* --------------------------------------------------------------- samples */

/*
 * Fingerprint of one label pair: the hash of the bytes `name="value` (the
 * logical, unescaped text). When the pair stands unescaped in the input those
 * bytes are contiguous and hashed in place; otherwise they are assembled in
 * a scratch buffer first, so both spellings give the same fingerprint.
 */
static psc_fp label_fp_slow(psc_validator *v, const psc_label *l)
{
    const psc_str n = l->name, val = l->value;
    if (val.ptr == n.ptr + n.len + 2 && n.ptr[n.len] == '=' && n.ptr[n.len + 1] == '"')
        return psc_hash128(n.ptr, n.len + 2 + val.len, v->seed);
    size_t need = n.len + 2 + val.len;
    if (need > v->tmpcap) {
        size_t cap = v->tmpcap;
        if (psc_grow((void **)&v->tmp, &cap, need, 1)) {
            /* no memory for the copy: a fingerprint of the two parts still
             * identifies the pair; only spelling-independence is lost */
            psc_fp h = psc_hash128(n.ptr, n.len, v->seed);
            return psc_hash128(val.ptr, val.len, h);
        }
        v->tmpcap = cap;
    }
    memcpy(v->tmp, n.ptr, n.len);
    v->tmp[n.len] = '=';
    v->tmp[n.len + 1] = '"';
    if (val.len)
        memcpy(v->tmp + n.len + 2, val.ptr, val.len);
    return psc_hash128(v->tmp, need, v->seed);
}

/* label_fp() of label number i of a sample, reusing the hash of the
 * previous sample's label i when its bytes are the same. */
static inline psc_fp label_fp_at(psc_validator *v, const psc_label *l, size_t i)
{
    const psc_str n = l->name, val = l->value;
    const size_t len = n.len + 2 + val.len;
    if (i >= LC_LABELS || len > LC_BYTES || val.ptr != n.ptr + n.len + 2 || n.ptr[n.len] != '=' ||
        n.ptr[n.len + 1] != '"')
        return label_fp_slow(v, l); /* escaped, long or far: no cache */
    struct lcache *c = &v->lc[i];
    if (c->len == len && psc_short_eq(v->lbytes[i], n.ptr, len))
        return c->fp;
    /* the bytes are name="value, contiguous in the line (checked above) */
    /* returned from the register: reading c->fp back right after its two
     * 8-byte stores would stall on store forwarding */
    const psc_fp h = psc_hash128(n.ptr, len, v->seed);
    c->fp = h;
    psc_short_copy(v->lbytes[i], n.ptr, len);
    c->len = (uint32_t)len;
    return h;
}

static bool ms_eq(void *ctx, uint32_t id)
{
    psc_validator *v = ctx;
    return v->ms[id].fp.a == v->keyfp.a && v->ms[id].fp.b == v->keyfp.b;
}


static bool name_is(psc_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

static bool is_integer(double x)
{
    return isfinite(x) && x == floor(x);
}

static void render_series(char *dst, size_t cap, const psc_entry *ent)
{
    psc_buf b = {0};
    int r = psc_buf_append_escaped(&b, ent->name.ptr, ent->name.len, 80);
    if (ent->nlabels) {
        r |= psc_buf_putc(&b, '{');
        for (size_t i = 0; i < ent->nlabels && b.len < 200; i++) {
            if (i)
                r |= psc_buf_putc(&b, ',');
            r |= psc_buf_append_escaped(&b, ent->labels[i].name.ptr, ent->labels[i].name.len, 60);
            r |= psc_buf_append(&b, "=\"", 2);
            r |= psc_buf_append_escaped(&b, ent->labels[i].value.ptr, ent->labels[i].value.len, 60);
            r |= psc_buf_putc(&b, '"');
        }
        r |= psc_buf_putc(&b, '}');
    }
    snprintf(dst, cap, "%s", r || !b.data ? "?" : b.data);
    psc_buf_release(&b);
}

/* Find the family of a sample; NONE when the sample is to be skipped. */
static psc_status sample_family(psc_validator *v, const psc_entry *ent, uint32_t *out,
                                psc_sample_kind *kind)
{
    char a[96], b[96];
    psc_status st;
    *out = NONE;
    if (v->cur != NONE) {
        vfam *f = &v->fams[v->cur];
        psc_str fn = {f->name, f->len};
        if (psc_sample_in_family(v->fmt, f->type, fn, ent->name, kind)) {
            *out = v->cur;
            return PSC_OK;
        }
        if (v->om && psc_str_eq(fn, ent->name) &&
            (f->type == PSC_TYPE_COUNTER || f->type == PSC_TYPE_HISTOGRAM ||
             f->type == PSC_TYPE_GAUGEHISTOGRAM || f->type == PSC_TYPE_INFO)) {
            static const char *const want[] = {
                [PSC_TYPE_COUNTER] = "'_total' (and '_created')",
                [PSC_TYPE_HISTOGRAM] = "'_bucket', '_count', '_sum' or '_created'",
                [PSC_TYPE_GAUGEHISTOGRAM] = "'_bucket', '_gcount' or '_gsum'",
                [PSC_TYPE_INFO] = "'_info'",
            };
            f->samples_seen = true;
            return addf(v, PSC_C_INVALID_SAMPLE_NAME, f->name, f->len, ent->line, ent->offset, ent->name_column,
                        "sample '%s' of %s family '%s' needs a suffix: %s", nm(a, sizeof a, ent->name.ptr, ent->name.len),
                        psc_metric_type_name(f->type), nm(b, sizeof b, f->name, f->len), want[f->type]);
        }
    }
    uint32_t c = claim_find(v, ent->name.ptr, ent->name.len);
    if (c != NONE) {
        uint32_t fi = v->claims[c].fam;
        vfam *f = &v->fams[fi];
        psc_str fn = {f->name, f->len};
        if (!psc_sample_in_family(v->fmt, f->type, fn, ent->name, kind))
            *kind = PSC_SAMPLE_VALUE;
        if ((st = finish_family(v)))
            return st;
        v->cur = fi;
        if (v->om) {
            st = addf(v, PSC_C_INTERLEAVED_FAMILY, f->name, f->len, ent->line, ent->offset, ent->name_column,
                      "sample '%s' belongs to family '%s' (line %llu), which is interleaved with "
                      "other families: all lines of a family must form one group",
                      nm(a, sizeof a, ent->name.ptr, ent->name.len), nm(b, sizeof b, f->name, f->len),
                      (unsigned long long)f->line);
        } else if (!f->warned || v->strict) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "samples of '%s' continue here after other families (the family started at "
                     "line %llu): all lines of a metric must form one group",
                     nm(a, sizeof a, f->name, f->len), (unsigned long long)f->line);
            f->warned = true;
            st = warnf(v, PSC_C_INTERLEAVED_FAMILY, f->name, f->len, ent->line, ent->offset, ent->name_column, msg);
        }
        *out = fi;
        return st;
    }
    if ((st = finish_family(v)))
        return st;
    uint32_t fi;
    if ((st = new_family(v, ent->name.ptr, ent->name.len, v->om ? PSC_TYPE_UNKNOWN : PSC_TYPE_UNTYPED,
                         ent->line, &fi)))
        return st;
    if ((st = claim_add(v, fi, ent->name.ptr, ent->name.len)))
        return st;
    v->cur = fi;
    *kind = PSC_SAMPLE_VALUE;
    *out = fi;
    return PSC_OK;
}

static psc_status on_sample(psc_validator *v, const psc_entry *ent)
{
    uint32_t fi;
    psc_sample_kind kind = PSC_SAMPLE_VALUE;
    psc_status st = sample_family(v, ent, &fi, &kind);
    if (st || fi == NONE)
        return st;
    vfam *f = &v->fams[fi];
    f->samples_seen = true;
    const char *fname = f->name;
    size_t flen = f->len;
    char a[96], b[96];
    const uint64_t L = ent->line;
    const uint64_t vc = ent->value_column;
    const double val = ent->value;
    const psc_metric_type t = f->type;

    /* labels: fingerprint of the series and of the metric (without le / quantile / state label) */
    psc_fp all = {0, 0}, excl = {0, 0};
    psc_str le = PSC_STR_NULL, quantile = PSC_STR_NULL, state = PSC_STR_NULL;
    uint64_t le_col = 0;
    for (size_t i = 0; i < ent->nlabels; i++) {
        const psc_label *l = &ent->labels[i];
        psc_fp h = label_fp_at(v, l, i);
        all = psc_fp_add(all, h);
        if (name_is(l->name, "le")) {
            if (kind == PSC_SAMPLE_BUCKET) {
                le = l->value;
                le_col = ent->label_columns ? ent->label_columns[i] : 1;
                excl = psc_fp_add(excl, h);
                continue;
            }
            if (is_hist(t)) {
                if ((st = addf(v, PSC_C_RESERVED_LABEL, fname, flen, L, ent->offset, ent->label_columns[i],
                               "label 'le' is reserved for the buckets of histogram '%s'",
                               nm(a, sizeof a, fname, flen))))
                    return st;
                /* rejected, but counted with the metric it belongs to: as
                 * a metric of its own it would add findings that are not
                 * true of the input (no +Inf bucket, _count without _sum) */
                excl = psc_fp_add(excl, h);
            }
        } else if (name_is(l->name, "quantile")) {
            if (kind == PSC_SAMPLE_QUANTILE) {
                quantile = l->value;
                le_col = ent->label_columns[i];
                excl = psc_fp_add(excl, h);
                continue;
            }
            if (t == PSC_TYPE_SUMMARY) {
                if ((st = addf(v, PSC_C_RESERVED_LABEL, fname, flen, L, ent->offset, ent->label_columns[i],
                               "label 'quantile' is reserved for the quantiles of summary '%s'",
                               nm(a, sizeof a, fname, flen))))
                    return st;
                excl = psc_fp_add(excl, h); /* as for le above */
            }
        } else if (kind == PSC_SAMPLE_STATE && l->name.len == flen && memcmp(l->name.ptr, fname, flen) == 0) {
            state = l->value;
            excl = psc_fp_add(excl, h);
        }
    }
    psc_fp mfp = psc_fp_sub(all, excl);
    double lv = NAN; /* the bucket's le as a number */
    bool le_ok = kind == PSC_SAMPLE_BUCKET && le.ptr && psc_parse_double(le.ptr, le.len, &lv) == PSC_OK &&
                 !isnan(lv);

    /* the metric (label set) within the family */
    v->keyfp = mfp;
    /* most samples continue the metric of the previous one */
    uint32_t mi = v->cur_metric != NONE && v->ms[v->cur_metric].fp.a == mfp.a &&
                          v->ms[v->cur_metric].fp.b == mfp.b
                      ? v->cur_metric
                      : psc_hidx_find(&v->ms_idx, mfp.a, ms_eq, v);
    if (mi == NONE) {
        if (v->nms >= NONE - 1 || psc_grow((void **)&v->ms, &v->capms, v->nms + 1, sizeof *v->ms) ||
            psc_hidx_insert(&v->ms_idx, mfp.a, (uint32_t)v->nms))
            return PSC_E_NOMEM;
        mi = (uint32_t)v->nms++;
        mstate *m = &v->ms[mi];
        m->fp = mfp;
        m->line = L;
        m->line_off = ent->offset;
        m->ts = 0;
        m->kline = 0;
        m->ext = NONE;
        m->kinds = 0;
        m->ts_set = m->has_ts = false;
    } else if (v->om && mi != v->cur_metric) {
        char s[300];
        render_series(s, sizeof s, ent);
        st = addf(v, PSC_C_INTERLEAVED_FAMILY, fname, flen, L, ent->offset, ent->name_column,
                  "%s: the metric with these labels already appeared at line %llu and other "
                  "metrics of '%s' came in between (metrics must not be interleaved)",
                  s, (unsigned long long)v->ms[mi].line, nm(a, sizeof a, fname, flen));
        if (st)
            return st;
    }
    v->cur_metric = mi;
    mstate *m = &v->ms[mi];
    /* histogram and summary roles keep their state in the extended record */
    mext *x = NULL;
    switch (kind) {
    case PSC_SAMPLE_BUCKET:
    case PSC_SAMPLE_COUNT:
    case PSC_SAMPLE_GCOUNT:
    case PSC_SAMPLE_SUM:
    case PSC_SAMPLE_GSUM:
    case PSC_SAMPLE_QUANTILE:
        if (!(x = ext_need(v, m)))
            return PSC_E_NOMEM;
        break;
    default:
        break;
    }
    const mext *xr = x ? x : ext_of(v, m);

    /* MetricPoints (OpenMetrics "Metric"): timestamps present on all or none, non-decreasing */
    if (v->om) {
        /* Does this sample start a new MetricPoint of the metric? Buckets,
         * quantiles and states repeat within a point, so for them only a
         * later timestamp with a restarting threshold says so; their
         * repeats are otherwise found by the order and duplicate rules. */
        bool newer = ent->has_timestamp && m->has_ts && ent->timestamp > m->ts;
        bool again;
        if (kind == PSC_SAMPLE_BUCKET)
            again = xr->any_bucket && le_ok && lv <= xr->last_le && newer;
        else if (kind == PSC_SAMPLE_QUANTILE || kind == PSC_SAMPLE_STATE)
            again = ((m->kinds >> kind) & 1u) && newer;
        else
            again = (m->kinds >> kind) & 1u;
        if (m->ts_set && m->has_ts != ent->has_timestamp)
            return addf(v, PSC_C_TIMESTAMP_ORDER, fname, flen, L, ent->offset, ent->has_timestamp ? ent->timestamp_column : vc,
                        "samples of one metric must all have a timestamp or none (the sample at line %llu has %s)",
                        (unsigned long long)m->line, m->has_ts ? "one" : "none");
        if (ent->has_timestamp && m->ts_set && ent->timestamp < m->ts)
            return addf(v, PSC_C_TIMESTAMP_ORDER, fname, flen, L, ent->offset, ent->timestamp_column,
                        "timestamp goes backwards within metric '%s' (MetricPoints must have increasing timestamps)",
                        nm(a, sizeof a, fname, flen));
        if (again) {
            if (!ent->has_timestamp) {
                char s[300];
                render_series(s, sizeof s, ent);
                return addf(v, PSC_C_DUPLICATE_SERIES, fname, flen, L, ent->offset, ent->name_column,
                            "duplicate series %s: first at line %llu", s,
                            (unsigned long long)kline_get(v, m, kind));
            }
            if ((st = finish_point(v, m)))
                return st;
        }
        m->ts_set = true;
        m->has_ts = ent->has_timestamp;
        if (ent->has_timestamp)
            m->ts = ent->timestamp;
    } else if (((m->kinds >> kind) & 1u) && kind != PSC_SAMPLE_BUCKET && kind != PSC_SAMPLE_QUANTILE) {
        /* text formats: every name + label set must be unique ("Grouping and
         * sorting"); buckets and quantiles are checked by their order rules */
        char s[300];
        render_series(s, sizeof s, ent);
        return addf(v, PSC_C_DUPLICATE_SERIES, fname, flen, L, ent->offset, ent->name_column,
                    "duplicate series %s: first at line %llu", s, (unsigned long long)kline_get(v, m, kind));
    }
    uint64_t prev_line = (m->kinds >> kind) & 1u ? kline_get(v, m, kind) : 0;
    if ((st = kline_set(v, m, kind, L)))
        return st;
    m->kinds |= 1u << kind;

    /* exemplars: OpenMetrics "Counter", "Histogram", "GaugeHistogram" */
    if (ent->has_exemplar && !(kind == PSC_SAMPLE_TOTAL || (kind == PSC_SAMPLE_BUCKET && is_hist(t)))) {
        if ((st = addf(v, PSC_C_EXEMPLAR_NOT_ALLOWED, fname, flen, L, ent->offset, ent->exemplar_column,
                       "exemplars are allowed only on counter _total and histogram _bucket samples, not on '%s'",
                       nm(a, sizeof a, ent->name.ptr, ent->name.len))))
            return st;
    }

    switch (kind) {
    case PSC_SAMPLE_TOTAL:
        if (v->om && (isnan(val) || val < 0))
            return addf(v, PSC_C_INVALID_COUNTER_VALUE, fname, flen, L, ent->offset, vc,
                        "counter '%s' has value %s: a counter total must not be NaN or negative",
                        nm(a, sizeof a, ent->name.ptr, ent->name.len), isnan(val) ? "NaN" : "< 0");
        break;
    case PSC_SAMPLE_BUCKET: {
        if (!le.ptr)
            return addf(v, PSC_C_HISTOGRAM_MISSING_LE, fname, flen, L, ent->offset, ent->name_column,
                        "bucket of histogram '%s' has no 'le' label", nm(a, sizeof a, fname, flen));
        if (!le_ok) {
            v->tainted = true;
            return addf(v, PSC_C_HISTOGRAM_INVALID_LE, fname, flen, L, ent->offset, le_col,
                        "bucket of histogram '%s' has le=\"%s\", which is not a number",
                        nm(a, sizeof a, fname, flen), nm(b, sizeof b, le.ptr, le.len));
        }
        bool bad_value = v->om && (isnan(val) || val < 0 || !is_integer(val));
        if (x->any_bucket && lv <= x->last_le) {
            v->tainted = true;
            return addf(v, lv == x->last_le ? PSC_C_DUPLICATE_SERIES : PSC_C_HISTOGRAM_BUCKET_ORDER, fname, flen, L, ent->offset, le_col,
                        lv == x->last_le ? "bucket le=\"%s\" of histogram '%s' repeats the threshold of line %llu"
                                         : "bucket le=\"%s\" of histogram '%s' comes after a larger threshold "
                                           "(line %llu): buckets must be in increasing order of le",
                        nm(b, sizeof b, le.ptr, le.len), nm(a, sizeof a, fname, flen),
                        (unsigned long long)x->last_bucket_line);
        }
        if (x->any_bucket && val < x->last_bucket) {
            st = addf(v, PSC_C_HISTOGRAM_NOT_CUMULATIVE, fname, flen, L, ent->offset, vc,
                      "bucket le=\"%s\" of histogram '%s' is lower than the previous bucket (line %llu): "
                      "buckets must be cumulative",
                      nm(b, sizeof b, le.ptr, le.len), nm(a, sizeof a, fname, flen),
                      (unsigned long long)x->last_bucket_line);
            if (st)
                return st;
        }
        /* recorded even when the value is bad, so that the end-of-metric
         * checks do not report the same sample again */
        x->any_bucket = true;
        x->last_le = lv;
        x->last_bucket = val;
        x->last_bucket_line = L;
        if (lv < 0)
            x->neg_bucket = true;
        if (v->om ? (le.len == 4 && memcmp(le.ptr, "+Inf", 4) == 0) : (isinf(lv) && lv > 0)) {
            x->has_inf = true;
            x->inf_value = val;
            x->inf_line = L;
        }
        if (bad_value)
            return addf(v, PSC_C_HISTOGRAM_INVALID_VALUE, fname, flen, L, ent->offset, vc,
                        "bucket le=\"%s\" of '%s' must be a non-negative integer count",
                        nm(b, sizeof b, le.ptr, le.len), nm(a, sizeof a, fname, flen));
        break;
    }
    case PSC_SAMPLE_COUNT:
    case PSC_SAMPLE_GCOUNT:
        x->has_count = true;
        x->count = val;
        x->count_line = L;
        x->count_off = ent->offset;
        if (v->om && (isnan(val) || val < 0 || !is_integer(val)))
            return addf(v, t == PSC_TYPE_SUMMARY ? PSC_C_SUMMARY_INVALID_VALUE : PSC_C_HISTOGRAM_INVALID_VALUE, fname, flen, L, ent->offset, vc, "'%s' must be a non-negative integer count", nm(a, sizeof a, ent->name.ptr, ent->name.len));
        break;
    case PSC_SAMPLE_SUM:
    case PSC_SAMPLE_GSUM:
        x->has_sum = true;
        x->sum = val;
        x->sum_line = L;
        x->sum_off = ent->offset;
        if (v->om && (isnan(val) || (kind == PSC_SAMPLE_SUM && val < 0 && !(t == PSC_TYPE_HISTOGRAM && x->neg_bucket))))
            return addf(v, t == PSC_TYPE_SUMMARY ? PSC_C_SUMMARY_INVALID_VALUE : PSC_C_HISTOGRAM_INVALID_VALUE, fname, flen, L, ent->offset, vc, "'%s' must not be %s", nm(a, sizeof a, ent->name.ptr, ent->name.len),
                        isnan(val) ? "NaN" : "negative");
        break;
    case PSC_SAMPLE_QUANTILE: {
        if (!quantile.ptr)
            return addf(v, PSC_C_SUMMARY_INVALID_QUANTILE, fname, flen, L, ent->offset, ent->name_column,
                        "sample '%s' of summary '%s' has no 'quantile' label", nm(a, sizeof a, ent->name.ptr, ent->name.len),
                        nm(b, sizeof b, fname, flen));
        double q;
        if (psc_parse_double(quantile.ptr, quantile.len, &q) != PSC_OK || isnan(q) || q < 0 || q > 1)
            return addf(v, PSC_C_SUMMARY_INVALID_QUANTILE, fname, flen, L, ent->offset, le_col,
                        "quantile=\"%s\" of summary '%s' is not a number between 0 and 1",
                        nm(b, sizeof b, quantile.ptr, quantile.len), nm(a, sizeof a, fname, flen));
        if (v->om && val < 0)
            return addf(v, PSC_C_SUMMARY_INVALID_VALUE, fname, flen, L, ent->offset, vc,
                        "quantile value of summary '%s' must not be negative", nm(a, sizeof a, fname, flen));
        if (v->om) {
            for (uint32_t i = 0; i < x->nq; i++)
                if (x->q[i] == q)
                    return addf(v, PSC_C_DUPLICATE_SERIES, fname, flen, L, ent->offset, le_col,
                                "quantile=\"%s\" of summary '%s' appears twice in one metric point",
                                nm(b, sizeof b, quantile.ptr, quantile.len), nm(a, sizeof a, fname, flen));
            if (x->nq < 16)
                x->q[x->nq++] = q;
        } else if (x->any_q && q == x->last_q) {
            return addf(v, PSC_C_DUPLICATE_SERIES, fname, flen, L, ent->offset, le_col,
                        "quantile=\"%s\" of summary '%s' repeats the quantile of line %llu",
                        nm(b, sizeof b, quantile.ptr, quantile.len), nm(a, sizeof a, fname, flen),
                        (unsigned long long)prev_line);
        } else if (x->any_q && q < x->last_q) {
            st = addf(v, PSC_C_SUMMARY_QUANTILE_ORDER, fname, flen, L, ent->offset, le_col,
                      "quantile=\"%s\" of summary '%s' is not above the previous quantile: quantiles "
                      "must be in increasing order",
                      nm(b, sizeof b, quantile.ptr, quantile.len), nm(a, sizeof a, fname, flen));
            if (st)
                return st;
        }
        x->any_q = true;
        x->last_q = q;
        break;
    }
    case PSC_SAMPLE_STATE:
        if (!state.ptr)
            return addf(v, PSC_C_STATESET_INVALID, fname, flen, L, ent->offset, ent->name_column,
                        "sample of stateset '%s' needs a label named '%s' holding the state",
                        nm(a, sizeof a, fname, flen), nm(b, sizeof b, fname, flen));
        if (val != 0 && val != 1)
            return addf(v, PSC_C_STATESET_INVALID, fname, flen, L, ent->offset, vc,
                        "state '%s' of stateset '%s' must be 0 or 1", nm(b, sizeof b, state.ptr, state.len),
                        nm(a, sizeof a, fname, flen));
        break;
    case PSC_SAMPLE_CREATED:
        /* OpenMetrics "Counter", "Histogram", "Summary": Created is a
         * Timestamp, and a timestamp is a real number ("Timestamps") */
        if (v->om && !isfinite(val))
            return addf(v, PSC_C_CREATED_INVALID, fname, flen, L, ent->offset, vc,
                        "'%s' is a creation timestamp and must be a finite number of seconds, not %s",
                        nm(a, sizeof a, ent->name.ptr, ent->name.len), isnan(val) ? "NaN" : "infinite");
        break;
    case PSC_SAMPLE_INFO:
        if (val != 1)
            return addf(v, PSC_C_INFO_INVALID, fname, flen, L, ent->offset, vc, "info metric '%s' must have the value 1",
                        nm(a, sizeof a, ent->name.ptr, ent->name.len));
        break;
    default:
        break;
    }
    return PSC_OK;
}

psc_status psc_validator_feed(psc_validator *v, const psc_entry *ent)
{
    psc_status st;
    switch (ent->kind) {
    case PSC_ENTRY_HELP:
    case PSC_ENTRY_TYPE:
    case PSC_ENTRY_UNIT:
        st = on_metadata(v, ent);
        break;
    case PSC_ENTRY_SAMPLE:
        st = on_sample(v, ent);
        break;
    case PSC_ENTRY_EOF:
        st = finish_family(v);
        v->cur = NONE;
        break;
    default:
        st = PSC_OK;
    }
    return st == PSC_E_NOMEM ? PSC_E_NOMEM : PSC_OK;
}

psc_status psc_validator_parse_error(psc_validator *v, const psc_error *err)
{
    (void)err;
    /* The broken line may have been a bucket or a _count: do not add
     * end-of-metric findings that only repeat the damage. */
    if (v->cur != NONE)
        v->tainted = true;
    return PSC_OK;
}

psc_status psc_validator_finish(psc_validator *v, uint64_t end_offset, uint64_t end_line,
                                uint64_t end_column)
{
    (void)end_offset;
    (void)end_line;
    (void)end_column;
    psc_status st = finish_family(v);
    v->cur = NONE;
    return st;
}

/* A line the parser rejected: the finding, and the validator told. */
static psc_status on_parse_error(psc_validator *v, psc_diag_list *diags, const psc_error *err)
{
    if (psc_diag_add_error(diags, err, PSC_STR_NULL) != PSC_OK ||
        psc_validator_parse_error(v, err) != PSC_OK)
        return PSC_E_NOMEM;
    return PSC_OK;
}

/* Feed every entry of the parser's current buffer to the validator. */
static psc_status drain(psc_parser *p, psc_validator *v, psc_diag_list *diags)
{
    for (;;) {
        psc_entry ent;
        psc_error err;
        err.code = PSC_C_NONE;
        psc_status st = psc_parser_next(p, &ent, &err);
        if (st == PSC_DONE)
            return PSC_OK;
        if (st == PSC_E_NOMEM)
            return PSC_E_NOMEM;
        if (st != PSC_OK) {
            if (on_parse_error(v, diags, &err) != PSC_OK)
                return PSC_E_NOMEM;
            continue;
        }
        if (psc_validator_feed(v, &ent) != PSC_OK)
            return PSC_E_NOMEM;
    }
}

static psc_status finish_validation(psc_parser *p, psc_validator *v, psc_diag_list *diags,
                                    size_t errors_before)
{
    if (psc_validator_finish(v, psc_parser_offset(p), psc_parser_line(p), 1) != PSC_OK)
        return PSC_E_NOMEM;
    const psc_diag_list *w = psc_parser_warnings(p);
    for (size_t i = 0; i < w->count; i++) {
        const psc_diag *d = &w->items[i];
        psc_str m = {d->metric, strlen(d->metric)};
        if (psc_diag_add(diags, d->severity, d->rule, m, d->offset, d->line, d->column, "%s", d->message))
            return PSC_E_NOMEM;
    }
    return diags->nerrors > errors_before ? PSC_E_SYNTAX : PSC_OK;
}

/* Chunk size of psc_validate_stream; tests lower it to cross chunk borders
 * often (psc_test_set_stream_chunk, parse/internal.h). */
static size_t stream_chunk = 1u << 20;

psc_status psc_stream_drain(psc_read_fn rd, void *ctx, char *buf, size_t cap, psc_error *err)
{
    for (;;) {
        long r = rd(ctx, buf, cap, err);
        if (r < 0)
            return PSC_E_IO;
        if (r == 0)
            return PSC_OK;
    }
}

psc_status psc_stream_fill(psc_read_fn rd, void *ctx, char *buf, size_t cap, size_t *have,
                           bool *eof, bool *paced, psc_error *err)
{
    bool short_read = false;
    while (!*eof && *have < cap) {
        long r = rd(ctx, buf + *have, cap - *have, err);
        if (r < 0)
            return PSC_E_IO;
        if (r == 0)
            *eof = true;
        *paced |= short_read && r > 0;
        short_read |= (size_t)r < cap - *have;
        *have += (size_t)r;
        if (memchr(buf + *have - (size_t)r, '\n', (size_t)r) && *have >= stream_chunk)
            break;
    }
    return PSC_OK;
}

size_t psc_stream_complete(const char *buf, size_t have, bool eof)
{
    if (!eof)
        for (size_t i = have; i > 0; i--)
            if (buf[i - 1] == '\n')
                return i;
    return have;
}

size_t psc_stream_chunk_size(void)
{
    return stream_chunk;
}

void psc_test_set_stream_chunk(size_t n)
{
    stream_chunk = n ? n : 1u << 20;
}

static size_t pipeline_min = 1u << 20, pipeline_batch;
static int split_mode; /* 0: by the reads; 1: the caller validates; 2: the second thread */

void psc_test_set_validate_split(int mode)
{
    split_mode = mode;
}

size_t psc_pipeline_min_bytes(void)
{
    return pipeline_min;
}

size_t psc_pipeline_batch(void)
{
    return pipeline_batch;
}

void psc_test_set_pipeline(size_t min_bytes, size_t batch)
{
    pipeline_min = min_bytes ? min_bytes : 1u << 20;
    pipeline_batch = batch;
}

/* psc_validate_stream in two threads, split one of two ways.
 *
 * Reads that come back full (a file): the caller's thread reads chunk k+1
 * and validates the entries of chunk k-1, while a parser thread parses
 * chunk k. Parsing is the larger part of the work (docs/performance.md), so
 * the two threads are about equally busy. The parser thread copies each
 * entry, and each line it rejects, into batches (psc_batch: the entries'
 * slices into the parser's scratch are copied, those into the chunk are
 * kept), which go round VB_SLOTS slots back to the caller. A batch holds
 * lines of one chunk only, and the last batch of a chunk says so; the
 * caller refills a buffer once it has validated every batch of the chunk in
 * it.
 *
 * Reads that come back short (a pipe, a socket): whatever writes into it
 * may be slower than we are, and must not wait while the caller validates.
 * Then the caller's thread only reads, and the second thread parses and
 * validates; it hands each chunk's buffer back when done with it.
 *
 * Either way the chunks go round VP_INPUTS buffers; the caller moves the
 * unfinished last line of one into the next, as one thread moves it to the
 * front. The parser belongs to the second thread until the join, the
 * validator and the findings list to the thread that validates. So the
 * findings and their order are those of one thread (tests/test_stream.c
 * compares them). */
enum { VP_INPUTS = 3, VB_SLOTS = 4, VB_BATCH = 1024 };

typedef struct vb_error {
    size_t at;               /* comes before item `at` of the batch */
    psc_error err;
} vb_error;

typedef struct vbatch {
    psc_batch b;
    vb_error *errs;          /* the lines the parser rejected, in order */
    size_t nerr, caperr;
    bool last;               /* the last batch of its chunk */
} vbatch;

typedef struct vpipe {
    psc_handoff h;           /* chunks: the caller to the parser thread */
    psc_handoff hv;          /* batches: the parser thread to the caller */
    psc_parser *p;
    const char *chunk[VP_INPUTS]; /* chunk seq is chunk[seq % VP_INPUTS] */
    size_t len[VP_INPUTS];
    bool final[VP_INPUTS];
    vbatch slot[VB_SLOTS];
    bool preset;             /* chunk 0 was given to psc_parser_reset() already */
    uint64_t taken;          /* the caller's: batches validated */
    /* the parser thread validates too (reads came back short): with these */
    psc_validator *v;
    psc_diag_list *diags;
    /* where the parser stopped: 0, or (1 + chunk) << 1 | past `# EOF` */
    atomic_uint_least64_t stop;
} vpipe;

/* Parser thread: the next slot to fill, emptied, once the caller is done
 * with it; NULL when the caller has given up (*st says why). */
static vbatch *vb_claim(vpipe *vp, psc_status *st)
{
    const uint64_t seq = vp->hv.published; /* only this thread changes it */
    if ((*st = psc_handoff_claim(&vp->hv, seq)) != PSC_OK)
        return NULL;
    vbatch *s = &vp->slot[seq % VB_SLOTS];
    psc_batch_clear(&s->b);
    s->nerr = 0;
    s->last = false;
    return s;
}

/* Parser thread: parse chunk `seq` into batches and publish them, the last
 * one marked. PSC_OK, PSC_E_NOMEM, or the status the caller gave up with. */
static psc_status vb_parse_chunk(vpipe *vp, uint64_t seq)
{
    const size_t batch = psc_pipeline_batch() ? psc_pipeline_batch() : VB_BATCH;
    const size_t i = seq % VP_INPUTS;
    const char *lo = vp->chunk[i];
    if (seq || !vp->preset)
        psc_parser_continue(vp->p, lo, vp->len[i], vp->final[i]);
    vbatch *s = NULL;
    psc_status rc = PSC_OK;
    for (;;) {
        psc_entry ent;
        psc_error err;
        err.code = PSC_C_NONE;
        psc_status st = psc_parser_next(vp->p, &ent, &err);
        if (st == PSC_DONE)
            break;
        if (st == PSC_E_NOMEM)
            return PSC_E_NOMEM;
        if (!s && !(s = vb_claim(vp, &rc)))
            return rc;
        if (st == PSC_OK) {
            rc = psc_batch_put(&s->b, lo, lo + vp->len[i], &ent, 0, true);
        } else if (psc_grow((void **)&s->errs, &s->caperr, s->nerr + 1, sizeof *s->errs)) {
            rc = PSC_E_NOMEM;
        } else {
            s->errs[s->nerr].at = s->b.n;
            s->errs[s->nerr++].err = err;
        }
        if (rc != PSC_OK)
            return rc;
        if (s->b.n + s->nerr >= batch) {
            psc_handoff_publish(&vp->hv);
            s = NULL;
        }
    }
    /* before the last batch, which the caller checks it after */
    if (psc_parser_stopped(vp->p))
        atomic_store(&vp->stop, (seq + 1) << 1 | (psc_parser_stopped_past_eof(vp->p) ? 1u : 0u));
    if (!s && !(s = vb_claim(vp, &rc)))
        return rc;
    s->last = true;
    psc_handoff_publish(&vp->hv);
    return PSC_OK;
}

/* Second thread, validating too: parse and validate chunk `seq`.
 * PSC_OK or PSC_E_NOMEM. */
static psc_status vb_check_chunk(vpipe *vp, uint64_t seq)
{
    const size_t i = seq % VP_INPUTS;
    psc_parser_continue(vp->p, vp->chunk[i], vp->len[i], vp->final[i]);
    psc_status st = drain(vp->p, vp->v, vp->diags);
    if (st == PSC_OK && psc_parser_stopped(vp->p))
        atomic_store(&vp->stop, (seq + 1) << 1 | (psc_parser_stopped_past_eof(vp->p) ? 1u : 0u));
    return st;
}

static void *vb_parser(void *arg)
{
    vpipe *vp = arg;
    psc_status st = PSC_OK;
    for (uint64_t seq = 0; st == PSC_OK && psc_handoff_next(&vp->h, seq); seq++) {
        /* chunks the caller read before it saw the parser stop are
         * skipped, as one thread would not have read them */
        if (!atomic_load(&vp->stop))
            st = vp->v ? vb_check_chunk(vp, seq) : vb_parse_chunk(vp, seq);
        if (vp->v)
            psc_handoff_release(&vp->h, st); /* the buffer is free again */
    }
    psc_handoff_close(&vp->hv, st);
    return NULL;
}

/* Caller: validate the entries and rejected lines of one batch, in order. */
static psc_status vb_validate(psc_validator *v, psc_diag_list *diags, const vbatch *s)
{
    size_t k = 0;
    for (size_t i = 0; i <= s->b.n; i++) {
        for (; k < s->nerr && s->errs[k].at == i; k++)
            if (on_parse_error(v, diags, &s->errs[k].err) != PSC_OK)
                return PSC_E_NOMEM;
        if (i < s->b.n && psc_validator_feed(v, &s->b.items[i].e) != PSC_OK)
            return PSC_E_NOMEM;
    }
    return PSC_OK;
}

/* Caller: validate the batches of the next chunk. PSC_OK, PSC_E_NOMEM, or
 * the parser thread's failure. */
static psc_status vb_validate_chunk(vpipe *vp, psc_validator *v, psc_diag_list *diags)
{
    for (;;) {
        if (!psc_handoff_next(&vp->hv, vp->taken)) {
            /* the parser thread ends early only when it failed */
            psc_status st = psc_handoff_status(&vp->hv);
            return st != PSC_OK ? st : PSC_E_NOMEM;
        }
        const vbatch *s = &vp->slot[vp->taken % VB_SLOTS];
        const bool last = s->last;
        psc_status st = vb_validate(v, diags, s);
        vp->taken++;
        psc_handoff_release(&vp->hv, st);
        if (st != PSC_OK || last)
            return st;
    }
}

/* Caller: did the parser stop in one of the first `validated` chunks? 0
 * no, 1 at a limit, 2 past `# EOF`. */
static int vb_stopped(vpipe *vp, uint64_t validated)
{
    const uint64_t s = atomic_load(&vp->stop);
    if (!s || validated < (s >> 1))
        return 0;
    return s & 1u ? 2 : 1;
}

/* Start the parser thread; it also validates, with v and diags, unless v
 * is NULL. False when it could not be started (the caller then goes on in
 * its own thread). */
static bool vb_start(vpipe *vp, psc_parser *p, psc_validator *v, psc_diag_list *diags)
{
    memset(vp, 0, sizeof *vp);
    vp->v = v;
    vp->diags = diags;
    for (size_t i = 0; i < VB_SLOTS; i++)
        psc_batch_init(&vp->slot[i].b);
    vp->p = p;
    if (!psc_handoff_init(&vp->hv, VB_SLOTS))
        return false;
    if (!psc_handoff_start(&vp->h, VP_INPUTS, vb_parser, vp)) {
        psc_handoff_destroy(&vp->hv);
        return false;
    }
    return true;
}

/* Caller: make the parser thread end (it may be waiting for a chunk or for
 * a free slot), join it, release the slots. The failure of the second
 * thread when it validated, else PSC_OK (the caller sees the parser
 * thread's failures in the batches). */
static psc_status vb_stop(vpipe *vp)
{
    psc_handoff_fail(&vp->hv, PSC_E_NOMEM); /* only wakes it: the caller is done */
    psc_status st = psc_handoff_stop(&vp->h);
    psc_handoff_destroy(&vp->hv);
    for (size_t i = 0; i < VB_SLOTS; i++) {
        psc_batch_release(&vp->slot[i].b);
        psc_free(vp->slot[i].errs);
    }
    return vp->v ? st : PSC_OK;
}

psc_status psc_validate_buffer(const char *buf, size_t len, const psc_parse_opts *opts,
                               psc_diag_list *diags)
{
    psc_parse_opts o;
    if (opts)
        o = *opts;
    else
        psc_parse_opts_init(&o);
    psc_parser *p = psc_parser_new(&o);
    if (!p)
        return PSC_E_NOMEM;
    psc_parser_reset(p, buf, len);
    psc_validator *v = psc_validator_new(psc_parser_format(p), &o, diags);
    if (!v) {
        psc_parser_free(p);
        return PSC_E_NOMEM;
    }
    size_t errors_before = diags->nerrors;
    psc_status rc;
    vpipe vp;
    if (o.max_threads != 1 && len >= pipeline_min && vb_start(&vp, p, NULL, NULL)) {
        /* the parser thread makes batches of the buffer while this one
         * validates them, as psc_validate_stream() does with one chunk */
        vp.chunk[0] = buf;
        vp.len[0] = len;
        vp.final[0] = true;
        vp.preset = true;
        psc_handoff_publish(&vp.h);
        rc = vb_validate_chunk(&vp, v, diags);
        (void)vb_stop(&vp);
    } else {
        rc = drain(p, v, diags);
    }
    if (rc == PSC_OK)
        rc = finish_validation(p, v, diags, errors_before);
    psc_validator_free(v);
    psc_parser_free(p);
    return rc;
}

psc_status psc_validate_stream(psc_read_fn rd, void *ctx, const psc_parse_opts *opts,
                               psc_diag_list *diags, psc_error *err)
{
    psc_parse_opts o;
    if (opts)
        o = *opts;
    else
        psc_parse_opts_init(&o);
    if (!o.max_line_bytes)
        o.max_line_bytes = 1u << 20;
    size_t cap = stream_chunk + o.max_line_bytes + 1;
    vpipe vp;
    bool piped = false;
    /* one buffer, or VP_INPUTS in turn when piped */
    char *ins[VP_INPUTS] = {psc_malloc(cap)};
    size_t cur = 0;
    uint64_t published = 0, validated = 0; /* chunks, when piped */
    char *buf = ins[0];
    psc_parser *p = psc_parser_new(&o);
    psc_validator *v = NULL;
    psc_status rc = PSC_OK;
    size_t have = 0;
    bool eof = false, started = false;
    bool paced = false; /* a pipe or a socket (psc_stream_fill) */
    int stopped = 0;
    size_t errors_before = diags->nerrors;
    if (!buf || !p) {
        rc = PSC_E_NOMEM;
        goto out;
    }
    for (;;) {
        if (psc_stream_fill(rd, ctx, buf, cap, &have, &eof, &paced, err) != PSC_OK) {
            rc = PSC_E_IO;
            goto out;
        }
        if (!started) {
            started = true;
            psc_parser_reset(p, buf, 0);
            if (o.format == PSC_FORMAT_AUTO) {
                o.format = psc_format_detect(buf, have);
                /* re-create the parser with the resolved format */
                psc_parser_free(p);
                p = psc_parser_new(&o);
                if (!p) {
                    rc = PSC_E_NOMEM;
                    goto out;
                }
                psc_parser_reset(p, buf, 0);
            }
            v = psc_validator_new(o.format, &o, diags);
            if (!v) {
                rc = PSC_E_NOMEM;
                goto out;
            }
            /* a second thread for inputs of more than one chunk; when it
             * cannot be had, one thread goes on */
            if (o.max_threads != 1 && have >= pipeline_min) {
                bool ok = true;
                for (size_t i = 1; i < VP_INPUTS && ok; i++)
                    ok = (ins[i] = psc_malloc(cap)) != NULL;
                if (split_mode)
                    paced = split_mode == 2;
                piped = ok && vb_start(&vp, p, paced ? v : NULL, paced ? diags : NULL);
            }
        }
        const bool final = eof;
        const size_t complete = psc_stream_complete(buf, have, eof);
        size_t next = cur;
        if (piped) {
            vp.chunk[cur] = buf;
            vp.len[cur] = complete;
            vp.final[cur] = final;
            psc_handoff_publish(&vp.h);
            published++;
            if (final)
                break;
            next = published % VP_INPUTS;
            if (vp.v) {
                /* the buffer is free once the second thread is done with
                 * the chunk it held, VP_INPUTS chunks ago */
                if ((rc = psc_handoff_claim(&vp.h, published)) != PSC_OK)
                    goto out;
                stopped = vb_stopped(&vp, published);
            }
            /* the next buffer holds chunk published - VP_INPUTS: validate
             * up to it */
            while (!vp.v && !stopped && validated + VP_INPUTS - 1 < published) {
                if ((rc = vb_validate_chunk(&vp, v, diags)) != PSC_OK)
                    goto out;
                stopped = vb_stopped(&vp, ++validated);
            }
        } else {
            psc_parser_continue(p, buf, complete, final);
            if ((rc = drain(p, v, diags)))
                goto out;
            if (final)
                break;
            stopped = !psc_parser_stopped(p) ? 0 : psc_parser_stopped_past_eof(p) ? 2 : 1;
        }
        if (stopped == 1)
            break;
        if (stopped == 2) {
            if (psc_stream_drain(rd, ctx, ins[next], cap, err) != PSC_OK) {
                rc = PSC_E_IO;
                goto out;
            }
            break;
        }
        memmove(ins[next], buf + complete, have - complete);
        have -= complete;
        cur = next;
        buf = ins[cur];
    }
    /* the chunks still on their way */
    while (piped && !vp.v && !stopped && validated < published) {
        if ((rc = vb_validate_chunk(&vp, v, diags)) != PSC_OK)
            goto out;
        stopped = vb_stopped(&vp, ++validated);
    }
    if (piped) {
        piped = false;
        if ((rc = vb_stop(&vp)) != PSC_OK)
            goto out;
    }
    rc = finish_validation(p, v, diags, errors_before);
out:
    if (piped)
        (void)vb_stop(&vp);
    psc_validator_free(v);
    psc_parser_free(p);
    for (size_t i = 0; i < VP_INPUTS; i++)
        psc_free(ins[i]);
    return rc;
}
