/* Internal declarations shared by the parser sources (not installed). */
#ifndef PSC_PARSE_INTERNAL_H
#define PSC_PARSE_INTERNAL_H

#include "promscope/parse.h"
#include "util/alloc.h"
#include "util/arena.h"

/* Number grammar of psc_parse_double; allow_special: NaN/Inf spellings
 * (values), false for OpenMetrics timestamps. */
psc_status psc_parse_number(const char *s, size_t n, bool allow_special, double *out);
/* Go ParseInt(s, 10, 64): [+-]digits. PSC_E_SYNTAX or PSC_E_LIMIT (range). */
psc_status psc_parse_int64(const char *s, size_t n, int64_t *out);

/* Chunked input (psc_validate_stream): go on with the next chunk, which
 * starts right after the previous one in the stream; `final` when it ends
 * the input. Line numbers and state carry over; slices of the previous
 * chunk become invalid. */
void psc_parser_continue(psc_parser *p, const char *buf, size_t len, bool final);
/* True once the parser reads no more input (sample limit, over-long line,
 * `# EOF` followed by data): the caller may stop reading. */
bool psc_parser_stopped(const psc_parser *p);
/* Stopped at data after `# EOF` (the exposition ended), not at a limit
 * (an over-long line, the sample limit: the input may be endless). */
bool psc_parser_stopped_past_eof(const psc_parser *p);
/* Read the rest of a stream and discard it: the parser has stopped at the
 * end of the exposition, and a producer writing into a pipe must not be
 * killed by SIGPIPE for the lines nobody parses. The reader's own limit
 * (--max-size of a pipe) still applies. PSC_OK or PSC_E_IO. */
psc_status psc_stream_drain(psc_read_fn rd, void *ctx, char *buf, size_t cap, psc_error *err);
/* The input of the streaming functions: read through rd into buf, which
 * holds *have bytes and cap in all, until a line end past the chunk size
 * (psc_stream_chunk_size), a full buffer or the end (*eof). *paced becomes
 * true once a read came back short and more followed (a pipe or a socket,
 * not a file). PSC_OK or PSC_E_IO (err describes it). */
psc_status psc_stream_fill(psc_read_fn rd, void *ctx, char *buf, size_t cap, size_t *have,
                           bool *eof, bool *paced, psc_error *err);
/* Bytes of buf (have bytes) to parse now: whole lines, or all of them at
 * the end of the input (eof) or when a full buffer holds no line end (a
 * line over the limit, which the parser reports: BAD-INPUTS A1, A14). */
size_t psc_stream_complete(const char *buf, size_t have, bool eof);
/* Number of the next line; stream offset of the next unread byte. */
uint64_t psc_parser_line(const psc_parser *p);
uint64_t psc_parser_offset(const psc_parser *p);

/* Tests only: chunk size of psc_validate_stream (0 restores 1 MiB). */
void psc_test_set_stream_chunk(size_t n);
/* Inputs from this many bytes on are validated (psc_validate_stream) or
 * built (the model functions) with a second thread, unless
 * opts->max_threads is 1: 1 MiB. */
size_t psc_pipeline_min_bytes(void);
/* Entries per batch handed to the model's builder thread; 0: its default. */
size_t psc_pipeline_batch(void);
/* Tests only: run small inputs through the two-thread paths (min_bytes),
 * in small batches; 0, 0 restores the defaults. */
void psc_test_set_pipeline(size_t min_bytes, size_t batch);
/* Tests only: how psc_validate_stream splits its work between two threads:
 * 0 by the reads (the default), 1 the caller validates and the second
 * thread parses, 2 the second thread parses and validates. */
void psc_test_set_validate_split(int mode);
/* The chunk size of the streaming functions (1 MiB unless a test set it). */
size_t psc_stream_chunk_size(void);

/* Entries handed from one thread to another (batch.c): a batch holds
 * copies of entries whose slices into the parser's scratch (label arrays,
 * unescaped text) are copied into the batch's arena; slices into the input
 * [lo, hi) are kept as they are, so the input must outlive the batch's use.
 * `tag` is the caller's, stored with each item. */
typedef struct psc_batch_item {
    psc_entry e;
    uint64_t tag;
} psc_batch_item;

typedef struct psc_batch {
    psc_batch_item *items;
    size_t n, cap;
    psc_arena store; /* what the items point to outside the input */
} psc_batch;

void psc_batch_init(psc_batch *b);
/* Empty the batch, keeping its memory for the next round. */
void psc_batch_clear(psc_batch *b);
void psc_batch_release(psc_batch *b);
/* Append a copy of e. label_columns are copied when `columns`, else NULL.
 * PSC_OK or PSC_E_NOMEM (the batch is as it was). */
psc_status psc_batch_put(psc_batch *b, const char *lo, const char *hi, const psc_entry *e,
                         uint64_t tag, bool columns);

/* Character classes. */
extern const unsigned char psc_cc[256];
enum {
    CC_MNAME0 = 1,  /* [a-zA-Z_:] */
    CC_MNAME = 2,   /* [a-zA-Z0-9_:] */
    CC_LNAME0 = 4,  /* [a-zA-Z_] */
    CC_LNAME = 8,   /* [a-zA-Z0-9_] */
    CC_QSPECIAL = 16, /* '"', '\\', >= 0x80 inside quoted strings */
    CC_BLANK = 32,  /* ' ', '\t' */
};

/* Length of the valid UTF-8 sequence at p (n bytes left); 0 when invalid.
 * *truncated is set when the sequence was cut by the end of the input. */
size_t psc_utf8_seq(const unsigned char *p, size_t n, bool *truncated);

/* True when the name is a legacy metric name [a-zA-Z_:][a-zA-Z0-9_:]*. */
bool psc_is_legacy_metric_name(const char *s, size_t n);
bool psc_is_legacy_label_name(const char *s, size_t n);
#endif
