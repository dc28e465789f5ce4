/*
 * Printing diagnostics (validate, lint), DESIGN.md section 3:
 *   text:   SOURCE:LINE:COLUMN: SEVERITY: MESSAGE [RULE-ID]
 *   json:   [{"source","line","column","severity","rule","metric","message"}, ...]
 *   github: ::error file=SOURCE,line=L,col=C,title=RULE-ID::MESSAGE
 */
#include <string.h>

#include "cli.h"

int cli_parse_diag_format(const char *s, enum cli_diag_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = CLI_DIAG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = CLI_DIAG_JSON;
    else if (strcmp(s, "github") == 0)
        *out = CLI_DIAG_GITHUB;
    else
        return -1;
    return 0;
}

void cli_diag_begin(struct cli_diag_printer *p, FILE *f, enum cli_diag_format fmt)
{
    p->f = f;
    p->fmt = fmt;
    p->printed = 0;
    if (fmt == CLI_DIAG_JSON)
        fputc('[', f);
}

/* GitHub workflow command values: %, CR, LF (and , : in properties) are %-encoded. */
static void gh_escape(FILE *f, const char *s, bool property)
{
    for (; *s; s++) {
        switch (*s) {
        case '%': fputs("%25", f); break;
        case '\r': fputs("%0D", f); break;
        case '\n': fputs("%0A", f); break;
        case ':': property ? fputs("%3A", f) : fputc(':', f); break;
        case ',': property ? fputs("%2C", f) : fputc(',', f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *sev_color(psc_severity s)
{
    switch (s) {
    case PSC_SEV_ERROR: return "\033[1;31m";
    case PSC_SEV_WARNING: return "\033[1;35m";
    default: return "\033[1;36m";
    }
}

void cli_diag_print(struct cli_diag_printer *p, const char *source, const psc_diag_list *l)
{
    FILE *f = p->f;
    bool color = f == stdout && g_cli.color_stdout;
    for (size_t i = 0; i < l->count; i++) {
        const psc_diag *d = &l->items[i];
        const char *sev = psc_severity_name(d->severity);
        switch (p->fmt) {
        case CLI_DIAG_TEXT:
            if (color)
                fprintf(f, "\033[1m");
            cli_print_escaped(f, source, strlen(source));
            fprintf(f, ":%llu:%llu:", (unsigned long long)d->line, (unsigned long long)d->column);
            if (color)
                fprintf(f, "\033[0m %s%s:\033[0m ", sev_color(d->severity), sev);
            else
                fprintf(f, " %s: ", sev);
            /* messages quote input text: control bytes are escaped here
             * too, whatever the library left in (BAD-INPUTS H1) */
            cli_print_escaped(f, d->message, strlen(d->message));
            fprintf(f, " [%s]\n", d->rule);
            break;
        case CLI_DIAG_JSON:
            fputs(p->printed ? ",\n " : "\n ", f);
            fputs("{\"source\":", f);
            cli_json_string(f, source, strlen(source));
            fprintf(f, ",\"line\":%llu,\"column\":%llu,\"severity\":\"%s\",\"rule\":",
                    (unsigned long long)d->line, (unsigned long long)d->column, sev);
            cli_json_string(f, d->rule, strlen(d->rule));
            fputs(",\"metric\":", f);
            cli_json_string(f, d->metric, strlen(d->metric));
            fputs(",\"message\":", f);
            cli_json_string(f, d->message, strlen(d->message));
            fputc('}', f);
            break;
        case CLI_DIAG_GITHUB:
            fprintf(f, "::%s file=", d->severity == PSC_SEV_INFO ? "notice" : sev);
            gh_escape(f, source, true);
            fprintf(f, ",line=%llu,col=%llu,title=", (unsigned long long)d->line,
                    (unsigned long long)d->column);
            gh_escape(f, d->rule, true);
            fputs("::", f);
            gh_escape(f, d->message, false);
            fputc('\n', f);
            break;
        }
        p->printed++;
    }
    if (l->dropped && p->fmt == CLI_DIAG_TEXT) {
        cli_print_escaped(f, source, strlen(source));
        fprintf(f, ": %zu more diagnostics not shown\n", l->dropped);
    }
}

void cli_diag_end(struct cli_diag_printer *p)
{
    if (p->fmt == CLI_DIAG_JSON)
        fputs(p->printed ? "\n]\n" : "]\n", p->f);
}
