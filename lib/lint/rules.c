/* The lint rule table of promscope/lint.h: ids, summaries, default severities. */
#include <string.h>

#include "promscope/lint.h"

static const struct {
    const char *id;
    psc_severity sev;
    const char *summary;
} rules[PSC_LINT__COUNT] = {
#define PSC_X_LINT_ROW(e, id, sev, summary) {id, sev, summary},
    PSC_LINT_RULE_LIST(PSC_X_LINT_ROW)
#undef PSC_X_LINT_ROW
};

const char *psc_lint_rule_name(psc_lint_rule r)
{
    return (unsigned)r < PSC_LINT__COUNT ? rules[r].id : "unknown";
}

const char *psc_lint_rule_summary(psc_lint_rule r)
{
    return (unsigned)r < PSC_LINT__COUNT ? rules[r].summary : "unknown rule";
}

psc_severity psc_lint_rule_default_severity(psc_lint_rule r)
{
    return (unsigned)r < PSC_LINT__COUNT ? rules[r].sev : PSC_SEV_WARNING;
}

bool psc_lint_rule_lookup(psc_str name, psc_lint_rule *out)
{
    if (!name.ptr)
        return false;
    for (int i = 0; i < PSC_LINT__COUNT; i++) {
        if (strlen(rules[i].id) == name.len && memcmp(rules[i].id, name.ptr, name.len) == 0) {
            *out = (psc_lint_rule)i;
            return true;
        }
    }
    return false;
}

void psc_lint_opts_init(psc_lint_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < PSC_LINT__COUNT; i++) {
        o->enabled[i] = true;
        o->severity[i] = rules[i].sev;
    }
    o->max_series_per_metric = PSC_LINT_DEFAULT_MAX_SERIES_PER_METRIC;
    o->max_label_values = PSC_LINT_DEFAULT_MAX_LABEL_VALUES;
    o->max_series = PSC_LINT_DEFAULT_MAX_SERIES;
    o->unbounded_min_values = 2;
}
