/* Cardinality statistics over one or more models (promscope/card.h). */
#include <stdlib.h>
#include <string.h>

#include "card/lstats.h"
#include "promscope/card.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/hash.h"

struct psc_card {
    psc_card_opts opts;
    psc_arena arena;            /* family names */
    psc_card_family *fams;      /* insertion order; psc_hidx ids index it */
    size_t nfams, capfams;
    psc_hidx fidx;
    psc_card_family **forder;   /* report order; rebuilt after every add */
    size_t capforder, nforder;
    uint64_t total;
    psc_lstats ls;
    psc_card_label *labels;     /* report order, rebuilt after every add */
    size_t nlabels, caplabels;
    uint64_t seed;
};

void psc_card_opts_init(psc_card_opts *o)
{
    memset(o, 0, sizeof *o);
    o->by_label = true;
    o->unbounded_min_values = 2;
}

psc_card *psc_card_new(const psc_card_opts *opts)
{
    psc_card *c = psc_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (opts)
        c->opts = *opts;
    else
        psc_card_opts_init(&c->opts);
    if (c->opts.unbounded_min_values < 1)
        c->opts.unbounded_min_values = 1;
    psc_arena_init(&c->arena);
    psc_hidx_init(&c->fidx);
    psc_lstats_init(&c->ls, 0);
    c->seed = psc_hash_seed();
    return c;
}

void psc_card_free(psc_card *c)
{
    if (!c)
        return;
    psc_arena_release(&c->arena);
    psc_free(c->fams);
    psc_free(c->forder);
    psc_hidx_release(&c->fidx);
    psc_lstats_release(&c->ls);
    psc_free(c->labels);
    psc_free(c);
}

struct fam_key {
    const psc_card *c;
    psc_str name;
};

static bool fam_eq(void *ctx, uint32_t id)
{
    const struct fam_key *k = ctx;
    const psc_card_family *f = &k->c->fams[id];
    return f->name.len == k->name.len && memcmp(f->name.ptr, k->name.ptr, k->name.len) == 0;
}

static int cmp_bytes(psc_str a, psc_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (r)
        return r;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int fam_order(const void *x, const void *y)
{
    const psc_card_family *a = *(psc_card_family *const *)x;
    const psc_card_family *b = *(psc_card_family *const *)y;
    if (a->series != b->series)
        return a->series > b->series ? -1 : 1;
    return cmp_bytes(a->name, b->name);
}

static int label_order(const void *x, const void *y)
{
    const psc_card_label *a = x, *b = y;
    if (a->values != b->values)
        return a->values > b->values ? -1 : 1;
    if (a->series != b->series)
        return a->series > b->series ? -1 : 1;
    return cmp_bytes(a->name, b->name);
}

static int rebuild(psc_card *c)
{
    if (psc_grow((void **)&c->forder, &c->capforder, c->nfams ? c->nfams : 1, sizeof *c->forder))
        return -1;
    for (size_t i = 0; i < c->nfams; i++) {
        c->forder[i] = &c->fams[i];
        c->fams[i].share = c->total ? (double)c->fams[i].series / (double)c->total : 0;
    }
    qsort(c->forder, c->nfams, sizeof *c->forder, fam_order);
    c->nforder = c->nfams;

    size_t n = c->ls.count;
    if (psc_grow((void **)&c->labels, &c->caplabels, n ? n : 1, sizeof *c->labels))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const psc_lstat *s = &c->ls.items[i];
        psc_card_label *l = &c->labels[i];
        memset(l, 0, sizeof *l);
        l->name = s->name;
        l->values = s->values;
        l->series = s->series;
        l->nexamples = s->nexamples;
        memcpy(l->examples, s->examples, sizeof l->examples);
        l->id_values = s->id_values;
        l->id_kind = s->id_kind;
        l->id_example = s->id_example;
        l->unbounded = s->id_values >= c->opts.unbounded_min_values && s->id_values * 2 >= s->values;
    }
    c->nlabels = n;
    qsort(c->labels, n, sizeof *c->labels, label_order);
    return 0;
}

static psc_status nomem(psc_error *err)
{
    if (err && err->code == 0) {
        err->status = PSC_E_NOMEM;
        err->code = PSC_C_NOMEM;
        strcpy(err->message, "out of memory");
    }
    return PSC_E_NOMEM;
}

psc_status psc_card_add(psc_card *c, const psc_model *m, psc_error *err)
{
    size_t nf = psc_model_family_count(m);
    /* the report order is stale until rebuild() succeeds */
    c->nforder = 0;
    c->nlabels = 0;
    /* the strings of an earlier model may be gone: pointers identify
     * strings within this model only */
    psc_lstats_forget(&c->ls);
    for (size_t i = 0; i < nf; i++) {
        const psc_family *f = psc_model_family(m, i);
        uint64_t h = psc_hash_bytes(f->name.ptr, f->name.len, c->seed);
        struct fam_key k = {c, f->name};
        uint32_t id = psc_hidx_find(&c->fidx, h, fam_eq, &k);
        if (id == UINT32_MAX) {
            if (c->nfams >= UINT32_MAX - 1)
                return nomem(err);
            if (psc_grow((void **)&c->fams, &c->capfams, c->nfams + 1, sizeof *c->fams))
                return nomem(err);
            char *name = psc_arena_strndup(&c->arena, f->name.ptr, f->name.len);
            if (!name)
                return nomem(err);
            id = (uint32_t)c->nfams;
            if (psc_hidx_insert(&c->fidx, h, id))
                return nomem(err);
            psc_card_family *cf = &c->fams[c->nfams++];
            memset(cf, 0, sizeof *cf);
            cf->name = (psc_str){name, f->name.len};
            cf->type = f->type;
        }
        c->fams[id].series += f->nseries;
        c->total += f->nseries;
        if (!c->opts.by_label)
            continue;
        for (size_t j = 0; j < f->nmetrics; j++) {
            const psc_metric *mt = &f->metrics[j];
            for (size_t s = 0; s < mt->nsamples; s++) {
                const psc_sample *sp = &mt->samples[s];
                for (size_t l = 0; l < sp->nlabels; l++)
                    if (psc_lstats_add(&c->ls, 0, sp->labels[l].name, sp->labels[l].value, sp->line))
                        return nomem(err);
                psc_label bl = psc_sample_bound_label(sp);
                if (bl.name.ptr && psc_lstats_add(&c->ls, 0, bl.name, bl.value, sp->line))
                    return nomem(err);
            }
        }
    }
    if (rebuild(c))
        return nomem(err);
    return PSC_OK;
}

uint64_t psc_card_total_series(const psc_card *c)
{
    return c->total;
}

size_t psc_card_family_count(const psc_card *c)
{
    return c->nfams;
}

const psc_card_family *psc_card_family_at(const psc_card *c, size_t i)
{
    if (i >= c->nforder)
        return NULL;
    return c->forder[i];
}

size_t psc_card_label_count(const psc_card *c)
{
    return c->nlabels;
}

const psc_card_label *psc_card_label_at(const psc_card *c, size_t i)
{
    return i < c->nlabels ? &c->labels[i] : NULL;
}
