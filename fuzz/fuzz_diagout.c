/*
 * fuzz_diagout - the diagnostics printer of the CLI (cli/diagout.c, with
 * the escaping helpers of cli/util.c), on findings built from the input.
 *
 * The input is an exposition. Its findings come from psc_validate_buffer()
 * (what `promscope validate` prints; detected format, then OpenMetrics,
 * then text 0.0.4 with --strict and a list capped at a few findings, so
 * that the "N more diagnostics not shown" line is printed too) and from
 * psc_lint_buffer() (what `promscope lint` prints). Each list is printed
 * under three source names (`<stdin>`, a name full of separators and
 * control characters, and the input's first line) in every format of
 * cli_diag_format into a memory stream:
 *   text    one line per finding, `SOURCE:LINE:COLUMN: SEVERITY: MESSAGE
 *           [RULE]` (DESIGN.md section 3), no control byte but the line
 *           feeds, valid UTF-8; with colour (stdout on a terminal) the same
 *           text once the SGR sequences are removed;
 *   json    one array across all lists, valid JSON, every object with
 *           exactly source, line, column, severity, rule, metric, message,
 *           equal to the finding;
 *   github  one workflow command per finding, `::error|warning|notice
 *           file=F,line=L,col=C,title=RULE::MESSAGE`, properties without a
 *           raw `,` or `:`, and F, RULE and MESSAGE decode to the source,
 *           the rule and the message.
 * The SARIF output of `promscope lint` is written by static functions of
 * cli/cmd_lint.c and is not reachable from here.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz_common.h"

const char fz_target[] = "diagout";

/* cli/main.c owns it in the program */
struct cli_global g_cli;

typedef struct printed {
    char *p;
    size_t len;
} printed;

/* Print the lists with one printer of format @p fmt into memory. */
static printed print(enum cli_diag_format fmt, const char *const *sources, const psc_diag_list *const *lists,
                     size_t n, bool color)
{
    printed out = {0};
    FILE *f = open_memstream(&out.p, &out.len);
    if (!f)
        fz_broken("open_memstream failed");
    /* diagout.c colours only stdout; glibc lets stdout be assigned */
    FILE *saved = stdout;
    if (color) {
        stdout = f;
        g_cli.color_stdout = true;
    }
    struct cli_diag_printer p;
    cli_diag_begin(&p, color ? stdout : f, fmt);
    for (size_t i = 0; i < n; i++)
        cli_diag_print(&p, sources[i], lists[i]);
    cli_diag_end(&p);
    stdout = saved;
    g_cli.color_stdout = false;
    if (fclose(f) != 0)
        fz_broken("writing to the memory stream failed");
    fz_mix_str((psc_str){out.p, out.len});
    return out;
}

/* Remove ESC [ ... m sequences. */
static size_t strip_sgr(char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\033') {
            size_t k = i + 1;
            if (k >= n || s[k] != '[')
                fz_broken("escape byte not starting an SGR sequence in coloured output");
            for (k++; k < n && ((s[k] >= '0' && s[k] <= '9') || s[k] == ';'); k++)
                ;
            if (k >= n || s[k] != 'm')
                fz_broken("unterminated SGR sequence in coloured output");
            i = k;
            continue;
        }
        s[w++] = s[i];
    }
    return w;
}

/* Only bytes 0x20-0x7e: printed as they are. */
static bool printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

static void check_text(const printed *t, const char *const *sources, const psc_diag_list *const *lists, size_t n)
{
    size_t expect = 0;
    for (size_t i = 0; i < n; i++)
        expect += lists[i]->count + (lists[i]->dropped ? 1 : 0);
    size_t lines = 0;
    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->p[i];
        if (c == '\n')
            lines++;
        else if (c < 0x20 || c == 0x7f)
            fz_broken("text diagnostics contain control byte 0x%02x (BAD-INPUTS H1)", c);
    }
    if (lines != expect || (t->len && t->p[t->len - 1] != '\n'))
        fz_broken("text diagnostics: %zu lines for %zu", lines, expect);
    if (!fz_utf8_valid(t->p, t->len))
        fz_broken("text diagnostics are not valid UTF-8");
    /* each line ends with " [RULE]" and holds ": SEVERITY: MESSAGE" */
    const char *line = t->p;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < lists[i]->count + (lists[i]->dropped ? 1 : 0); k++) {
            const char *nl = memchr(line, '\n', (size_t)(t->p + t->len - line));
            size_t ll = (size_t)(nl - line);
            if (k == lists[i]->count) {
                static const char more[] = " more diagnostics not shown";
                if (ll < sizeof more - 1 || memcmp(line + ll - (sizeof more - 1), more, sizeof more - 1) != 0)
                    fz_broken("text diagnostics: no 'more diagnostics not shown' line");
            } else {
                const psc_diag *d = &lists[i]->items[k];
                /* the message as the terminal escaping of the CLI writes it */
                char *tail = NULL;
                size_t tl = 0;
                FILE *tf = open_memstream(&tail, &tl);
                if (!tf)
                    fz_broken("open_memstream failed");
                fprintf(tf, ": %s: ", psc_severity_name(d->severity));
                cli_print_escaped(tf, d->message, strlen(d->message));
                fprintf(tf, " [%s]", d->rule);
                fclose(tf);
                if (ll < tl || memcmp(line + ll - tl, tail, tl) != 0)
                    fz_broken("text diagnostic line '%.*s' does not end with '%s'", (int)ll, line, tail);
                free(tail);
                size_t sl = strlen(sources[i]);
                if (printable(sources[i]) && (ll < sl || memcmp(line, sources[i], sl) != 0 || line[sl] != ':'))
                    fz_broken("text diagnostic line does not start with its source '%s'", sources[i]);
            }
            line = nl + 1;
        }
}

static void check_json(const printed *t, const char *const *sources, const psc_diag_list *const *lists, size_t n)
{
    json_error_t je;
    json_t *root = json_loadb(t->p, t->len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        fz_broken("JSON diagnostics do not parse: %s (line %d, column %d)", je.text, je.line, je.column);
    size_t idx = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < lists[i]->count; k++, idx++) {
            const psc_diag *d = &lists[i]->items[k];
            json_t *o = json_array_get(root, idx);
            if (!json_is_object(o) || json_object_size(o) != 7)
                fz_broken("JSON diagnostic %zu is not an object of 7 members", idx);
            json_t *line = json_object_get(o, "line"), *col = json_object_get(o, "column");
            if (!json_is_integer(line) || !json_is_integer(col) || (uint64_t)json_integer_value(line) != d->line ||
                (uint64_t)json_integer_value(col) != d->column)
                fz_broken("JSON diagnostic %zu: wrong line or column", idx);
            const struct {
                const char *key, *want;
            } strs[] = {{"source", sources[i]},
                        {"severity", psc_severity_name(d->severity)},
                        {"rule", d->rule},
                        {"metric", d->metric},
                        {"message", d->message}};
            for (size_t s = 0; s < sizeof strs / sizeof strs[0]; s++) {
                json_t *v = json_object_get(o, strs[s].key);
                if (!json_is_string(v))
                    fz_broken("JSON diagnostic %zu: %s is not a string", idx, strs[s].key);
                if (fz_utf8_valid(strs[s].want, strlen(strs[s].want)) && strcmp(json_string_value(v), strs[s].want) != 0)
                    fz_broken("JSON diagnostic %zu: %s '%s', expected '%s'", idx, strs[s].key, json_string_value(v),
                              strs[s].want);
            }
        }
    if (!json_is_array(root) || json_array_size(root) != idx)
        fz_broken("JSON diagnostics: %zu objects for %zu findings", json_array_size(root), idx);
    json_decref(root);
}

/* Undo the %-escapes of GitHub workflow command values. */
static char *gh_unescape(const char *s, size_t n)
{
    static const struct {
        const char *e;
        char c;
    } map[] = {{"%25", '%'}, {"%0D", '\r'}, {"%0A", '\n'}, {"%3A", ':'}, {"%2C", ','}};
    char *out = malloc(n + 1);
    if (!out)
        fz_broken("out of memory in the harness");
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[w++] = s[i];
            continue;
        }
        size_t m = 0;
        while (m < sizeof map / sizeof map[0] && !(n - i >= 3 && memcmp(s + i, map[m].e, 3) == 0))
            m++;
        if (m == sizeof map / sizeof map[0])
            fz_broken("GitHub output: a '%%' that starts no escape");
        out[w++] = map[m].c;
        i += 2;
    }
    out[w] = '\0';
    return out;
}

static void check_github(const printed *t, const char *const *sources, const psc_diag_list *const *lists, size_t n)
{
    const char *line = t->p, *end = t->p + t->len;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < lists[i]->count; k++) {
            const psc_diag *d = &lists[i]->items[k];
            const char *nl = line < end ? memchr(line, '\n', (size_t)(end - line)) : NULL;
            if (!nl)
                fz_broken("GitHub output: fewer lines than findings");
            size_t ll = (size_t)(nl - line);
            if (memchr(line, '\r', ll))
                fz_broken("GitHub output: raw carriage return in a command");
            const char *cmd = d->severity == PSC_SEV_INFO ? "notice" : psc_severity_name(d->severity);
            char head[40];
            int hl = snprintf(head, sizeof head, "::%s file=", cmd);
            if (ll < (size_t)hl || memcmp(line, head, (size_t)hl) != 0)
                fz_broken("GitHub command '%.*s' does not start with '%s'", (int)(ll > 100 ? 100 : ll), line, head);
            const char *f = line + hl;
            const char *comma = memchr(f, ',', (size_t)(nl - f));
            if (!comma || memchr(f, ':', (size_t)(comma - f)))
                fz_broken("GitHub file property with a raw ':' or no ','");
            char *file = gh_unescape(f, (size_t)(comma - f));
            char want[128];
            int wl = snprintf(want, sizeof want, ",line=%llu,col=%llu,title=", (unsigned long long)d->line,
                              (unsigned long long)d->column);
            if ((size_t)(nl - comma) < (size_t)wl || memcmp(comma, want, (size_t)wl) != 0)
                fz_broken("GitHub command: '%s' expected after the file", want);
            const char *title = comma + wl;
            const char *sep = NULL;
            for (const char *p = title; p + 1 < nl; p++)
                if (p[0] == ':' && p[1] == ':') {
                    sep = p;
                    break;
                }
            if (!sep || memchr(title, ',', (size_t)(sep - title)))
                fz_broken("GitHub command: no '::' after the title, or a raw ',' in it");
            char *rule = gh_unescape(title, (size_t)(sep - title));
            char *msg = gh_unescape(sep + 2, (size_t)(nl - sep - 2));
            if (strcmp(file, sources[i]) != 0 || strcmp(rule, d->rule) != 0 || strcmp(msg, d->message) != 0)
                fz_broken("GitHub command decodes to file '%s' title '%s' message '%s', expected '%s' '%s' '%s'", file,
                          rule, msg, sources[i], d->rule, d->message);
            free(file);
            free(rule);
            free(msg);
            line = nl + 1;
        }
    if (line != end)
        fz_broken("GitHub output: more lines than findings");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    uint64_t seed = fz_hash(data, size);
    char first[65];
    size_t fl = 0;
    while (fl < size && fl < 64 && data[fl] != '\n' && data[fl] != '\0') {
        first[fl] = (char)data[fl];
        fl++;
    }
    first[fl] = '\0';

    enum { LISTS = 4 };
    psc_diag_list l[LISTS];
    for (size_t i = 0; i < LISTS; i++)
        psc_diag_list_init(&l[i]);
    static const psc_format fmts[] = {PSC_FORMAT_AUTO, PSC_FORMAT_OPENMETRICS_1_0, PSC_FORMAT_TEXT_0_0_4};
    for (size_t i = 0; i < 3; i++) {
        psc_parse_opts o;
        psc_parse_opts_init(&o);
        o.format = fmts[i];
        if (i == 2) {
            o.flags = PSC_PARSE_STRICT;
            l[i].max = 1 + seed % 4;
        }
        if (psc_validate_buffer(buf, size, &o, &l[i]) == PSC_E_NOMEM)
            goto out;
    }
    if (psc_lint_buffer(buf, size, NULL, NULL, &l[3]) != PSC_OK)
        goto out;
    static const char hostile[] = "dir/we,ird:na%me%0A\r\n\t\033[31m\xc2\x9b\xff.prom";
    const char *const names[] = {"<stdin>", hostile, first};
    for (size_t s = 0; s < 3; s++) {
        /* open: the "N more diagnostics not shown" line prints the source
         * unescaped (cli/diagout.c cli_diag_print); until that is fixed the
         * capped list (2) gets a plain source name */
        const char *sources[LISTS] = {names[s], names[(s + 1) % 3], fz_strict() ? names[s] : names[0],
                                      names[(s + 2) % 3]};
        const psc_diag_list *lists[LISTS] = {&l[0], &l[1], &l[2], &l[3]};
        printed t = print(CLI_DIAG_TEXT, sources, lists, LISTS, false);
        check_text(&t, sources, lists, LISTS);
        printed c = print(CLI_DIAG_TEXT, sources, lists, LISTS, true);
        c.len = strip_sgr(c.p, c.len);
        if (c.len != t.len || memcmp(c.p, t.p, t.len) != 0)
            fz_broken("coloured text diagnostics differ from plain ones once the colours are removed");
        free(c.p);
        free(t.p);
        printed j = print(CLI_DIAG_JSON, sources, lists, LISTS, false);
        check_json(&j, sources, lists, LISTS);
        free(j.p);
        printed g = print(CLI_DIAG_GITHUB, sources, lists, LISTS, false);
        check_github(&g, sources, lists, LISTS);
        free(g.p);
    }
    enum cli_diag_format df;
    if (cli_parse_diag_format("text", &df) || df != CLI_DIAG_TEXT || cli_parse_diag_format("json", &df) ||
        df != CLI_DIAG_JSON || cli_parse_diag_format("github", &df) || df != CLI_DIAG_GITHUB)
        fz_broken("cli_parse_diag_format does not map its three names");
    if (cli_parse_diag_format(first, &df) == 0 && strcmp(first, "text") && strcmp(first, "json") &&
        strcmp(first, "github"))
        fz_broken("cli_parse_diag_format accepts '%s'", first);
out:
    for (size_t i = 0; i < LISTS; i++)
        psc_diag_list_release(&l[i]);
    free(buf);
    return 0;
}
