/* Distinct label values per (group, label name); see lstats.h. */
#include "card/lstats.h"

#include <string.h>

#include "util/alloc.h"

void psc_lstats_init(psc_lstats *s, uint64_t threshold)
{
    memset(s, 0, sizeof *s);
    psc_arena_init(&s->arena);
    psc_hidx_init(&s->idx);
    psc_hidx_init(&s->vidx);
    s->seed = psc_hash_seed();
    s->threshold = threshold;
}

void psc_lstats_release(psc_lstats *s)
{
    psc_arena_release(&s->arena);
    psc_free(s->items);
    psc_free(s->vals);
    psc_hidx_release(&s->idx);
    psc_hidx_release(&s->vidx);
    memset(s, 0, sizeof *s);
}

struct item_key {
    const psc_lstats *s;
    uint32_t group;
    psc_str name;
};

static bool item_eq(void *ctx, uint32_t id)
{
    const struct item_key *k = ctx;
    const psc_lstat *it = &k->s->items[id];
    return it->group == k->group && it->name.len == k->name.len &&
           memcmp(it->name.ptr, k->name.ptr, k->name.len) == 0;
}

struct val_key {
    const psc_lstats *s;
    uint32_t item;
    const char *ptr;
    uint32_t len;
};

static bool val_eq(void *ctx, uint32_t id)
{
    const struct val_key *k = ctx;
    const psc_lstats_val *v = &k->s->vals[id];
    return v->item == k->item && v->len == k->len && (k->len == 0 || memcmp(v->ptr, k->ptr, k->len) == 0);
}

static bool is_bucket_label(psc_str n)
{
    return (n.len == 2 && memcmp(n.ptr, "le", 2) == 0) ||
           (n.len == 8 && memcmp(n.ptr, "quantile", 8) == 0);
}

static int add_value(psc_lstats *s, uint32_t id, const char *vptr, uint32_t vlen, uint64_t line);

int psc_lstats_add(psc_lstats *s, uint32_t group, psc_str name, psc_str value, uint64_t line)
{
    if (!name.ptr)
        name.ptr = "";
    if (!value.ptr)
        value.ptr = "";
    struct psc_lstats_memo *mm = &s->memo[((uintptr_t)name.ptr >> 3) & 63];
    uint32_t vlen = value.len > UINT32_MAX ? UINT32_MAX : (uint32_t)value.len;
    if (mm->nptr == name.ptr && mm->nlen == name.len && mm->group == group) {
        psc_lstat *it = &s->items[mm->item];
        it->series++;
        if (mm->vptr == value.ptr && mm->vlen == vlen)
            return 0; /* the value is counted already */
        mm->vptr = NULL;
        if (add_value(s, mm->item, value.ptr, vlen, line))
            return -1;
        mm->vptr = value.ptr;
        mm->vlen = vlen;
        return 0;
    }
    uint64_t h = psc_hash_mix(psc_hash_bytes(name.ptr, name.len, s->seed), group);
    struct item_key ik = {s, group, name};
    uint32_t id = psc_hidx_find(&s->idx, h, item_eq, &ik);
    if (id == UINT32_MAX) {
        if (s->count >= UINT32_MAX - 1)
            return -1;
        if (psc_grow((void **)&s->items, &s->cap, s->count + 1, sizeof *s->items))
            return -1;
        char *copy = psc_arena_strndup(&s->arena, name.ptr, name.len);
        if (!copy)
            return -1;
        id = (uint32_t)s->count;
        if (psc_hidx_insert(&s->idx, h, id))
            return -1;
        psc_lstat *it = &s->items[s->count++];
        memset(it, 0, sizeof *it);
        it->group = group;
        it->name = (psc_str){copy, name.len};
        it->first_line = line;
    }
    s->items[id].series++;
    if (add_value(s, id, value.ptr, vlen, line))
        return -1;
    *mm = (struct psc_lstats_memo){name.ptr, name.len, group, id, value.ptr, vlen};
    return 0;
}

void psc_lstats_forget(psc_lstats *s)
{
    memset(s->memo, 0, sizeof s->memo);
}

/* Count value (vlen bytes at vptr) for item id when it is new. */
static int add_value(psc_lstats *s, uint32_t id, const char *vptr, uint32_t vlen, uint64_t line)
{
    psc_lstat *it = &s->items[id];
    psc_str value = {vptr, vlen};
    uint64_t vh = psc_hash_mix(psc_hash_bytes(value.ptr, vlen, s->seed), id);
    struct val_key vk = {s, id, value.ptr, vlen};
    if (psc_hidx_find(&s->vidx, vh, val_eq, &vk) != UINT32_MAX)
        return 0;
    if (s->nvals >= UINT32_MAX - 1)
        return -1;
    if (psc_grow((void **)&s->vals, &s->capvals, s->nvals + 1, sizeof *s->vals))
        return -1;
    char *vcopy = psc_arena_strndup(&s->arena, value.ptr, vlen);
    if (!vcopy)
        return -1;
    if (psc_hidx_insert(&s->vidx, vh, (uint32_t)s->nvals))
        return -1;
    s->vals[s->nvals++] = (psc_lstats_val){vcopy, vlen, id};

    psc_str v = {vcopy, vlen};
    it->values++;
    if (s->threshold && it->values == s->threshold + 1)
        it->exceed_line = line;
    if (it->nexamples < PSC_CARD_MAX_EXAMPLES)
        it->examples[it->nexamples++] = v;
    if (!is_bucket_label(it->name)) {
        psc_value_kind k = psc_value_classify(v);
        if (k != PSC_VALUE_PLAIN) {
            if (!it->id_values) {
                it->id_kind = k;
                it->id_example = v;
                it->id_line = line;
            }
            it->id_values++;
        }
    }
    return 0;
}
