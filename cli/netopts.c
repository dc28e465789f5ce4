/*
 * The shared server options of DESIGN.md section 4 (cli/netopts.h): limits,
 * headers, auth and TLS, turned into a psc_fetch_opts; the secrets rules of
 * BAD-INPUTS H5/H6; --targets-from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netopts.h"
#include "promscope/promapi.h"

#define SECRET_MAX (64 * 1024)

struct net_priv {
    psc_fetch_opts fetch;
    bool finished;
    int finish_rc;
    const char *cmd;
    /* what the options said, before finish */
    const char *token_file;
    const char *password_file;
    /* owned */
    char *token;
    char *password;
    const char **headers; /* point into argv */
    size_t nheaders, cap_headers;
};

void cli_net_opts_init(struct cli_net_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = 10000;
    o->max_size = 64ull << 20;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void cli_net_opts_release(struct cli_net_opts *o)
{
    struct net_priv *p = o->priv;
    if (p) {
        wipe_free(p->token);
        wipe_free(p->password);
        free(p->headers);
        memset(p, 0, sizeof *p);
        free(p);
    }
    memset(o, 0, sizeof *o);
}

static struct net_priv *priv_of(const struct cli_net_opts *o)
{
    struct cli_net_opts *m = (struct cli_net_opts *)o; /* priv is created on first use */
    if (!m->priv) {
        struct net_priv *p = calloc(1, sizeof *p);
        if (!p)
            return NULL;
        psc_fetch_opts_init(&p->fetch);
        m->priv = p;
    }
    return m->priv;
}

static int oom(void)
{
    cli_errorf("out of memory");
    return EXIT_RUNTIME;
}

int cli_net_set_fallback_format(struct cli_net_opts *net, psc_format f)
{
    struct net_priv *p = priv_of(net);
    if (!p)
        return oom();
    p->fetch.fallback_format = f;
    return 0;
}

/* A header value the library will accept: "Name: value", a token name, no
 * CR/LF. */
static bool valid_header(const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h || strpbrk(h, "\r\n"))
        return false;
    for (const char *s = h; s < colon; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c))
            return false;
    }
    return true;
}

/*
 * Read a secret (token or password) from `path` (BAD-INPUTS H5, H6):
 * trailing CR/LF trimmed; empty -> error; CR, LF or another control
 * character inside -> error; readable by group or others -> warning.
 * Tokens must be visible ASCII. The secret itself is never printed.
 */
static int read_secret_file(const char *path, const char *what, bool token, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_errorf("cannot read %s file '%s': %s", what, path, strerror(errno));
        return EXIT_RUNTIME;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        cli_errorf("cannot read %s file '%s': %s", what, path, strerror(e));
        return EXIT_RUNTIME;
    }
    if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)))
        cli_warnf("%s file '%s' is readable by group or others; restrict it with chmod 600", what, path);
    char *buf = malloc(SECRET_MAX + 1);
    if (!buf) {
        close(fd);
        return oom();
    }
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, SECRET_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            cli_errorf("cannot read %s file '%s': %s", what, path, strerror(e));
            return EXIT_RUNTIME;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > SECRET_MAX) {
            close(fd);
            memset(buf, 0, len);
            free(buf);
            cli_errorf("%s file '%s' is larger than %d KiB", what, path, SECRET_MAX / 1024);
            return EXIT_USAGE;
        }
    }
    close(fd);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    buf[len] = '\0';
    int rc = 0;
    if (len == 0) {
        cli_errorf("%s file '%s' is empty", what, path);
        rc = EXIT_USAGE;
    }
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)buf[i];
        bool bad = token ? (c <= 0x20 || c >= 0x7f) : (c < 0x20 || c == 0x7f);
        if (bad) {
            cli_errorf("invalid character in %s file '%s' at byte %zu (CR, LF and %s are not allowed)", what,
                       path, i + 1, token ? "non-visible characters" : "control characters");
            rc = EXIT_USAGE;
        }
    }
    if (rc) {
        memset(buf, 0, len);
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

/* The same rules for a secret from the environment. */
static int read_secret_env(const char *var, const char *what, bool token, char **out)
{
    const char *v = getenv(var);
    if (!v)
        return 0;
    size_t len = strlen(v);
    while (len && (v[len - 1] == '\n' || v[len - 1] == '\r'))
        len--;
    if (len == 0) {
        cli_errorf("%s from $%s is empty", what, var);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (token ? (c <= 0x20 || c >= 0x7f) : (c < 0x20 || c == 0x7f)) {
            cli_errorf("invalid character in %s from $%s at byte %zu", what, var, i + 1);
            return EXIT_USAGE;
        }
    }
    char *s = malloc(len + 1);
    if (!s)
        return oom();
    memcpy(s, v, len);
    s[len] = '\0';
    *out = s;
    return 0;
}

static int parse_dur(const char *arg, const char *opt, const char *cmd, long long min_ms, long long *out)
{
    if (cli_parse_duration_ms(arg, out) || *out < min_ms || *out > 86400000LL * 7)
        return cli_usage_error(cmd, "invalid %s '%s': expected a duration like 10s, 500ms or 1m", opt, arg);
    return 0;
}

int cli_parse_net_option(int c, const char *arg, struct cli_net_opts *net, const char *cmd)
{
    if (c < NET_OPTION_FIRST || c > NET_OPTION_LAST)
        return -1;
    struct net_priv *p = priv_of(net);
    if (!p)
        return oom();
    p->cmd = cmd;
    long long ms = 0;
    unsigned long long v = 0;
    int rc;
    switch (c) {
    case 3000: /* --timeout */
        if ((rc = parse_dur(arg, "--timeout", cmd, 1, &ms)))
            return rc;
        net->timeout_ms = ms;
        return 0;
    case 3001: /* --max-size */
        if (cli_parse_size(arg, &v) || v == 0 || v > (1ull << 40))
            return cli_usage_error(cmd, "invalid --max-size '%s': expected a size like 64MiB", arg);
        net->max_size = v;
        return 0;
    case 3002: /* --header */
        if (!valid_header(arg))
            return cli_usage_error(cmd, "invalid --header: expected 'Name: value' without CR or LF");
        if (p->nheaders == p->cap_headers) {
            size_t nc = p->cap_headers ? p->cap_headers * 2 : 4;
            const char **nh = realloc(p->headers, nc * sizeof *nh);
            if (!nh)
                return oom();
            p->headers = nh;
            p->cap_headers = nc;
        }
        p->headers[p->nheaders++] = arg;
        return 0;
    case 3003:
        p->token_file = arg;
        return 0;
    case 3004:
        if (!*arg || strchr(arg, ':') || strpbrk(arg, "\r\n"))
            return cli_usage_error(cmd, "invalid --basic-auth user name '%s'", arg);
        p->fetch.basic_user = arg;
        return 0;
    case 3005:
        p->password_file = arg;
        return 0;
    case 3006:
        p->fetch.ca_file = arg;
        return 0;
    case 3007:
        p->fetch.cert_file = arg;
        return 0;
    case 3008:
        p->fetch.key_file = arg;
        return 0;
    case 3009:
        p->fetch.insecure = true;
        return 0;
    case 3010:
        if ((rc = parse_dur(arg, "--connect-timeout", cmd, 1, &ms)))
            return rc;
        p->fetch.connect_timeout_ms = (long)ms;
        return 0;
    case 3011:
        /* libcurl counts the low-speed time in whole seconds */
        if ((rc = parse_dur(arg, "--low-speed-time", cmd, 1000, &ms)))
            return rc;
        p->fetch.low_speed_time_s = (long)((ms + 999) / 1000);
        return 0;
    case 3012:
        if (cli_parse_size(arg, &v) || v > (1ull << 30))
            return cli_usage_error(cmd, "invalid --low-speed-limit '%s': expected bytes per second", arg);
        p->fetch.low_speed_limit = (long)v;
        return 0;
    case 3013:
        if (!*arg || strpbrk(arg, "\r\n"))
            return cli_usage_error(cmd, "invalid --accept '%s'", arg);
        p->fetch.accept = arg;
        return 0;
    case 3014:
        if (psc_escaping_parse(arg, &p->fetch.escaping) != PSC_OK)
            return cli_usage_error(cmd, "invalid --escaping '%s': expected allow-utf-8, underscores, dots or values",
                                   arg);
        return 0;
    case 3015:
        p->fetch.gzip = false;
        return 0;
    case 3016: {
        char *end;
        errno = 0;
        long n = strtol(arg, &end, 10);
        if (errno || end == arg || *end || n < 0 || n > 20)
            return cli_usage_error(cmd, "invalid --max-redirects '%s': expected 0 to 20", arg);
        p->fetch.max_redirects = (int)n;
        return 0;
    }
    }
    return -1;
}

int cli_net_opts_finish(struct cli_net_opts *net, const char *cmd)
{
    struct net_priv *p = priv_of(net);
    if (!p)
        return oom();
    if (p->finished)
        return p->finish_rc;
    p->finished = true;
    if (!cmd)
        cmd = p->cmd;
    int rc = 0;
    if (p->token_file && p->fetch.basic_user) {
        rc = cli_usage_error(cmd, "--bearer-token-file and --basic-auth cannot be combined");
        goto out;
    }
    if (p->password_file && !p->fetch.basic_user) {
        rc = cli_usage_error(cmd, "--password-file needs --basic-auth USER");
        goto out;
    }
    if (p->token_file) {
        if ((rc = read_secret_file(p->token_file, "bearer token", true, &p->token)))
            goto out;
    } else if (!p->fetch.basic_user) {
        /* An explicit --basic-auth wins over a token in the environment. */
        if ((rc = read_secret_env("PROMSCOPE_BEARER_TOKEN", "bearer token", true, &p->token)))
            goto out;
    }
    if (p->fetch.basic_user) {
        if (p->password_file)
            rc = read_secret_file(p->password_file, "password", false, &p->password);
        else
            rc = read_secret_env("PROMSCOPE_PASSWORD", "password", false, &p->password);
        if (rc)
            goto out;
        if (!p->password) {
            rc = cli_usage_error(cmd, "--basic-auth needs a password from --password-file or PROMSCOPE_PASSWORD");
            goto out;
        }
    }
    const char *files[] = {p->fetch.ca_file, p->fetch.cert_file, p->fetch.key_file};
    const char *names[] = {"--ca-file", "--cert", "--key"};
    for (int i = 0; i < 3; i++) {
        if (files[i] && access(files[i], R_OK) != 0) {
            cli_errorf("cannot read %s '%s': %s", names[i], files[i], strerror(errno));
            rc = EXIT_RUNTIME;
            goto out;
        }
    }
    if (p->fetch.key_file && !p->fetch.cert_file) {
        rc = cli_usage_error(cmd, "--key needs --cert");
        goto out;
    }
    if (p->fetch.insecure)
        cli_warnf("--insecure: server certificates are not verified");
    p->fetch.bearer_token = p->token;
    p->fetch.basic_password = p->password;
    p->fetch.headers = p->headers;
    p->fetch.nheaders = p->nheaders;
out:
    p->finish_rc = rc;
    return rc;
}

const psc_fetch_opts *cli_net_fetch_opts(const struct cli_net_opts *net, int *rc)
{
    struct cli_net_opts *m = (struct cli_net_opts *)net;
    int r = cli_net_opts_finish(m, NULL);
    if (rc)
        *rc = r;
    if (r)
        return NULL;
    struct net_priv *p = m->priv;
    /* The public fields may have changed after finish. */
    p->fetch.timeout_ms = (long)net->timeout_ms;
    p->fetch.max_body_bytes = net->max_size;
    return &p->fetch;
}

int cli_targets_from(const char *server, const struct cli_net_opts *net, char ***urls, size_t *n)
{
    *urls = NULL;
    *n = 0;
    int rc;
    const psc_fetch_opts *fo = cli_net_fetch_opts(net, &rc);
    if (!fo)
        return rc;
    char red[1024];
    psc_url_redact(server, red, sizeof red);
    psc_api_client *c = NULL;
    psc_error err = {0};
    if (psc_api_client_new(server, fo, &c, &err) != PSC_OK) {
        cli_errorf("--targets-from '%s': %s", red, err.message);
        return err.status == PSC_E_NOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    }
    psc_api_response resp;
    memset(&resp, 0, sizeof resp);
    psc_status st = psc_api_targets_get(c, &resp, &err);
    if (st != PSC_OK) {
        cli_errorf("%s: %s", psc_api_client_url(c), err.message);
        psc_api_response_release(&resp);
        psc_api_client_free(c);
        return EXIT_RUNTIME;
    }
    char **out = calloc(resp.ntargets ? resp.ntargets : 1, sizeof *out);
    size_t k = 0;
    if (!out) {
        psc_api_response_release(&resp);
        psc_api_client_free(c);
        return oom();
    }
    for (size_t i = 0; i < resp.ntargets; i++) {
        psc_str u = resp.targets[i].scrape_url;
        if (!u.ptr || !u.len || memchr(u.ptr, '\0', u.len) ||
            !((u.len > 7 && memcmp(u.ptr, "http://", 7) == 0) || (u.len > 8 && memcmp(u.ptr, "https://", 8) == 0)))
            continue; /* only http(s) URLs become INPUTs */
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strlen(out[j]) == u.len && memcmp(out[j], u.ptr, u.len) == 0;
        if (dup)
            continue;
        out[k] = malloc(u.len + 1);
        if (!out[k]) {
            for (size_t j = 0; j < k; j++)
                free(out[j]);
            free(out);
            psc_api_response_release(&resp);
            psc_api_client_free(c);
            return oom();
        }
        memcpy(out[k], u.ptr, u.len);
        out[k][u.len] = '\0';
        k++;
    }
    psc_api_response_release(&resp);
    psc_api_client_free(c);
    *urls = out;
    *n = k;
    return 0;
}
