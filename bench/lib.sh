# shellcheck shell=bash disable=SC2154
# Shared by bench/run and bench/profile (sourced). Expects root, here,
# out_dir, cache_dir and seed to be set.

bench_die() {
    echo "bench: $*" >&2
    exit 2
}

# bench_build [BUILD_DIR]: with no argument, configure (once) and build
# build-bench/build with -O2; then set PS, GEN and MICRO to the binaries.
bench_build() {
    local dir=${1:-}
    if [ -z "$dir" ]; then
        dir=$root/build-bench/build
        if [ ! -f "$dir/build.ninja" ]; then
            echo "bench: configuring $dir (-O2)" >&2
            meson setup "$dir" "$root" -Dbuildtype=debugoptimized -Doptimization=2 \
                -Dtests=false -Dman=disabled > "$out_dir/logs/meson-setup.log" ||
                { cat "$out_dir/logs/meson-setup.log" >&2; exit 1; }
        fi
        echo "bench: building $dir" >&2
        ninja -C "$dir" -j 2 cli/promscope bench/gen_exposition bench/micro > "$out_dir/logs/ninja.log" ||
            { cat "$out_dir/logs/ninja.log" >&2; exit 1; }
    fi
    build_dir=$(cd "$dir" && pwd)
    PS=$build_dir/cli/promscope
    GEN=$build_dir/bench/gen_exposition
    MICRO=$build_dir/bench/micro
    local b
    for b in "$PS" "$GEN" "$MICRO"; do
        [ -x "$b" ] || bench_die "$b is missing: build it (ninja -C $build_dir) or drop --build-dir"
    done
}

# gen VARIANT FORMAT LIMIT VALUE: path of a generated input, made once per
# generator source, seed and limit (LIMIT: size or series) in cache_dir;
# its --stats JSON is beside it as PATH.json.
gen() {
    local variant=$1 format=$2 limit=$3 value=$4 ext=prom key
    [ "$format" = openmetrics ] && ext=om
    key=$(md5sum < "$here/gen_exposition.c" | cut -c1-8)
    local f=$cache_dir/$variant-$limit$value-seed$seed-$key.$ext
    if [ ! -s "$f" ] || [ ! -s "$f.json" ]; then
        # inputs of an older generator source go
        rm -f "$cache_dir/$variant-$limit$value-seed$seed-"*".$ext" "$cache_dir/$variant-$limit$value-seed$seed-"*".$ext.json"
        echo "bench: generating $(basename "$f")" >&2
        "$GEN" --seed "$seed" --variant "$variant" --format "$format" "--$limit" "$value" \
            -o "$f.tmp" --stats "$f.json.tmp"
        mv "$f.json.tmp" "$f.json"
        mv "$f.tmp" "$f"
    fi
    echo "$f"
}

json_num() { # json_num FILE KEY: a number from a one-line JSON object
    sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$1"
}

stat_of() { # stat_of INPUT KEY: a number from the generator's --stats of INPUT
    json_num "$1.json" "$2"
}
