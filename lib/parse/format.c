/*
 * Formats, types, sample roles and character classes shared by the parser,
 * the validator and the model.
 */
#include <string.h>

#include "parse/internal.h"

const char *psc_format_name(psc_format f)
{
    switch (f) {
    case PSC_FORMAT_AUTO: return "auto";
    case PSC_FORMAT_TEXT_0_0_4: return "text-0.0.4";
    case PSC_FORMAT_TEXT_1_0_0: return "text-1.0.0";
    case PSC_FORMAT_OPENMETRICS_1_0: return "openmetrics-1.0";
    }
    return "unknown";
}

const char *psc_metric_type_name(psc_metric_type t)
{
    switch (t) {
    case PSC_TYPE_UNTYPED: return "untyped";
    case PSC_TYPE_COUNTER: return "counter";
    case PSC_TYPE_GAUGE: return "gauge";
    case PSC_TYPE_HISTOGRAM: return "histogram";
    case PSC_TYPE_GAUGEHISTOGRAM: return "gaugehistogram";
    case PSC_TYPE_SUMMARY: return "summary";
    case PSC_TYPE_INFO: return "info";
    case PSC_TYPE_STATESET: return "stateset";
    case PSC_TYPE_UNKNOWN: return "unknown";
    }
    return "invalid";
}

const char *psc_entry_kind_name(psc_entry_kind k)
{
    switch (k) {
    case PSC_ENTRY_HELP: return "HELP";
    case PSC_ENTRY_TYPE: return "TYPE";
    case PSC_ENTRY_UNIT: return "UNIT";
    case PSC_ENTRY_SAMPLE: return "SAMPLE";
    case PSC_ENTRY_COMMENT: return "COMMENT";
    case PSC_ENTRY_EOF: return "EOF";
    }
    return "INVALID";
}

const char *psc_sample_kind_name(psc_sample_kind k)
{
    static const char *const names[] = {"value", "total", "created", "bucket", "count", "sum",
                                        "gcount", "gsum", "quantile", "info", "state"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "invalid";
}

#define A (CC_MNAME0 | CC_MNAME | CC_LNAME0 | CC_LNAME)
#define D (CC_MNAME | CC_LNAME)
#define Q CC_QSPECIAL
#define B CC_BLANK
const unsigned char psc_cc[256] = {
    ['\t'] = B, [' '] = B, ['"'] = Q, ['\\'] = Q, [':'] = CC_MNAME0 | CC_MNAME, ['_'] = A,
    ['0'] = D, ['1'] = D, ['2'] = D, ['3'] = D, ['4'] = D, ['5'] = D, ['6'] = D, ['7'] = D,
    ['8'] = D, ['9'] = D,
    ['a'] = A, ['b'] = A, ['c'] = A, ['d'] = A, ['e'] = A, ['f'] = A, ['g'] = A, ['h'] = A,
    ['i'] = A, ['j'] = A, ['k'] = A, ['l'] = A, ['m'] = A, ['n'] = A, ['o'] = A, ['p'] = A,
    ['q'] = A, ['r'] = A, ['s'] = A, ['t'] = A, ['u'] = A, ['v'] = A, ['w'] = A, ['x'] = A,
    ['y'] = A, ['z'] = A,
    ['A'] = A, ['B'] = A, ['C'] = A, ['D'] = A, ['E'] = A, ['F'] = A, ['G'] = A, ['H'] = A,
    ['I'] = A, ['J'] = A, ['K'] = A, ['L'] = A, ['M'] = A, ['N'] = A, ['O'] = A, ['P'] = A,
    ['Q'] = A, ['R'] = A, ['S'] = A, ['T'] = A, ['U'] = A, ['V'] = A, ['W'] = A, ['X'] = A,
    ['Y'] = A, ['Z'] = A,
    [0x80] = Q, [0x81] = Q, [0x82] = Q, [0x83] = Q, [0x84] = Q, [0x85] = Q, [0x86] = Q,
    [0x87] = Q, [0x88] = Q, [0x89] = Q, [0x8a] = Q, [0x8b] = Q, [0x8c] = Q, [0x8d] = Q,
    [0x8e] = Q, [0x8f] = Q, [0x90] = Q, [0x91] = Q, [0x92] = Q, [0x93] = Q, [0x94] = Q,
    [0x95] = Q, [0x96] = Q, [0x97] = Q, [0x98] = Q, [0x99] = Q, [0x9a] = Q, [0x9b] = Q,
    [0x9c] = Q, [0x9d] = Q, [0x9e] = Q, [0x9f] = Q, [0xa0] = Q, [0xa1] = Q, [0xa2] = Q,
    [0xa3] = Q, [0xa4] = Q, [0xa5] = Q, [0xa6] = Q, [0xa7] = Q, [0xa8] = Q, [0xa9] = Q,
    [0xaa] = Q, [0xab] = Q, [0xac] = Q, [0xad] = Q, [0xae] = Q, [0xaf] = Q, [0xb0] = Q,
    [0xb1] = Q, [0xb2] = Q, [0xb3] = Q, [0xb4] = Q, [0xb5] = Q, [0xb6] = Q, [0xb7] = Q,
    [0xb8] = Q, [0xb9] = Q, [0xba] = Q, [0xbb] = Q, [0xbc] = Q, [0xbd] = Q, [0xbe] = Q,
    [0xbf] = Q, [0xc0] = Q, [0xc1] = Q, [0xc2] = Q, [0xc3] = Q, [0xc4] = Q, [0xc5] = Q,
    [0xc6] = Q, [0xc7] = Q, [0xc8] = Q, [0xc9] = Q, [0xca] = Q, [0xcb] = Q, [0xcc] = Q,
    [0xcd] = Q, [0xce] = Q, [0xcf] = Q, [0xd0] = Q, [0xd1] = Q, [0xd2] = Q, [0xd3] = Q,
    [0xd4] = Q, [0xd5] = Q, [0xd6] = Q, [0xd7] = Q, [0xd8] = Q, [0xd9] = Q, [0xda] = Q,
    [0xdb] = Q, [0xdc] = Q, [0xdd] = Q, [0xde] = Q, [0xdf] = Q, [0xe0] = Q, [0xe1] = Q,
    [0xe2] = Q, [0xe3] = Q, [0xe4] = Q, [0xe5] = Q, [0xe6] = Q, [0xe7] = Q, [0xe8] = Q,
    [0xe9] = Q, [0xea] = Q, [0xeb] = Q, [0xec] = Q, [0xed] = Q, [0xee] = Q, [0xef] = Q,
    [0xf0] = Q, [0xf1] = Q, [0xf2] = Q, [0xf3] = Q, [0xf4] = Q, [0xf5] = Q, [0xf6] = Q,
    [0xf7] = Q, [0xf8] = Q, [0xf9] = Q, [0xfa] = Q, [0xfb] = Q, [0xfc] = Q, [0xfd] = Q,
    [0xfe] = Q, [0xff] = Q,
};
#undef A
#undef D
#undef Q
#undef B

size_t psc_utf8_seq(const unsigned char *p, size_t n, bool *truncated)
{
    unsigned c = p[0];
    size_t l;
    unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    *truncated = false;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        l = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        l = 3;
        if (c == 0xe0)
            lo = 0xa0;      /* overlong */
        else if (c == 0xed)
            hi = 0x9f;      /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xf0 && c <= 0xf4) {
        l = 4;
        if (c == 0xf0)
            lo = 0x90;      /* overlong */
        else if (c == 0xf4)
            hi = 0x8f;      /* > U+10FFFF */
    } else
        return 0;
    for (size_t i = 1; i < l; i++) {
        if (i >= n) {
            *truncated = true;
            return 0;
        }
        unsigned b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80)
            return 0;
    }
    return l;
}

bool psc_is_legacy_metric_name(const char *s, size_t n)
{
    if (n == 0 || !(psc_cc[(unsigned char)s[0]] & CC_MNAME0))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(psc_cc[(unsigned char)s[i]] & CC_MNAME))
            return false;
    return true;
}

bool psc_is_legacy_label_name(const char *s, size_t n)
{
    if (n == 0 || !(psc_cc[(unsigned char)s[0]] & CC_LNAME0))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(psc_cc[(unsigned char)s[i]] & CC_LNAME))
            return false;
    return true;
}

#define has_suffix(f, s, lit) has_suffix_n((f), (s), (lit), sizeof(lit) - 1)

static inline bool has_suffix_n(psc_str family, psc_str sample, const char *suffix, size_t sl)
{
    /* the caller has checked that sample starts with family */
    return sample.len == family.len + sl && memcmp(sample.ptr + family.len, suffix, sl) == 0;
}

bool psc_sample_in_family(psc_format fmt, psc_metric_type type, psc_str family, psc_str sample,
                          psc_sample_kind *kind)
{
    psc_sample_kind k;
    bool om = fmt == PSC_FORMAT_OPENMETRICS_1_0;
    if (sample.len < family.len || memcmp(sample.ptr, family.ptr, family.len) != 0)
        return false;
    bool exact = sample.len == family.len;
    switch (type) {
    case PSC_TYPE_COUNTER:
        if (exact && !om)
            k = PSC_SAMPLE_VALUE;
        else if (has_suffix(family, sample, "_total"))
            k = PSC_SAMPLE_TOTAL;
        else if (has_suffix(family, sample, "_created"))
            k = PSC_SAMPLE_CREATED;
        else
            return false;
        break;
    case PSC_TYPE_HISTOGRAM:
    case PSC_TYPE_SUMMARY:
        if (exact && type == PSC_TYPE_SUMMARY)
            k = PSC_SAMPLE_QUANTILE;
        else if (has_suffix(family, sample, "_count"))
            k = PSC_SAMPLE_COUNT;
        else if (has_suffix(family, sample, "_sum"))
            k = PSC_SAMPLE_SUM;
        else if (has_suffix(family, sample, "_created"))
            k = PSC_SAMPLE_CREATED;
        else if (type == PSC_TYPE_HISTOGRAM && has_suffix(family, sample, "_bucket"))
            k = PSC_SAMPLE_BUCKET;
        else
            return false;
        break;
    case PSC_TYPE_GAUGEHISTOGRAM:
        if (has_suffix(family, sample, "_bucket"))
            k = PSC_SAMPLE_BUCKET;
        else if (has_suffix(family, sample, "_gcount"))
            k = PSC_SAMPLE_GCOUNT;
        else if (has_suffix(family, sample, "_gsum"))
            k = PSC_SAMPLE_GSUM;
        else
            return false;
        break;
    case PSC_TYPE_INFO:
        if (!has_suffix(family, sample, "_info"))
            return false;
        k = PSC_SAMPLE_INFO;
        break;
    case PSC_TYPE_STATESET:
        if (!exact)
            return false;
        k = PSC_SAMPLE_STATE;
        break;
    default: /* gauge, untyped, unknown */
        if (!exact)
            return false;
        k = PSC_SAMPLE_VALUE;
        break;
    }
    if (kind)
        *kind = k;
    return true;
}

/* ---- format detection ---- */

static bool line_is(const char *l, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n >= k && memcmp(l, lit, k) == 0;
}

static bool om_only_type(const char *l, size_t n)
{
    /* "# TYPE name T" with T an OpenMetrics-only type */
    static const char *const types[] = {" info", " stateset", " gaugehistogram", " unknown"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t k = strlen(types[i]);
        if (n > k && memcmp(l + n - k, types[i], k) == 0)
            return true;
    }
    return false;
}

/* Does a sample line carry an exemplar (" # {" outside quotes)? */
static bool has_exemplar(const char *l, size_t n)
{
    bool inq = false;
    for (size_t i = 0; i < n; i++) {
        char c = l[i];
        if (inq) {
            if (c == '\\')
                i++;
            else if (c == '"')
                inq = false;
        } else if (c == '"') {
            inq = true;
        } else if (c == '#' && i > 0 && l[i - 1] == ' ' && i + 2 < n && l[i + 1] == ' ' &&
                   l[i + 2] == '{') {
            return true;
        }
    }
    return false;
}

psc_format psc_format_detect(const char *buf, size_t len)
{
    /* The last line first: an OpenMetrics exposition ends with "# EOF". */
    size_t end = len;
    while (end > 0 && buf[end - 1] == '\n')
        end--;
    if (end >= 5 && memcmp(buf + end - 5, "# EOF", 5) == 0 &&
        (end == 5 || buf[end - 6] == '\n'))
        return PSC_FORMAT_OPENMETRICS_1_0;
    /* Then OpenMetrics-only constructs within the first 64 KiB. */
    size_t scan = len < 65536 ? len : 65536;
    size_t pos = 0;
    while (pos < scan) {
        const char *l = buf + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - l) : len - pos;
        if (line_is(l, n, "# EOF") && n == 5)
            return PSC_FORMAT_OPENMETRICS_1_0;
        if (line_is(l, n, "# UNIT "))
            return PSC_FORMAT_OPENMETRICS_1_0;
        if (line_is(l, n, "# TYPE ") && om_only_type(l, n))
            return PSC_FORMAT_OPENMETRICS_1_0;
        if (n && l[0] != '#' && has_exemplar(l, n))
            return PSC_FORMAT_OPENMETRICS_1_0;
        pos += n + 1;
    }
    return PSC_FORMAT_TEXT_1_0_0;
}

/* Case-insensitive compare of s[0..n) with lowercase lit. */
static bool ci_eq(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n != k)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != lit[i])
            return false;
    }
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

psc_format psc_format_from_content_type(const char *ct, size_t len)
{
    if (!ct || !len)
        return PSC_FORMAT_AUTO;
    const char *semi = memchr(ct, ';', len);
    const char *mt = ct;
    size_t mtl = semi ? (size_t)(semi - ct) : len;
    trim(&mt, &mtl);
    bool om = ci_eq(mt, mtl, "application/openmetrics-text");
    bool text = ci_eq(mt, mtl, "text/plain");
    if (!om && !text)
        return PSC_FORMAT_AUTO;
    const char *version = NULL;
    size_t vl = 0;
    const char *p = semi ? semi + 1 : ct + len;
    while (p < ct + len) {
        const char *q = memchr(p, ';', (size_t)(ct + len - p));
        const char *pe = q ? q : ct + len;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq) {
            const char *k = p;
            size_t kl = (size_t)(eq - p);
            trim(&k, &kl);
            const char *v = eq + 1;
            size_t vn = (size_t)(pe - v);
            trim(&v, &vn);
            if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
                v++;
                vn -= 2;
            }
            if (ci_eq(k, kl, "version")) {
                version = v;
                vl = vn;
            }
        }
        p = q ? q + 1 : ct + len;
    }
    if (om) {
        if (!version || ci_eq(version, vl, "1.0.0") || ci_eq(version, vl, "0.0.1"))
            return PSC_FORMAT_OPENMETRICS_1_0;
        return PSC_FORMAT_AUTO; /* 2.0.0 and unknown versions: not supported yet */
    }
    if (version && ci_eq(version, vl, "0.0.4"))
        return PSC_FORMAT_TEXT_0_0_4;
    /* exposition_formats.md "Basic info": a missing version falls back to
     * the most recent text format version. */
    if (!version || ci_eq(version, vl, "1.0.0"))
        return PSC_FORMAT_TEXT_1_0_0;
    return PSC_FORMAT_AUTO;
}
