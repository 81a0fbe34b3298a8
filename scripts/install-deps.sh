#!/usr/bin/env bash
# Install what the build, the runner and the guest tests need on a Debian
# bookworm host. Adds bookworm-backports (and only that suite) for
# linux-source-6.12. Idempotent: exits quickly when everything is present.
set -euo pipefail

pkgs=(linux-source-6.12 build-essential bc bison flex libelf-dev libssl-dev
      ccache cpio xz-utils kmod qemu-system-x86 bats cgroup-tools sparse
      python3 git rsync libcap-dev clang libclang-rt-14-dev valgrind
      gnuplot-nox iproute2)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root" >&2
	exit 1
fi

list=/etc/apt/sources.list.d/bookworm-backports.list
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deb http://deb.debian.org/debian bookworm-backports main" > "$list"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends -t bookworm-backports linux-source-6.12
apt-get install -y -q --no-install-recommends "${missing[@]}"
