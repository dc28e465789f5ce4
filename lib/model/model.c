/*
 * The in-memory model of an exposition (promscope/model.h): families,
 * metrics (label sets without le/quantile), samples and exemplars, built
 * from the entries of the pull parser after the validator has seen them.
 *
 * Building is one pass over the entries with hashed lookups only:
 *  - family by name (psc_hidx over the family array);
 *  - metric by (family, label set without the bound label), order of the
 *    labels not significant: the hash is a sum of per-pair hashes;
 *  - series by (sample name, full label set), same scheme, for duplicate
 *    detection and psc_model_find_series().
 * Samples are appended in input order and grouped by metric at the end
 * with a counting sort (skipped when the input was already grouped, the
 * usual case). Strings live in one arena; label and sample names, and the
 * le/quantile values, are interned so that each distinct one is stored
 * once.
 */
#include "promscope/model.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/arena.h"
#include "util/bytes.h"
#include "util/handoff.h"
#include "util/hash.h"
#include "parse/internal.h"

#define NONE UINT32_MAX

/* Byte equality of two slices, inline: most names and values are short,
 * and a call to memcmp per label costs more than comparing them here. */
static inline bool seq(psc_str a, psc_str b)
{
    return a.len == b.len && (a.ptr == b.ptr || psc_short_eq(a.ptr, b.ptr, a.len));
}

struct psc_model {
    psc_arena arena;
    psc_format format;
    uint64_t seed;
    psc_family *families;
    size_t nfamilies, cap_families;
    uint32_t *fam_start;   /* index of each family's first sample */
    psc_metric *metrics;   /* grouped by family */
    size_t nmetrics;
    psc_sample *samples;   /* grouped by metric, metrics grouped by family */
    size_t nsamples;
    psc_hidx family_idx;   /* name -> family index */
    /* (sample name, label set) -> sample index: used while building to
     * find duplicates across the groups of an interleaved family, then
     * released; built again on the first psc_model_find_series() (most
     * users never look series up), under series_lock */
    psc_hidx series_idx;
    pthread_mutex_t series_lock;
    int series_state;      /* 0 not built, 1 built, -1 out of memory: search linearly */
};

typedef struct builder {
    psc_model *m;
    psc_format fmt;
    psc_diag_list *diags;
    uint32_t cur;              /* current family, NONE before the first */
    uint32_t *fam_last;        /* last metric used per family (parallel to families) */
    size_t cap_fam_last;
    /* metrics in order of creation: the psc_metric (samples set at the end)
     * and, in parallel, its family and identity hash */
    psc_metric *bm;
    uint32_t *bm_family;
    uint64_t *bm_hash;
    size_t nbm, cap_bm, cap_bm_family, cap_bm_hash;
    psc_sample *bs;            /* samples in input order */
    size_t nbs, cap_bs;
    uint32_t *bs_metric;       /* metric of each sample */
    size_t cap_bs_metric;
    uint32_t *bm_first;        /* first sample of each metric (build order) */
    uint32_t *bm_last;         /* last sample of each metric */
    size_t cap_bm_first, cap_bm_last;
    uint32_t *bs_tag;          /* series hash tag of each sample (psc_hidx_tag) */
    size_t cap_bs_tag;
    size_t sidx_upto;          /* samples [0, sidx_upto) are in m->series_idx */
    uint64_t last_nameh;       /* hash of the last sample's name */
    uint32_t prev_mid;         /* metric of the last sample added, NONE after a rejected one */
    size_t prev_bi;            /* index of the bound label in the last entry, SIZE_MAX for none */
    psc_hidx metric_idx;
    psc_hidx intern_idx;
    psc_str *interned;
    size_t ninterned, cap_interned;
    /* per-sample scratch */
    psc_label *ml;             /* metric labels of the current sample */
    size_t cap_ml;
    uint64_t *nh, *vh;         /* name and value hashes of the current sample's labels */
    size_t cap_nh, cap_vh;
    /* the previous sample's labels by position: interned names, value
     * copies and their hashes, reused when the next line repeats them */
    psc_str *pn, *pv;
    uint64_t *pnh, *pvh;
    size_t cap_pn, cap_pv, cap_pnh, cap_pvh, npl;
    psc_label *sa, *sb;        /* sorting scratch for label set comparison */
    size_t cap_sa, cap_sb;
    char *pool, *pool_end;     /* string pool block (arena_copy) */
} builder;

/* ------------------------------------------------------------------ */
/* labels */

psc_str psc_labels_get(const psc_label *labels, size_t n, psc_str name)
{
    for (size_t i = 0; i < n; i++)
        if (seq(labels[i].name, name))
            return labels[i].value;
    return PSC_STR_NULL;
}

psc_label psc_sample_bound_label(const psc_sample *s)
{
    psc_label l = {PSC_STR_NULL, PSC_STR_NULL};
    if (!s->bound_text.ptr)
        return l;
    if (s->kind == PSC_SAMPLE_BUCKET)
        l.name = (psc_str){"le", 2};
    else if (s->kind == PSC_SAMPLE_QUANTILE)
        l.name = (psc_str){"quantile", 8};
    else
        return l;
    l.value = s->bound_text;
    return l;
}

size_t psc_sample_labels(const psc_sample *s, psc_label *out, size_t cap)
{
    size_t n = s->nlabels;
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = s->labels[i];
    psc_label b = psc_sample_bound_label(s);
    if (!b.name.ptr)
        return n;
    if (n < cap)
        out[n] = b;
    return n + 1;
}

static int str_cmp(psc_str a, psc_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int label_cmp(const void *x, const void *y)
{
    return str_cmp(((const psc_label *)x)->name, ((const psc_label *)y)->name);
}

static bool same_order_equal(const psc_label *a, const psc_label *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!seq(a[i].name, b[i].name) || !seq(a[i].value, b[i].value))
            return false;
    return true;
}

/* Set equality of two label lists whose names are unique within each
 * list. Quadratic for short lists; with scratch (builder) longer lists
 * are sorted by name instead. Returns -1 when the scratch could not grow. */
static int labels_equal(const psc_label *a, size_t na, const psc_label *b, size_t nb, builder *bd)
{
    if (na != nb)
        return 0;
    size_t n = na;
    size_t i = 0;
    while (i < n && seq(a[i].name, b[i].name) && seq(a[i].value, b[i].value))
        i++;
    if (i == n)
        return 1;
    if (!seq(a[i].name, b[i].name) && n - i > 16 && bd) {
        size_t k = n - i;
        if (psc_grow((void **)&bd->sa, &bd->cap_sa, k, sizeof *bd->sa) ||
            psc_grow((void **)&bd->sb, &bd->cap_sb, k, sizeof *bd->sb))
            return -1;
        memcpy(bd->sa, a + i, k * sizeof *a);
        memcpy(bd->sb, b + i, k * sizeof *b);
        qsort(bd->sa, k, sizeof *bd->sa, label_cmp);
        qsort(bd->sb, k, sizeof *bd->sb, label_cmp);
        return same_order_equal(bd->sa, bd->sb, k);
    }
    for (; i < n; i++) {
        size_t j = 0;
        while (j < n && !seq(a[i].name, b[j].name))
            j++;
        if (j == n || !seq(a[i].value, b[j].value))
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* lookups */

struct name_key {
    const psc_model *m;
    psc_str name;
};

static bool family_eq(void *ctx, uint32_t id)
{
    struct name_key *k = ctx;
    return seq(k->m->families[id].name, k->name);
}

static uint32_t family_find(const psc_model *m, psc_str name)
{
    struct name_key k = {m, name};
    return psc_hidx_find(&m->family_idx, psc_hash_bytes(name.ptr, name.len, m->seed), family_eq, &k);
}

psc_format psc_model_format(const psc_model *m)
{
    return m->format;
}

size_t psc_model_family_count(const psc_model *m)
{
    return m->nfamilies;
}

const psc_family *psc_model_family(const psc_model *m, size_t i)
{
    return i < m->nfamilies ? &m->families[i] : NULL;
}

const psc_family *psc_model_find_family(const psc_model *m, psc_str name)
{
    uint32_t id = family_find(m, name);
    return id == NONE ? NULL : &m->families[id];
}

size_t psc_model_series_count(const psc_model *m)
{
    return m->nsamples;
}

static uint64_t pair_hash(uint64_t nh, uint64_t vh)
{
    return psc_hash_mix(nh, vh);
}

struct series_key {
    const psc_model *m;
    psc_str name;
    const psc_label *labels;
    size_t nlabels;
};

/* Does the full label set of s equal the key's? (Names are unique in
 * each.) */
static bool sample_labels_equal(const psc_sample *s, const psc_label *key, size_t nkey)
{
    psc_label b = psc_sample_bound_label(s);
    if (nkey != s->nlabels + (b.name.ptr ? 1 : 0))
        return false;
    if (!b.name.ptr)
        return labels_equal(s->labels, s->nlabels, key, nkey, NULL) == 1;
    for (size_t i = 0; i < nkey; i++) {
        if (seq(key[i].name, b.name)) {
            if (!seq(key[i].value, b.value))
                return false;
            continue;
        }
        psc_str v = psc_labels_get(s->labels, s->nlabels, key[i].name);
        if (!v.ptr || !seq(v, key[i].value))
            return false;
    }
    return true;
}

static bool series_eq(void *ctx, uint32_t id)
{
    struct series_key *k = ctx;
    const psc_sample *s = &k->m->samples[id];
    return seq(s->name, k->name) && sample_labels_equal(s, k->labels, k->nlabels);
}

static uint64_t labels_hash(const psc_model *m, const psc_label *labels, size_t nlabels)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < nlabels; i++)
        sum += pair_hash(psc_hash_bytes(labels[i].name.ptr, labels[i].name.len, m->seed),
                         psc_hash_bytes(labels[i].value.ptr, labels[i].value.len, m->seed));
    return sum;
}

static uint64_t series_hash(const psc_model *m, psc_str name, const psc_label *labels,
                            size_t nlabels)
{
    return psc_hash_mix(psc_hash_bytes(name.ptr, name.len, m->seed), labels_hash(m, labels, nlabels));
}

/* series_hash() of a sample's full label set */
static uint64_t sample_series_hash(const psc_model *m, const psc_sample *s)
{
    uint64_t sum = labels_hash(m, s->labels, s->nlabels);
    psc_label b = psc_sample_bound_label(s);
    if (b.name.ptr)
        sum += labels_hash(m, &b, 1);
    return psc_hash_mix(psc_hash_bytes(s->name.ptr, s->name.len, m->seed), sum);
}

/* Two samples of the final array of one series: same name, labels and
 * bound label. */
struct sample_key {
    const psc_model *m;
    const psc_sample *s;
};

static bool same_series_eq(void *ctx, uint32_t id)
{
    struct sample_key *k = ctx;
    const psc_sample *a = k->s, *b = &k->m->samples[id];
    if (!seq(a->name, b->name) || a->nlabels != b->nlabels || a->kind != b->kind ||
        !a->bound_text.ptr != !b->bound_text.ptr ||
        (a->bound_text.ptr && !seq(a->bound_text, b->bound_text)))
        return false;
    return a->labels == b->labels || labels_equal(a->labels, a->nlabels, b->labels, b->nlabels, NULL) == 1;
}

/* Index the series of the final sample array, the first sample of each.
 * 0, or -1 when out of memory (the index is then left empty). */
static int index_series(psc_model *m)
{
    psc_hidx *h = &m->series_idx;
    psc_hidx_release(h);
    if (psc_hidx_reserve(h, m->nsamples))
        return -1;
    for (size_t j = 0; j < m->nsamples; j++) {
        const psc_sample *s = &m->samples[j];
        struct sample_key k = {m, s};
        bool inserted;
        if (psc_hidx_find_or_insert(h, sample_series_hash(m, s), same_series_eq, &k, (uint32_t)j,
                                    &inserted) == NONE) {
            psc_hidx_release(h);
            return -1;
        }
    }
    return 0;
}

const psc_sample *psc_model_find_series(const psc_model *cm, psc_str name, const psc_label *labels,
                                        size_t nlabels, const psc_family **family_out)
{
    /* the model was allocated writable; only the lazily built index changes */
    psc_model *m = (psc_model *)cm;
    struct series_key k = {m, name, labels, nlabels};
    uint32_t id = NONE;
    pthread_mutex_lock(&m->series_lock);
    if (m->series_state == 0)
        m->series_state = index_series(m) == 0 ? 1 : -1;
    if (m->series_state == 1) {
        id = psc_hidx_find(&m->series_idx, series_hash(m, name, labels, nlabels), series_eq, &k);
    } else {
        /* no memory for the index: the same answer, slower */
        for (size_t j = 0; j < m->nsamples && id == NONE; j++)
            if (series_eq(&k, (uint32_t)j))
                id = (uint32_t)j;
    }
    pthread_mutex_unlock(&m->series_lock);
    if (id == NONE)
        return NULL;
    if (family_out) {
        /* the family whose sample range holds id: the last one starting at or before it */
        size_t lo = 0, hi = m->nfamilies;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (m->fam_start[mid] <= id)
                lo = mid;
            else
                hi = mid;
        }
        *family_out = &m->families[lo];
    }
    return &m->samples[id];
}

/* ------------------------------------------------------------------ */
/* building */

/* A NUL-terminated copy of s in the model's memory. Strings are packed
 * without alignment padding into blocks taken from the arena (most label
 * values are a few bytes long); long strings get their own allocation. */
static psc_str arena_copy(builder *b, psc_str s)
{
    enum { POOL_BLOCK = 64 * 1024 };
    size_t need = s.len + 1;
    char *p;
    if (need > POOL_BLOCK / 8) {
        p = psc_arena_alloc(&b->m->arena, need);
    } else {
        if ((size_t)(b->pool_end - b->pool) < need) {
            b->pool = psc_arena_alloc(&b->m->arena, POOL_BLOCK);
            b->pool_end = b->pool ? b->pool + POOL_BLOCK : NULL;
        }
        p = b->pool;
        if (p)
            b->pool += need;
    }
    if (!p)
        return PSC_STR_NULL;
    if (s.len)
        memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return (psc_str){p, s.len};
}

struct intern_key {
    builder *b;
    psc_str s;
};

static bool intern_eq(void *ctx, uint32_t id)
{
    struct intern_key *k = ctx;
    return seq(k->b->interned[id], k->s);
}

/* The arena copy of s shared by every user of the same bytes; ptr NULL when
 * out of memory. */
static psc_str intern(builder *b, psc_str s, uint64_t h)
{
    struct intern_key k = {b, s};
    uint32_t id = psc_hidx_find(&b->intern_idx, h, intern_eq, &k);
    if (id != NONE)
        return b->interned[id];
    if (b->ninterned >= NONE - 1 ||
        psc_grow((void **)&b->interned, &b->cap_interned, b->ninterned + 1, sizeof *b->interned))
        return PSC_STR_NULL;
    psc_str c = arena_copy(b, s);
    if (!c.ptr || psc_hidx_insert(&b->intern_idx, h, (uint32_t)b->ninterned))
        return PSC_STR_NULL;
    b->interned[b->ninterned++] = c;
    return c;
}

static uint32_t family_new(builder *b, psc_str name, uint64_t line, psc_status *st)
{
    psc_model *m = b->m;
    *st = PSC_E_NOMEM;
    if (m->nfamilies >= NONE - 1 ||
        psc_grow((void **)&m->families, &m->cap_families, m->nfamilies + 1, sizeof *m->families) ||
        psc_grow((void **)&b->fam_last, &b->cap_fam_last, m->nfamilies + 1, sizeof *b->fam_last))
        return NONE;
    psc_str c = arena_copy(b, name);
    if (!c.ptr)
        return NONE;
    uint32_t id = (uint32_t)m->nfamilies;
    if (psc_hidx_insert(&m->family_idx, psc_hash_bytes(name.ptr, name.len, m->seed), id))
        return NONE;
    psc_family *f = &m->families[id];
    memset(f, 0, sizeof *f);
    f->name = c;
    f->type = b->fmt == PSC_FORMAT_OPENMETRICS_1_0 ? PSC_TYPE_UNKNOWN : PSC_TYPE_UNTYPED;
    f->line = line;
    b->fam_last[id] = NONE;
    m->nfamilies++;
    *st = PSC_OK;
    return id;
}

static psc_status add_metadata(builder *b, const psc_entry *e)
{
    psc_model *m = b->m;
    uint32_t id = NONE;
    if (b->cur != NONE && seq(m->families[b->cur].name, e->name))
        id = b->cur;
    else
        id = family_find(m, e->name);
    if (id == NONE) {
        psc_status st;
        id = family_new(b, e->name, e->line, &st);
        if (id == NONE)
            return st;
    }
    psc_family *f = &m->families[id];
    b->cur = id;
    /* OpenMetrics-1.0.md "MetricFamily metadata": an empty HELP or UNIT is
     * as if the line were absent. Of repeated metadata the first counts
     * (the validator reports the repetition). */
    bool empty_om = e->text.len == 0 && b->fmt == PSC_FORMAT_OPENMETRICS_1_0;
    switch (e->kind) {
    case PSC_ENTRY_HELP:
        if (!f->has_help && !empty_om) {
            f->help = arena_copy(b, e->text);
            if (!f->help.ptr)
                return PSC_E_NOMEM;
            f->has_help = true;
        }
        break;
    case PSC_ENTRY_UNIT:
        if (!f->has_unit && !empty_om) {
            f->unit = arena_copy(b, e->text);
            if (!f->unit.ptr)
                return PSC_E_NOMEM;
            f->has_unit = true;
        }
        break;
    case PSC_ENTRY_TYPE:
        /* a TYPE after samples would change the role of samples already
         * placed; the validator reports it and the first decision stays */
        if (!f->has_type && f->nseries == 0) {
            f->type = e->type;
            f->has_type = true;
        }
        break;
    default:
        break;
    }
    return PSC_OK;
}

static bool ends_with(psc_str s, const char *suf, size_t n)
{
    return s.len > n && memcmp(s.ptr + s.len - n, suf, n) == 0;
}

/* The family of sample e: the current one when the sample belongs to it,
 * else an existing family it belongs to (Prometheus text tolerates
 * interleaving), else a new untyped family named after the sample.
 * Returns NONE with *st PSC_OK when the sample fits nowhere (an existing
 * family of its exact name has another type). */
static uint32_t family_for_sample(builder *b, const psc_entry *e, psc_sample_kind *kind,
                                  psc_status *st)
{
    psc_model *m = b->m;
    *st = PSC_OK;
    if (b->cur != NONE) {
        const psc_family *f = &m->families[b->cur];
        if (psc_sample_in_family(b->fmt, f->type, f->name, e->name, kind))
            return b->cur;
    }
    uint32_t id = family_find(m, e->name);
    if (id != NONE) {
        const psc_family *f = &m->families[id];
        return psc_sample_in_family(b->fmt, f->type, f->name, e->name, kind) ? id : NONE;
    }
    static const struct {
        const char *s;
        size_t n;
    } sufs[] = {{"_total", 6}, {"_created", 8}, {"_bucket", 7}, {"_count", 6},
                {"_sum", 4},   {"_gcount", 7},  {"_gsum", 5},   {"_info", 5}};
    for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++) {
        if (!ends_with(e->name, sufs[i].s, sufs[i].n))
            continue;
        psc_str base = {e->name.ptr, e->name.len - sufs[i].n};
        id = family_find(m, base);
        if (id != NONE) {
            const psc_family *f = &m->families[id];
            if (psc_sample_in_family(b->fmt, f->type, f->name, e->name, kind))
                return id;
        }
    }
    id = family_new(b, e->name, e->line, st);
    if (id == NONE)
        return NONE;
    *kind = PSC_SAMPLE_VALUE;
    return id;
}

struct metric_key {
    builder *b;
    uint32_t family;
    uint64_t hash;
    const psc_label *labels;
    size_t nlabels;
    int err;
};

static bool metric_eq(void *ctx, uint32_t id)
{
    struct metric_key *k = ctx;
    const psc_metric *bm = &k->b->bm[id];
    if (k->b->bm_family[id] != k->family || k->b->bm_hash[id] != k->hash)
        return false;
    int r = labels_equal(bm->labels, bm->nlabels, k->labels, k->nlabels, k->b);
    if (r < 0)
        k->err = 1;
    return r == 1;
}

/* A series of the build: metric, interned sample name (compared by
 * pointer) and bound label value. */
struct bseries_key {
    builder *b;
    uint32_t metric;
    const char *name;
    psc_str bound;        /* ptr NULL: no bound label */
    double boundv;        /* its number, NaN when it is none */
};

/* Bounds compare as numbers when both are (le="0.5" and le="0.50" are one
 * bucket: the validator and the writers see them so), else as text. */
static bool bseries_same(const struct bseries_key *k, uint32_t id)
{
    const psc_sample *s = &k->b->bs[id];
    if (k->b->bs_metric[id] != k->metric || s->name.ptr != k->name)
        return false;
    psc_str v = s->bound_text;
    if (!k->bound.ptr || !v.ptr)
        return !k->bound.ptr && !v.ptr;
    if (!isnan(k->boundv) && !isnan(s->bound))
        return k->boundv == s->bound;
    return seq(v, k->bound);
}

static bool bseries_eq(void *ctx, uint32_t id)
{
    return bseries_same(ctx, id);
}

/* Index samples [sidx_upto, nbs) in m->series_idx, the first of each
 * series: a batch with the slots of later samples prefetched. Used when a
 * lookup needs them (rarely: see add_sample) and once at the end. */
static psc_status index_pending(builder *b)
{
    psc_hidx *h = &b->m->series_idx;
    if (psc_hidx_reserve(h, h->count + (b->nbs - b->sidx_upto)))
        return PSC_E_NOMEM;
    for (size_t j = b->sidx_upto; j < b->nbs; j++) {
        if (j + 8 < b->nbs)
            psc_hidx_prefetch_tag(h, b->bs_tag[j + 8]);
        if (b->bs_metric[j] == NONE)
            continue;
        struct bseries_key k = {b, b->bs_metric[j], b->bs[j].name.ptr, b->bs[j].bound_text,
                                b->bs[j].bound};
        bool inserted;
        if (psc_hidx_find_or_insert_tag(h, b->bs_tag[j], bseries_eq, &k, (uint32_t)j, &inserted) ==
            NONE)
            return PSC_E_NOMEM;
    }
    b->sidx_upto = b->nbs;
    return PSC_OK;
}

static psc_status copy_exemplar(builder *b, const psc_exemplar *x, const psc_exemplar **out)
{
    psc_exemplar *c = psc_arena_alloc(&b->m->arena, sizeof *c);
    if (!c)
        return PSC_E_NOMEM;
    *c = *x;
    c->labels = NULL;
    if (x->nlabels) {
        psc_label *l = psc_arena_alloc(&b->m->arena, x->nlabels * sizeof *l);
        if (!l)
            return PSC_E_NOMEM;
        for (size_t i = 0; i < x->nlabels; i++) {
            l[i].name = arena_copy(b, x->labels[i].name);
            l[i].value = arena_copy(b, x->labels[i].value);
            if (!l[i].name.ptr || !l[i].value.ptr)
                return PSC_E_NOMEM;
        }
        c->labels = l;
    }
    *out = c;
    return PSC_OK;
}

static psc_status add_invalid_sample_diag(builder *b, const psc_entry *e)
{
    const psc_family *f = &b->m->families[family_find(b->m, e->name)];
    return psc_diag_add(b->diags, PSC_SEV_ERROR, psc_code_name(PSC_C_INVALID_SAMPLE_NAME), e->name,
                        e->offset + (e->name_column ? e->name_column - 1 : 0), e->line,
                        e->name_column,
                        "sample '%.*s' cannot belong to the %s family of the same name",
                        (int)(e->name.len > 200 ? 200 : e->name.len), e->name.ptr,
                        psc_metric_type_name(f->type));
}

/* Hashes of the labels of entry e into b->nh / b->vh, reusing those of the
 * previous sample where the same name or value repeats at the same position
 * (the usual case: consecutive series differ in a label or two); the copies
 * of such names and values are reused too (label_name, label_value).
 * Returns true when every label but the bound one (index bi, SIZE_MAX for
 * none) repeats the previous entry's at the same position, the bound being
 * at the same index as before or the last label of only one of the two
 * entries: then both have the same metric labels in the same order. */
static bool hash_labels(builder *b, const psc_entry *e, size_t bi)
{
    const size_t n = e->nlabels;
    const uint64_t seed = b->m->seed;
    const size_t pbi = b->prev_bi, pn = b->npl;
    /* the labels other than the bound sit at the same positions as the
     * previous sample's: the same bound position, or a bound as the last
     * label of one of the two only (the +Inf bucket, then _sum) */
    bool all = (n == pn && bi == pbi) ||
               (bi == SIZE_MAX && pbi != SIZE_MAX && pbi + 1 == pn && n + 1 == pn) ||
               (pbi == SIZE_MAX && bi != SIZE_MAX && bi + 1 == n && pn + 1 == n);
    for (size_t i = 0; i < n; i++) {
        const psc_label *l = &e->labels[i];
        if (i < b->npl && b->pn[i].ptr && seq(b->pn[i], l->name)) {
            b->nh[i] = b->pnh[i];
        } else {
            all &= i == bi;
            b->nh[i] = psc_hash_bytes(l->name.ptr, l->name.len, seed);
            b->pn[i] = PSC_STR_NULL; /* interned when a copy is needed */
            b->pnh[i] = b->nh[i];
        }
        if (i < b->npl && b->pv[i].ptr && seq(b->pv[i], l->value)) {
            b->vh[i] = b->pvh[i];
        } else {
            all &= i == bi;
            b->vh[i] = psc_hash_bytes(l->value.ptr, l->value.len, seed);
            b->pv[i] = PSC_STR_NULL;
            b->pvh[i] = b->vh[i];
        }
    }
    return all;
}

/* The interned copy of label name i of the current entry (cached by
 * position). */
static psc_str label_name(builder *b, const psc_entry *e, size_t i)
{
    if (!b->pn[i].ptr)
        b->pn[i] = intern(b, e->labels[i].name, b->nh[i]);
    return b->pn[i];
}

/* A copy of label value i of the current entry, shared with the previous
 * sample's when the value repeats at the same position. */
static psc_str label_value(builder *b, const psc_entry *e, size_t i)
{
    if (!b->pv[i].ptr)
        b->pv[i] = arena_copy(b, e->labels[i].value);
    return b->pv[i];
}

static psc_status add_sample(builder *b, const psc_entry *e)
{
    psc_model *m = b->m;
    psc_status st;
    psc_sample_kind kind = PSC_SAMPLE_VALUE;
    uint32_t fid = family_for_sample(b, e, &kind, &st);
    if (fid == NONE)
        return st != PSC_OK ? st : add_invalid_sample_diag(b, e);
    b->cur = fid;

    const size_t n = e->nlabels;
    if (n > UINT32_MAX)
        return PSC_E_LIMIT;
    psc_str bound_name = PSC_STR_NULL;
    if (kind == PSC_SAMPLE_BUCKET)
        bound_name = (psc_str){"le", 2};
    else if (kind == PSC_SAMPLE_QUANTILE)
        bound_name = (psc_str){"quantile", 8};
    size_t bi = SIZE_MAX;
    if (bound_name.ptr)
        for (size_t i = 0; i < n; i++)
            if (seq(e->labels[i].name, bound_name)) {
                bi = i;
                break;
            }
    double bound = NAN;
    if (bi != SIZE_MAX) {
        double v;
        if (psc_parse_double(e->labels[bi].value.ptr, e->labels[bi].value.len, &v) == PSC_OK)
            bound = v;
    }

    if (psc_grow((void **)&b->ml, &b->cap_ml, n + 1, sizeof *b->ml) ||
        psc_grow((void **)&b->nh, &b->cap_nh, n + 1, sizeof *b->nh) ||
        psc_grow((void **)&b->vh, &b->cap_vh, n + 1, sizeof *b->vh) ||
        psc_grow((void **)&b->pn, &b->cap_pn, n + 1, sizeof *b->pn) ||
        psc_grow((void **)&b->pv, &b->cap_pv, n + 1, sizeof *b->pv) ||
        psc_grow((void **)&b->pnh, &b->cap_pnh, n + 1, sizeof *b->pnh) ||
        psc_grow((void **)&b->pvh, &b->cap_pvh, n + 1, sizeof *b->pvh))
        return PSC_E_NOMEM;
    const bool same_metric_labels = hash_labels(b, e, bi);
    const uint32_t prev_mid = b->prev_mid;
    b->npl = n;
    b->prev_bi = bi;
    b->prev_mid = NONE; /* set again when this sample is added */
    uint64_t msum = 0, bpair = 0;
    size_t nml = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t ph = pair_hash(b->nh[i], b->vh[i]);
        if (i == bi) {
            bpair = ph;
        } else {
            msum += ph;
            b->ml[nml++] = e->labels[i];
        }
    }
    /* the sample name, interned: the previous sample's usually */
    psc_str name;
    uint64_t nameh;
    if (b->nbs && seq(b->bs[b->nbs - 1].name, e->name)) {
        name = b->bs[b->nbs - 1].name;
        nameh = b->last_nameh;
    } else {
        nameh = psc_hash_bytes(e->name.ptr, e->name.len, m->seed);
        name = intern(b, e->name, nameh);
        if (!name.ptr)
            return PSC_E_NOMEM;
    }
    if (bi != SIZE_MAX && !isnan(bound)) {
        /* a numeric bound is hashed by its value, as bseries_same compares it */
        double v = bound == 0 ? 0.0 : bound; /* -0 and 0 are one bound */
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        bpair = pair_hash(b->nh[bi], psc_hash_mix(bits, 0x9e3779b97f4a7c15ull));
    }
    const uint32_t stag = psc_hidx_tag(psc_hash_mix(nameh, msum + bpair));

    /* the metric: usually the previous sample's; else found or created
     * with one probe of the index */
    uint64_t mh = psc_hash_mix(msum, (uint64_t)fid + 1);
    struct metric_key mk = {b, fid, mh, b->ml, nml, 0};
    uint32_t mid = b->fam_last[fid];
    bool new_metric = false;
    if (same_metric_labels && prev_mid != NONE && b->bm_family[prev_mid] == fid) {
        /* the metric labels of the previous sample of this family: its metric */
        mid = prev_mid;
    } else if (mid == NONE || !metric_eq(&mk, mid)) {
        if (mk.err)
            return PSC_E_NOMEM;
        if (b->nbm >= NONE - 1 || psc_grow((void **)&b->bm, &b->cap_bm, b->nbm + 1, sizeof *b->bm) ||
            psc_grow((void **)&b->bm_family, &b->cap_bm_family, b->nbm + 1, sizeof *b->bm_family) ||
            psc_grow((void **)&b->bm_hash, &b->cap_bm_hash, b->nbm + 1, sizeof *b->bm_hash) ||
            psc_grow((void **)&b->bm_first, &b->cap_bm_first, b->nbm + 1, sizeof *b->bm_first) ||
            psc_grow((void **)&b->bm_last, &b->cap_bm_last, b->nbm + 1, sizeof *b->bm_last))
            return PSC_E_NOMEM;
        mid = psc_hidx_find_or_insert(&b->metric_idx, mh, metric_eq, &mk, (uint32_t)b->nbm,
                                      &new_metric);
        if (mk.err || mid == NONE)
            return PSC_E_NOMEM;
    }
    if (new_metric) {
        psc_label *ls = NULL;
        if (nml) {
            ls = psc_arena_alloc(&m->arena, nml * sizeof *ls);
            if (!ls)
                return PSC_E_NOMEM;
        }
        for (size_t i = 0, j = 0; i < n; i++) {
            if (i == bi)
                continue;
            ls[j].name = label_name(b, e, i);
            ls[j].value = label_value(b, e, i);
            if (!ls[j].name.ptr || !ls[j].value.ptr)
                return PSC_E_NOMEM;
            j++;
        }
        b->bm[mid] = (psc_metric){ls, nml, NULL, 0, e->line};
        b->bm_family[mid] = fid;
        b->bm_hash[mid] = mh;
        b->bm_first[mid] = (uint32_t)b->nbs;
        b->nbm++;
        m->families[fid].nmetrics++;
    }
    b->fam_last[fid] = mid;
    psc_metric *bm = &b->bm[mid];

    /* Duplicate series: the first is kept (BAD-INPUTS D8); repeated points
     * of one series that all carry timestamps are all kept. A series of a
     * metric created just now cannot exist yet. When the metric's samples
     * so far are the last few of the build, they are compared directly;
     * else the series index is brought up to date and asked. (The
     * validator reports duplicates within one group of a family, and such
     * lines never get here; one across the groups of an interleaved family
     * is reported here, so that nothing is dropped without a word.) */
    uint32_t dup = NONE;
    if (!new_metric) {
        struct bseries_key sk = {b, mid, name.ptr,
                                 bi != SIZE_MAX ? e->labels[bi].value : PSC_STR_NULL, bound};
        uint32_t first = b->bm_first[mid];
        if (b->bm_last[mid] == b->nbs - 1 && b->nbs - first == bm->nsamples && bm->nsamples <= 64) {
            for (uint32_t j = first; j < b->nbs; j++)
                if (bseries_same(&sk, j)) {
                    dup = j;
                    break;
                }
        } else {
            if ((st = index_pending(b)) != PSC_OK)
                return st;
            dup = psc_hidx_find_tag(&m->series_idx, stag, bseries_eq, &sk);
        }
    }
    if (dup != NONE && !(b->bs[dup].has_timestamp && e->has_timestamp))
        return psc_diag_add(b->diags, PSC_SEV_ERROR, psc_code_name(PSC_C_DUPLICATE_SERIES), e->name,
                            e->offset + (e->name_column ? e->name_column - 1 : 0), e->line,
                            e->name_column ? e->name_column : 1,
                            "duplicate series: the same name and labels as line %llu, in an earlier "
                            "group of this family; the first is kept",
                            (unsigned long long)b->bs[dup].line);

    if (b->nbs >= NONE - 1 || psc_grow((void **)&b->bs, &b->cap_bs, b->nbs + 1, sizeof *b->bs) ||
        psc_grow((void **)&b->bs_metric, &b->cap_bs_metric, b->nbs + 1, sizeof *b->bs_metric) ||
        psc_grow((void **)&b->bs_tag, &b->cap_bs_tag, b->nbs + 1, sizeof *b->bs_tag))
        return PSC_E_NOMEM;
    psc_sample *s = &b->bs[b->nbs];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->kind = (uint8_t)kind;
    s->nlabels = (uint32_t)nml;
    if (bi != SIZE_MAX) {
        s->bound_text = intern(b, e->labels[bi].value, b->vh[bi]);
        if (!s->bound_text.ptr)
            return PSC_E_NOMEM;
    }
    /* share the metric's label array when the sample's other labels come
     * in the same order (nearly always: every bucket of a histogram, every
     * quantile of a summary, and the _sum and _count of both) */
    bool same = nml == bm->nlabels;
    for (size_t i = 0; same && i < nml; i++)
        same = seq(bm->labels[i].name, b->ml[i].name);
    if (same) {
        s->labels = bm->labels;
    } else if (nml) {
        psc_label *ls = psc_arena_alloc(&m->arena, nml * sizeof *ls);
        if (!ls)
            return PSC_E_NOMEM;
        for (size_t i = 0, k = 0; i < n; i++) {
            if (i == bi)
                continue;
            ls[k].name = label_name(b, e, i);
            ls[k].value = label_value(b, e, i);
            if (!ls[k].name.ptr || !ls[k].value.ptr)
                return PSC_E_NOMEM;
            k++;
        }
        s->labels = ls;
    }
    s->value = e->value;
    s->bound = bound;
    s->has_timestamp = e->has_timestamp;
    if (e->has_timestamp) {
        s->timestamp = e->timestamp;
        s->timestamp_ms = e->timestamp_ms;
        /* exact: a whole number of milliseconds, i.e. the decimal text of
         * timestamp_ms / 1000 parses back to the same double */
        s->timestamp_ms_exact = e->timestamp_ms_exact &&
                                (double)e->timestamp_ms / 1000.0 == e->timestamp;
    }
    if (e->has_exemplar && (st = copy_exemplar(b, &e->exemplar, &s->exemplar)) != PSC_OK)
        return st;
    s->line = e->line;
    b->bs_metric[b->nbs] = mid;
    b->bs_tag[b->nbs] = stag;
    b->bm_last[mid] = (uint32_t)b->nbs;
    b->last_nameh = nameh;
    b->prev_mid = mid;
    b->nbs++;
    bm->nsamples++;
    m->families[fid].nseries++;
    return PSC_OK;
}

/* Give back the unused tail of a grown array (it may be up to half of it);
 * when that fails the array stays as it is. */
static void *shrink(void *p, size_t n, size_t elem)
{
    if (!p || n == 0)
        return p;
    void *q = psc_realloc(p, n * elem);
    return q ? q : p;
}

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Leave out the samples on lines that got an error finding after they were
 * added (findings the validator makes when a metric or family ends, e.g. a
 * _count that differs from the +Inf bucket). Metrics left without samples
 * go too. Returns the number of samples removed, or -1 when out of memory. */
static long drop_error_lines(builder *b, const psc_diag_list *dl, size_t from)
{
    size_t n = 0;
    for (size_t i = from; i < dl->count; i++)
        n += dl->items[i].severity == PSC_SEV_ERROR && dl->items[i].line > 0;
    if (n == 0 || b->nbs == 0)
        return 0;
    uint64_t *lines = psc_malloc(n * sizeof *lines);
    if (!lines)
        return -1;
    n = 0;
    for (size_t i = from; i < dl->count; i++)
        if (dl->items[i].severity == PSC_SEV_ERROR && dl->items[i].line > 0)
            lines[n++] = dl->items[i].line;
    qsort(lines, n, sizeof *lines, u64_cmp);
    long removed = 0;
    for (size_t j = 0; j < b->nbs; j++) {
        uint64_t line = b->bs[j].line;
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (lines[mid] < line)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n && lines[lo] == line) {
            psc_metric *bm = &b->bm[b->bs_metric[j]];
            psc_family *f = &b->m->families[b->bm_family[b->bs_metric[j]]];
            f->nseries--;
            if (--bm->nsamples == 0)
                f->nmetrics--;
            b->bs_metric[j] = NONE;
            removed++;
        }
    }
    psc_free(lines);
    return removed;
}

/* Group metrics by family and samples by metric (stable counting sorts),
 * and fix the series index to the new sample positions. */
static psc_status finalize(builder *b, const psc_diag_list *dl, size_t diag_from)
{
    psc_model *m = b->m;
    /* the build-only indexes are not needed any more: free them before the
     * final arrays are allocated, to keep the peak down */
    psc_hidx_release(&b->metric_idx);
    psc_hidx_release(&b->intern_idx);
    psc_free(b->interned);
    b->interned = NULL;
    psc_free(b->bm_first);
    psc_free(b->bm_last);
    b->bm_first = b->bm_last = NULL;
    long removed = drop_error_lines(b, dl, diag_from);
    if (removed < 0)
        return PSC_E_NOMEM;
    /* the build's series index refers to build positions: the final one
     * is made when first needed (psc_model_find_series) */
    psc_hidx_release(&m->series_idx);
    psc_free(b->bs_tag);
    b->bs_tag = NULL;
    size_t nf = m->nfamilies, nm = b->nbm, ns = b->nbs;
    psc_status st = PSC_E_NOMEM;
    uint32_t *mpos = psc_malloc((nm ? nm : 1) * sizeof *mpos);
    uint32_t *spos = psc_malloc((ns ? ns : 1) * sizeof *spos);
    uint32_t *next = psc_malloc((nm > nf ? nm : nf ? nf : 1) * sizeof *next);
    m->fam_start = psc_malloc((nf ? nf : 1) * sizeof *m->fam_start);
    if (!mpos || !spos || !next || !m->fam_start)
        goto out;

    /* metric positions (metrics left without samples have none) */
    uint32_t acc = 0;
    for (size_t f = 0; f < nf; f++) {
        next[f] = acc;
        acc += (uint32_t)m->families[f].nmetrics;
    }
    const size_t nm_final = acc;
    bool ident = removed == 0;
    for (size_t i = 0; i < nm; i++) {
        if (b->bm[i].nsamples == 0) {
            mpos[i] = NONE;
            continue;
        }
        mpos[i] = next[b->bm_family[i]]++;
        ident &= mpos[i] == i;
    }
    if (ident) {
        /* already in family order: the build array is the final one */
        m->metrics = shrink(b->bm, nm, sizeof *b->bm);
        b->bm = NULL;
    } else {
        m->metrics = psc_malloc((nm_final ? nm_final : 1) * sizeof *m->metrics);
        if (!m->metrics)
            goto out;
        for (size_t i = 0; i < nm; i++)
            if (mpos[i] != NONE)
                m->metrics[mpos[i]] = b->bm[i];
        psc_free(b->bm);
        b->bm = NULL;
    }
    /* sample positions: metrics in their new order */
    acc = 0;
    for (size_t i = 0; i < nm_final; i++) {
        next[i] = acc;
        acc += (uint32_t)m->metrics[i].nsamples;
    }
    const size_t ns_final = acc;
    for (size_t j = 0; j < ns; j++) {
        if (b->bs_metric[j] == NONE) {
            spos[j] = NONE;
            continue;
        }
        spos[j] = next[mpos[b->bs_metric[j]]]++;
        ident &= spos[j] == j;
    }
    if (ident) {
        m->samples = shrink(b->bs, ns, sizeof *b->bs);
        b->bs = NULL;
    } else {
        m->samples = psc_malloc((ns_final ? ns_final : 1) * sizeof *m->samples);
        if (!m->samples)
            goto out;
        for (size_t j = 0; j < ns; j++)
            if (spos[j] != NONE)
                m->samples[spos[j]] = b->bs[j];
        psc_free(b->bs);
        b->bs = NULL;
    }
    m->nsamples = ns_final;
    m->nmetrics = nm_final;
    acc = 0;
    for (size_t i = 0; i < nm_final; i++) {
        m->metrics[i].samples = m->metrics[i].nsamples ? m->samples + acc : NULL;
        acc += (uint32_t)m->metrics[i].nsamples;
    }
    acc = 0;
    size_t mi = 0;
    for (size_t f = 0; f < nf; f++) {
        psc_family *fam = &m->families[f];
        fam->metrics = fam->nmetrics ? m->metrics + mi : NULL;
        mi += fam->nmetrics;
        m->fam_start[f] = acc;
        acc += (uint32_t)fam->nseries;
    }
    st = PSC_OK;
out:
    psc_free(mpos);
    psc_free(spos);
    psc_free(next);
    return st;
}

static void builder_release(builder *b)
{
    psc_free(b->fam_last);
    psc_free(b->bm);
    psc_free(b->bm_family);
    psc_free(b->bm_hash);
    psc_free(b->bs);
    psc_free(b->bs_metric);
    psc_free(b->bs_tag);
    psc_free(b->bm_first);
    psc_free(b->bm_last);
    psc_free(b->pn);
    psc_free(b->pv);
    psc_free(b->pnh);
    psc_free(b->pvh);
    psc_hidx_release(&b->metric_idx);
    psc_hidx_release(&b->intern_idx);
    psc_free(b->interned);
    psc_free(b->ml);
    psc_free(b->nh);
    psc_free(b->vh);
    psc_free(b->sa);
    psc_free(b->sb);
}

void psc_model_free(psc_model *m)
{
    if (!m)
        return;
    psc_arena_release(&m->arena);
    psc_free(m->families);
    psc_free(m->fam_start);
    psc_free(m->metrics);
    psc_free(m->samples);
    psc_hidx_release(&m->family_idx);
    psc_hidx_release(&m->series_idx);
    pthread_mutex_destroy(&m->series_lock);
    psc_free(m);
}

/* Did the findings added since index `from` (and `dropped0` dropped ones)
 * include an error on `line`? */
static bool line_has_error(const psc_diag_list *l, size_t from, size_t errs0, size_t dropped0,
                           uint64_t line)
{
    size_t seen = 0;
    for (size_t i = from; i < l->count; i++) {
        if (l->items[i].severity != PSC_SEV_ERROR)
            continue;
        seen++;
        if (l->items[i].line == line)
            return true;
    }
    /* errors past the list's cap are counted but not kept: assume the worst */
    return l->dropped > dropped0 && l->nerrors - errs0 > seen;
}

/* Where the input ends: 1-based line and byte column just past the last
 * byte, counted over the chunks as they are consumed. */
typedef struct endpos {
    uint64_t lines;      /* '\n' seen */
    uint64_t tail;       /* bytes after the last '\n' */
} endpos;

static void endpos_add(endpos *ep, const char *buf, size_t len)
{
    const char *p = buf, *e = buf + len;
    while (p < e) {
        const char *q = memchr(p, '\n', (size_t)(e - p));
        if (!q) {
            ep->tail += (uint64_t)(e - p);
            return;
        }
        ep->lines++;
        ep->tail = 0;
        p = q + 1;
    }
}

/* A model being built: the builder, the parser and the validator. */
typedef struct mbuild {
    builder b;
    psc_parser *p;
    psc_validator *v;
    psc_diag_list *dl;
    psc_diag_list local;
    size_t errs_before, diag_from;
    endpos ep;
} mbuild;

/* Set up for format opts->format (not AUTO). PSC_OK or PSC_E_NOMEM. */
static psc_status mb_init(mbuild *x, const psc_parse_opts *opts, psc_diag_list *diags)
{
    memset(x, 0, sizeof *x);
    psc_diag_list_init(&x->local);
    x->dl = diags ? diags : &x->local;
    x->errs_before = x->dl->nerrors;
    x->diag_from = x->dl->count;
    psc_model *m = psc_calloc(1, sizeof *m);
    if (!m)
        return PSC_E_NOMEM;
    if (pthread_mutex_init(&m->series_lock, NULL) != 0) {
        psc_free(m);
        return PSC_E_NOMEM;
    }
    psc_arena_init(&m->arena);
    psc_hidx_init(&m->family_idx);
    psc_hidx_init(&m->series_idx);
    m->seed = psc_hash_seed();
    builder *b = &x->b;
    b->m = m;
    b->diags = x->dl;
    b->cur = NONE;
    b->prev_mid = NONE;
    b->prev_bi = SIZE_MAX;
    psc_hidx_init(&b->metric_idx);
    psc_hidx_init(&b->intern_idx);
    if (!(x->p = psc_parser_new(opts)))
        return PSC_E_NOMEM;
    psc_parser_reset(x->p, "", 0);
    b->fmt = m->format = psc_parser_format(x->p);
    if (!(x->v = psc_validator_new(b->fmt, opts, x->dl)))
        return PSC_E_NOMEM;
    return PSC_OK;
}

static void mb_release(mbuild *x)
{
    builder_release(&x->b);
    psc_validator_free(x->v);
    psc_parser_free(x->p);
    psc_model_free(x->b.m);
    psc_diag_list_release(&x->local);
}

/* One result of psc_parser_next() (ps: PSC_OK for an entry, else the
 * error `err`, not PSC_DONE or PSC_E_NOMEM) to the validator. *add: the
 * entry goes into the model (mb_add): metadata or a sample whose line got
 * no error. PSC_OK, PSC_E_NOMEM or PSC_E_LIMIT. */
static inline psc_status mb_check(mbuild *x, psc_status ps, const psc_entry *e,
                                  const psc_error *err, bool *add)
{
    psc_diag_list *dl = x->dl;
    psc_status st;
    *add = false;
    if (ps != PSC_OK) {
        if ((st = psc_diag_add_error(dl, err, PSC_STR_NULL)) != PSC_OK)
            return st;
        return psc_validator_parse_error(x->v, err);
    }
    size_t from = dl->count, errs0 = dl->nerrors, dropped0 = dl->dropped;
    if ((st = psc_validator_feed(x->v, e)) != PSC_OK)
        return st;
    if (dl->nerrors > errs0 && line_has_error(dl, from, errs0, dropped0, e->line))
        return PSC_OK; /* lines with errors are left out */
    *add = e->kind == PSC_ENTRY_HELP || e->kind == PSC_ENTRY_TYPE || e->kind == PSC_ENTRY_UNIT ||
           e->kind == PSC_ENTRY_SAMPLE;
    return PSC_OK;
}

/* Add an entry mb_check() passed. PSC_OK, PSC_E_NOMEM or PSC_E_LIMIT. */
static inline psc_status mb_add(builder *b, const psc_entry *e)
{
    return e->kind == PSC_ENTRY_SAMPLE ? add_sample(b, e) : add_metadata(b, e);
}

/* Take every entry the parser has. PSC_OK or PSC_E_NOMEM. */
static psc_status mb_drain(mbuild *x)
{
    psc_entry e;
    psc_error err; /* set by the parser when it reports an error */
    for (;;) {
        psc_status ps = psc_parser_next(x->p, &e, &err);
        if (ps == PSC_DONE)
            return PSC_OK;
        if (ps == PSC_E_NOMEM)
            return PSC_E_NOMEM;
        bool add;
        psc_status st = mb_check(x, ps, &e, &err, &add);
        if (st == PSC_OK && add)
            st = mb_add(&x->b, &e);
        if (st != PSC_OK)
            return st;
    }
}

/* ------------------------------------------------------------------ */
/* Two threads: the caller's reads, parses and validates (mb_check), a
 * second one builds (mb_add). The entries that go into the model are copied
 * into batches, which go round a ring of PIPE_SLOTS slots: the parser fills
 * a free slot while the builder works on a full one.
 *
 * The builder's findings (a duplicate series across the groups of a
 * family, a sample its family cannot take) go to a list of its own, each
 * with the number of findings the caller's list had when its entry was
 * validated; pipe_merge() puts them where one thread would have put them,
 * and applies the list's cap as one thread would have. So the findings,
 * their order and the model are those of one thread (tests/test_stream.c
 * compares them). The read callback is only called from the caller's
 * thread, and the parser warnings and the validator's end checks run after
 * the join, as before. */

enum { PIPE_SLOTS = 4, PIPE_BATCH = 2048, PIPE_INPUTS = 3 };

typedef struct pipeline {
    mbuild *x;
    psc_handoff h;
    psc_batch slot[PIPE_SLOTS]; /* item tags: findings in the caller's list
                                   after the entry was validated */
    psc_diag_list found;     /* the builder's findings */
    uint64_t *found_before;  /* parallel to found.items: the tag of its entry */
    size_t cap_found_before;
} pipeline;

/* Where an entry's slices may point and stay valid: the input. */
typedef struct span {
    const char *lo, *hi;
} span;

/* Add the items of a slot; findings noted with their place. */
static psc_status pipe_build(pipeline *pl, const psc_batch *s)
{
    psc_diag_list *found = &pl->found;
    for (size_t i = 0; i < s->n; i++) {
        const size_t n0 = found->count;
        psc_status st = mb_add(&pl->x->b, &s->items[i].e);
        if (st != PSC_OK)
            return st;
        if (found->count > n0) {
            if (psc_grow((void **)&pl->found_before, &pl->cap_found_before, found->count,
                         sizeof *pl->found_before))
                return PSC_E_NOMEM;
            for (size_t k = n0; k < found->count; k++)
                pl->found_before[k] = s->items[i].tag;
        }
    }
    return PSC_OK;
}

static void *pipe_builder(void *arg)
{
    pipeline *pl = arg;
    for (uint64_t seq = 0; psc_handoff_next(&pl->h, seq); seq++) {
        psc_status st = pipe_build(pl, &pl->slot[seq % PIPE_SLOTS]);
        psc_handoff_release(&pl->h, st);
        if (st != PSC_OK)
            break;
    }
    return NULL;
}

/* Start the builder thread. False when no thread could be started (the
 * caller then goes on in its own thread). */
static bool pipe_start(pipeline *pl, mbuild *x)
{
    memset(pl, 0, sizeof *pl);
    pl->x = x;
    for (size_t i = 0; i < PIPE_SLOTS; i++)
        psc_batch_init(&pl->slot[i]);
    psc_diag_list_init(&pl->found);
    pl->found.max = x->dl->max;
    x->b.diags = &pl->found;
    if (!psc_handoff_start(&pl->h, PIPE_SLOTS, pipe_builder, pl)) {
        x->b.diags = x->dl;
        return false;
    }
    return true;
}

/* The slot to fill next, once the builder has finished with it; NULL when
 * the builder has failed. The slot comes emptied. */
static psc_batch *pipe_claim(pipeline *pl)
{
    const uint64_t seq = pl->h.published; /* only this thread changes it */
    if (psc_handoff_claim(&pl->h, seq) != PSC_OK)
        return NULL;
    psc_batch *s = &pl->slot[seq % PIPE_SLOTS];
    psc_batch_clear(s);
    return s;
}

/* Move the builder's findings into the caller's list dl, each after the
 * `before` findings the caller's list had when its entry was validated,
 * and keep the first dl->max of them all: the list one thread would have
 * made. (When the caller's list dropped findings, it holds dl->max already,
 * and a builder's finding placed after them is past the cap too.) PSC_OK or
 * PSC_E_NOMEM (then dl is as it was, without the builder's findings). */
static psc_status pipe_merge(psc_diag_list *dl, psc_diag_list *found, const uint64_t *before)
{
    if (found->count == 0 && found->dropped == 0)
        return PSC_OK;
    const size_t max = dl->max ? dl->max : 10000;
    size_t n = dl->count + found->count;
    if (n > max)
        n = max;
    psc_diag *out = psc_malloc((n ? n : 1) * sizeof *out);
    if (!out)
        return PSC_E_NOMEM;
    size_t i = 0, j = 0, k = 0;
    while (i < dl->count || j < found->count) {
        psc_diag d = j < found->count && (i >= dl->count || before[j] <= i) ? found->items[j++]
                                                                            : dl->items[i++];
        if (k < n) {
            out[k++] = d;
        } else {
            psc_free(d.metric);
            psc_free(d.message);
            dl->dropped++;
        }
    }
    psc_free(dl->items);
    dl->items = out;
    dl->count = dl->cap = k;
    dl->dropped += found->dropped;
    dl->nerrors += found->nerrors;
    dl->nwarnings += found->nwarnings;
    psc_free(found->items);
    psc_diag_list_init(found);
    return PSC_OK;
}

/* No more input (or the parser side failed): let the builder finish what
 * was published, wait for it, merge its findings and release the ring.
 * Returns the builder's status, PSC_OK when it did not fail, or
 * PSC_E_NOMEM when the merge could not be made. */
static psc_status pipe_stop(pipeline *pl)
{
    psc_status st = psc_handoff_stop(&pl->h);
    for (size_t i = 0; i < PIPE_SLOTS; i++)
        psc_batch_release(&pl->slot[i]);
    mbuild *x = pl->x;
    x->b.diags = x->dl;
    if (pipe_merge(x->dl, &pl->found, pl->found_before) != PSC_OK && st == PSC_OK)
        st = PSC_E_NOMEM;
    psc_diag_list_release(&pl->found);
    psc_free(pl->found_before);
    return st;
}

/* Parse and validate what the parser has; the entries for the model go
 * into slots, published PIPE_BATCH at a time. PSC_OK, PSC_E_NOMEM,
 * PSC_E_LIMIT, or the builder's failure. */
static psc_status pipe_parse(pipeline *pl, const span *in)
{
    mbuild *x = pl->x;
    psc_entry e;
    psc_error err;
    psc_batch *s = NULL;
    psc_status st = PSC_OK;
    const size_t batch = psc_pipeline_batch() ? psc_pipeline_batch() : PIPE_BATCH;
    for (;;) {
        psc_status ps = psc_parser_next(x->p, &e, &err);
        if (ps == PSC_DONE)
            break;
        if (ps == PSC_E_NOMEM) {
            st = PSC_E_NOMEM;
            break;
        }
        bool add;
        if ((st = mb_check(x, ps, &e, &err, &add)) != PSC_OK)
            break;
        if (!add)
            continue;
        if (!s && !(s = pipe_claim(pl))) {
            st = psc_handoff_status(&pl->h);
            break;
        }
        /* label columns are the validator's, not the builder's */
        if ((st = psc_batch_put(s, in->lo, in->hi, &e, x->dl->count + x->dl->dropped, false)) !=
            PSC_OK)
            break;
        if (s->n >= batch) {
            psc_handoff_publish(&pl->h);
            s = NULL;
        }
    }
    if (s)
        psc_handoff_publish(&pl->h);
    return st;
}

static bool pipe_wanted(const psc_parse_opts *o, uint64_t len)
{
    return o->max_threads != 1 && len >= psc_pipeline_min_bytes();
}

/* End of input at `len` bytes: the validator's end checks, the parser's
 * warnings, the final arrays. On PSC_OK or PSC_E_SYNTAX *out owns the
 * model and x is released. */
static psc_status mb_finish(mbuild *x, uint64_t len, psc_model **out)
{
    psc_diag_list *dl = x->dl;
    psc_status st;
    if ((st = psc_validator_finish(x->v, len, x->ep.lines + 1, x->ep.tail + 1)) != PSC_OK)
        return st;
    const psc_diag_list *w = psc_parser_warnings(x->p);
    for (size_t i = 0; w && i < w->count; i++) {
        const psc_diag *d = &w->items[i];
        psc_str metric = {d->metric, d->metric ? strlen(d->metric) : 0};
        st = psc_diag_add(dl, d->severity, d->rule, metric, d->offset, d->line, d->column, "%s",
                          d->message);
        if (st != PSC_OK)
            return st;
    }
    if (finalize(&x->b, dl, x->diag_from) != PSC_OK)
        return PSC_E_NOMEM;
    *out = x->b.m;
    x->b.m = NULL;
    st = dl->nerrors > x->errs_before ? PSC_E_SYNTAX : PSC_OK;
    mb_release(x);
    return st;
}

psc_status psc_model_parse(const char *buf, size_t len, const psc_parse_opts *opts,
                           psc_model **out, psc_diag_list *diags)
{
    if (!out || (!buf && len))
        return PSC_E_ARG;
    *out = NULL;
    if (!buf)
        buf = "";
    psc_parse_opts o;
    if (opts)
        o = *opts;
    else
        psc_parse_opts_init(&o);
    if (o.format == PSC_FORMAT_AUTO)
        o.format = psc_format_detect(buf, len);
    mbuild x;
    psc_status st = mb_init(&x, &o, diags);
    if (st == PSC_OK) {
        psc_parser_reset(x.p, buf, len);
        pipeline pl;
        if (pipe_wanted(&o, len) && pipe_start(&pl, &x)) {
            const span in = {buf, buf + len};
            st = pipe_parse(&pl, &in);
            if (st == PSC_OK)
                endpos_add(&x.ep, buf, len); /* while the builder finishes */
            psc_status bst = pipe_stop(&pl);
            if (st == PSC_OK)
                st = bst;
        } else {
            st = mb_drain(&x);
            if (st == PSC_OK)
                endpos_add(&x.ep, buf, len);
        }
    }
    if (st == PSC_OK) {
        st = mb_finish(&x, len, out);
        if (st == PSC_OK || st == PSC_E_SYNTAX)
            return st;
    }
    mb_release(&x);
    return st == PSC_OK ? PSC_E_NOMEM : st;
}

psc_status psc_model_parse_stream(psc_read_fn rd, void *ctx, const psc_parse_opts *opts,
                                  psc_model **out, psc_diag_list *diags, psc_error *err)
{
    if (!out || !rd)
        return PSC_E_ARG;
    *out = NULL;
    psc_parse_opts o;
    if (opts)
        o = *opts;
    else
        psc_parse_opts_init(&o);
    if (!o.max_line_bytes)
        o.max_line_bytes = 1u << 20;
    const size_t chunk = psc_stream_chunk_size();
    size_t cap = chunk + o.max_line_bytes + 1, have = 0;
    uint64_t total = 0;
    bool eof = false, started = false;
    /* one input buffer, or PIPE_INPUTS in turn with the builder thread:
     * one is refilled once the builder is done with every slot pointing
     * into it (need[i] slots published) */
    char *ins[PIPE_INPUTS] = {psc_malloc(cap)};
    uint64_t need[PIPE_INPUTS] = {0};
    size_t cur = 0;
    pipeline pl;
    bool piped = false;
    mbuild x;
    memset(&x, 0, sizeof x);
    psc_diag_list_init(&x.local);
    psc_status st = ins[0] ? PSC_OK : PSC_E_NOMEM;
    while (st == PSC_OK) {
        char *buf = ins[cur];
        /* up to a line end past the chunk size */
        bool paced = false;
        st = psc_stream_fill(rd, ctx, buf, cap, &have, &eof, &paced, err);
        if (st != PSC_OK)
            break;
        if (!started) {
            started = true;
            if (o.format == PSC_FORMAT_AUTO)
                o.format = psc_format_detect(buf, have);
            if ((st = mb_init(&x, &o, diags)) != PSC_OK)
                break;
            /* at least `have` bytes: all of them at the end of the input,
             * else a chunk */
            if (pipe_wanted(&o, have)) {
                bool ok = true;
                for (size_t i = 1; i < PIPE_INPUTS && ok; i++)
                    ok = (ins[i] = psc_malloc(cap)) != NULL;
                if (!ok) {
                    st = PSC_E_NOMEM;
                    break;
                }
                piped = pipe_start(&pl, &x);
            }
        }
        const size_t complete = psc_stream_complete(buf, have, eof);
        psc_parser_continue(x.p, buf, complete, eof);
        if (piped) {
            const span in = {buf, buf + complete};
            st = pipe_parse(&pl, &in);
            need[cur] = pl.h.published;
        } else {
            st = mb_drain(&x);
        }
        if (st != PSC_OK)
            break;
        endpos_add(&x.ep, buf, complete);
        total += complete;
        if (eof)
            break;
        if (psc_parser_stopped(x.p) && !psc_parser_stopped_past_eof(x.p))
            break;
        size_t next = piped ? (cur + 1) % PIPE_INPUTS : cur;
        if (piped && (st = psc_handoff_wait_taken(&pl.h, need[next])) != PSC_OK)
            break;
        if (psc_parser_stopped(x.p)) {
            st = psc_stream_drain(rd, ctx, ins[next], cap, err);
            break;
        }
        memmove(ins[next], buf + complete, have - complete);
        have -= complete;
        cur = next;
    }
    if (piped) {
        psc_status bst = pipe_stop(&pl);
        if (st == PSC_OK)
            st = bst;
    }
    for (size_t i = 0; i < PIPE_INPUTS; i++)
        psc_free(ins[i]);
    if (st == PSC_OK) {
        st = mb_finish(&x, total, out);
        if (st == PSC_OK || st == PSC_E_SYNTAX)
            return st;
    }
    mb_release(&x);
    return st == PSC_OK ? PSC_E_NOMEM : st;
}
