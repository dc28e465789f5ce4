/*
 * promscope scrape: fetch targets like Prometheus 3 does; print one body,
 * write one file per target, or print a per-target summary (docs/scrape.md,
 * docs/man/promscope-scrape.1.scd).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "netopts.h"

static const char scrape_options[] =
    "  --summary             a table per target: URL, HTTP status, format, bytes\n"
    "                        (compressed/uncompressed), families, series, time to first byte,\n"
    "                        total time, error (the default for more than one target)\n"
    "  --output table|json   form of the summary (json implies --summary)\n"
    "  -o, --output-dir DIR  write one file per target, named from host, port and path\n"
    "                        (.prom for the text formats, .om for OpenMetrics)\n"
    "  --parallel N          transfers in flight at most (default 8)\n"
    "  --targets-from URL    also scrape the active targets of this Prometheus server\n"
    "  --format F            fallback when a response has no usable Content-Type\n"
    "                        (text, text-0.0.4, text-1.0.0, openmetrics); warns\n"
    NET_OPTIONS_HELP
    "  -h, --help            show this help\n";

struct row {
    char *source;     /* redacted, escaped URL */
    char *file;       /* -o: path written */
    char *error;      /* our own error (file write), else NULL */
    long long families, series; /* -1 when not counted */
    size_t parse_errors;
};

/* A body to count, handed from on_done to the counting threads. */
struct job {
    size_t index;
    char *body; /* owned; freed once counted */
    size_t len;
    psc_format format;
};

/* With --summary the bodies are parsed by worker threads, so that the
 * fetch loop's thread only fetches and the parses of a batch of targets
 * that finished together run side by side (docs/performance.md "Scrape").
 * A bounded queue: on_done waits when it is full, which holds back new
 * transfers (psc_fetch_many starts none while its callback runs), so the
 * bodies in memory stay bounded. */
struct pool {
    pthread_mutex_t mu;
    pthread_cond_t can_take, can_put;
    struct job ring[16];
    size_t head, count;
    bool closing;
    pthread_t threads[4];
    size_t nthreads;
    bool oom; /* a worker ran out of memory */
};

struct scrape_ctx {
    psc_fetch_result *results;
    struct row *rows;
    size_t n;
    bool summary;       /* count families and series */
    const char *outdir; /* write files */
    bool progress;      /* progress line on stderr */
    bool keep_body;     /* single target to stdout */
    char **names;       /* file names used so far (collisions) */
    size_t nnames;
    bool oom;
    struct pool pool;
};

static void progress_clear(struct scrape_ctx *c)
{
    if (c->progress)
        fputs("\r\033[K", stderr);
}

static void on_progress(void *ctx, size_t done, size_t total, size_t running)
{
    struct scrape_ctx *c = ctx;
    if (!c->progress)
        return;
    fprintf(stderr, "\r\033[Kscraping: %zu/%zu done, %zu in flight", done, total, running);
    fflush(stderr);
}

/* File name for url: host_port[_path][_query], characters outside
 * [A-Za-z0-9._-] as '_', at most 180 bytes, then the extension. */
static char *file_name(struct scrape_ctx *c, const char *url, psc_format f)
{
    const char *p = strstr(url, "://");
    bool https = strncmp(url, "https", 5) == 0;
    p = p ? p + 3 : url;
    size_t al = strcspn(p, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < al; i++)
        if (p[i] == '@')
            at = p + i;
    if (at) { /* never put userinfo into a file name */
        al -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    /* host and port; [v6]:port */
    size_t hl = al;
    const char *port = NULL;
    if (p[0] == '[') {
        const char *rb = memchr(p, ']', al);
        if (rb) {
            hl = (size_t)(rb + 1 - p);
            if (hl < al && p[hl] == ':')
                port = p + hl + 1;
        }
    } else {
        const char *colon = memchr(p, ':', al);
        if (colon) {
            hl = (size_t)(colon - p);
            port = colon + 1;
        }
    }
    char buf[256];
    size_t w = 0;
    for (size_t i = 0; i < hl && i < 120; i++)
        buf[w++] = p[i];
    buf[w++] = '_';
    if (port) {
        for (const char *q = port; q < p + al && w < 130; q++)
            buf[w++] = *q;
    } else {
        const char *dp = https ? "443" : "80";
        memcpy(buf + w, dp, strlen(dp));
        w += strlen(dp);
    }
    const char *rest = p + al; /* path, query; fragment dropped */
    size_t rl = strcspn(rest, "#");
    if (rl > 1 || (rl == 1 && rest[0] != '/')) {
        for (size_t i = 0; i < rl && w < 180; i++) {
            if (i == 0 && rest[i] == '/')
                buf[w++] = '_';
            else
                buf[w++] = rest[i];
        }
    }
    buf[w] = '\0';
    for (size_t i = 0; i < w; i++) {
        char ch = buf[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '-' || ch == '_'))
            buf[i] = '_';
    }
    while (w > 0 && buf[w - 1] == '_')
        buf[--w] = '\0';
    if (w == 0 || buf[0] == '.')
        buf[0] = '_';
    const char *ext = f == PSC_FORMAT_OPENMETRICS_1_0 ? ".om" : ".prom";
    /* Two targets with the same name (e.g. differing only in the fragment
     * or in characters that became '_') get -2, -3, ... */
    char name[300];
    for (unsigned k = 1; k < 100000; k++) {
        if (k == 1)
            snprintf(name, sizeof name, "%s%s", buf, ext);
        else
            snprintf(name, sizeof name, "%s-%u%s", buf, k, ext);
        bool used = false;
        for (size_t i = 0; i < c->nnames && !used; i++)
            used = strcmp(c->names[i], name) == 0;
        if (!used)
            break;
    }
    char *dup = strdup(name);
    char **nn = realloc(c->names, (c->nnames + 1) * sizeof *nn);
    if (!dup || !nn) {
        free(dup);
        if (nn)
            c->names = nn;
        return NULL;
    }
    c->names = nn;
    c->names[c->nnames++] = dup;
    size_t dl = strlen(c->outdir);
    char *path = malloc(dl + strlen(name) + 2);
    if (path)
        sprintf(path, "%s%s%s", c->outdir, dl && c->outdir[dl - 1] == '/' ? "" : "/", name);
    return path;
}

static int write_all(const char *path, const char *data, size_t len, int *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            *err = errno;
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        *err = errno;
        return -1;
    }
    return 0;
}

/* Count the families and series of one body into its row; false when out
 * of memory. Runs in a worker thread or in on_done: touches only the row. */
static bool count_body(struct row *row, const char *body, size_t len, psc_format format)
{
    psc_parse_opts po;
    psc_parse_opts_init(&po);
    po.format = format;
    po.max_threads = 1; /* the bodies are parsed side by side already, one per CPU */
    psc_model *m = NULL;
    psc_diag_list diags;
    psc_diag_list_init(&diags);
    psc_status st = psc_model_parse(body ? body : "", len, &po, &m, &diags);
    bool ok = st != PSC_E_NOMEM && m;
    if (ok) {
        row->families = (long long)psc_model_family_count(m);
        row->series = (long long)psc_model_series_count(m);
        row->parse_errors = diags.nerrors;
    }
    psc_model_free(m);
    psc_diag_list_release(&diags);
    return ok;
}

static void *pool_worker(void *arg)
{
    struct scrape_ctx *c = arg;
    struct pool *p = &c->pool;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->count == 0 && !p->closing)
            pthread_cond_wait(&p->can_take, &p->mu);
        if (p->count == 0)
            break;
        struct job j = p->ring[p->head];
        p->head = (p->head + 1) % (sizeof p->ring / sizeof p->ring[0]);
        p->count--;
        pthread_cond_signal(&p->can_put);
        pthread_mutex_unlock(&p->mu);
        bool ok = count_body(&c->rows[j.index], j.body, j.len, j.format);
        free(j.body);
        pthread_mutex_lock(&p->mu);
        if (!ok)
            p->oom = true;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Start up to `want` workers; with none (one CPU, or no thread could be
 * created) on_done counts the bodies itself. */
static void pool_start(struct scrape_ctx *c, size_t want)
{
    struct pool *p = &c->pool;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->can_take, NULL);
    pthread_cond_init(&p->can_put, NULL);
    if (want > sizeof p->threads / sizeof p->threads[0])
        want = sizeof p->threads / sizeof p->threads[0];
    while (p->nthreads < want && pthread_create(&p->threads[p->nthreads], NULL, pool_worker, c) == 0)
        p->nthreads++;
}

/* Wait for the queue to be counted, end the workers. */
static void pool_finish(struct scrape_ctx *c)
{
    struct pool *p = &c->pool;
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    pthread_cond_broadcast(&p->can_take);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->can_put);
    pthread_cond_destroy(&p->can_take);
    pthread_mutex_destroy(&p->mu);
}

/* Hand a body to the workers (they free it); waits while the queue is full. */
static void pool_put(struct pool *p, size_t index, char *body, size_t len, psc_format format)
{
    const size_t cap = sizeof p->ring / sizeof p->ring[0];
    pthread_mutex_lock(&p->mu);
    while (p->count == cap)
        pthread_cond_wait(&p->can_put, &p->mu);
    p->ring[(p->head + p->count) % cap] = (struct job){index, body, len, format};
    p->count++;
    pthread_cond_signal(&p->can_take);
    pthread_mutex_unlock(&p->mu);
}

static void on_done(void *ctx, size_t i, psc_fetch_result *r)
{
    struct scrape_ctx *c = ctx;
    struct row *row = &c->rows[i];
    row->families = row->series = -1;
    if (r->status != PSC_OK)
        goto out;
    if (c->summary && !c->pool.nthreads && !count_body(row, r->body, r->body_len, r->format))
        c->oom = true;
    if (c->outdir) {
        row->file = file_name(c, r->url ? r->url : "", r->format);
        int e = ENOMEM;
        if (!row->file || write_all(row->file, r->body ? r->body : "", r->body_len, &e) != 0) {
            size_t need = (row->file ? strlen(row->file) : 0) + 128;
            row->error = malloc(need);
            if (row->error)
                snprintf(row->error, need, "cannot write '%s': %s", row->file ? row->file : "", strerror(e));
            else
                c->oom = true;
        }
    }
    if (c->summary && c->pool.nthreads) {
        /* the workers count it, then free it */
        pool_put(&c->pool, i, r->body, r->body_len, r->format);
        r->body = NULL;
    }
out:
    if (!c->keep_body) {
        /* Keep memory flat across many targets: the body is not needed
         * any more. */
        free(r->body);
        r->body = NULL;
    }
}

static bool row_ok(const psc_fetch_result *r, const struct row *row)
{
    return r->status == PSC_OK && !row->error;
}

static const char *row_error(const psc_fetch_result *r, const struct row *row)
{
    if (r->status != PSC_OK)
        return r->error ? r->error : psc_status_name(r->status);
    return row->error;
}

static void human_bytes(char *buf, size_t cap, unsigned long long n)
{
    if (n < 1024)
        snprintf(buf, cap, "%lluB", n);
    else if (n < 1024ull * 1024)
        snprintf(buf, cap, "%.1fKiB", (double)n / 1024.0);
    else if (n < 1024ull * 1024 * 1024)
        snprintf(buf, cap, "%.1fMiB", (double)n / 1048576.0);
    else
        snprintf(buf, cap, "%.1fGiB", (double)n / 1073741824.0);
}

static void human_secs(char *buf, size_t cap, double s)
{
    if (!(s > 0))
        snprintf(buf, cap, "-");
    else if (s < 1)
        snprintf(buf, cap, "%.1fms", s * 1000.0);
    else
        snprintf(buf, cap, "%.2fs", s);
}

/* Display width of s as printed by cli_print_escaped (bytes; UTF-8
 * continuation bytes do not count). */
static size_t disp_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            w++;
    return w;
}

static void pad(FILE *f, size_t have, size_t want)
{
    for (size_t i = have; i < want; i++)
        fputc(' ', f);
}

enum { COL_URL, COL_STATUS, COL_FORMAT, COL_BYTES, COL_FAM, COL_SERIES, COL_TTFB, COL_TOTAL, COL_ERROR, NCOL };

static void print_table(const struct scrape_ctx *c)
{
    static const char *const head[NCOL] = {"URL",    "STATUS", "FORMAT", "BYTES (COMPRESSED/RAW)", "FAMILIES",
                                           "SERIES", "TTFB",   "TOTAL",  "ERROR"};
    size_t width[NCOL];
    for (int k = 0; k < NCOL; k++)
        width[k] = strlen(head[k]);
    char cell[NCOL][96];
    /* two passes: widths, then print */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (int k = 0; k < NCOL; k++) {
                fputs(head[k], stdout);
                if (k + 1 < NCOL)
                    pad(stdout, strlen(head[k]), width[k] + 2);
            }
            fputc('\n', stdout);
        }
        for (size_t i = 0; i < c->n; i++) {
            const psc_fetch_result *r = &c->results[i];
            const struct row *row = &c->rows[i];
            char a[40], b[40];
            if (r->http_status)
                snprintf(cell[COL_STATUS], sizeof cell[0], "%ld", r->http_status);
            else
                snprintf(cell[COL_STATUS], sizeof cell[0], "-");
            snprintf(cell[COL_FORMAT], sizeof cell[0], "%s%s",
                     r->format == PSC_FORMAT_AUTO ? "-" : psc_format_name(r->format),
                     r->format_fallback ? " (fallback)" : "");
            if (r->http_status) {
                human_bytes(a, sizeof a, (unsigned long long)r->bytes_compressed);
                human_bytes(b, sizeof b, (unsigned long long)r->bytes_uncompressed);
                snprintf(cell[COL_BYTES], sizeof cell[0], "%s/%s", a, b);
            } else {
                snprintf(cell[COL_BYTES], sizeof cell[0], "-");
            }
            if (row->families >= 0) {
                snprintf(cell[COL_FAM], sizeof cell[0], "%lld", row->families);
                snprintf(cell[COL_SERIES], sizeof cell[0], "%lld", row->series);
            } else {
                snprintf(cell[COL_FAM], sizeof cell[0], "-");
                snprintf(cell[COL_SERIES], sizeof cell[0], "-");
            }
            human_secs(cell[COL_TTFB], sizeof cell[0], r->ttfb_s);
            human_secs(cell[COL_TOTAL], sizeof cell[0], r->total_s);
            const char *src = row->source ? row->source : "";
            const char *err = row_error(r, row);
            if (pass == 0) {
                size_t sw = disp_width(src);
                if (sw > width[COL_URL])
                    width[COL_URL] = sw;
                for (int k = COL_STATUS; k < COL_ERROR; k++)
                    if (strlen(cell[k]) > width[k])
                        width[k] = strlen(cell[k]);
                continue;
            }
            fputs(src, stdout);
            pad(stdout, disp_width(src), width[COL_URL] + 2);
            for (int k = COL_STATUS; k < COL_ERROR; k++) {
                fputs(cell[k], stdout);
                bool last = k + 1 == COL_ERROR && !err && !row->parse_errors;
                if (!last)
                    pad(stdout, strlen(cell[k]), width[k] + 2);
            }
            if (err) {
                cli_print_escaped(stdout, err, strlen(err));
            } else if (row->parse_errors) {
                fprintf(stdout, "%zu invalid line%s (see promscope validate)", row->parse_errors,
                        row->parse_errors == 1 ? "" : "s");
            }
            fputc('\n', stdout);
        }
    }
}

static void json_str_or_null(const char *s)
{
    if (s)
        cli_json_string(stdout, s, strlen(s));
    else
        fputs("null", stdout);
}

static void print_json(const struct scrape_ctx *c)
{
    fputc('[', stdout);
    for (size_t i = 0; i < c->n; i++) {
        const psc_fetch_result *r = &c->results[i];
        const struct row *row = &c->rows[i];
        fputs(i ? ",\n {" : "\n {", stdout);
        fputs("\"url\":", stdout);
        json_str_or_null(r->url);
        fputs(",\"effective_url\":", stdout);
        json_str_or_null(r->effective_url);
        fprintf(stdout, ",\"ok\":%s", row_ok(r, row) ? "true" : "false");
        if (r->http_status)
            fprintf(stdout, ",\"http_status\":%ld", r->http_status);
        else
            fputs(",\"http_status\":null", stdout);
        fputs(",\"status_line\":", stdout);
        json_str_or_null(r->status_line);
        fputs(",\"content_type\":", stdout);
        json_str_or_null(r->content_type);
        fputs(",\"format\":", stdout);
        json_str_or_null(r->format == PSC_FORMAT_AUTO ? NULL : psc_format_name(r->format));
        fprintf(stdout, ",\"format_fallback\":%s", r->format_fallback ? "true" : "false");
        fprintf(stdout, ",\"redirects\":%d", r->redirects);
        fprintf(stdout, ",\"bytes_compressed\":%llu,\"bytes_uncompressed\":%llu",
                (unsigned long long)r->bytes_compressed, (unsigned long long)r->bytes_uncompressed);
        if (row->families >= 0)
            fprintf(stdout, ",\"families\":%lld,\"series\":%lld,\"parse_errors\":%zu", row->families, row->series,
                    row->parse_errors);
        else
            fputs(",\"families\":null,\"series\":null,\"parse_errors\":null", stdout);
        fprintf(stdout, ",\"ttfb_seconds\":%.6f,\"total_seconds\":%.6f", r->ttfb_s, r->total_s);
        if (row->file) {
            fputs(",\"file\":", stdout);
            json_str_or_null(row->error ? NULL : row->file);
        }
        fputs(",\"error\":", stdout);
        json_str_or_null(row_error(r, row));
        fputc('}', stdout);
    }
    fputs(c->n ? "\n]\n" : "]\n", stdout);
}

static int add_url(char ***urls, size_t *n, size_t *cap, const char *u)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **nu = realloc(*urls, nc * sizeof *nu);
        if (!nu)
            return -1;
        *urls = nu;
        *cap = nc;
    }
    (*urls)[*n] = strdup(u);
    if (!(*urls)[*n])
        return -1;
    (*n)++;
    return 0;
}

int cmd_scrape(int argc, char **argv)
{
    const struct cli_command *self = cli_find_command("scrape");
    struct cli_net_opts net;
    cli_net_opts_init(&net);
    enum { O_SUMMARY = 1000, O_OUTPUT, O_PARALLEL, O_TARGETS_FROM, O_FORMAT };
    static const struct option opts[] = {
        {"summary", no_argument, NULL, O_SUMMARY},
        {"output", required_argument, NULL, O_OUTPUT},
        {"output-dir", required_argument, NULL, 'o'},
        {"parallel", required_argument, NULL, O_PARALLEL},
        {"targets-from", required_argument, NULL, O_TARGETS_FROM},
        {"format", required_argument, NULL, O_FORMAT},
        NET_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool summary = false, json = false;
    const char *outdir = NULL, *targets_from = NULL;
    long parallel = PSC_FETCH_DEFAULT_PARALLEL;
    psc_format fallback = PSC_FORMAT_AUTO;
    int c, rc = EXIT_OK;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case O_SUMMARY:
            summary = true;
            break;
        case O_OUTPUT:
            if (strcmp(optarg, "table") == 0) {
                json = false;
            } else if (strcmp(optarg, "json") == 0) {
                json = true;
            } else {
                rc = cli_usage_error("scrape", "invalid --output '%s': expected table or json", optarg);
                goto done;
            }
            summary = true;
            break;
        case 'o':
            if (!*optarg) {
                rc = cli_usage_error("scrape", "empty --output-dir");
                goto done;
            }
            outdir = optarg;
            break;
        case O_PARALLEL: {
            char *end;
            errno = 0;
            parallel = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || parallel < 1 || parallel > 1000) {
                rc = cli_usage_error("scrape", "invalid --parallel '%s': expected 1 to 1000", optarg);
                goto done;
            }
            break;
        }
        case O_TARGETS_FROM:
            if (!cli_is_url(optarg)) {
                rc = cli_usage_error("scrape", "invalid --targets-from '%s': expected an http:// or https:// URL",
                                     optarg);
                goto done;
            }
            targets_from = optarg;
            break;
        case O_FORMAT:
            if (cli_parse_format(optarg, &fallback)) {
                rc = cli_usage_error("scrape", "invalid --format '%s'", optarg);
                goto done;
            }
            break;
        case 'h':
            cli_print_command_help(stdout, self, scrape_options);
            rc = cli_finish(EXIT_OK);
            goto done;
        default:
            if ((rc = cli_parse_net_option(c, optarg, &net, "scrape")) >= 0) {
                if (rc)
                    goto done;
                break;
            }
            rc = cli_usage_error("scrape", "unknown option '%s'", argv[optind - 1]);
            goto done;
        }
    }
    rc = EXIT_OK;
    if (optind >= argc && !targets_from) {
        rc = cli_usage_error("scrape", "missing URL (or --targets-from SERVER_URL)");
        goto done;
    }
    for (int i = optind; i < argc; i++) {
        if (!cli_is_url(argv[i])) {
            char *e = cli_escape_dup(argv[i]);
            rc = cli_usage_error("scrape", "'%s' is not an http:// or https:// URL", e ? e : "");
            free(e);
            goto done;
        }
    }
    if ((rc = cli_net_opts_finish(&net, "scrape")) != 0)
        goto done;
    if ((rc = cli_net_set_fallback_format(&net, fallback)) != 0)
        goto done;

    char **urls = NULL;
    size_t n = 0, cap = 0;
    for (int i = optind; i < argc; i++) {
        if (add_url(&urls, &n, &cap, argv[i])) {
            cli_errorf("out of memory");
            rc = EXIT_RUNTIME;
            goto free_urls;
        }
    }
    if (targets_from) {
        char **tu = NULL;
        size_t tn = 0;
        if ((rc = cli_targets_from(targets_from, &net, &tu, &tn)) != 0)
            goto free_urls;
        if (tn == 0) {
            char *src = cli_url_source(targets_from);
            cli_warnf("%s has no active targets", src ? src : "the server");
            free(src);
        }
        for (size_t i = 0; i < tn; i++) {
            if (rc == 0 && add_url(&urls, &n, &cap, tu[i])) {
                cli_errorf("out of memory");
                rc = EXIT_RUNTIME;
            }
            free(tu[i]);
        }
        free(tu);
        if (rc)
            goto free_urls;
        if (n == 0) {
            rc = EXIT_OK;
            goto free_urls;
        }
    }
    if (!outdir && n > 1)
        summary = true; /* bodies of many targets on stdout would not parse */

    if (outdir && mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        cli_errorf("cannot create directory '%s': %s", outdir, strerror(errno));
        rc = EXIT_RUNTIME;
        goto free_urls;
    }
    struct stat st;
    if (outdir && (stat(outdir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        cli_errorf("'%s' is not a directory", outdir);
        rc = EXIT_RUNTIME;
        goto free_urls;
    }

    int frc = 0;
    psc_fetch_opts fo = *cli_net_fetch_opts(&net, &frc);
    fo.scrape = true;
    fo.fallback_format = fallback;
    struct scrape_ctx ctx = {0};
    ctx.n = n;
    ctx.summary = summary;
    ctx.outdir = outdir;
    ctx.keep_body = !summary && !outdir;
    ctx.progress = n > 1 && g_cli.stderr_tty && !g_cli.quiet;
    ctx.results = calloc(n, sizeof *ctx.results);
    ctx.rows = calloc(n, sizeof *ctx.rows);
    if (!ctx.results || !ctx.rows) {
        free(ctx.results);
        free(ctx.rows);
        cli_errorf("out of memory");
        rc = EXIT_RUNTIME;
        goto free_urls;
    }
    for (size_t i = 0; i < n; i++) {
        ctx.rows[i].source = cli_url_source(urls[i]);
        ctx.rows[i].families = ctx.rows[i].series = -1;
    }
    /* Counting threads: one per CPU (at most 4), none for one target. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (summary && n > 1 && ncpu > 1)
        pool_start(&ctx, (size_t)ncpu < n ? (size_t)ncpu : n);
    psc_fetch_many((const char *const *)urls, n, &fo, (size_t)parallel, ctx.results, on_done, on_progress, &ctx);
    if (summary && n > 1 && ncpu > 1) {
        pool_finish(&ctx);
        ctx.oom |= ctx.pool.oom;
    }
    progress_clear(&ctx);

    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        psc_fetch_result *r = &ctx.results[i];
        if (!row_ok(r, &ctx.rows[i]))
            failed++;
        if (r->format_fallback) {
            if (r->content_type) {
                char *ct = cli_escape_dup(r->content_type);
                cli_warnf("%s: unsupported Content-Type '%s'; parsed as %s (--format)", ctx.rows[i].source,
                          ct ? ct : "", psc_format_name(r->format));
                free(ct);
            } else {
                cli_warnf("%s: response has no Content-Type; parsed as %s (--format)", ctx.rows[i].source,
                          psc_format_name(r->format));
            }
        }
        /* Without a summary, errors go to stderr. */
        if (!summary && !row_ok(r, &ctx.rows[i])) {
            const char *e = row_error(r, &ctx.rows[i]);
            cli_errorf("%s: %s", ctx.rows[i].source ? ctx.rows[i].source : "", e ? e : "failed");
        }
    }
    if (ctx.oom) {
        cli_errorf("out of memory");
        failed++;
    }
    if (summary) {
        if (json)
            print_json(&ctx);
        else
            print_table(&ctx);
        if (failed && n > 1)
            cli_errorf("%zu of %zu targets failed", failed, n);
    } else if (!outdir) {
        psc_fetch_result *r = &ctx.results[0];
        if (r->status == PSC_OK && r->body_len)
            fwrite(r->body, 1, r->body_len, stdout);
    }
    rc = failed ? EXIT_RUNTIME : EXIT_OK;

    for (size_t i = 0; i < n; i++) {
        psc_fetch_result_release(&ctx.results[i]);
        free(ctx.rows[i].source);
        free(ctx.rows[i].file);
        free(ctx.rows[i].error);
    }
    for (size_t i = 0; i < ctx.nnames; i++)
        free(ctx.names[i]);
    free(ctx.names);
    free(ctx.results);
    free(ctx.rows);
free_urls:
    for (size_t i = 0; i < n; i++)
        free(urls[i]);
    free(urls);
    cli_net_opts_release(&net);
    return cli_finish(rc);
done:
    cli_net_opts_release(&net);
    return rc;
}
