#include "util/handoff.h"

#include <string.h>

#include "util/alloc.h"

static void *trampoline(void *arg)
{
    psc_handoff *h = arg;
    psc_alloc_fail_after(h->fail_state);
    void *r = h->fn(h->arg);
    h->allocs = psc_alloc_count();
    return r;
}

bool psc_handoff_init(psc_handoff *h, uint64_t nslots)
{
    memset(h, 0, sizeof *h);
    h->nslots = nslots ? nslots : 1;
    if (pthread_mutex_init(&h->mu, NULL) != 0)
        return false;
    if (pthread_cond_init(&h->cv, NULL) != 0) {
        pthread_mutex_destroy(&h->mu);
        return false;
    }
    return true;
}

void psc_handoff_destroy(psc_handoff *h)
{
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
}

bool psc_handoff_start(psc_handoff *h, uint64_t nslots, void *(*fn)(void *), void *arg)
{
    if (!psc_handoff_init(h, nslots))
        return false;
    h->fn = fn;
    h->arg = arg;
    h->fail_state = psc_alloc_fail_state();
    if (pthread_create(&h->thread, NULL, trampoline, h) != 0) {
        psc_handoff_destroy(h);
        return false;
    }
    return true;
}

psc_status psc_handoff_claim(psc_handoff *h, uint64_t seq)
{
    return seq < h->nslots ? psc_handoff_wait_taken(h, 0)
                           : psc_handoff_wait_taken(h, seq - h->nslots + 1);
}

void psc_handoff_publish(psc_handoff *h)
{
    pthread_mutex_lock(&h->mu);
    h->published++;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

psc_status psc_handoff_wait_taken(psc_handoff *h, uint64_t n)
{
    pthread_mutex_lock(&h->mu);
    while (h->taken < n && !h->failed)
        pthread_cond_wait(&h->cv, &h->mu);
    psc_status st = h->failed ? h->status : PSC_OK;
    pthread_mutex_unlock(&h->mu);
    return st;
}

void psc_handoff_close(psc_handoff *h, psc_status st)
{
    pthread_mutex_lock(&h->mu);
    h->done = true;
    if (st != PSC_OK && !h->failed) {
        h->failed = true;
        h->status = st;
    }
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

psc_status psc_handoff_stop(psc_handoff *h)
{
    psc_handoff_close(h, PSC_OK);
    pthread_join(h->thread, NULL);
    psc_alloc_count_add(h->allocs);
    psc_status st = h->failed ? h->status : PSC_OK;
    psc_handoff_destroy(h);
    return st;
}

bool psc_handoff_next(psc_handoff *h, uint64_t seq)
{
    pthread_mutex_lock(&h->mu);
    while (h->published <= seq && !h->done && !h->failed)
        pthread_cond_wait(&h->cv, &h->mu);
    bool have = h->published > seq && !h->failed;
    pthread_mutex_unlock(&h->mu);
    return have;
}

void psc_handoff_release(psc_handoff *h, psc_status st)
{
    pthread_mutex_lock(&h->mu);
    h->taken++;
    if (st != PSC_OK && !h->failed) {
        h->failed = true;
        h->status = st;
    }
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

void psc_handoff_fail(psc_handoff *h, psc_status st)
{
    pthread_mutex_lock(&h->mu);
    if (!h->failed) {
        h->failed = true;
        h->status = st != PSC_OK ? st : PSC_E_NOMEM;
    }
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

psc_status psc_handoff_status(psc_handoff *h)
{
    pthread_mutex_lock(&h->mu);
    psc_status st = h->failed ? h->status : PSC_OK;
    pthread_mutex_unlock(&h->mu);
    return st;
}
