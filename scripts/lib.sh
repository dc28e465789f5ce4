# shellcheck shell=bash
# Helpers shared by scripts/test and scripts/demo (sourced, not run).

# Install Debian packages with apt-get unless they are all present already
# (dpkg -s), so that developers can rerun the scripts quickly.
# PROMSCOPE_SKIP_APT=1 skips the check and the installation altogether.
ensure_packages() {
    if [ "${PROMSCOPE_SKIP_APT:-0}" = 1 ]; then
        echo "== PROMSCOPE_SKIP_APT=1: not checking or installing packages"
        return 0
    fi
    local missing=() p
    for p in "$@"; do
        if ! dpkg -s "$p" >/dev/null 2>&1 || ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "== all ${#} packages present"
        return 0
    fi
    echo "== installing: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "error: packages missing (${missing[*]}) and not running as root; run as root or set PROMSCOPE_SKIP_APT=1" >&2
            return 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}

# Generate the de_DE.UTF-8 locale used by the locale test of the number
# parser (BAD-INPUTS C11), when possible; the test is skipped without it.
ensure_de_locale() {
    if locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && command -v localedef >/dev/null 2>&1; then
        echo "== generating the de_DE.UTF-8 locale"
        localedef -i de_DE -f UTF-8 de_DE.UTF-8 || echo "warning: localedef failed; the de_DE number test will be skipped" >&2
    else
        echo "warning: cannot generate de_DE.UTF-8 (not root or no localedef); the de_DE number test will be skipped" >&2
    fi
}

# Print an error and exit when the shared contract data is not beside the
# repository (../shared).
require_shared() {
    local root=$1
    if [ ! -d "$root/../shared/conformance/openmetrics-1.0" ] || [ ! -d "$root/../shared/corpus" ]; then
        echo "error: $root/../shared is missing or incomplete: the conformance suite and the corpus" >&2
        echo "       (shared/conformance/openmetrics-1.0, shared/corpus) must sit beside the repository" >&2
        return 1
    fi
}
