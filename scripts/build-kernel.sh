#!/usr/bin/env bash
# Configure and build a kernel tree out of tree, with ccache.
#
#   build-kernel.sh SRC OBJ FRAGMENT... [-- MAKE-ARGS...]
#
# The config is tinyconfig plus the fragments; it is regenerated only when
# a fragment changes, because a config change recompiles nearly everything.
# Every =y/=m a fragment asks for must survive olddefconfig, or the build
# stops: a silently dropped option would make a test meaningless.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$(realpath "$1") obj=$(realpath -m "$2")
shift 2
frags=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do frags+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
mkdir -p "$obj" "$CCACHE_DIR"

jobs=$(($(nproc) + 1))
kmake() { make -s -C "$src" O="$obj" CC="ccache gcc" HOSTCC="ccache gcc" "$@"; }

stamp=$(cat "${frags[@]}" | sha1sum | cut -d' ' -f1)
if [ "${FORCE_CONFIG:-0}" = 1 ] || [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.config-stamp" 2>/dev/null)" != "$stamp" ]; then
	note "configuring $obj from ${frags[*]}"
	kmake tinyconfig >/dev/null
	KCONFIG_CONFIG=$obj/.config "$src/scripts/kconfig/merge_config.sh" \
		-m -O "$obj" "$obj/.config" "${frags[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	missing=$(cat "${frags[@]}" | grep -E '^CONFIG_[A-Z0-9_]+=[ym]$' |
		while read -r want; do
			grep -qx "$want" "$obj/.config" || echo "$want"
		done)
	[ -z "$missing" ] || [ "${ALLOW_DROPPED:-0}" = 1 ] || die "config options dropped by Kconfig (missing dependency?): $missing"
	echo "$stamp" > "$obj/.config-stamp"
fi
note "building in $obj"
kmake -j"$jobs" "$@"
