#!/usr/bin/env bash
# Build Debian bookworm's systemd with the patches of userspace/systemd/
# (the snp and buslock controllers and their unit properties): PID 1,
# systemctl and systemd-run, for the systemd suite of the mainline test
# guest (tests/systemd.bats). Nothing is installed: the guest runs the
# binaries from the build directory, with the host's unit files,
# journald and shutdown helper around them.
#
# The pinned source (the .dsc's SHA-256 covers the tarballs it names) is
# fetched without adding deb-src to the system, unpacked with Debian's own
# patches, then ours are applied. The build lives in $BUILD/systemd-KEY,
# KEY hashing the version, the patches, this script and the compiler; the
# same key is not built again, and ccache makes a new key cheap. Prints
# the build directory.
#
#   build-systemd.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SYSTEMD_PKG_VERSION=252.39-1~deb12u2
SYSTEMD_DSC_SHA256=f2f952ae61fd40f1ef3ee48c8721e23eaaec5396ef5f1b0c2e138d78fade9c6e
patches=$TOP/userspace/systemd

key=$(echo "$SYSTEMD_PKG_VERSION" | result_key "$patches"/*.patch "$0")
out=$BUILD/systemd-$key
if [ -x "$out/build/systemd" ] && [ -x "$out/build/systemctl" ] && [ -x "$out/build/systemd-run" ]; then
	echo "$out/build"
	exit 0
fi

dsc=$(fetch_dsc systemd systemd "$SYSTEMD_PKG_VERSION" "$SYSTEMD_DSC_SHA256" \
	"deb-src http://deb.debian.org/debian bookworm main") ||
	die "systemd $SYSTEMD_PKG_VERSION: no pinned source to build (see above)"
rm -rf "$BUILD"/systemd-*
mkdir -p "$out"
# dpkg-source checks the tarballs against the .dsc and applies Debian's
# patches; the signature is not checked (no keyring), the pinned hash is.
(cd "$out" && dpkg-source --no-check -x "$dsc" src >&2)
for p in "$patches"/*.patch; do
	patch -d "$out/src" -p1 -s --no-backup-if-mismatch < "$p" >&2 ||
		die "$p does not apply to systemd $SYSTEMD_PKG_VERSION"
done

# Debian's paths (debian/rules), everything the three programs do not
# need switched off. Meson runs its generators with the first python3
# on PATH: Debian's, which has jinja2.
off=(utmp hibernate ldconfig resolve efi tpm environment-d binfmt coredump
     pstore oomd logind hostnamed localed machined portabled sysext userdb
     networkd timedated timesyncd nss-myhostname nss-systemd firstboot
     randomseed backlight vconsole quotacheck sysusers tmpfiles hwdb rfkill
     xdg-autostart man html translations idn gshadow nscd
     seccomp selinux apparmor polkit acl audit blkid fdisk kmod pam pwquality
     microhttpd libcryptsetup libcurl libidn2 libidn libiptc qrencode gcrypt
     gnutls openssl p11kit libfido2 tpm2 elfutils zlib bzip2 xz lz4 zstd
     xkbcommon pcre2 glib dbus gnu-efi importd homed remote repart sysupdate
     nss-mymachines nss-resolve tests)
opts=()
for o in "${off[@]}"; do opts+=("-D$o=false"); done
export PATH=/usr/bin:/bin:/usr/sbin:/sbin CC="ccache gcc"
meson setup "$out/build" "$out/src" --auto-features=disabled -Dmode=release \
	-Dsplit-usr=true -Drootlibdir=/usr/lib/x86_64-linux-gnu \
	-Dsysvinit-path=/etc/init.d -Dsysvrcnd-path=/etc -Ddefault-hierarchy=unified \
	-Dversion-tag="$SYSTEMD_PKG_VERSION+snp-cgroup" "${opts[@]}" >&2
ninja -C "$out/build" systemd systemctl systemd-run >&2
echo "$out/build"
