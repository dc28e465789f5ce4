/*
 * Internal: hand batches from one thread (the producer) to another (the
 * consumer) through a ring of `nslots` slots, in order. The slots
 * themselves are the user's: this only counts them. Slot `seq` (0, 1, 2,
 * ...) is at seq % nslots; the producer may fill it once the consumer has
 * taken slot seq - nslots, and the consumer may take it once the producer
 * has published it.
 *
 * psc_handoff_start() also starts the consumer thread, and
 * psc_handoff_stop() joins it. That thread takes over the caller's
 * out-of-memory test state (util/alloc.h), so that the tests fail its
 * allocations too, and gives its allocation count back at the stop.
 * A ring between two threads that exist already (psc_handoff_init) is
 * ended by the producer's psc_handoff_close() and released by
 * psc_handoff_destroy().
 */
#ifndef PSC_UTIL_HANDOFF_H
#define PSC_UTIL_HANDOFF_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "promscope/common.h"

typedef struct psc_handoff {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t nslots;
    uint64_t published;  /* slots published by the producer */
    uint64_t taken;      /* slots the consumer has finished */
    bool done;           /* the producer publishes no more */
    bool failed;         /* a side stopped with `status` */
    psc_status status;
    long fail_state, allocs;
    void *(*fn)(void *);
    void *arg;
} psc_handoff;

/* A ring without a thread. False when its mutex could not be made. */
bool psc_handoff_init(psc_handoff *h, uint64_t nslots);
void psc_handoff_destroy(psc_handoff *h);

/* A ring and its consumer: fn(arg) in a new thread. False when the thread
 * (or its mutex) could not be made; nothing is left to release then. */
bool psc_handoff_start(psc_handoff *h, uint64_t nslots, void *(*fn)(void *), void *arg);

/* Producer: wait until slot `seq` may be filled (the consumer took slot
 * seq - nslots). PSC_OK, or the failure status. */
psc_status psc_handoff_claim(psc_handoff *h, uint64_t seq);
/* Producer: slot `published` is filled; hand it over. */
void psc_handoff_publish(psc_handoff *h);
/* Producer: wait until the consumer has taken the first n slots. PSC_OK,
 * or the failure status. */
psc_status psc_handoff_wait_taken(psc_handoff *h, uint64_t n);
/* Producer: publish no more; st other than PSC_OK is a failure, which the
 * consumer reads with psc_handoff_status(). */
void psc_handoff_close(psc_handoff *h, psc_status st);
/* Producer of psc_handoff_start(): close, wait for the consumer to end,
 * release. Returns the consumer's failure status, PSC_OK when it did not
 * fail. */
psc_status psc_handoff_stop(psc_handoff *h);

/* Consumer: wait until slot `seq` is published (true) or the producer is
 * done without it, or has failed (false). */
bool psc_handoff_next(psc_handoff *h, uint64_t seq);
/* Consumer: done with the current slot; st other than PSC_OK stops the
 * ring (the producer's claims fail with it from then on). */
void psc_handoff_release(psc_handoff *h, psc_status st);

/* Either side: stop the ring with failure st (PSC_OK is taken as
 * PSC_E_NOMEM); waits on it return from then on. */
void psc_handoff_fail(psc_handoff *h, psc_status st);
/* The failure status, PSC_OK when none. */
psc_status psc_handoff_status(psc_handoff *h);
#endif
