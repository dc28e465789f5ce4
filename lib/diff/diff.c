/*
 * Semantic comparison of two models (promscope/diff.h, docs/diff.md).
 *
 * Families are paired by name (and counters also by their `_total` form),
 * then, per family pair, metrics (label sets without `le`/`quantile`) are
 * paired through a hash index on their projected, sorted label sets, and the
 * samples of each metric pair by sample name and numeric bound. Everything
 * the two models do not share becomes a change; everything they share is
 * compared by value. Work is linear in the number of series of both models;
 * scratch memory is per family.
 */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promscope/diff.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/hash.h"

/* ------------------------------------------------------------------ */
/* small growable arrays */

typedef struct change_vec {
    psc_diff_change *v;
    size_t n, cap;
} change_vec;

static int change_push(change_vec *cv, const psc_diff_change *c)
{
    if (psc_grow((void **)&cv->v, &cv->cap, cv->n + 1, sizeof *cv->v))
        return -1;
    cv->v[cv->n++] = *c;
    return 0;
}

/* One metric (label set) of a family, with its key for matching. */
typedef struct mref {
    const psc_metric *m;
    size_t key;        /* offset of the projected, sorted labels in the key buffer */
    size_t nkey;
    uint64_t hash;
    uint32_t match;    /* index of the paired metric on the other side, or UINT32_MAX */
    size_t nsamples;   /* samples not ignored */
} mref;

typedef struct mref_vec {
    mref *v;
    size_t n, cap;
} mref_vec;

/* One family pair, before processing. */
typedef struct fpair {
    const psc_family *o, *n;
    psc_str name;
    size_t seq;
} fpair;

struct psc_diff {
    psc_arena arena;
    psc_diff_family *families;
    size_t nfamilies, capfamilies;
    psc_diff_change *changes;
    size_t nchanges, capchanges;
    psc_diff_percentiles *pct;
    size_t npct, cappct;
    psc_diff_counts counts;
};

/* Everything psc_diff_new() needs while it runs. */
typedef struct ctx {
    psc_diff *d;
    const psc_model *om, *nm;
    psc_diff_opts opts;
    uint64_t seed;
    psc_str *ignored;          /* ignore_labels as slices */
    size_t nignored;
    regex_t *re;
    size_t nre;
    char *namebuf;             /* NUL-terminated copy of a name for regexec */
    size_t namecap;
    psc_str last_series_name;  /* cache of the last series-name regex test */
    bool last_series_ignored;
    bool units_comparable;     /* both models are OpenMetrics */

    /* per family scratch */
    psc_label *keys;           /* projected sorted labels of all metrics, both sides */
    size_t nkeys, capkeys;
    psc_str *onames, *nnames;  /* label names of the old and new family */
    size_t nonames, nnnames, caponames, capnnames;
    psc_str *shared;           /* label names both families have */
    size_t nshared, capshared;
    bool project;              /* label names differ: match on `shared` only */
    mref_vec ov, nv;
    psc_hidx idx;
    const mref *probe_v;       /* for the hash-index callback */
    const psc_label *probe_key;
    size_t probe_nkey;
    bool probe_unmatched_only;
    bool *omatched;            /* per sample of the current old metric */
    size_t capomatched;
    change_vec fixed, removed, rest; /* the family's changes by section */
    double *bo, *bn, *bc;      /* bucket scratch */
    size_t capb;
} ctx;

/* ------------------------------------------------------------------ */

static psc_str cstr(const char *s)
{
    return (psc_str){s, strlen(s)};
}

static int str_cmp(psc_str a, psc_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c)
        return c;
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

static bool str_ends_with(psc_str s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && memcmp(s.ptr + s.len - n, suffix, n) == 0;
}

static const char *const kind_names[] = {
    "family-added", "family-removed", "metadata-changed", "labels-changed",
    "buckets-changed", "series-added", "series-removed", "value-changed",
};

const char *psc_diff_kind_name(psc_diff_kind k)
{
    if ((unsigned)k >= sizeof kind_names / sizeof kind_names[0])
        return "unknown";
    return kind_names[k];
}

const char *psc_diff_field_name(psc_diff_field f)
{
    switch (f) {
    case PSC_DIFF_FIELD_TYPE: return "type";
    case PSC_DIFF_FIELD_HELP: return "help";
    case PSC_DIFF_FIELD_UNIT: return "unit";
    }
    return "unknown";
}

void psc_diff_opts_init(psc_diff_opts *o)
{
    memset(o, 0, sizeof *o);
}

static void set_err(psc_error *err, psc_status st, const char *msg, const char *detail)
{
    if (!err || err->code != PSC_C_NONE)
        return;
    err->status = st;
    err->code = st == PSC_E_NOMEM ? PSC_C_NOMEM : PSC_C_NONE;
    err->line = err->column = err->offset = 0;
    if (detail)
        snprintf(err->message, sizeof err->message, "%s '%.400s'", msg, detail);
    else
        snprintf(err->message, sizeof err->message, "%s", msg);
}

/* ------------------------------------------------------------------ */
/* ignoring */

static bool label_ignored(const ctx *c, psc_str name)
{
    for (size_t i = 0; i < c->nignored; i++)
        if (psc_str_eq(c->ignored[i], name))
            return true;
    return false;
}

/* Is label @p l of a sample of kind @p kind its bucket bound or quantile? */
static bool is_bound_label(psc_sample_kind kind, psc_str name)
{
    if (kind == PSC_SAMPLE_BUCKET)
        return psc_str_eq(name, cstr("le"));
    if (kind == PSC_SAMPLE_QUANTILE)
        return psc_str_eq(name, cstr("quantile"));
    return false;
}

/* 1 when a pattern matches @p name, 0 when none does, -1 out of memory. */
static int name_ignored(ctx *c, psc_str name)
{
    if (!c->nre)
        return 0;
    if (psc_grow((void **)&c->namebuf, &c->namecap, name.len + 1, 1))
        return -1;
    if (name.len)
        memcpy(c->namebuf, name.ptr, name.len);
    c->namebuf[name.len] = '\0';
    for (size_t i = 0; i < c->nre; i++)
        if (regexec(&c->re[i], c->namebuf, 0, NULL, 0) == 0)
            return 1;
    return 0;
}

static int series_ignored(ctx *c, psc_str name)
{
    if (!c->nre)
        return 0;
    if (c->last_series_name.ptr && psc_str_eq(c->last_series_name, name))
        return c->last_series_ignored;
    int r = name_ignored(c, name);
    if (r < 0)
        return r;
    c->last_series_name = name;
    c->last_series_ignored = r == 1;
    return r;
}

/* Labels of a sample (or a metric: kind VALUE) as the output shows them:
 * ignored labels dropped, input order kept. NULL only when out of memory
 * with n > 0. */
static const psc_label *out_labels(ctx *c, const psc_label *l, size_t n, psc_sample_kind kind,
                                   size_t *nout)
{
    size_t keep = 0;
    for (size_t i = 0; i < n; i++)
        if (is_bound_label(kind, l[i].name) || !label_ignored(c, l[i].name))
            keep++;
    *nout = keep;
    if (keep == n)
        return l;
    if (keep == 0)
        return l; /* nothing to show; any non-NULL pointer */
    psc_label *o = psc_arena_alloc(&c->d->arena, keep * sizeof *o);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (is_bound_label(kind, l[i].name) || !label_ignored(c, l[i].name))
            o[k++] = l[i];
    return o;
}

/* ------------------------------------------------------------------ */
/* result building */

static psc_diff_family *family_push(ctx *c, const fpair *p)
{
    psc_diff *d = c->d;
    if (psc_grow((void **)&d->families, &d->capfamilies, d->nfamilies + 1, sizeof *d->families))
        return NULL;
    psc_diff_family *f = &d->families[d->nfamilies++];
    memset(f, 0, sizeof *f);
    f->name = p->name;
    f->in_old = p->o != NULL;
    f->in_new = p->n != NULL;
    f->old_type = p->o ? p->o->type : PSC_TYPE_UNTYPED;
    f->new_type = p->n ? p->n->type : PSC_TYPE_UNTYPED;
    f->first_change = d->nchanges;
    return f;
}

static int change_append(psc_diff *d, const psc_diff_change *ch)
{
    if (psc_grow((void **)&d->changes, &d->capchanges, d->nchanges + 1, sizeof *d->changes))
        return -1;
    d->changes[d->nchanges++] = *ch;
    return 0;
}

static int change_append_all(psc_diff *d, change_vec *cv)
{
    for (size_t i = 0; i < cv->n; i++)
        if (change_append(d, &cv->v[i]))
            return -1;
    cv->n = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* counting what a family holds */

/* Samples of @p f not ignored; -1 out of memory. */
static long long family_series(ctx *c, const psc_family *f)
{
    long long n = 0;
    for (size_t i = 0; i < f->nmetrics; i++) {
        const psc_metric *m = &f->metrics[i];
        for (size_t j = 0; j < m->nsamples; j++) {
            int r = series_ignored(c, m->samples[j].name);
            if (r < 0)
                return -1;
            n += r == 0;
        }
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* label-name sets */

/* Insert @p s into the sorted set (*set, *n); -1 out of memory. */
static int set_add(psc_str **set, size_t *n, size_t *cap, psc_str s)
{
    size_t lo = 0, hi = *n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = str_cmp((*set)[mid], s);
        if (cmp == 0)
            return 0;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (psc_grow((void **)set, cap, *n + 1, sizeof **set))
        return -1;
    if (*n > lo)
        memmove(*set + lo + 1, *set + lo, (*n - lo) * sizeof **set);
    (*set)[lo] = s;
    (*n)++;
    return 0;
}

static bool set_has(const psc_str *set, size_t n, psc_str s)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = str_cmp(set[mid], s);
        if (cmp == 0)
            return true;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int collect_names(ctx *c, const psc_family *f, psc_str **set, size_t *n, size_t *cap)
{
    *n = 0;
    for (size_t i = 0; i < f->nmetrics; i++) {
        const psc_metric *m = &f->metrics[i];
        for (size_t j = 0; j < m->nlabels; j++)
            if (!label_ignored(c, m->labels[j].name) && set_add(set, n, cap, m->labels[j].name))
                return -1;
    }
    return 0;
}

/* Sorted slice array copy into the result arena. */
static const psc_str *names_diff(ctx *c, const psc_str *a, size_t na, const psc_str *b, size_t nb,
                                 size_t *nout, bool *nomem)
{
    /* elements of a not in b */
    size_t k = 0;
    for (size_t i = 0; i < na; i++)
        k += !set_has(b, nb, a[i]);
    *nout = k;
    if (!k)
        return NULL;
    psc_str *o = psc_arena_alloc(&c->d->arena, k * sizeof *o);
    if (!o) {
        *nomem = true;
        return NULL;
    }
    k = 0;
    for (size_t i = 0; i < na; i++)
        if (!set_has(b, nb, a[i]))
            o[k++] = a[i];
    return o;
}

/* ------------------------------------------------------------------ */
/* metric keys */

static int label_cmp(const void *a, const void *b)
{
    return str_cmp(((const psc_label *)a)->name, ((const psc_label *)b)->name);
}

/* Append the projected, sorted labels of @p m to the key buffer and fill @p r. */
static int make_key(ctx *c, const psc_metric *m, mref *r)
{
    if (psc_grow((void **)&c->keys, &c->capkeys, c->nkeys + m->nlabels + 1, sizeof *c->keys))
        return -1;
    size_t start = c->nkeys, k = 0;
    for (size_t i = 0; i < m->nlabels; i++) {
        psc_str name = m->labels[i].name;
        if (label_ignored(c, name))
            continue;
        if (c->project && !set_has(c->shared, c->nshared, name))
            continue;
        c->keys[start + k++] = m->labels[i];
    }
    if (k > 1)
        qsort(c->keys + start, k, sizeof *c->keys, label_cmp);
    uint64_t h = psc_hash_mix(c->seed, k);
    for (size_t i = 0; i < k; i++) {
        const psc_label *l = &c->keys[start + i];
        h = psc_hash_mix(h, psc_hash_bytes(l->name.ptr, l->name.len, c->seed));
        h = psc_hash_mix(h, psc_hash_bytes(l->value.ptr, l->value.len, c->seed ^ 0x5bd1e995u));
    }
    c->nkeys += k;
    r->m = m;
    r->key = start;
    r->nkey = k;
    r->hash = h;
    r->match = UINT32_MAX;
    return 0;
}

static bool key_eq(const psc_label *a, size_t na, const psc_label *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!psc_str_eq(a[i].name, b[i].name) || !psc_str_eq(a[i].value, b[i].value))
            return false;
    return true;
}

static bool probe_eq(void *vctx, uint32_t id)
{
    ctx *c = vctx;
    const mref *r = &c->probe_v[id];
    if (c->probe_unmatched_only && r->match != UINT32_MAX)
        return false;
    return key_eq(c->keys + r->key, r->nkey, c->probe_key, c->probe_nkey);
}

/* ------------------------------------------------------------------ */
/* samples */

static bool is_counter_sample(psc_metric_type t, psc_sample_kind k)
{
    switch (t) {
    case PSC_TYPE_COUNTER:
        return k == PSC_SAMPLE_VALUE || k == PSC_SAMPLE_TOTAL;
    case PSC_TYPE_HISTOGRAM:
        return k == PSC_SAMPLE_BUCKET || k == PSC_SAMPLE_COUNT || k == PSC_SAMPLE_SUM;
    case PSC_TYPE_SUMMARY:
        return k == PSC_SAMPLE_COUNT || k == PSC_SAMPLE_SUM;
    default:
        return false;
    }
}

static bool has_bound(const psc_sample *s)
{
    return (s->kind == PSC_SAMPLE_BUCKET || s->kind == PSC_SAMPLE_QUANTILE) && !isnan(s->bound);
}

static psc_str bound_label_value(const psc_sample *s)
{
    return psc_sample_bound_label(s).value;
}

/* Same series within a metric pair: same sample name and same bound. */
static bool sample_eq(const psc_sample *a, const psc_sample *b)
{
    if (!psc_str_eq(a->name, b->name))
        return false;
    bool ba = has_bound(a), bb = has_bound(b);
    if (ba != bb)
        return false;
    if (ba)
        return a->bound == b->bound;
    if (a->kind == PSC_SAMPLE_BUCKET || a->kind == PSC_SAMPLE_QUANTILE)
        return psc_str_eq(bound_label_value(a), bound_label_value(b));
    return true;
}

static bool same_value(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* Seconds between two samples: their timestamps when both carry one, else
 * the option. Returns false when unknown. */
static bool pair_interval(const ctx *c, const psc_sample *o, const psc_sample *n, double *iv,
                          bool *from_ts)
{
    *from_ts = false;
    if (o->has_timestamp && n->has_timestamp) {
        double dt;
        if (o->timestamp_ms_exact && n->timestamp_ms_exact)
            dt = (double)(n->timestamp_ms - o->timestamp_ms) / 1000.0;
        else
            dt = n->timestamp - o->timestamp;
        if (!(dt > 0) || !isfinite(dt))
            return false;
        *iv = dt;
        *from_ts = true;
        return true;
    }
    if (c->opts.interval > 0) {
        *iv = c->opts.interval;
        return true;
    }
    return false;
}

static const psc_sample *find_created(const psc_metric *m)
{
    for (size_t i = 0; i < m->nsamples; i++)
        if (m->samples[i].kind == PSC_SAMPLE_CREATED)
            return &m->samples[i];
    return NULL;
}

/* Start a change about one series: kind, family, name and output labels.
 * Returns -1 when out of memory. */
static int sample_change_init(ctx *c, psc_diff_change *ch, psc_diff_kind kind, size_t fam,
                              const psc_sample *s)
{
    memset(ch, 0, sizeof *ch);
    ch->kind = kind;
    ch->family = fam;
    ch->name = s->name;
    ch->sample_kind = s->kind;
    const psc_label *all = s->labels;
    size_t n = psc_sample_labels(s, NULL, 0);
    if (n > s->nlabels) {
        /* with its bound label */
        psc_label *full = psc_arena_alloc(&c->d->arena, n * sizeof *full);
        if (!full)
            return -1;
        psc_sample_labels(s, full, n);
        all = full;
    }
    ch->labels = out_labels(c, all, n, s->kind, &ch->nlabels);
    return !ch->labels && ch->nlabels ? -1 : 0;
}

static int series_change(ctx *c, psc_diff_kind kind, size_t fam, const psc_sample *s,
                         change_vec *to)
{
    psc_diff_change ch;
    if (sample_change_init(c, &ch, kind, fam, s))
        return -1;
    if (kind == PSC_DIFF_SERIES_ADDED) {
        ch.new_value = s->value;
        ch.new_line = s->line;
        c->d->counts.series_added++;
    } else {
        ch.old_value = s->value;
        ch.old_line = s->line;
        c->d->counts.series_removed++;
    }
    return change_push(to, &ch);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

static bool doubles_eq(const double *a, size_t na, const double *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Record a bucket-layout difference of one metric pair (bounds sorted). */
static int layout_change(ctx *c, size_t fam, const mref *nr, bool quantiles, double *added,
                         size_t nadded, double *removed, size_t nremoved)
{
    if (nadded > 1)
        qsort(added, nadded, sizeof *added, cmp_double);
    if (nremoved > 1)
        qsort(removed, nremoved, sizeof *removed, cmp_double);
    for (size_t i = 0; i < c->fixed.n; i++) {
        psc_diff_change *e = &c->fixed.v[i];
        if (e->kind == PSC_DIFF_BUCKETS_CHANGED && e->quantiles == quantiles &&
            doubles_eq(e->bounds_added, e->nbounds_added, added, nadded) &&
            doubles_eq(e->bounds_removed, e->nbounds_removed, removed, nremoved)) {
            e->nmetrics++;
            return 0;
        }
    }
    psc_diff_change ch;
    memset(&ch, 0, sizeof ch);
    ch.kind = PSC_DIFF_BUCKETS_CHANGED;
    ch.family = fam;
    ch.quantiles = quantiles;
    ch.nmetrics = 1;
    ch.name = (psc_str){"", 0};
    ch.labels = out_labels(c, nr->m->labels, nr->m->nlabels, PSC_SAMPLE_VALUE, &ch.nlabels);
    if (!ch.labels && ch.nlabels)
        return -1;
    ch.new_line = nr->m->line;
    if (nadded) {
        double *a = psc_arena_memdup(&c->d->arena, added, nadded * sizeof *added);
        if (!a)
            return -1;
        ch.bounds_added = a;
        ch.nbounds_added = nadded;
    }
    if (nremoved) {
        double *r = psc_arena_memdup(&c->d->arena, removed, nremoved * sizeof *removed);
        if (!r)
            return -1;
        ch.bounds_removed = r;
        ch.nbounds_removed = nremoved;
    }
    c->d->counts.buckets_changed++;
    return change_push(&c->fixed, &ch);
}

static int grow_buckets(ctx *c, size_t need)
{
    if (need <= c->capb)
        return 0;
    size_t cap = c->capb ? c->capb : 16;
    while (cap < need)
        cap *= 2;
    double *a = psc_realloc(c->bo, cap * sizeof *a);
    if (!a)
        return -1;
    c->bo = a;
    double *b = psc_realloc(c->bn, cap * sizeof *b);
    if (!b)
        return -1;
    c->bn = b;
    double *d = psc_realloc(c->bc, cap * sizeof *d);
    if (!d)
        return -1;
    c->bc = d;
    c->capb = cap;
    return 0;
}

static double increase(double o, double n, bool reset)
{
    return reset || n < o ? n : n - o;
}

/* Percentiles of one histogram metric pair whose bucket layouts are equal. */
static int percentiles(ctx *c, size_t fam, const mref *orf, const mref *nrf, bool metric_reset)
{
    const psc_metric *mo = orf->m, *mn = nrf->m;
    size_t nb = 0;
    bool reset = metric_reset, has_sum = false, has_count = false, has_iv = false, iv_ts = false;
    double sum = 0, count = 0, iv = 0;
    const psc_sample *inf_o = NULL, *inf_n = NULL;
    if (grow_buckets(c, mn->nsamples))
        return -1;
    for (size_t j = 0; j < mn->nsamples; j++) {
        const psc_sample *sn = &mn->samples[j];
        if (sn->kind != PSC_SAMPLE_BUCKET && sn->kind != PSC_SAMPLE_SUM &&
            sn->kind != PSC_SAMPLE_COUNT)
            continue;
        const psc_sample *so = NULL;
        for (size_t i = 0; i < mo->nsamples && !so; i++)
            if (sample_eq(&mo->samples[i], sn))
                so = &mo->samples[i];
        if (!so)
            continue;
        reset |= sn->value < so->value;
        if (sn->kind == PSC_SAMPLE_SUM) {
            has_sum = true;
            sum = increase(so->value, sn->value, metric_reset);
            continue;
        }
        if (sn->kind == PSC_SAMPLE_COUNT) {
            has_count = true;
            count = increase(so->value, sn->value, metric_reset);
            continue;
        }
        if (!has_bound(sn))
            return 0; /* a bucket without a numeric bound: no percentiles */
        c->bo[nb] = sn->bound;
        c->bc[nb] = increase(so->value, sn->value, metric_reset);
        if (isinf(sn->bound) && sn->bound > 0) {
            inf_o = so;
            inf_n = sn;
        }
        nb++;
    }
    if (!nb || !inf_n)
        return 0;
    double observations = c->bc[0];
    for (size_t i = 1; i < nb; i++)
        if (c->bc[i] > observations)
            observations = c->bc[i];
    if (!(observations > 0))
        return 0;
    psc_diff *d = c->d;
    size_t nq = c->opts.nquantiles;
    double *vals = psc_arena_alloc(&d->arena, nq * sizeof *vals);
    if (!vals)
        return -1;
    bool forced = false;
    for (size_t q = 0; q < nq; q++) {
        bool f = false;
        if (psc_histogram_quantile(c->opts.quantiles[q], c->bo, c->bc, nb, &vals[q], &f) != PSC_OK)
            return -1;
        forced |= f;
    }
    has_iv = pair_interval(c, inf_o, inf_n, &iv, &iv_ts);
    if (psc_grow((void **)&d->pct, &d->cappct, d->npct + 1, sizeof *d->pct))
        return -1;
    psc_diff_percentiles *p = &d->pct[d->npct];
    memset(p, 0, sizeof *p);
    p->family = fam;
    p->labels = out_labels(c, mn->labels, mn->nlabels, PSC_SAMPLE_VALUE, &p->nlabels);
    if (!p->labels && p->nlabels)
        return -1;
    p->observations = observations;
    p->has_sum = has_sum;
    p->sum = sum;
    p->has_count = has_count;
    p->count = count;
    p->reset = reset;
    p->has_rate = has_iv;
    p->interval = has_iv ? iv : 0;
    p->rate = has_iv ? observations / iv : 0;
    p->forced_monotonic = forced;
    p->values = vals;
    p->nvalues = nq;
    d->npct++;
    return 0;
}

/* Compare the samples of a metric pair. */
static int compare_metric(ctx *c, size_t fam, const psc_family *fo, const psc_family *fn,
                          const mref *orf, const mref *nrf)
{
    const psc_metric *mo = orf->m, *mn = nrf->m;
    psc_diff *d = c->d;
    if (psc_grow((void **)&c->omatched, &c->capomatched, mo->nsamples, sizeof *c->omatched))
        return -1;
    if (mo->nsamples)
        memset(c->omatched, 0, mo->nsamples * sizeof *c->omatched);
    if (grow_buckets(c, mo->nsamples + mn->nsamples))
        return -1;
    size_t nadded = 0, nremoved = 0;
    bool quantiles = false;

    const psc_sample *co = find_created(mo), *cn = find_created(mn);
    bool metric_reset = co && cn && !same_value(co->value, cn->value);

    for (size_t j = 0; j < mn->nsamples; j++) {
        const psc_sample *sn = &mn->samples[j];
        int ig = series_ignored(c, sn->name);
        if (ig < 0)
            return -1;
        if (ig)
            continue;
        /* The same position first: samples usually come in the same order. */
        size_t found = SIZE_MAX;
        if (j < mo->nsamples && !c->omatched[j] && sample_eq(&mo->samples[j], sn))
            found = j;
        for (size_t i = 0; i < mo->nsamples && found == SIZE_MAX; i++)
            if (!c->omatched[i] && sample_eq(&mo->samples[i], sn))
                found = i;
        if (found == SIZE_MAX) {
            if (has_bound(sn)) {
                c->bn[nadded++] = sn->bound;
                quantiles = sn->kind == PSC_SAMPLE_QUANTILE;
            } else if (series_change(c, PSC_DIFF_SERIES_ADDED, fam, sn, &c->rest)) {
                return -1;
            }
            continue;
        }
        c->omatched[found] = true;
        const psc_sample *so = &mo->samples[found];
        if (same_value(so->value, sn->value)) {
            d->counts.series_unchanged++;
            continue;
        }
        psc_diff_change ch;
        if (sample_change_init(c, &ch, PSC_DIFF_VALUE_CHANGED, fam, sn))
            return -1;
        ch.old_line = so->line;
        ch.new_line = sn->line;
        ch.old_value = so->value;
        ch.new_value = sn->value;
        ch.delta = sn->value - so->value;
        ch.counter = is_counter_sample(fo->type, so->kind) && is_counter_sample(fn->type, sn->kind);
        if (ch.counter) {
            ch.reset = sn->value < so->value || metric_reset;
            double iv;
            bool ts;
            if (pair_interval(c, so, sn, &iv, &ts) && !isnan(sn->value) && !isnan(so->value)) {
                ch.has_rate = true;
                ch.interval = iv;
                ch.interval_from_timestamps = ts;
                ch.rate = (ch.reset ? sn->value : ch.delta) / iv;
            }
        }
        if (!ch.reset && isfinite(so->value) && isfinite(sn->value)) {
            double ad = fabs(ch.delta);
            if (ad < c->opts.min_change || ad < c->opts.min_change_ratio * fabs(so->value)) {
                d->counts.values_below_min_change++;
                continue;
            }
        }
        d->counts.values_changed++;
        d->counts.resets += ch.reset;
        d->counts.rates += ch.has_rate;
        d->counts.rates_from_timestamps += ch.has_rate && ch.interval_from_timestamps;
        if (change_push(&c->rest, &ch))
            return -1;
    }
    for (size_t i = 0; i < mo->nsamples; i++) {
        if (c->omatched[i])
            continue;
        const psc_sample *so = &mo->samples[i];
        int ig = series_ignored(c, so->name);
        if (ig < 0)
            return -1;
        if (ig)
            continue;
        if (has_bound(so)) {
            c->bo[nremoved++] = so->bound;
            quantiles = so->kind == PSC_SAMPLE_QUANTILE;
        } else if (series_change(c, PSC_DIFF_SERIES_REMOVED, fam, so, &c->removed)) {
            return -1;
        }
    }
    if (nadded || nremoved)
        return layout_change(c, fam, nrf, quantiles, c->bn, nadded, c->bo, nremoved);
    if (c->opts.nquantiles && fo->type == PSC_TYPE_HISTOGRAM && fn->type == PSC_TYPE_HISTOGRAM)
        return percentiles(c, fam, orf, nrf, metric_reset);
    return 0;
}

/* Series of a metric only one side has. */
static int metric_unmatched(ctx *c, size_t fam, const psc_metric *m, psc_diff_kind kind,
                            change_vec *to)
{
    for (size_t j = 0; j < m->nsamples; j++) {
        int ig = series_ignored(c, m->samples[j].name);
        if (ig < 0)
            return -1;
        if (!ig && series_change(c, kind, fam, &m->samples[j], to))
            return -1;
    }
    return 0;
}

static size_t metric_series(ctx *c, const psc_metric *m)
{
    size_t n = 0;
    for (size_t j = 0; j < m->nsamples; j++)
        n += series_ignored(c, m->samples[j].name) == 0;
    return n;
}

/* ------------------------------------------------------------------ */
/* one family pair */

static bool same_type(psc_metric_type a, psc_metric_type b)
{
    if (a == PSC_TYPE_UNKNOWN)
        a = PSC_TYPE_UNTYPED;
    if (b == PSC_TYPE_UNKNOWN)
        b = PSC_TYPE_UNTYPED;
    return a == b;
}

static int metadata_change(ctx *c, size_t fam, psc_diff_field field, bool ho, psc_str o, bool hn,
                           psc_str n)
{
    psc_diff_change ch;
    memset(&ch, 0, sizeof ch);
    ch.kind = PSC_DIFF_METADATA_CHANGED;
    ch.family = fam;
    ch.field = field;
    ch.has_old_text = ho;
    ch.has_new_text = hn;
    ch.old_text = ho ? o : PSC_STR_NULL;
    ch.new_text = hn ? n : PSC_STR_NULL;
    c->d->counts.metadata_changed++;
    return change_push(&c->fixed, &ch);
}

static int compare_families(ctx *c, size_t fam, const psc_family *fo, const psc_family *fn)
{
    /* metadata */
    if (!same_type(fo->type, fn->type) &&
        metadata_change(c, fam, PSC_DIFF_FIELD_TYPE, true, cstr(psc_metric_type_name(fo->type)),
                        true, cstr(psc_metric_type_name(fn->type))))
        return -1;
    if ((fo->has_help != fn->has_help || (fo->has_help && !psc_str_eq(fo->help, fn->help))) &&
        metadata_change(c, fam, PSC_DIFF_FIELD_HELP, fo->has_help, fo->help, fn->has_help,
                        fn->help))
        return -1;
    if (c->units_comparable &&
        (fo->has_unit != fn->has_unit || (fo->has_unit && !psc_str_eq(fo->unit, fn->unit))) &&
        metadata_change(c, fam, PSC_DIFF_FIELD_UNIT, fo->has_unit, fo->unit, fn->has_unit,
                        fn->unit))
        return -1;

    /* label names */
    if (collect_names(c, fo, &c->onames, &c->nonames, &c->caponames) ||
        collect_names(c, fn, &c->nnames, &c->nnnames, &c->capnnames))
        return -1;
    c->project = false;
    c->nshared = 0;
    bool same = c->nonames == c->nnnames;
    for (size_t i = 0; same && i < c->nonames; i++)
        same = psc_str_eq(c->onames[i], c->nnames[i]);
    if (!same) {
        psc_diff_change ch;
        memset(&ch, 0, sizeof ch);
        ch.kind = PSC_DIFF_LABELS_CHANGED;
        ch.family = fam;
        bool nomem = false;
        ch.names_added = names_diff(c, c->nnames, c->nnnames, c->onames, c->nonames,
                                    &ch.nnames_added, &nomem);
        ch.names_removed = names_diff(c, c->onames, c->nonames, c->nnames, c->nnnames,
                                      &ch.nnames_removed, &nomem);
        if (nomem)
            return -1;
        ch.nmetrics = fn->nmetrics;
        c->d->counts.labels_changed++;
        if (change_push(&c->fixed, &ch))
            return -1;
        for (size_t i = 0; i < c->nonames; i++)
            if (set_has(c->nnames, c->nnnames, c->onames[i]) &&
                set_add(&c->shared, &c->nshared, &c->capshared, c->onames[i]))
                return -1;
        c->project = true;
    }

    /* metric keys */
    c->nkeys = 0;
    c->ov.n = c->nv.n = 0;
    if (psc_grow((void **)&c->ov.v, &c->ov.cap, fo->nmetrics, sizeof *c->ov.v) ||
        psc_grow((void **)&c->nv.v, &c->nv.cap, fn->nmetrics, sizeof *c->nv.v))
        return -1;
    psc_hidx_clear(&c->idx);
    for (size_t i = 0; i < fo->nmetrics; i++) {
        mref *r = &c->ov.v[c->ov.n];
        if (make_key(c, &fo->metrics[i], r))
            return -1;
        r->nsamples = metric_series(c, r->m);
        c->probe_v = c->ov.v;
        c->probe_key = c->keys + r->key;
        c->probe_nkey = r->nkey;
        c->probe_unmatched_only = false;
        if (psc_hidx_find(&c->idx, r->hash, probe_eq, c) != UINT32_MAX)
            c->d->counts.old_collisions += r->nsamples;
        if (psc_hidx_insert(&c->idx, r->hash, (uint32_t)c->ov.n))
            return -1;
        c->ov.n++;
    }
    for (size_t i = 0; i < fn->nmetrics; i++) {
        mref *r = &c->nv.v[c->nv.n];
        if (make_key(c, &fn->metrics[i], r))
            return -1;
        r->nsamples = metric_series(c, r->m);
        c->probe_v = c->ov.v;
        c->probe_key = c->keys + r->key;
        c->probe_nkey = r->nkey;
        c->probe_unmatched_only = true;
        uint32_t id = psc_hidx_find(&c->idx, r->hash, probe_eq, c);
        if (id != UINT32_MAX) {
            r->match = id;
            c->ov.v[id].match = (uint32_t)c->nv.n;
        } else {
            c->probe_unmatched_only = false;
            if (psc_hidx_find(&c->idx, r->hash, probe_eq, c) != UINT32_MAX)
                c->d->counts.new_collisions += r->nsamples;
        }
        c->nv.n++;
    }

    /* series */
    for (size_t i = 0; i < c->ov.n; i++)
        if (c->ov.v[i].match == UINT32_MAX &&
            metric_unmatched(c, fam, c->ov.v[i].m, PSC_DIFF_SERIES_REMOVED, &c->removed))
            return -1;
    for (size_t i = 0; i < c->nv.n; i++) {
        const mref *nr = &c->nv.v[i];
        if (nr->match == UINT32_MAX) {
            if (metric_unmatched(c, fam, nr->m, PSC_DIFF_SERIES_ADDED, &c->rest))
                return -1;
        } else if (compare_metric(c, fam, fo, fn, &c->ov.v[nr->match], nr)) {
            return -1;
        }
    }
    return 0;
}

static int process_pair(ctx *c, const fpair *p)
{
    psc_diff *d = c->d;
    size_t npct_before = d->npct;
    psc_diff_family *f = family_push(c, p);
    if (!f)
        return -1;
    size_t fam = d->nfamilies - 1;
    if (p->o) {
        long long n = family_series(c, p->o);
        if (n < 0)
            return -1;
        f->old_series = (size_t)n;
    }
    if (p->n) {
        long long n = family_series(c, p->n);
        if (n < 0)
            return -1;
        f->new_series = (size_t)n;
    }
    psc_diff_change ch;
    memset(&ch, 0, sizeof ch);
    ch.family = fam;
    if (!p->o || !p->n) {
        ch.kind = p->n ? PSC_DIFF_FAMILY_ADDED : PSC_DIFF_FAMILY_REMOVED;
        if (p->n)
            d->counts.families_added++;
        else
            d->counts.families_removed++;
        if (change_append(d, &ch))
            return -1;
        f = &d->families[fam];
        f->nchanges = 1;
        return 0;
    }
    c->fixed.n = c->removed.n = c->rest.n = 0;
    if (compare_families(c, fam, p->o, p->n))
        return -1;
    if (change_append_all(d, &c->fixed) || change_append_all(d, &c->removed) ||
        change_append_all(d, &c->rest))
        return -1;
    f = &d->families[fam];
    f->nchanges = d->nchanges - f->first_change;
    if (f->nchanges)
        d->counts.families_changed++;
    else if (d->npct == npct_before)
        d->nfamilies--; /* nothing to report about this family */
    return 0;
}

/* ------------------------------------------------------------------ */
/* pairing families */

typedef struct fam_index_ctx {
    const psc_family **fams;
    bool *used;
    psc_str probe;
    bool counters_only;
    ctx *c;
} fam_index_ctx;

static psc_str counter_key(psc_str name)
{
    if (str_ends_with(name, "_total"))
        name.len -= 6;
    return name;
}

static bool fam_eq(void *vctx, uint32_t id)
{
    fam_index_ctx *x = vctx;
    if (x->used[id])
        return false;
    const psc_family *f = x->fams[id];
    if (x->counters_only)
        return f->type == PSC_TYPE_COUNTER && psc_str_eq(counter_key(f->name), x->probe);
    return psc_str_eq(f->name, x->probe);
}

static int fpair_cmp(const void *a, const void *b)
{
    const fpair *x = a, *y = b;
    int c = str_cmp(x->name, y->name);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Non-ignored families of a model; -1 out of memory. */
static int list_families(ctx *c, const psc_model *m, const psc_family ***out, size_t *n)
{
    size_t total = psc_model_family_count(m);
    *n = 0;
    *out = psc_malloc((total ? total : 1) * sizeof **out);
    if (!*out)
        return -1;
    for (size_t i = 0; i < total; i++) {
        const psc_family *f = psc_model_family(m, i);
        if (!f)
            continue;
        int r = name_ignored(c, f->name);
        if (r < 0)
            return -1;
        if (!r)
            (*out)[(*n)++] = f;
    }
    return 0;
}

static int pair_families(ctx *c, fpair **pairs_out, size_t *npairs_out)
{
    const psc_family **of = NULL, **nf = NULL;
    size_t no = 0, nn = 0, np = 0;
    bool *oused = NULL, *nused = NULL;
    fpair *pairs = NULL;
    psc_hidx hx;
    psc_hidx_init(&hx);
    int rc = -1;
    if (list_families(c, c->om, &of, &no) || list_families(c, c->nm, &nf, &nn))
        goto out;
    oused = psc_calloc(no ? no : 1, sizeof *oused);
    nused = psc_calloc(nn ? nn : 1, sizeof *nused);
    pairs = psc_malloc((no + nn ? no + nn : 1) * sizeof *pairs);
    if (!oused || !nused || !pairs)
        goto out;
    fam_index_ctx x = {of, oused, PSC_STR_NULL, false, c};

    /* pass 1: exact names */
    for (size_t i = 0; i < no; i++)
        if (psc_hidx_insert(&hx, psc_hash_bytes(of[i]->name.ptr, of[i]->name.len, c->seed),
                            (uint32_t)i))
            goto out;
    for (size_t i = 0; i < nn; i++) {
        x.probe = nf[i]->name;
        uint32_t id = psc_hidx_find(&hx, psc_hash_bytes(x.probe.ptr, x.probe.len, c->seed),
                                    fam_eq, &x);
        if (id == UINT32_MAX)
            continue;
        oused[id] = nused[i] = true;
        pairs[np] = (fpair){of[id], nf[i], nf[i]->name, np};
        np++;
    }
    /* pass 2: counters by their name without `_total` (text vs OpenMetrics) */
    psc_hidx_clear(&hx);
    x.counters_only = true;
    for (size_t i = 0; i < no; i++) {
        if (oused[i] || of[i]->type != PSC_TYPE_COUNTER)
            continue;
        psc_str k = counter_key(of[i]->name);
        if (psc_hidx_insert(&hx, psc_hash_bytes(k.ptr, k.len, c->seed), (uint32_t)i))
            goto out;
    }
    for (size_t i = 0; i < nn; i++) {
        if (nused[i] || nf[i]->type != PSC_TYPE_COUNTER)
            continue;
        x.probe = counter_key(nf[i]->name);
        uint32_t id = psc_hidx_find(&hx, psc_hash_bytes(x.probe.ptr, x.probe.len, c->seed),
                                    fam_eq, &x);
        if (id == UINT32_MAX)
            continue;
        oused[id] = nused[i] = true;
        pairs[np] = (fpair){of[id], nf[i], nf[i]->name, np};
        np++;
    }
    for (size_t i = 0; i < nn; i++) {
        if (!nused[i]) {
            pairs[np] = (fpair){NULL, nf[i], nf[i]->name, np};
            np++;
        }
    }
    for (size_t i = 0; i < no; i++) {
        if (!oused[i]) {
            pairs[np] = (fpair){of[i], NULL, of[i]->name, np};
            np++;
        }
    }
    qsort(pairs, np, sizeof *pairs, fpair_cmp);
    *pairs_out = pairs;
    *npairs_out = np;
    pairs = NULL;
    rc = 0;
out:
    psc_hidx_release(&hx);
    psc_free(of);
    psc_free(nf);
    psc_free(oused);
    psc_free(nused);
    psc_free(pairs);
    return rc;
}

/* ------------------------------------------------------------------ */

static void ctx_release(ctx *c)
{
    for (size_t i = 0; i < c->nre; i++)
        regfree(&c->re[i]);
    psc_free(c->re);
    psc_free(c->ignored);
    psc_free(c->namebuf);
    psc_free(c->keys);
    psc_free(c->onames);
    psc_free(c->nnames);
    psc_free(c->shared);
    psc_free(c->ov.v);
    psc_free(c->nv.v);
    psc_hidx_release(&c->idx);
    psc_free(c->omatched);
    psc_free(c->fixed.v);
    psc_free(c->removed.v);
    psc_free(c->rest.v);
    psc_free(c->bo);
    psc_free(c->bn);
    psc_free(c->bc);
}

static psc_status compile_patterns(ctx *c, psc_error *err)
{
    const psc_diff_opts *o = &c->opts;
    if (!o->nignore_metrics)
        return PSC_OK;
    c->re = psc_calloc(o->nignore_metrics, sizeof *c->re);
    if (!c->re)
        return PSC_E_NOMEM;
    for (size_t i = 0; i < o->nignore_metrics; i++) {
        const char *p = o->ignore_metrics[i];
        if (!p) {
            set_err(err, PSC_E_ARG, "ignore_metrics pattern is NULL", NULL);
            return PSC_E_ARG;
        }
        size_t n = strlen(p);
        char *anchored = psc_malloc(n + 5);
        if (!anchored)
            return PSC_E_NOMEM;
        memcpy(anchored, "^(", 2);
        memcpy(anchored + 2, p, n);
        memcpy(anchored + 2 + n, ")$", 3);
        int rc = regcomp(&c->re[c->nre], anchored, REG_EXTENDED | REG_NOSUB);
        psc_free(anchored);
        if (rc != 0) {
            char why[160];
            regerror(rc, NULL, why, sizeof why);
            if (err && err->code == PSC_C_NONE) {
                err->status = PSC_E_ARG;
                snprintf(err->message, sizeof err->message, "invalid regular expression '%.300s': %s", p,
                         why);
            }
            return rc == REG_ESPACE ? PSC_E_NOMEM : PSC_E_ARG;
        }
        c->nre++;
    }
    return PSC_OK;
}

psc_status psc_diff_new(const psc_model *old_model, const psc_model *new_model,
                        const psc_diff_opts *opts, psc_diff **out, psc_error *err)
{
    if (out)
        *out = NULL;
    if (!old_model || !new_model || !out) {
        set_err(err, PSC_E_ARG, "psc_diff_new needs two models and an out pointer", NULL);
        return PSC_E_ARG;
    }
    ctx c;
    memset(&c, 0, sizeof c);
    if (opts)
        c.opts = *opts;
    else
        psc_diff_opts_init(&c.opts);
    if (!(c.opts.interval >= 0) || !isfinite(c.opts.interval) || !(c.opts.min_change >= 0) ||
        !(c.opts.min_change_ratio >= 0) || isnan(c.opts.min_change) ||
        isnan(c.opts.min_change_ratio) || (c.opts.nquantiles && !c.opts.quantiles) ||
        (c.opts.nignore_labels && !c.opts.ignore_labels) ||
        (c.opts.nignore_metrics && !c.opts.ignore_metrics)) {
        set_err(err, PSC_E_ARG, "invalid diff options: interval must be finite and >= 0, "
                                "min_change >= 0, arrays not NULL", NULL);
        return PSC_E_ARG;
    }
    c.om = old_model;
    c.nm = new_model;
    c.seed = psc_hash_seed();
    c.units_comparable = psc_model_format(old_model) == PSC_FORMAT_OPENMETRICS_1_0 &&
                         psc_model_format(new_model) == PSC_FORMAT_OPENMETRICS_1_0;
    psc_hidx_init(&c.idx);

    psc_status st = PSC_E_NOMEM;
    fpair *pairs = NULL;
    size_t npairs = 0;
    psc_diff *d = psc_calloc(1, sizeof *d);
    if (!d)
        goto fail;
    psc_arena_init(&d->arena);
    c.d = d;
    if (c.opts.nignore_labels) {
        c.ignored = psc_malloc(c.opts.nignore_labels * sizeof *c.ignored);
        if (!c.ignored)
            goto fail;
        for (size_t i = 0; i < c.opts.nignore_labels; i++) {
            if (!c.opts.ignore_labels[i]) {
                st = PSC_E_ARG;
                set_err(err, PSC_E_ARG, "ignore_labels entry is NULL", NULL);
                goto fail;
            }
            c.ignored[c.nignored++] = cstr(c.opts.ignore_labels[i]);
        }
    }
    if ((st = compile_patterns(&c, err)) != PSC_OK)
        goto fail;
    st = PSC_E_NOMEM;
    if (pair_families(&c, &pairs, &npairs))
        goto fail;
    for (size_t i = 0; i < npairs; i++)
        if (process_pair(&c, &pairs[i]))
            goto fail;
    psc_free(pairs);
    ctx_release(&c);
    *out = d;
    return PSC_OK;
fail:
    if (st == PSC_E_NOMEM)
        set_err(err, PSC_E_NOMEM, "out of memory while comparing", NULL);
    psc_free(pairs);
    ctx_release(&c);
    psc_diff_free(d);
    return st;
}

void psc_diff_free(psc_diff *d)
{
    if (!d)
        return;
    psc_arena_release(&d->arena);
    psc_free(d->families);
    psc_free(d->changes);
    psc_free(d->pct);
    psc_free(d);
}

size_t psc_diff_family_count(const psc_diff *d)
{
    return d ? d->nfamilies : 0;
}

const psc_diff_family *psc_diff_family_at(const psc_diff *d, size_t i)
{
    return d && i < d->nfamilies ? &d->families[i] : NULL;
}

size_t psc_diff_change_count(const psc_diff *d)
{
    return d ? d->nchanges : 0;
}

const psc_diff_change *psc_diff_change_at(const psc_diff *d, size_t i)
{
    return d && i < d->nchanges ? &d->changes[i] : NULL;
}

size_t psc_diff_percentiles_count(const psc_diff *d)
{
    return d ? d->npct : 0;
}

const psc_diff_percentiles *psc_diff_percentiles_at(const psc_diff *d, size_t i)
{
    return d && i < d->npct ? &d->pct[i] : NULL;
}

const psc_diff_counts *psc_diff_get_counts(const psc_diff *d)
{
    return d ? &d->counts : NULL;
}
