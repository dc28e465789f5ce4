/*
 * gen_exposition: write a deterministic, realistic exposition of a given size
 * in Prometheus text 0.0.4 or OpenMetrics 1.0, for the benchmarks.
 *
 * usage: gen_exposition [--seed N] [--size MB] [--series N]
 *                       [--format text|openmetrics] [--variant mixed|one-family]
 *                       [-o FILE] [--stats FILE]
 *
 * Variant "mixed" repeats groups of families as a Kubernetes service exposes
 * them: a request counter, a latency histogram (12 buckets), an RPC summary,
 * a container memory gauge with timestamps, an untyped job status and an
 * error counter, 3 to 6 labels per series with pod names, cgroup paths,
 * routes, UUIDs and label values and HELP texts that need escapes
 * (\\ \" \n). OpenMetrics adds UNIT lines, `_created` samples, exemplars on
 * counters and buckets, and `# EOF`. Generation stops at the first family
 * boundary at or after --size megabytes (10^6 bytes) or --series sample
 * lines, so the output is always valid.
 *
 * Variant "one-family" is a single counter family whose series differ by
 * namespace, pod, route, method and code: 1,000,000 series are 138.7 MB of
 * text. It stops at the first series (metric) boundary at or after
 * the limit.
 *
 * The same options give the same bytes on every machine: values come from a
 * seeded splitmix64 and are written with integer arithmetic only.
 * --stats FILE writes {"bytes":..,"families":..,"samples":..} as JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- output ------------------------------------------------------------ */

#define OUT_CAP (1u << 20)

static char out_buf[OUT_CAP + 4096];
static size_t out_len;
static uint64_t out_total;
static int out_fd = STDOUT_FILENO;
static const char *out_name = "<stdout>";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gen_exposition: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void out_flush(void)
{
    size_t off = 0;
    while (off < out_len) {
        ssize_t w = write(out_fd, out_buf + off, out_len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("%s: %s", out_name, strerror(errno));
        }
        off += (size_t)w;
    }
    out_len = 0;
}

/* Every piece written at once is far below the 4 KiB slack of out_buf
 * except for whole strings, which go through out_mem(). */
static inline void out_room(void)
{
    if (out_len >= OUT_CAP)
        out_flush();
}

static void out_mem(const char *p, size_t n)
{
    while (n > 0) {
        out_room();
        size_t room = OUT_CAP + 4096 - out_len;
        size_t k = n < room ? n : room;
        memcpy(out_buf + out_len, p, k);
        out_len += k;
        out_total += k;
        p += k;
        n -= k;
    }
}

static inline void out_s(const char *s)
{
    out_mem(s, strlen(s));
}

static inline void out_c(char c)
{
    out_room();
    out_buf[out_len++] = c;
    out_total++;
}

static void out_u64(uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out_mem(tmp + sizeof tmp - n, n);
}

/* v / 10^decimals with exactly @decimals digits after the point. */
static void out_fixed(uint64_t v, int decimals)
{
    uint64_t p = 1;
    for (int i = 0; i < decimals; i++)
        p *= 10;
    out_u64(v / p);
    if (decimals > 0) {
        char tmp[20];
        uint64_t f = v % p;
        for (int i = decimals - 1; i >= 0; i--) {
            tmp[i] = (char)('0' + f % 10);
            f /= 10;
        }
        out_c('.');
        out_mem(tmp, (size_t)decimals);
    }
}

/* ---- deterministic randomness ---------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [0, n), n > 0 (the bias of a 64-bit modulo is negligible here) */
static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

static uint64_t rnd_range(uint64_t lo, uint64_t hi)
{
    return lo + rnd_below(hi - lo + 1);
}

/* ---- strings of a group ------------------------------------------------------ */

typedef struct str {
    const char *p;
    size_t n;
} str;

static char pool[1 << 16];
static size_t pool_len;

static str pool_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static str pool_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(pool + pool_len, sizeof pool - pool_len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof pool - pool_len)
        die("internal: string pool exhausted");
    str s = {pool + pool_len, (size_t)n};
    pool_len += (size_t)n + 1;
    return s;
}

/* Label values are escaped once, when the group is made: the escapes of
 * label values are the same in both formats. */
static str pool_escaped(const char *raw)
{
    char tmp[512];
    size_t n = 0;
    for (const char *p = raw; *p && n + 2 < sizeof tmp; p++) {
        if (*p == '\\' || *p == '"') {
            tmp[n++] = '\\';
            tmp[n++] = *p;
        } else if (*p == '\n') {
            tmp[n++] = '\\';
            tmp[n++] = 'n';
        } else {
            tmp[n++] = *p;
        }
    }
    tmp[n] = '\0';
    return pool_printf("%s", tmp);
}

static str hex_string(size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[72];
    for (size_t i = 0; i < n; i++)
        tmp[i] = hex[rnd() & 15];
    tmp[n] = '\0';
    return pool_printf("%s", tmp);
}

static str uuid_string(void)
{
    uint64_t a = rnd(), b = rnd();
    return pool_printf("%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
                       (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
                       (unsigned long long)(b & 0xffffffffffffull));
}

/* Kubernetes pod name: DEPLOYMENT-<10 chars>-<5 chars>. The last 5 chars
 * are @index scrambled by a bijection of [0, 27^5) (a multiplier prime to
 * 27), so that they look random and two pods never collide. */
static str pod_name(const char *deployment, uint64_t index)
{
    static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789"; /* 27, as Kubernetes */
    char rs[11], suffix[6];
    for (int i = 0; i < 10; i++)
        rs[i] = alpha[rnd_below(27)];
    rs[10] = '\0';
    uint64_t v = (index * 7368787 + 1234567) % 14348907; /* 27^5 */
    for (int i = 4; i >= 0; i--) {
        suffix[i] = alpha[v % 27];
        v /= 27;
    }
    suffix[5] = '\0';
    return pool_printf("%s-%s-%s", deployment, rs, suffix);
}

/* ---- vocabulary ------------------------------------------------------------ */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const components[] = {
    "checkout", "payments", "cart", "catalog", "search", "auth", "shipping",
    "inventory", "pricing", "notifications", "recommendations", "frontend", "gateway",
    "orders", "billing", "accounts", "reviews", "media", "ledger", "fraud",
};
static const char *const roles[] = {"api", "worker", "grpc"};
static const char *const namespaces[] = {
    "shop-prod", "shop-staging", "payments-prod", "platform", "default", "kube-system",
};
static const char *const routes[] = {
    "/", "/healthz", "/readyz", "/metrics", "/api/v1/orders", "/api/v1/orders/{id}",
    "/api/v1/orders/{id}/items", "/api/v1/users/{id}", "/api/v1/users/{id}/cart",
    "/api/v1/cart", "/api/v1/cart/items/{item}", "/api/v1/catalog", "/api/v1/catalog/{sku}",
    "/api/v1/search", "/api/v1/payments", "/api/v1/payments/{id}/capture",
    "/api/v1/payments/{id}/refund", "/api/v1/shipments/{id}", "/api/v2/checkout",
    "/api/v2/checkout/{session}", "/api/v2/prices", "/api/v2/reviews/{sku}",
    "/api/v2/recommendations", "/login", "/logout", "/oauth2/token", "/oauth2/authorize",
    "/static/{path}", "/graphql", "/webhooks/stripe", "/webhooks/github", "/admin/{page}",
};
static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
static const char *const codes[] = {
    "200", "201", "204", "301", "400", "401", "403", "404", "409", "429", "500", "502", "503",
};
static const char *const rpc_methods[] = {
    "GetOrder", "ListItems", "Charge", "Reserve", "Lookup", "Authorize", "Refund", "Quote",
};
static const char *const sidecars[] = {"istio-proxy", "log-shipper", "vault-agent"};
static const char *const error_kinds[] = {"timeout", "connection", "decode", "upstream", "disk", "panic"};
/* raw (unescaped) messages: quotes, backslashes and newlines on purpose */
static const char *const error_messages[] = {
    "context deadline exceeded",
    "dial tcp 10.0.3.7:5432: connect: connection refused",
    "invalid character 'x' looking for beginning of value",
    "upstream \"payments\" returned 503",
    "open C:\\data\\queue\\segment-0001.log: access is denied",
    "panic: runtime error: index out of range\ngoroutine 17 [running]",
};
static const char *const queues[] = {"default", "critical", "bulk", "emails", "exports", "reindex"};
static const char *const commands[] = {
    "sync --full",
    "export --format=\"csv\" --out=/tmp/export.csv",
    "reindex --path C:\\indexes\\main",
    "cleanup --older-than 7d",
};

/* Histogram buckets: le in microseconds, their text and OpenMetrics forms
 * (OpenMetrics-1.0.md "Canonical Numbers": "1.0", not "1"). */
static const uint64_t le_us[] = {5000, 10000, 25000, 50000, 100000, 250000, 500000,
                                 1000000, 2500000, 5000000, 10000000};
static const char *const le_text[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                      "0.5", "1", "2.5", "5", "10", "+Inf"};
static const char *const le_om[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                    "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"};
#define NBUCKETS 12 /* 11 bounds + +Inf */

/* ---- state ------------------------------------------------------------------ */

static int om;              /* OpenMetrics output */
static uint64_t limit_bytes;
static uint64_t limit_samples;
static uint64_t nsamples, nfamilies;
static const uint64_t base_time = 1700000000; /* seconds; 2023-11-14 */

static int limit_reached(void)
{
    if (limit_samples)
        return nsamples >= limit_samples;
    return out_total >= limit_bytes;
}

/* "# HELP name text" with the escapes of each format: text escapes only \\
 * and \n in HELP; OpenMetrics also \". */
static void out_help(str name, const char *text)
{
    out_s("# HELP ");
    out_mem(name.p, name.n);
    out_c(' ');
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            out_s("\\\\");
        else if (*p == '\n')
            out_s("\\n");
        else if (*p == '"' && om)
            out_s("\\\"");
        else
            out_c(*p);
    }
    out_c('\n');
}

static void out_meta(str name, const char *type, const char *unit, const char *help)
{
    out_help(name, help);
    out_s("# TYPE ");
    out_mem(name.p, name.n);
    out_c(' ');
    out_s(type);
    out_c('\n');
    if (om && unit) {
        out_s("# UNIT ");
        out_mem(name.p, name.n);
        out_c(' ');
        out_s(unit);
        out_c('\n');
    }
    nfamilies++;
}

/* A label block is written as name="value" pairs; values are pre-escaped. */
typedef struct label {
    const char *name;
    str value;
} label;

static void out_labels(const label *ls, size_t n, const char *extra_name, const char *extra_value)
{
    out_c('{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            out_c(',');
        out_s(ls[i].name);
        out_s("=\"");
        out_mem(ls[i].value.p, ls[i].value.n);
        out_c('"');
    }
    if (extra_name) {
        if (n)
            out_c(',');
        out_s(extra_name);
        out_s("=\"");
        out_s(extra_value);
        out_c('"');
    }
    out_c('}');
}

static void out_sample_start(str family, const char *suffix, const label *ls, size_t n,
                             const char *extra_name, const char *extra_value)
{
    out_mem(family.p, family.n);
    if (suffix)
        out_s(suffix);
    out_labels(ls, n, extra_name, extra_value);
    out_c(' ');
    nsamples++;
}

/* A Unix time in seconds with milliseconds: OpenMetrics timestamps and
 * _created values. */
static void out_time_ms(uint64_t ms)
{
    out_fixed(ms, 3);
}

static void out_created(str family, const label *ls, size_t n, const char *extra_name,
                        const char *extra_value, uint64_t created_ms)
{
    out_sample_start(family, "_created", ls, n, extra_name, extra_value);
    out_time_ms(created_ms);
    out_c('\n');
}

static void out_exemplar(uint64_t value_us, uint64_t ts_ms)
{
    static const char hex[] = "0123456789abcdef";
    char trace[33];
    for (int i = 0; i < 32; i++)
        trace[i] = hex[rnd() & 15];
    trace[32] = '\0';
    out_s(" # {trace_id=\"");
    out_mem(trace, 32);
    out_s("\"} ");
    out_fixed(value_us, 6);
    out_c(' ');
    out_time_ms(ts_ms);
}

/* ---- one group of families (one deployment) ------------------------------------ */

struct route_sel {
    size_t route;
    size_t nmethods;
    size_t method[3];
    size_t ncodes[3];
    size_t code[3][4];
};

typedef struct group {
    str prefix;       /* e.g. checkout_api or checkout_api_2 */
    str ns;
    size_t npods;
    str pod[6], pod_ip[6], pod_uid[6], node[6];
    str image, deployment;
    size_t nroutes;
    struct route_sel rs[8];
    uint64_t created_ms;
} group;

/* A _created time in the week before base_time, in milliseconds. (Every
 * call of rnd() is a statement of its own: the order in which a compiler
 * evaluates function arguments or initialisers is unspecified, and the
 * output must not depend on it.) */
static uint64_t created_time(void)
{
    uint64_t s = base_time - 86400 * 7 + rnd_below(86400 * 6);
    uint64_t ms = rnd_below(1000);
    return s * 1000 + ms;
}

/* choose k distinct indices of [0, n) into out (partial Fisher-Yates) */
static void pick_distinct(size_t n, size_t k, size_t *out)
{
    size_t idx[64];
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)rnd_below(n - i);
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        out[i] = idx[i];
    }
}

static void make_group(group *g, uint64_t gi)
{
    pool_len = 0;
    const char *comp = components[gi % COUNT(components)];
    const char *role = roles[(gi / COUNT(components)) % COUNT(roles)];
    uint64_t cycle = gi / (COUNT(components) * COUNT(roles));
    g->prefix = cycle ? pool_printf("%s_%s_%llu", comp, role, (unsigned long long)cycle + 1)
                      : pool_printf("%s_%s", comp, role);
    g->deployment = cycle ? pool_printf("%s-%s-%llu", comp, role, (unsigned long long)cycle + 1)
                          : pool_printf("%s-%s", comp, role);
    g->ns = pool_printf("%s", namespaces[rnd_below(COUNT(namespaces))]);
    unsigned minor = (unsigned)rnd_below(30);
    unsigned patch = (unsigned)rnd_below(10);
    g->image = pool_printf("registry.example.com/shop/%s-%s:v1.%u.%u", comp, role, minor, patch);
    g->npods = (size_t)rnd_range(2, 6);
    for (size_t i = 0; i < g->npods; i++) {
        g->pod[i] = pod_name(g->deployment.p, gi * 8 + i);
        unsigned ip[3];
        for (int k = 0; k < 3; k++)
            ip[k] = (unsigned)rnd_range(k < 2 ? 0 : 1, k < 2 ? 255 : 254);
        g->pod_ip[i] = pool_printf("10.%u.%u.%u:8080", ip[0], ip[1], ip[2]);
        g->pod_uid[i] = uuid_string();
        for (int k = 0; k < 2; k++)
            ip[k] = (unsigned)rnd_range(k < 1 ? 0 : 1, k < 1 ? 255 : 254);
        g->node[i] = pool_printf("ip-10-0-%u-%u.eu-west-1.compute.internal", ip[0], ip[1]);
    }
    g->nroutes = (size_t)rnd_range(3, 8);
    size_t ridx[8];
    pick_distinct(COUNT(routes), g->nroutes, ridx);
    for (size_t r = 0; r < g->nroutes; r++) {
        struct route_sel *s = &g->rs[r];
        s->route = ridx[r];
        s->nmethods = (size_t)rnd_range(1, 2);
        pick_distinct(COUNT(methods), s->nmethods, s->method);
        for (size_t m = 0; m < s->nmethods; m++) {
            s->ncodes[m] = (size_t)rnd_range(2, 4);
            pick_distinct(COUNT(codes), s->ncodes[m], s->code[m]);
        }
    }
    g->created_ms = created_time();
}

static str lit(const char *s)
{
    return (str){s, strlen(s)};
}

static str family_name(const group *g, const char *base, int total)
{
    /* text counters carry _total in the family name; OpenMetrics does not */
    return pool_printf("%s_%s%s", g->prefix.p, base, total && !om ? "_total" : "");
}

static void fam_requests(const group *g)
{
    str name = family_name(g, "http_requests", 1);
    out_meta(name, "counter", NULL, "Total HTTP requests handled, by route, method and status code.");
    for (size_t p = 0; p < g->npods; p++)
        for (size_t r = 0; r < g->nroutes; r++) {
            const struct route_sel *s = &g->rs[r];
            for (size_t m = 0; m < s->nmethods; m++)
                for (size_t c = 0; c < s->ncodes[m]; c++) {
                    label ls[5] = {{"namespace", g->ns}, {"pod", g->pod[p]},
                                   {"route", lit(routes[s->route])}, {"method", lit(methods[s->method[m]])},
                                   {"code", lit(codes[s->code[m][c]])}};
                    uint64_t v = rnd_below(10000000);
                    out_sample_start(name, om ? "_total" : NULL, ls, 5, NULL, NULL);
                    out_u64(v);
                    if (om && v > 0 && rnd_below(8) == 0)
                        out_exemplar(1000000, base_time * 1000 - rnd_below(600000));
                    out_c('\n');
                    if (om)
                        out_created(name, ls, 5, NULL, NULL, g->created_ms);
                }
        }
}

static void fam_latency(const group *g)
{
    str name = family_name(g, "http_request_duration_seconds", 0);
    out_meta(name, "histogram", "seconds", "Latency of HTTP requests, from the first byte read to the last byte written.");
    const char *const *le = om ? le_om : le_text;
    for (size_t p = 0; p < g->npods; p++)
        for (size_t r = 0; r < g->nroutes; r++) {
            const struct route_sel *s = &g->rs[r];
            for (size_t m = 0; m < s->nmethods; m++) {
                label ls[4] = {{"namespace", g->ns}, {"pod", g->pod[p]},
                               {"route", lit(routes[s->route])}, {"method", lit(methods[s->method[m]])}};
                uint64_t cum = 0, sum_us = 0;
                uint64_t inc[NBUCKETS];
                /* most requests are fast: the increments peak around 50-250 ms */
                static const unsigned weight[NBUCKETS] = {20, 60, 200, 600, 900, 700, 300, 120, 40, 10, 4, 2};
                size_t ex_bucket = NBUCKETS; /* none */
                for (size_t b = 0; b < NBUCKETS; b++) {
                    inc[b] = rnd_below(weight[b] * 10 + 1);
                    uint64_t mid = b < NBUCKETS - 1 ? le_us[b] * 3 / 4 : 15000000;
                    sum_us += inc[b] * mid;
                    if (inc[b] && b < NBUCKETS - 1 && ex_bucket == NBUCKETS && rnd_below(12) == 0)
                        ex_bucket = b;
                }
                for (size_t b = 0; b < NBUCKETS; b++) {
                    cum += inc[b];
                    out_sample_start(name, "_bucket", ls, 4, "le", le[b]);
                    out_u64(cum);
                    if (om && b == ex_bucket) {
                        /* inside (previous le, le]: bounds grow by 2x or more */
                        uint64_t v = le_us[b] - rnd_below(le_us[b] / 5);
                        out_exemplar(v, base_time * 1000 - rnd_below(600000));
                    }
                    out_c('\n');
                }
                out_sample_start(name, "_sum", ls, 4, NULL, NULL);
                out_fixed(sum_us, 6);
                out_c('\n');
                out_sample_start(name, "_count", ls, 4, NULL, NULL);
                out_u64(cum);
                out_c('\n');
                if (om)
                    out_created(name, ls, 4, NULL, NULL, g->created_ms);
            }
        }
}

static void fam_rpc(const group *g)
{
    str name = family_name(g, "rpc_client_duration_seconds", 0);
    out_meta(name, "summary", "seconds", "Duration of outgoing RPCs by target service and method.");
    size_t nsvc = (size_t)rnd_range(2, 3), nm = (size_t)rnd_range(2, 3);
    size_t svc[4], meth[4];
    pick_distinct(COUNT(components), nsvc, svc);
    pick_distinct(COUNT(rpc_methods), nm, meth);
    static const char *const q[] = {"0.5", "0.9", "0.99"};
    for (size_t p = 0; p < g->npods; p++)
        for (size_t a = 0; a < nsvc; a++)
            for (size_t b = 0; b < nm; b++) {
                label ls[3] = {{"service", lit(components[svc[a]])}, {"method", lit(rpc_methods[meth[b]])},
                               {"instance", g->pod_ip[p]}};
                uint64_t v = rnd_range(500, 20000); /* microseconds */
                for (size_t i = 0; i < 3; i++) {
                    out_sample_start(name, NULL, ls, 3, "quantile", q[i]);
                    out_fixed(v, 6);
                    out_c('\n');
                    v = v * 2 + rnd_below(1000);
                }
                uint64_t count = rnd_range(100, 5000000);
                out_sample_start(name, "_sum", ls, 3, NULL, NULL);
                out_fixed(count * rnd_range(800, 3000), 6);
                out_c('\n');
                out_sample_start(name, "_count", ls, 3, NULL, NULL);
                out_u64(count);
                out_c('\n');
                if (om)
                    out_created(name, ls, 3, NULL, NULL, g->created_ms);
            }
}

static void fam_memory(const group *g)
{
    str name = family_name(g, "container_memory_working_set_bytes", 0);
    out_meta(name, "gauge", "bytes", "Current working set of the container in bytes (cAdvisor).");
    for (size_t p = 0; p < g->npods; p++) {
        size_t nc = (size_t)rnd_range(1, 2);
        for (size_t c = 0; c < nc; c++) {
            str container = c == 0 ? g->deployment : lit(sidecars[rnd_below(COUNT(sidecars))]);
            str id = pool_printf("/kubepods/burstable/pod%s/%s", g->pod_uid[p].p, hex_string(64).p);
            label ls[6] = {{"container", container}, {"id", id},
                           {"image", c == 0 ? g->image : lit("docker.io/istio/proxyv2:1.20.1")},
                           {"namespace", g->ns}, {"node", g->node[p]}, {"pod", g->pod[p]}};
            out_sample_start(name, NULL, ls, 6, NULL, NULL);
            out_u64(rnd_range(20u << 20, 2ull << 30));
            out_c(' ');
            uint64_t ts = base_time * 1000 - rnd_below(15000);
            if (om)
                out_time_ms(ts);
            else
                out_u64(ts);
            out_c('\n');
        }
    }
}

static void fam_jobs(const group *g)
{
    str name = family_name(g, "job_last_run_status", 0);
    out_meta(name, om ? "unknown" : "untyped", NULL,
             "Exit status of the last run of each background job (0 = success).");
    size_t n = (size_t)rnd_range(3, 10);
    for (size_t i = 0; i < n; i++) {
        str job = uuid_string();
        str queue = lit(queues[rnd_below(COUNT(queues))]);
        str worker = g->pod[rnd_below(g->npods)];
        str command = pool_escaped(commands[rnd_below(COUNT(commands))]);
        label ls[4] = {{"job_id", job}, {"queue", queue}, {"worker", worker}, {"command", command}};
        out_sample_start(name, NULL, ls, 4, NULL, NULL);
        out_u64(rnd_below(4) == 0 ? rnd_range(1, 2) : 0);
        out_c('\n');
    }
}

static void fam_errors(const group *g)
{
    str name = family_name(g, "errors", 1);
    out_meta(name, "counter", NULL,
             "Errors by kind. The \"error\" label holds the last message, e.g. \"open C:\\data\\x.log\";\n"
             "newlines in messages are escaped.");
    for (size_t p = 0; p < g->npods; p++) {
        size_t nk = (size_t)rnd_range(2, 4), kind[4];
        pick_distinct(COUNT(error_kinds), nk, kind);
        for (size_t k = 0; k < nk; k++) {
            label ls[4] = {{"namespace", g->ns}, {"pod", g->pod[p]}, {"kind", lit(error_kinds[kind[k]])},
                           {"error", pool_escaped(error_messages[rnd_below(COUNT(error_messages))])}};
            out_sample_start(name, om ? "_total" : NULL, ls, 4, NULL, NULL);
            out_u64(rnd_below(5000));
            out_c('\n');
            if (om)
                out_created(name, ls, 4, NULL, NULL, g->created_ms);
        }
    }
}

static void gen_mixed(void)
{
    static void (*const fams[])(const group *) = {fam_requests, fam_latency, fam_rpc,
                                                  fam_memory,   fam_jobs,    fam_errors};
    group g;
    for (uint64_t gi = 0;; gi++) {
        make_group(&g, gi);
        for (size_t f = 0; f < COUNT(fams); f++) {
            fams[f](&g);
            if (limit_reached())
                return;
        }
    }
}

/* One counter family; series i is (pod, route, method, code) by digits of i,
 * so every label set is distinct. */
static void gen_one_family(void)
{
    str name = lit(om ? "http_requests" : "http_requests_total");
    out_meta(name, "counter", NULL, "Total HTTP requests handled, by pod, route, method and status code.");
    enum { NCODES = 8, NMETHODS = 4, NROUTES = 32 };
    const uint64_t per_pod = NCODES * NMETHODS * NROUTES;
    str pod = {0}, ns = {0};
    uint64_t created_ms = 0;
    for (uint64_t i = 0;; i++) {
        uint64_t pi = i / per_pod;
        if (i % per_pod == 0) {
            pool_len = 0;
            ns = lit(namespaces[pi % COUNT(namespaces)]);
            const char *comp = components[pi % COUNT(components)];
            str dep = pool_printf("%s-%s", comp, roles[(pi / COUNT(components)) % COUNT(roles)]);
            pod = pod_name(dep.p, pi);
            created_ms = created_time();
        }
        uint64_t r = i % per_pod;
        label ls[5] = {{"namespace", ns}, {"pod", pod}, {"route", lit(routes[(r / (NCODES * NMETHODS)) % NROUTES])},
                       {"method", lit(methods[(r / NCODES) % NMETHODS])}, {"code", lit(codes[r % NCODES])}};
        uint64_t v = rnd_below(10000000);
        out_sample_start(name, om ? "_total" : NULL, ls, 5, NULL, NULL);
        out_u64(v);
        if (om && v > 0 && rnd_below(16) == 0)
            out_exemplar(1000000, base_time * 1000 - rnd_below(600000));
        out_c('\n');
        if (om)
            out_created(name, ls, 5, NULL, NULL, created_ms);
        if (limit_reached())
            return;
    }
}

/* ---- main --------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: gen_exposition [--seed N] [--size MB] [--series N] [--format text|openmetrics]\n"
          "                      [--variant mixed|one-family] [-o FILE] [--stats FILE]\n"
          "  --size MB     stop at the first family (one-family: series) boundary at or after\n"
          "                MB * 10^6 bytes (default 1; fractions allowed)\n"
          "  --series N    stop after N sample lines instead (same boundaries)\n"
          "  --stats FILE  write {\"bytes\":..,\"families\":..,\"samples\":..} there\n",
          f);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || *s == '-')
        die("invalid %s '%s': expected a whole number", opt, s);
    return v;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    double size_mb = 1;
    const char *variant = "mixed", *file = NULL, *stats = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--seed") == 0) {
            seed = parse_u64(a, v);
        } else if (strcmp(a, "--size") == 0) {
            char *end;
            size_mb = strtod(v, &end);
            if (*end || !(size_mb > 0) || size_mb > 1e6)
                die("invalid --size '%s': expected megabytes, e.g. 100 or 0.5", v);
        } else if (strcmp(a, "--series") == 0) {
            limit_samples = parse_u64(a, v);
            if (!limit_samples)
                die("--series must be at least 1");
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "openmetrics") == 0)
                om = 1;
            else if (strcmp(v, "text") != 0)
                die("invalid --format '%s': expected text or openmetrics", v);
        } else if (strcmp(a, "--variant") == 0) {
            if (strcmp(v, "mixed") != 0 && strcmp(v, "one-family") != 0)
                die("invalid --variant '%s': expected mixed or one-family", v);
            variant = v;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            file = v;
        } else if (strcmp(a, "--stats") == 0) {
            stats = v;
        } else {
            usage(stderr);
            return 2;
        }
    }
    limit_bytes = (uint64_t)(size_mb * 1e6);
    rng_state = seed;
    if (file) {
        out_fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out_fd < 0)
            die("%s: %s", file, strerror(errno));
        out_name = file;
    }
    if (strcmp(variant, "mixed") == 0)
        gen_mixed();
    else
        gen_one_family();
    if (om)
        out_s("# EOF\n");
    out_flush();
    if (file && close(out_fd) != 0)
        die("%s: %s", file, strerror(errno));
    if (stats) {
        FILE *f = fopen(stats, "w");
        if (!f)
            die("%s: %s", stats, strerror(errno));
        fprintf(f, "{\"format\": \"%s\", \"variant\": \"%s\", \"seed\": %llu, \"bytes\": %llu, "
                   "\"families\": %llu, \"samples\": %llu}\n",
                om ? "openmetrics" : "text", variant, (unsigned long long)seed,
                (unsigned long long)out_total, (unsigned long long)nfamilies, (unsigned long long)nsamples);
        if (fclose(f) != 0)
            die("%s: %s", stats, strerror(errno));
    }
    return 0;
}
