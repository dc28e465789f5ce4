/*
 * The exposition pull parser (promscope/parse.h).
 *
 * One call of psc_parser_next() reads one line. Grammar:
 *  - OpenMetrics 1.0: reference/OpenMetrics-1.0.md "ABNF", "Escaping",
 *    "Numbers", "Timestamps", "Exemplars", "Overall Structure";
 *  - Prometheus text: reference/exposition_formats.md "Line format",
 *    "Comments, help text, and type information", with the quoted UTF-8
 *    names of text 1.0.0 (proposal-0028-utf8.md).
 *
 * Memory: the scratch buffer for unescaped text is reserved once per line
 * to the line's length (unescaping never grows text), so slices handed out
 * for one line never move; label arrays grow to the largest label count
 * seen. In steady state no call allocates.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "parse/internal.h"
#include "util/buf.h"
#include "util/bytes.h"

/* ST_LONG: an over-long line was parsed up to the limit and an error in that
 * prefix returned; the next call reports the limit itself, then ST_DONE. */
enum { ST_LINES = 0, ST_AFTER_EOF, ST_LONG, ST_DONE };
enum { NUMBER_MAX = 4096 };

#define NAME_CACHE_BYTES 128  /* metric names remembered up to this length */

struct psc_parser {
    psc_parse_opts o;
    const char *buf;
    size_t len;
    size_t pos;
    uint64_t base;      /* stream offset of buf[0] (chunked input) */
    bool final;         /* buf ends the input */
    uint64_t line;      /* number of the next line */
    psc_format fmt;
    bool om;
    int state;
    uint64_t nsamples;
    psc_label *labels;
    uint32_t *lcols;
    size_t lcap;
    psc_label *xlabels;
    size_t xcap;
    char *scratch;
    size_t scap;
    size_t sused;
    psc_diag_list warnings;
    uint64_t long_off, long_line, long_col; /* ST_LONG: where the limit was crossed */
    bool past_eof;   /* ST_DONE because data followed `# EOF` */
    bool eol_error;     /* the last error came from reaching the end of the line */
    /* the line being parsed */
    const char *lstart;  /* real start (columns count from here) */
    uint64_t lno;
    psc_error *err;
    /* the metric name of the previous sample: consecutive samples mostly
     * repeat it, and comparing is cheaper than scanning byte by byte */
    size_t pname_len;                     /* 0: none */
    char pname[NAME_CACHE_BYTES];
    /* --strict: the first unknown escape of the line being parsed, reported
     * as a warning once the line is read (NULL: none) */
    const char *unknown_escape;
};

void psc_parse_opts_init(psc_parse_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = PSC_FORMAT_AUTO;
    o->max_line_bytes = 1u << 20;
    o->max_labels = 256;
    o->max_label_name_bytes = 1024;
    o->max_label_value_bytes = 64 * 1024;
    o->max_samples = 1000000;
}

psc_parser *psc_parser_new(const psc_parse_opts *opts)
{
    psc_parser *p = psc_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (opts)
        p->o = *opts;
    else
        psc_parse_opts_init(&p->o);
    if (!p->o.max_line_bytes)
        p->o.max_line_bytes = 1u << 20;
    if (!p->o.max_labels)
        p->o.max_labels = 256;
    if (!p->o.max_label_name_bytes)
        p->o.max_label_name_bytes = 1024;
    if (!p->o.max_label_value_bytes)
        p->o.max_label_value_bytes = 64 * 1024;
    psc_diag_list_init(&p->warnings);
    p->state = ST_DONE;
    return p;
}

void psc_parser_free(psc_parser *p)
{
    if (!p)
        return;
    psc_free(p->labels);
    psc_free(p->lcols);
    psc_free(p->xlabels);
    psc_free(p->scratch);
    psc_diag_list_release(&p->warnings);
    psc_free(p);
}

void psc_parser_reset(psc_parser *p, const char *buf, size_t len)
{
    p->buf = buf ? buf : "";
    p->len = buf ? len : 0;
    p->pos = 0;
    p->base = 0;
    p->final = true;
    p->line = 1;
    p->fmt = p->o.format == PSC_FORMAT_AUTO ? psc_format_detect(p->buf, p->len) : p->o.format;
    p->om = p->fmt == PSC_FORMAT_OPENMETRICS_1_0;
    p->state = ST_LINES;
    p->past_eof = false;
    p->nsamples = 0;
    psc_diag_list_release(&p->warnings);
}

void psc_parser_continue(psc_parser *p, const char *buf, size_t len, bool final)
{
    p->base += p->len;
    p->buf = buf ? buf : "";
    p->len = buf ? len : 0;
    p->pos = 0;
    p->final = final;
}

bool psc_parser_stopped(const psc_parser *p)
{
    return p->state == ST_DONE || p->state == ST_LONG;
}

bool psc_parser_stopped_past_eof(const psc_parser *p)
{
    return p->state == ST_DONE && p->past_eof;
}

uint64_t psc_parser_line(const psc_parser *p)
{
    return p->line;
}

uint64_t psc_parser_offset(const psc_parser *p)
{
    return p->base + p->pos;
}

psc_format psc_parser_format(const psc_parser *p)
{
    return p->fmt;
}

const psc_diag_list *psc_parser_warnings(const psc_parser *p)
{
    return &p->warnings;
}

/* ---------------------------------------------------------------- errors */

/* Escaped, bounded copy of a token for messages (BAD-INPUTS H2). */
static const char *tok(char *dst, size_t cap, const char *s, size_t n)
{
    psc_buf b = {0};
    if (psc_buf_append_escaped(&b, s, n, 40) || !b.data) {
        psc_buf_release(&b);
        snprintf(dst, cap, "...");
        return dst;
    }
    snprintf(dst, cap, "%s", b.data);
    psc_buf_release(&b);
    return dst;
}

#ifdef __GNUC__
__attribute__((format(printf, 5, 6)))
#endif
static psc_status fail(psc_parser *p, psc_status st, psc_code code, const char *at,
                       const char *fmt, ...)
{
    psc_error *e = p->err;
    if (e) {
        e->status = st;
        e->code = (int)code;
        e->offset = p->base + (uint64_t)(at - p->buf);
        e->line = p->lno;
        e->column = (uint64_t)(at - p->lstart) + 1;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* An unexpected byte where a token should start: NUL gets its own code. */
static psc_status fail_at_char(psc_parser *p, psc_code code, const char *at, const char *e,
                               const char *what)
{
    if (at < e && *at == '\0')
        return fail(p, PSC_E_SYNTAX, PSC_C_NUL_BYTE, at, "unexpected NUL byte, expected %s", what);
    if (at >= e) {
        p->eol_error = true;
        return fail(p, PSC_E_SYNTAX, code, at, "unexpected end of line, expected %s", what);
    }
    if (*at == '\t')
        return fail(p, PSC_E_SYNTAX, code, at, "unexpected tab, expected %s", what);
    if ((unsigned char)*at >= 0x7f || (unsigned char)*at < 0x20) { /* DEL too: never raw */
        return fail(p, PSC_E_SYNTAX, code, at, "unexpected byte 0x%02x, expected %s",
                    (unsigned char)*at, what);
    }
    return fail(p, PSC_E_SYNTAX, code, at, "unexpected '%c', expected %s", *at, what);
}

/* ---------------------------------------------------------------- strings */

/*
 * Parse a quoted string at *ps (pointing at '"'). Escapes: \\ \" \n are
 * decoded; a backslash before any other character is kept literally
 * (BAD-INPUTS B3, OpenMetrics suite "escaping"). Validates UTF-8. The raw
 * length (between the quotes) must not exceed maxraw.
 */
static inline __attribute__((always_inline)) psc_status parse_quoted(psc_parser *p, const char **ps, const char *e, psc_str *out,
                               size_t maxraw, psc_code toolong, const char *what)
{
    const char *open = *ps;
    const char *s = open + 1;
    const char *start = s;
    bool escaped = false;
    for (;;) {
        /* Find the next '"', '\\' or byte >= 0x80 (CC_QSPECIAL): 16 bytes a
         * step with SSE2 where there is SSE2, else 8 (SWAR; the first flagged
         * byte is exact, later ones may be false positives). Most label
         * values are found in one step. */
#ifdef __SSE2__
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
        while (e - s >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
            __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)), x);
            unsigned mask = (unsigned)_mm_movemask_epi8(hit);
            if (mask) {
                s += __builtin_ctz(mask);
                goto special;
            }
            s += 16;
        }
#endif
        while (e - s >= 8) {
            uint64_t w;
            memcpy(&w, s, 8);
            uint64_t q = w ^ 0x2222222222222222ull, b = w ^ 0x5c5c5c5c5c5c5c5cull;
            uint64_t m = (((q - 0x0101010101010101ull) & ~q) | ((b - 0x0101010101010101ull) & ~b) | w) &
                         0x8080808080808080ull;
            if (m) {
                s += __builtin_ctzll(m) >> 3;
                goto special;
            }
            s += 8;
        }
        while (s < e && !(psc_cc[(unsigned char)*s] & CC_QSPECIAL))
            s++;
        if (s >= e)
            break;
    special:;
        unsigned char c = (unsigned char)*s;
        if (c == '"')
            break;
        if (c == '\\') {
            escaped = true;
            if (s + 1 >= e) {
                p->eol_error = true;
                if (e == p->buf + p->len)
                    return fail(p, PSC_E_SYNTAX, PSC_C_UNTERMINATED_STRING, s,
                                "unterminated escape at end of input in %s", what);
                return fail(p, PSC_E_SYNTAX, PSC_C_UNTERMINATED_STRING, s + 1,
                            "unterminated %s: a line feed inside quotes must be escaped as \\n", what);
            }
            /* an unknown escape keeps its character, which must still be
             * valid UTF-8: past the backslash only, the next byte is
             * checked as any other. --strict warns about it (BAD-INPUTS
             * B3); escapes of HELP text are another function's. */
            if (s[1] != 'n' && s[1] != '\\' && s[1] != '"' && !p->unknown_escape &&
                (p->o.flags & PSC_PARSE_STRICT))
                p->unknown_escape = s;
            s += (unsigned char)s[1] >= 0x80 ? 1 : 2;
            continue;
        }
        bool trunc;
        size_t l = psc_utf8_seq((const unsigned char *)s, (size_t)(e - s), &trunc);
        if (!l) {
            p->eol_error = trunc;
            return fail(p, PSC_E_UTF8, PSC_C_INVALID_UTF8, s,
                        trunc ? "truncated UTF-8 sequence in %s" : "invalid UTF-8 in %s", what);
        }
        s += l;
    }
    if (s >= e) {
        p->eol_error = true;
        if (e < p->buf + p->len && *e == '\n')
            return fail(p, PSC_E_SYNTAX, PSC_C_UNTERMINATED_STRING, e,
                        "unterminated %s: a line feed inside quotes must be escaped as \\n", what);
        return fail(p, PSC_E_SYNTAX, PSC_C_UNTERMINATED_STRING, open, "unterminated %s", what);
    }
    size_t raw = (size_t)(s - start);
    if (raw > maxraw)
        return fail(p, PSC_E_LIMIT, toolong, start, "%s is %zu bytes, over the limit of %zu",
                    what, raw, maxraw);
    if (!escaped) {
        out->ptr = start;
        out->len = raw;
    } else {
        char *d = p->scratch + p->sused;
        char *d0 = d;
        for (const char *q = start; q < s; q++) {
            if (*q == '\\') {
                char n = q[1];
                if (n == 'n') {
                    *d++ = '\n';
                    q++;
                } else if (n == '\\' || n == '"') {
                    *d++ = n;
                    q++;
                } else {
                    *d++ = '\\';
                }
            } else {
                *d++ = *q;
            }
        }
        out->ptr = d0;
        out->len = (size_t)(d - d0);
        p->sused += out->len;
    }
    *ps = s + 1;
    return PSC_OK;
}

/* Text HELP docstring: \\ and \n are escapes; anything else is literal. */
static psc_status unescape_help(psc_parser *p, const char *s, const char *e, bool om, psc_str *out)
{
    bool esc = false;
    for (const char *q = s; q < e;) {
        unsigned char c = (unsigned char)*q;
        if (c == '\\') {
            esc = true;
            /* the escaped byte is checked below when it starts a UTF-8 sequence */
            q += q + 1 < e && (unsigned char)q[1] < 0x80 ? 2 : 1;
            continue;
        }
        if (c >= 0x80) {
            bool trunc;
            size_t l = psc_utf8_seq((const unsigned char *)q, (size_t)(e - q), &trunc);
            if (!l)
                return fail(p, PSC_E_UTF8, PSC_C_INVALID_UTF8, q,
                            trunc ? "truncated UTF-8 sequence in HELP text" : "invalid UTF-8 in HELP text");
            q += l;
            continue;
        }
        q++;
    }
    if (!esc) {
        out->ptr = s;
        out->len = (size_t)(e - s);
        return PSC_OK;
    }
    char *d = p->scratch + p->sused, *d0 = d;
    for (const char *q = s; q < e; q++) {
        if (*q == '\\' && q + 1 < e) {
            char n = q[1];
            if (n == 'n') {
                *d++ = '\n';
                q++;
                continue;
            }
            if (n == '\\' || (om && n == '"')) {
                *d++ = n;
                q++;
                continue;
            }
        }
        *d++ = *q;
    }
    out->ptr = d0;
    out->len = (size_t)(d - d0);
    p->sused += out->len;
    return PSC_OK;
}

/* ---------------------------------------------------------------- names */

static const char *skip_blanks(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

static const char *scan_mname(const char *s, const char *e)
{
    if (s >= e || !(psc_cc[(unsigned char)*s] & CC_MNAME0))
        return s;
    s++;
    while (s < e && (psc_cc[(unsigned char)*s] & CC_MNAME))
        s++;
    return s;
}

static const char *scan_lname(const char *s, const char *e)
{
    if (s >= e || !(psc_cc[(unsigned char)*s] & CC_LNAME0))
        return s;
    s++;
    while (s < e && (psc_cc[(unsigned char)*s] & CC_LNAME))
        s++;
    return s;
}

/* scan_mname() that first tries the previous sample's name: the same bytes
 * followed by a byte that cannot continue a name end at the same place. */
static const char *scan_mname_cached(psc_parser *p, const char *s, const char *e)
{
    const size_t n = p->pname_len;
    if (n && (size_t)(e - s) > n && psc_short_eq(s, p->pname, n) && !(psc_cc[(unsigned char)s[n]] & CC_MNAME))
        return s + n;
    const char *ne = scan_mname(s, e);
    const size_t l = (size_t)(ne - s);
    if (l && l <= NAME_CACHE_BYTES) {
        memcpy(p->pname, s, l);
        p->pname_len = l;
    }
    return ne;
}

/* A metric name in metadata: legacy, or quoted (text 1.0.0). */
static psc_status parse_meta_name(psc_parser *p, const char **ps, const char *e, psc_str *out,
                                  const char *kw)
{
    const char *s = *ps;
    if (s < e && *s == '"' && p->fmt == PSC_FORMAT_TEXT_1_0_0) {
        psc_status st = parse_quoted(p, &s, e, out, p->o.max_line_bytes, PSC_C_LINE_TOO_LONG,
                                     "quoted metric name");
        if (st)
            return st;
        if (out->len == 0)
            return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METRIC_NAME, *ps, "empty metric name in %s", kw);
        *ps = s;
        return PSC_OK;
    }
    const char *n = scan_mname(s, e);
    if (n == s) {
        if (s < e && *s == '"')
            return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METRIC_NAME, s,
                        "quoted metric names need text format 1.0.0 (not %s)", psc_format_name(p->fmt));
        return fail_at_char(p, s >= e ? PSC_C_INVALID_METADATA : PSC_C_INVALID_METRIC_NAME, s, e,
                            kw[0] == 'H' ? "a metric name after HELP" :
                            kw[0] == 'T' ? "a metric name after TYPE" : "a metric name after UNIT");
    }
    out->ptr = s;
    out->len = (size_t)(n - s);
    *ps = n;
    return PSC_OK;
}

/* ---------------------------------------------------------------- metadata */

static bool word_eq(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

static psc_status parse_type_word(psc_parser *p, const char *s, const char *e, psc_entry *ent)
{
    size_t n = (size_t)(e - s);
    psc_metric_type t;
    if (word_eq(s, n, "counter"))
        t = PSC_TYPE_COUNTER;
    else if (word_eq(s, n, "gauge"))
        t = PSC_TYPE_GAUGE;
    else if (word_eq(s, n, "histogram"))
        t = PSC_TYPE_HISTOGRAM;
    else if (word_eq(s, n, "summary"))
        t = PSC_TYPE_SUMMARY;
    else if (!p->om && word_eq(s, n, "untyped"))
        t = PSC_TYPE_UNTYPED;
    else if (p->om && word_eq(s, n, "gaugehistogram"))
        t = PSC_TYPE_GAUGEHISTOGRAM;
    else if (p->om && word_eq(s, n, "info"))
        t = PSC_TYPE_INFO;
    else if (p->om && word_eq(s, n, "stateset"))
        t = PSC_TYPE_STATESET;
    else if (p->om && word_eq(s, n, "unknown"))
        t = PSC_TYPE_UNKNOWN;
    else {
        char b[64];
        if (n == 0)
            return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METADATA, s, "missing type in TYPE line");
        return fail(p, PSC_E_SYNTAX, PSC_C_UNKNOWN_TYPE, s,
                    p->om ? "unknown type '%s': expected counter, gauge, histogram, gaugehistogram, "
                            "stateset, info, summary or unknown"
                          : "unknown type '%s': expected counter, gauge, histogram, summary or untyped",
                    tok(b, sizeof b, s, n));
    }
    ent->type = t;
    ent->text.ptr = s;
    ent->text.len = n;
    return PSC_OK;
}

/* OpenMetrics: "# TYPE name type", "# HELP name text", "# UNIT name unit", "# EOF". */
static psc_status parse_om_comment(psc_parser *p, const char *s, const char *e, psc_entry *ent)
{
    size_t n = (size_t)(e - s);
    if (n == 5 && memcmp(s, "# EOF", 5) == 0) {
        ent->kind = PSC_ENTRY_EOF;
        p->state = ST_AFTER_EOF;
        return PSC_OK;
    }
    if (n > 5 && memcmp(s, "# EOF", 5) == 0) {
        p->state = ST_DONE;
        p->past_eof = true;
        return fail(p, PSC_E_SYNTAX, PSC_C_DATA_AFTER_EOF, s + 5, "unexpected data after # EOF");
    }
    const char *kw;
    if (n >= 6 && memcmp(s, "# HELP", 6) == 0) {
        kw = "HELP";
        ent->kind = PSC_ENTRY_HELP;
    } else if (n >= 6 && memcmp(s, "# TYPE", 6) == 0) {
        kw = "TYPE";
        ent->kind = PSC_ENTRY_TYPE;
    } else if (n >= 6 && memcmp(s, "# UNIT", 6) == 0) {
        kw = "UNIT";
        ent->kind = PSC_ENTRY_UNIT;
    } else {
        return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_COMMENT, s,
                    "OpenMetrics allows only '# HELP', '# TYPE', '# UNIT' and '# EOF' lines starting with '#'");
    }
    const char *q = s + 6;
    if (q >= e || *q != ' ')
        return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METADATA, q, "expected a space and a metric name after %s", kw);
    q++;
    psc_status st = parse_meta_name(p, &q, e, &ent->name, kw);
    if (st)
        return st;
    ent->name_column = (uint64_t)(s + 7 - p->lstart) + 1;
    if (q >= e)
        return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METADATA, q,
                    ent->kind == PSC_ENTRY_TYPE ? "missing type after metric name" :
                    ent->kind == PSC_ENTRY_HELP ? "missing space and help text after metric name" :
                                                  "missing space and unit after metric name");
    if (*q != ' ')
        return fail_at_char(p, PSC_C_INVALID_METRIC_NAME, q, e, "a space after the metric name");
    q++;
    if (ent->kind == PSC_ENTRY_TYPE)
        return parse_type_word(p, q, e, ent);
    if (ent->kind == PSC_ENTRY_HELP)
        return unescape_help(p, q, e, true, &ent->text);
    /* UNIT: *metricname-char */
    for (const char *u = q; u < e; u++)
        if (!(psc_cc[(unsigned char)*u] & CC_MNAME))
            return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METADATA, u,
                        *u == ' ' ? "trailing space after unit" : "invalid character in unit");
    ent->text.ptr = q;
    ent->text.len = (size_t)(e - q);
    return PSC_OK;
}

/* Prometheus text: "# HELP name docstring", "# TYPE name type", other comments. */
static psc_status parse_text_comment(psc_parser *p, const char *s, const char *e, psc_entry *ent)
{
    const char *q = s + 1; /* after '#' */
    const char *w = skip_blanks(q, e);
    const char *we = w;
    while (we < e && *we != ' ' && *we != '\t')
        we++;
    bool help = w > q && word_eq(w, (size_t)(we - w), "HELP");
    bool type = w > q && word_eq(w, (size_t)(we - w), "TYPE");
    if (!help && !type) {
        ent->kind = PSC_ENTRY_COMMENT;
        ent->text.ptr = q;
        ent->text.len = (size_t)(e - q);
        return PSC_OK;
    }
    const char *kw = help ? "HELP" : "TYPE";
    ent->kind = help ? PSC_ENTRY_HELP : PSC_ENTRY_TYPE;
    q = skip_blanks(we, e);
    if (q == we || q >= e)
        return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METADATA, q, "expected a metric name after %s", kw);
    ent->name_column = (uint64_t)(q - p->lstart) + 1;
    psc_status st = parse_meta_name(p, &q, e, &ent->name, kw);
    if (st)
        return st;
    if (q < e && *q != ' ' && *q != '\t')
        return fail_at_char(p, PSC_C_INVALID_METRIC_NAME, q, e, "a blank after the metric name");
    const char *r = skip_blanks(q, e);
    if (help)
        return unescape_help(p, r, e, false, &ent->text);
    if (r >= e)
        return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METADATA, r, "missing type after metric name in TYPE line");
    const char *te = r;
    while (te < e && *te != ' ' && *te != '\t')
        te++;
    st = parse_type_word(p, r, te, ent);
    if (st)
        return st;
    const char *x = skip_blanks(te, e);
    if (x < e) {
        char b[64];
        return fail(p, PSC_E_SYNTAX, PSC_C_UNEXPECTED_TOKEN, x, "unexpected '%s' after the type",
                    tok(b, sizeof b, x, (size_t)(e - x)));
    }
    return PSC_OK;
}

/* ---------------------------------------------------------------- samples */

static int grow_labels(psc_parser *p, size_t need, bool exemplar)
{
    if (exemplar)
        return psc_grow((void **)&p->xlabels, &p->xcap, need, sizeof *p->xlabels);
    size_t cap = p->lcap, cap2 = p->lcap;
    if (psc_grow((void **)&p->labels, &cap, need, sizeof *p->labels))
        return -1;
    if (psc_grow((void **)&p->lcols, &cap2, need, sizeof *p->lcols))
        return -1; /* labels grew already; lcap stays: both regrow next time */
    p->lcap = cap < cap2 ? cap : cap2;
    return 0;
}

/*
 * Label set at *ps ('{'). For exemplars (ex), labels go to xlabels and the
 * OpenMetrics rules apply. name_in_braces: the text 1.0.0 form
 * `{"metric.name", ...}` is allowed and the name is returned in *mname.
 */
static psc_status parse_labels(psc_parser *p, const char **ps, const char *e, bool ex,
                               bool name_in_braces, psc_str *mname, size_t *count)
{
    const bool text = !p->om;
    const bool quoted_ok = p->fmt == PSC_FORMAT_TEXT_1_0_0;
    const char *s = *ps + 1;
    size_t n = 0;
    uint64_t seen = 0; /* a bit per (length, first byte, last byte) of the names so far */
    if (text)
        s = skip_blanks(s, e);
    if (s < e && *s == '}') {
        *ps = s + 1;
        *count = 0;
        return PSC_OK;
    }
    for (bool first = true;; first = false) {
        const char *nstart = s;
        psc_str name;
        if (s < e && *s == '"' && quoted_ok && !ex) {
            psc_status st = parse_quoted(p, &s, e, &name, p->o.max_label_name_bytes,
                                         PSC_C_LABEL_NAME_TOO_LONG, "quoted name");
            if (st)
                return st;
            const char *t = skip_blanks(s, e);
            if (first && name_in_braces && t < e && (*t == ',' || *t == '}')) {
                if (name.len == 0)
                    return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METRIC_NAME, nstart, "empty metric name");
                *mname = name;
                s = t;
                if (*s == '}') {
                    *ps = s + 1;
                    *count = 0;
                    return PSC_OK;
                }
                s = skip_blanks(s + 1, e);
                if (s < e && *s == '}') {
                    *ps = s + 1;
                    *count = 0;
                    return PSC_OK;
                }
                first = true;
                continue;
            }
            if (name.len == 0)
                return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_LABEL_NAME, nstart, "empty label name");
        } else {
            const char *ne = scan_lname(s, e);
            if (ne == s) {
                if (s < e && *s == '=')
                    return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_LABEL_NAME, s, "empty label name");
                if (s < e && *s == '"' && !ex)
                    return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_LABEL_NAME, s,
                                "quoted label names need text format 1.0.0 (not %s)", psc_format_name(p->fmt));
                return fail_at_char(p, PSC_C_INVALID_LABEL_NAME, s, e, "a label name");
            }
            if ((size_t)(ne - s) > p->o.max_label_name_bytes)
                return fail(p, PSC_E_LIMIT, PSC_C_LABEL_NAME_TOO_LONG, s,
                            "label name is %zu bytes, over the limit of %zu", (size_t)(ne - s),
                            p->o.max_label_name_bytes);
            name.ptr = s;
            name.len = (size_t)(ne - s);
            s = ne;
        }
        char b[64];
        if (text && s < e && (*s == ' ' || *s == '\t'))
            s = skip_blanks(s, e);
        if (s >= e || *s != '=') {
            if (s < e && *s == '\0')
                return fail(p, PSC_E_SYNTAX, PSC_C_NUL_BYTE, s, "unexpected NUL byte after label name '%s'",
                            tok(b, sizeof b, name.ptr, name.len));
            return fail(p, PSC_E_SYNTAX, PSC_C_EXPECTED_EQUALS, nstart, "expected '=' after label name '%s'",
                        tok(b, sizeof b, name.ptr, name.len));
        }
        s++;
        if (text && s < e && (*s == ' ' || *s == '\t'))
            s = skip_blanks(s, e);
        if (s >= e || *s != '"')
            return fail_at_char(p, PSC_C_EXPECTED_QUOTE, s, e, "'\"' to open the label value");
        psc_str value;
        psc_status st = parse_quoted(p, &s, e, &value, p->o.max_label_value_bytes,
                                     PSC_C_LABEL_VALUE_TOO_LONG, "label value");
        if (st)
            return st;
        if (n >= p->o.max_labels && !ex)
            return fail(p, PSC_E_LIMIT, PSC_C_LABEL_LIMIT, nstart,
                        "label limit %zu exceeded (--max-labels)", p->o.max_labels);
        /* duplicate names: compared only when the filter says one may be */
        const uint64_t bit = 1ull << ((name.len * 7u + (unsigned char)name.ptr[0] * 3u +
                                       (unsigned char)name.ptr[name.len - 1]) & 63u);
        if (seen & bit) {
            const psc_label *arr = ex ? p->xlabels : p->labels;
            for (size_t i = 0; i < n; i++) {
                if (psc_str_eq(arr[i].name, name))
                    return fail(p, PSC_E_SYNTAX, PSC_C_DUPLICATE_LABEL, nstart, "duplicate label name '%s'",
                                tok(b, sizeof b, name.ptr, name.len));
            }
        }
        seen |= bit;
        if (!ex && name.len == 8 && memcmp(name.ptr, "__name__", 8) == 0)
            return fail(p, PSC_E_SEMANTIC, PSC_C_RESERVED_LABEL, nstart,
                        "label name '__name__' is reserved for the metric name");
        if (n >= (ex ? p->xcap : p->lcap) && grow_labels(p, n + 1, ex))
            return fail(p, PSC_E_NOMEM, PSC_C_NOMEM, nstart, "out of memory");
        if (ex) {
            p->xlabels[n].name = name;
            p->xlabels[n].value = value;
        } else {
            p->labels[n].name = name;
            p->labels[n].value = value;
            p->lcols[n] = (uint32_t)((size_t)(nstart - p->lstart) + 1 > UINT32_MAX
                                         ? UINT32_MAX
                                         : (size_t)(nstart - p->lstart) + 1);
        }
        n++;
        if (text && s < e && (*s == ' ' || *s == '\t'))
            s = skip_blanks(s, e);
        if (s < e && *s == ',') {
            const char *comma = s;
            s++;
            if (text && s < e && (*s == ' ' || *s == '\t'))
                s = skip_blanks(s, e);
            if (s < e && *s == '}') {
                if (!text || ex)
                    return fail(p, PSC_E_SYNTAX, PSC_C_UNEXPECTED_TOKEN, comma,
                                "trailing comma before '}' is not allowed in OpenMetrics");
                s++;
                break;
            }
            if (s < e && *s == ',')
                return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_LABEL_NAME, s, "expected a label name, found ','");
            continue;
        }
        if (s < e && *s == '}') {
            s++;
            break;
        }
        return fail_at_char(p, PSC_C_EXPECTED_COMMA, s, e, "',' or '}' after the label value");
    }
    *ps = s;
    *count = n;
    return PSC_OK;
}

/* End of a token: OpenMetrics stops at ' ', text at ' ' or '\t'. */
static const char *token_end(const psc_parser *p, const char *s, const char *e)
{
    if (p->om) {
        const char *sp = memchr(s, ' ', (size_t)(e - s));
        return sp ? sp : e;
    }
    while (s < e && *s != ' ' && *s != '\t')
        s++;
    return s;
}

static psc_status parse_value_tok(psc_parser *p, const char *s, const char *te, double *v,
                                  const char *what, bool special, psc_code code)
{
    char b[64];
    size_t n = (size_t)(te - s);
    const char *nul = memchr(s, '\0', n);
    if (nul)
        return fail(p, PSC_E_SYNTAX, PSC_C_NUL_BYTE, nul, "unexpected NUL byte in %s", what);
    if (n > NUMBER_MAX)
        return fail(p, PSC_E_LIMIT, PSC_C_NUMBER_TOO_LONG, s, "%s is %zu bytes long, over the limit of %d",
                    what, n, NUMBER_MAX);
    psc_status st = psc_parse_number(s, n, special, v);
    if (st == PSC_E_LIMIT)
        return fail(p, PSC_E_SYNTAX, PSC_C_VALUE_OUT_OF_RANGE, s, "%s '%s' is out of the range of a 64-bit float",
                    what, tok(b, sizeof b, s, n));
    if (st == PSC_E_NOMEM)
        return fail(p, PSC_E_NOMEM, PSC_C_NOMEM, s, "out of memory");
    if (st)
        return fail(p, PSC_E_SYNTAX, code, s, "invalid %s '%s'", what, tok(b, sizeof b, s, n));
    return PSC_OK;
}

static void set_ts_seconds(psc_entry *ent, double ts)
{
    ent->has_timestamp = true;
    ent->timestamp = ts;
    double ms = ts * 1000.0;
    if (ms >= -9.2e18 && ms <= 9.2e18) {
        ent->timestamp_ms = (int64_t)llround(ms);
        ent->timestamp_ms_exact = true;
    } else {
        ent->timestamp_ms = ms < 0 ? INT64_MIN : INT64_MAX;
        ent->timestamp_ms_exact = false;
    }
}

static psc_status parse_exemplar(psc_parser *p, const char *s, const char *e, psc_entry *ent)
{
    /* s points at '#': "# {labels} value [timestamp]" (OpenMetrics "Exemplars") */
    if (s + 1 >= e || s[1] != ' ')
        return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_EXEMPLAR, s, "expected '# {' to start an exemplar");
    if (s + 2 >= e || s[2] != '{')
        return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_EXEMPLAR, s + 2, "expected '{' after '# ' in exemplar");
    ent->exemplar_column = (uint64_t)(s - p->lstart) + 1;
    const char *q = s + 2;
    size_t n = 0;
    psc_status st = parse_labels(p, &q, e, true, false, NULL, &n);
    if (st)
        return st;
    size_t cps = 0;
    for (size_t i = 0; i < n; i++) {
        const psc_label *l = &p->xlabels[i];
        for (size_t k = 0; k < l->name.len; k++)
            cps += ((unsigned char)l->name.ptr[k] & 0xc0) != 0x80;
        for (size_t k = 0; k < l->value.len; k++)
            cps += ((unsigned char)l->value.ptr[k] & 0xc0) != 0x80;
    }
    if (cps > 128)
        return fail(p, PSC_E_SYNTAX, PSC_C_EXEMPLAR_TOO_LONG, s + 2,
                    "exemplar labels are %zu code points long, over the limit of 128", cps);
    if (q >= e || *q != ' ')
        return fail_at_char(p, PSC_C_INVALID_EXEMPLAR, q, e, "a space and the exemplar value");
    q++;
    const char *te = token_end(p, q, e);
    if (te == q)
        return fail_at_char(p, PSC_C_INVALID_EXEMPLAR, q, e, "the exemplar value");
    st = parse_value_tok(p, q, te, &ent->exemplar.value, "exemplar value", true, PSC_C_INVALID_EXEMPLAR);
    if (st)
        return st;
    ent->exemplar.has_timestamp = false;
    if (te < e) {
        q = te + 1;
        const char *t2 = token_end(p, q, e);
        if (t2 == q)
            return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_WHITESPACE, te, "trailing space after exemplar value");
        double ts;
        st = parse_value_tok(p, q, t2, &ts, "exemplar timestamp", false, PSC_C_INVALID_EXEMPLAR);
        if (st)
            return st;
        ent->exemplar.has_timestamp = true;
        ent->exemplar.timestamp = ts;
        if (t2 < e)
            return fail(p, PSC_E_SYNTAX, PSC_C_UNEXPECTED_TOKEN, t2, "unexpected data after exemplar timestamp");
    }
    ent->has_exemplar = true;
    ent->exemplar.labels = p->xlabels;
    ent->exemplar.nlabels = n;
    return PSC_OK;
}

static psc_status parse_sample(psc_parser *p, const char *s, const char *e, psc_entry *ent)
{
    ent->kind = PSC_ENTRY_SAMPLE;
    psc_str mname = PSC_STR_NULL;
    const char *ns = s;
    const char *ne = scan_mname_cached(p, s, e);
    size_t nl = 0;
    psc_status st;
    if (ne > s) {
        mname.ptr = s;
        mname.len = (size_t)(ne - s);
        s = ne;
        if (s < e && *s == '{') {
            st = parse_labels(p, &s, e, false, false, NULL, &nl);
            if (st)
                return st;
        }
    } else if (s < e && *s == '{') {
        if (p->fmt == PSC_FORMAT_TEXT_1_0_0) {
            st = parse_labels(p, &s, e, false, true, &mname, &nl);
            if (st)
                return st;
        }
        if (!mname.ptr && p->fmt != PSC_FORMAT_TEXT_1_0_0 && s + 1 < e && s[1] == '"')
            return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METRIC_NAME, ns,
                        "quoted metric names ({\"name\"}) need text format 1.0.0, not %s",
                        psc_format_name(p->fmt));
        if (!mname.ptr)
            return fail(p, PSC_E_SYNTAX, PSC_C_MISSING_METRIC_NAME, ns, "missing metric name");
    } else {
        return fail_at_char(p, PSC_C_INVALID_METRIC_NAME, s, e, "a metric name");
    }
    ent->name = mname;
    ent->name_column = (uint64_t)(ns - p->lstart) + 1;
    if (mname.ptr == ns) {
        /* legacy name; scanning stopped at a character that cannot follow */
        if (s < e && *s != ' ' && *s != '\t' && *s != '{' && s == ne) {
            if (*s == '\0')
                return fail(p, PSC_E_SYNTAX, PSC_C_NUL_BYTE, s, "unexpected NUL byte in metric name");
            char b[64];
            return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_METRIC_NAME, ns,
                        "invalid metric name '%s': use [a-zA-Z_:][a-zA-Z0-9_:]*%s",
                        tok(b, sizeof b, ns, (size_t)(token_end(p, ns, e) - ns)),
                        p->fmt == PSC_FORMAT_TEXT_1_0_0 ? " or quote it: {\"name\"}" : "");
        }
    }
    ent->labels = p->labels;
    ent->label_columns = p->lcols;
    ent->nlabels = nl;
    /* separator */
    const char *vs;
    if (p->om) {
        if (s >= e)
            return fail(p, PSC_E_SYNTAX, PSC_C_MISSING_VALUE, s, "missing value");
        if (*s != ' ')
            return fail_at_char(p, PSC_C_INVALID_WHITESPACE, s, e, "a single space before the value");
        vs = s + 1;
        if (vs < e && *vs == ' ')
            return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_WHITESPACE, vs,
                        "OpenMetrics separates tokens with exactly one space");
    } else {
        vs = skip_blanks(s, e);
        if (vs == s && s < e && s[-1] != '}')
            return fail_at_char(p, PSC_C_INVALID_METRIC_NAME, s, e, "a blank before the value");
    }
    if (vs >= e)
        return fail(p, PSC_E_SYNTAX, PSC_C_MISSING_VALUE, vs, "missing value");
    const char *ve = token_end(p, vs, e);
    st = parse_value_tok(p, vs, ve, &ent->value, "value", true, PSC_C_INVALID_VALUE);
    if (st)
        return st;
    ent->value_column = (uint64_t)(vs - p->lstart) + 1;
    ent->has_timestamp = false;
    ent->has_exemplar = false;
    const char *q = ve;
    if (p->om) {
        if (q >= e)
            return PSC_OK;
        q++; /* the space */
        if (q >= e)
            return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_WHITESPACE, ve, "trailing space after value");
        if (*q == ' ')
            return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_WHITESPACE, q,
                        "OpenMetrics separates tokens with exactly one space");
        if (*q != '#') {
            const char *te = token_end(p, q, e);
            double ts;
            st = parse_value_tok(p, q, te, &ts, "timestamp", false, PSC_C_INVALID_TIMESTAMP);
            if (st)
                return st;
            ent->timestamp_column = (uint64_t)(q - p->lstart) + 1;
            set_ts_seconds(ent, ts);
            q = te;
            if (q >= e)
                return PSC_OK;
            q++;
            if (q >= e)
                return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_WHITESPACE, te, "trailing space after timestamp");
            if (*q != '#')
                return fail(p, PSC_E_SYNTAX, PSC_C_UNEXPECTED_TOKEN, q, "unexpected data after timestamp");
        }
        return parse_exemplar(p, q, e, ent);
    }
    /* text: [blanks timestamp] [blanks] */
    q = skip_blanks(q, e);
    if (q >= e)
        return PSC_OK;
    const char *te = token_end(p, q, e);
    int64_t ms;
    char b[64];
    const char *nul = memchr(q, '\0', (size_t)(te - q));
    if (nul)
        return fail(p, PSC_E_SYNTAX, PSC_C_NUL_BYTE, nul, "unexpected NUL byte in timestamp");
    st = psc_parse_int64(q, (size_t)(te - q), &ms);
    if (st == PSC_E_LIMIT)
        return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_TIMESTAMP, q,
                    "timestamp '%s' is out of the int64 millisecond range", tok(b, sizeof b, q, (size_t)(te - q)));
    if (st) {
        if (*q == '#')
            return fail(p, PSC_E_SYNTAX, PSC_C_UNEXPECTED_TOKEN, q,
                        "exemplars ('#' after the value) need OpenMetrics");
        return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_TIMESTAMP, q,
                    "invalid timestamp '%s': expected integer milliseconds since the epoch",
                    tok(b, sizeof b, q, (size_t)(te - q)));
    }
    ent->has_timestamp = true;
    ent->timestamp_ms = ms;
    ent->timestamp_ms_exact = true;
    ent->timestamp = (double)ms / 1000.0;
    ent->timestamp_column = (uint64_t)(q - p->lstart) + 1;
    q = skip_blanks(te, e);
    if (q < e)
        return fail(p, PSC_E_SYNTAX, PSC_C_UNEXPECTED_TOKEN, q, "unexpected '%s' after the timestamp",
                    tok(b, sizeof b, q, (size_t)(e - q)));
    return PSC_OK;
}

/* ---------------------------------------------------------------- driver */

/* Line and column of the end of the input (for "missing # EOF"). */
static void position_of(const psc_parser *p, size_t off, uint64_t *line, uint64_t *col)
{
    size_t ls = off;
    while (ls > 0 && p->buf[ls - 1] != '\n')
        ls--;
    if (ls == off) {
        *line = p->line; /* at the start of the line after the last LF */
        *col = 1;
    } else {
        *line = p->line - 1;
        *col = (uint64_t)(off - ls) + 1;
    }
}

/* Out of memory on the line that starts at byte pos0 (line number line0,
 * parser state state0): go back to its start, so that the next call reads
 * it again (parse.h: retrying is safe). */
static psc_status rewind_nomem(psc_parser *p, size_t pos0, uint64_t line0, int state0, const char *ls)
{
    psc_status st = fail(p, PSC_E_NOMEM, PSC_C_NOMEM, ls, "out of memory");
    p->pos = pos0;
    p->line = line0;
    p->state = state0;
    return st;
}

/* --strict: the warning for an unknown escape (at: its backslash) in a
 * quoted string of the line starting at ls (BAD-INPUTS B3). */
static psc_status warn_unknown_escape(psc_parser *p, const char *ls, const char *at)
{
    const unsigned char c = (unsigned char)at[1];
    char what[48];
    if (c > 0x20 && c < 0x7f)
        snprintf(what, sizeof what, "unknown escape '\\%c'", c);
    else
        snprintf(what, sizeof what, "a backslash before byte 0x%02x", c);
    return psc_diag_add(&p->warnings, PSC_SEV_WARNING, psc_code_name(PSC_C_UNKNOWN_ESCAPE), PSC_STR_NULL,
                        p->base + (uint64_t)(at - p->buf), p->lno, (uint64_t)(at - ls) + 1,
                        "%s in a quoted string: kept as written, backslash included (the escapes are "
                        "'\\\\', '\\\"' and '\\n')",
                        what);
}

/* The text formats' warning for a last line without '\n' (e: its end). */
static psc_status warn_missing_newline(psc_parser *p, const char *ls, const char *e)
{
    return psc_diag_add(&p->warnings, PSC_SEV_WARNING, psc_code_name(PSC_C_MISSING_NEWLINE), PSC_STR_NULL,
                        p->base + (uint64_t)(e - p->buf), p->lno, (uint64_t)(e - ls) + 1,
                        "the last line does not end with a line feed");
}

psc_status psc_parser_next(psc_parser *p, psc_entry *ent, psc_error *err)
{
    p->err = err;
    for (;;) {
        if (p->state == ST_DONE)
            return PSC_DONE;
        if (p->state == ST_LONG) {
            p->state = ST_DONE;
            p->lno = p->long_line;
            if (err) {
                err->status = PSC_E_LIMIT;
                err->code = PSC_C_LINE_TOO_LONG;
                err->offset = p->long_off;
                err->line = p->long_line;
                err->column = p->long_col;
                snprintf(err->message, sizeof err->message,
                         "line exceeds the limit of %zu bytes (--max-line-bytes); the rest of the input is not read",
                         p->o.max_line_bytes);
            }
            return PSC_E_LIMIT;
        }
        if (p->pos >= p->len) {
            if (!p->final)
                return PSC_DONE; /* this chunk is done; psc_parser_continue() goes on */
            bool missing = p->om && p->state != ST_AFTER_EOF;
            p->state = ST_DONE;
            if (missing) {
                uint64_t line, col;
                position_of(p, p->len, &line, &col);
                p->lno = line;
                p->lstart = p->buf + p->len - (col - 1);
                return fail(p, PSC_E_SYNTAX, PSC_C_MISSING_EOF, p->buf + p->len,
                            "missing '# EOF' at the end of the OpenMetrics exposition");
            }
            return PSC_DONE;
        }
        const char *ls = p->buf + p->pos;
        const char *nl = memchr(ls, '\n', p->len - p->pos);
        const char *e = nl ? nl : p->buf + p->len;
        /* where this line starts: running out of memory on it goes back
         * here, so that a retry reads the same line again */
        const size_t pos0 = p->pos;
        const uint64_t line0 = p->line;
        const int state0 = p->state;
        p->lstart = ls;
        p->lno = p->line++;
        p->pos = nl ? (size_t)(nl - p->buf) + 1 : p->len;
        /* every field a consumer may read is set here or by the line's parser */
        ent->offset = p->base + (uint64_t)(ls - p->buf);
        ent->line = p->lno;
        ent->name = PSC_STR_NULL;
        ent->name_column = 0;
        ent->text = PSC_STR_NULL;
        ent->type = PSC_TYPE_UNTYPED;
        ent->labels = NULL;
        ent->label_columns = NULL;
        ent->nlabels = 0;
        ent->value = 0;
        ent->value_column = 0;
        ent->has_timestamp = false;
        ent->timestamp = 0;
        ent->timestamp_ms = 0;
        ent->timestamp_ms_exact = false;
        ent->timestamp_column = 0;
        ent->has_exemplar = false;
        ent->exemplar_column = 0;
        if (p->state == ST_AFTER_EOF) {
            p->state = ST_DONE;
            p->past_eof = true;
            return fail(p, PSC_E_SYNTAX, PSC_C_DATA_AFTER_EOF, ls, "unexpected data after # EOF");
        }
        size_t llen = (size_t)(e - ls);
        /* An over-long line (BAD-INPUTS A1): parse its first max_line_bytes
         * bytes for an earlier error (a NUL at 1:1 from /dev/zero), report
         * the limit, and stop: time and memory stay bounded for any input. */
        bool too_long = llen > p->o.max_line_bytes;
        if (too_long) {
            e = ls + p->o.max_line_bytes;
            llen = p->o.max_line_bytes;
            p->long_off = p->base + (uint64_t)(e - p->buf);
            p->long_line = p->lno;
            p->long_col = (uint64_t)(e - ls) + 1;
            p->state = ST_LONG;
            p->pos = p->len; /* nothing after this line is read */
        }
        const char *s = ls;
        if (ent->offset == 0 && llen >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            if (p->om || !(p->o.flags & PSC_PARSE_ALLOW_BOM))
                return fail(p, PSC_E_SYNTAX, PSC_C_BOM, s,
                            "byte order mark (BOM) at the start of the input%s",
                            p->om ? ": OpenMetrics forbids it" : " (--allow-bom skips it)");
            s += 3;
        }
        if (!too_long && e > s && e[-1] == '\r') {
            if (p->om || !(p->o.flags & PSC_PARSE_ALLOW_CRLF))
                return fail(p, PSC_E_SYNTAX, PSC_C_CRLF, e - 1,
                            "carriage return at the end of the line: Windows line endings (CRLF)%s",
                            p->om ? " are not allowed in OpenMetrics" : " are not allowed (--allow-crlf accepts them)");
            e--;
        }
        p->eol_error = false;
        /* scratch for unescaped text of this line: never longer than the line */
        if (p->scap < llen + 1) {
            size_t cap = p->scap;
            if (psc_grow((void **)&p->scratch, &cap, llen + 1, 1))
                return rewind_nomem(p, pos0, line0, state0, ls);
            p->scap = cap;
        }
        p->sused = 0;
        p->unknown_escape = NULL;
        /* the missing-newline warning is recorded once the line has been
         * read without running out of memory, so that a retry does not
         * record it twice */
        bool warn_nl = false;
        if (!nl && !p->om && !too_long) {
            bool strict = p->o.flags & PSC_PARSE_STRICT;
            if (strict)
                return fail(p, PSC_E_SYNTAX, PSC_C_MISSING_NEWLINE, e,
                            "the last line must end with a line feed");
            warn_nl = true;
        }
        psc_status st;
        if (p->om) {
            if (s == e)
                return fail(p, PSC_E_SYNTAX, PSC_C_BLANK_LINE, s, "blank lines are not allowed in OpenMetrics");
            if (*s == '#')
                st = parse_om_comment(p, s, e, ent);
            else if (*s == ' ' || *s == '\t')
                return fail(p, PSC_E_SYNTAX, PSC_C_INVALID_WHITESPACE, s,
                            "leading whitespace is not allowed in OpenMetrics");
            else
                st = parse_sample(p, s, e, ent);
        } else {
            s = skip_blanks(s, e);
            if (s == e) {
                /* blank line: ignored in the text formats */
                if (warn_nl && warn_missing_newline(p, ls, e) != PSC_OK)
                    return rewind_nomem(p, pos0, line0, state0, ls);
                continue;
            }
            if (*s == '#')
                st = parse_text_comment(p, s, e, ent);
            else
                st = parse_sample(p, s, e, ent);
        }
        if (st == PSC_E_NOMEM && !too_long)
            return rewind_nomem(p, pos0, line0, state0, ls);
        if (warn_nl && warn_missing_newline(p, ls, e) != PSC_OK)
            return rewind_nomem(p, pos0, line0, state0, ls);
        if (p->unknown_escape && warn_unknown_escape(p, ls, p->unknown_escape) != PSC_OK)
            return rewind_nomem(p, pos0, line0, state0, ls);
        if (too_long) {
            /* keep an error inside the prefix; one at the cut is an artefact */
            if (st != PSC_OK && err && err->offset < p->long_off && st != PSC_E_NOMEM &&
                !p->eol_error)
                return st;
            continue; /* ST_LONG reports the limit */
        }
        if (st != PSC_OK)
            return st;
        if (ent->kind == PSC_ENTRY_SAMPLE) {
            p->nsamples++;
            if (p->o.max_samples && p->nsamples > p->o.max_samples) {
                p->state = ST_DONE;
                return fail(p, PSC_E_LIMIT, PSC_C_SAMPLE_LIMIT, ls,
                            "sample limit %llu exceeded at line %llu (--max-samples)",
                            (unsigned long long)p->o.max_samples, (unsigned long long)p->lno);
            }
        }
        return PSC_OK;
    }
}
