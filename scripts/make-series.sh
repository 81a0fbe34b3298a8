#!/usr/bin/env bash
# Turn the repo (new files + patches to upstream files) into a git-am-able
# series with a cover letter, then prove it: git am onto a pristine base,
# checkpatch --strict on every patch, and a build after every patch.
#
#   make-series.sh OUTDIR
#
# SERIES_BUILD=0 skips the per-patch builds; SERIES_BUILD=force builds even
# when this machine has seen the same series build (see step 5).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$(realpath -m "$1")
work=$BDIR/series-work
amtree=$BDIR/series-am
"$TOP/scripts/prepare-tree.sh" base

ident=(-c "user.name=SNP cgroup developers" -c "user.email=snp-cgroup@lists.invalid")
export GIT_AUTHOR_DATE="2026-11-21T00:00:00Z" GIT_COMMITTER_DATE="2026-11-21T00:00:00Z"

# 1. One commit per series entry, on top of the pristine base.
[ -d "$work/.git" ] || git clone -q --shared "$BDIR/base" "$work"
git -C "$work" checkout -q -f -B series base
git -C "$work" clean -qfdx
n=0
while read -r patch files; do
	n=$((n + 1))
	p=$PATCHES/$patch
	if patch_has_diff "$p"; then
		git -C "$work" apply --index "$p" ||
			die "${PATCHES#$TOP/}/$patch does not apply"
	fi
	for f in $files; do
		mkdir -p "$work/$(dirname "$f")"
		copy_new_file "$TOP/linux/$f" "$work/$f"
		git -C "$work" add -f "$f"
	done
	sed -n '/^---$/q; p' "$p" | sed '1s/^Subject: //' |
		git -C "$work" "${ident[@]}" commit -q -F - ||
		die "${PATCHES#$TOP/}/$patch makes an empty commit"
done < <(series_entries)
note "$n patches committed in $work"

# 2. format-patch with the cover letter filled in.
rm -rf "$out"
git -C "$work" "${ident[@]}" format-patch -q --cover-letter --no-signature \
	-o "$out" base..series
cover=$(ls "$out"/0000-*.patch)
subject=$(sed -n '1s/^Subject: //p' "$PATCHES/cover-letter")
python3 - "$cover" "$PATCHES/cover-letter" "$subject" <<'PY'
import sys
cover, src, subject = sys.argv[1:]
body = open(src).read().split('\n', 2)[2]
text = open(cover).read()
text = text.replace('*** SUBJECT HERE ***', subject).replace('*** BLURB HERE ***', body.strip())
open(cover, 'w').write(text)
PY
note "series written to $out"

# 3. git am onto a pristine base.
rm -rf "$amtree"
git clone -q --shared "$BDIR/base" "$amtree"
git -C "$amtree" checkout -q -b am base
ls "$out"/[0-9]*.patch | grep -v '/0000-' |
	xargs git -C "$amtree" "${ident[@]}" am -q ||
	die "the series does not git-am onto the pristine base"
git -C "$amtree" fetch -q "$work" series
git -C "$amtree" diff --quiet FETCH_HEAD am ||
	die "the applied series differs from the repo's tree"
echo "series: git am onto $(cat "$BDIR/base/.git/snp-cgroup-base"): ok"

# 4. checkpatch --strict: any error, warning or check fails. The base is a
# release tarball without history, so checkpatch cannot look up the
# commits that Fixes: tags name (UNKNOWN_COMMIT_ID); the rest of the tag
# is still checked.
bad=0
for p in "$out"/[0-9]*.patch; do
	case $p in */0000-*) continue ;; esac
	if ! res=$("$amtree/scripts/checkpatch.pl" --strict --no-tree --quiet \
		   --ignore FILE_PATH_CHANGES_NO --ignore UNKNOWN_COMMIT_ID "$p" 2>&1) ||
	   [ -n "$res" ]; then
		echo "checkpatch: $(basename "$p"):"
		echo "$res"
		bad=1
	else
		echo "checkpatch: $(basename "$p"): clean"
	fi
done
[ $bad = 0 ] || die "checkpatch found problems"

# 5. The tree builds after every patch: the directories the patch touches
# and the core's (kernel/cgroup/), whose files include what the series
# changes; the hooks' (arch/x86/kvm/) from the first patch that touches
# KVM on. Before it, KVM sees the cgroup patches only through headers
# that kernel/cgroup/ compiles too, and 33 of its 35 objects depend on
# cgroup_subsys.h, which the controller patches change: building it
# after each of them recompiled all of KVM. The whole vmlinux of the
# complete series is linked by the test kernel (make kernel), from the
# tree step 3 proved identical; on mainline the build matrix compiles
# the hooks and the core in every configuration that matters. A patch
# that changes only documentation, selftests or MAINTAINERS is not built
# after (the build before it stands for it), unless it is the last, and
# the config is made again only where an option can have appeared: a
# cold run of 7.3's series took 397 s alone against 627 s when every
# patch was configured and built (2026-12-05).
# A result is kept per machine, keyed by the content of every step of the
# series and everything the builds depend on: the same trees with the
# same compiler and config build the same way, so a key seen to pass is
# not built again (SERIES_BUILD=force builds anyway).
build_key() {
	git -C "$amtree" log --reverse --format=%T base..am |
		result_key "${series_configs[@]}" "$TOP/scripts/build-kernel.sh" \
			"$TOP/scripts/make-series.sh" "$TOP/scripts/lib.sh"
}

series_configs=("$TOP/configs/series.config" "$TOP/configs/series-$BASE.config")
if [ "${SERIES_BUILD:-1}" != 0 ]; then
	obj=$BDIR/obj-series
	last=$(git -C "$amtree" rev-parse am)
	stamp=$BUILD/results/series-builds-$BASE-$(build_key)
	if [ -f "$stamp" ] && [ "${SERIES_BUILD:-1}" != force ]; then
		sed 's/$/ (result kept from an identical build, '"${stamp##*/}"')/' "$stamp"
	else
		mkdir -p "${stamp%/*}"
		rm -f "$stamp.tmp"
		kvm_paths='^(arch/x86/kvm/|virt/kvm/|arch/x86/include/asm/kvm|include/(uapi/)?linux/kvm)'
		# what Kconfig reads: a change to it can bring in an option
		kconfig_paths='(^|/)Kconfig|^scripts/kconfig/|/configs/'
		kvm_touched="" configured=""
		for c in $(git -C "$amtree" rev-list --reverse base..am); do
			git -C "$amtree" checkout -q "$c"
			subject=$(git -C "$amtree" log -1 --format=%s "$c")
			files=$(git -C "$amtree" diff-tree --no-commit-id --name-only -r "$c")
			if grep -qE "$kvm_paths" <<< "$files"; then
				kvm_touched=1
			fi
			# A patch that changes only documentation, selftests or
			# MAINTAINERS (and no Kconfig file among them) leaves
			# every input of the kernel's build as it was: the build
			# after the patch before it holds for it (the selftests
			# are built from the complete series). The last patch
			# is built whatever it changes.
			if [ "$c" != "$last" ] &&
			   ! grep -qvE '^(Documentation/|tools/testing/selftests/|MAINTAINERS$)' <<< "$files" &&
			   ! grep -qE "$kconfig_paths" <<< "$files"; then
				echo "series: not built after $subject (it changes no input of the kernel's build)" |
					tee -a "$stamp.tmp"
				continue
			fi
			mapfile -t targets < <({
				echo kernel/cgroup/
				if [ -n "$kvm_touched" ]; then echo arch/x86/kvm/; fi
				echo "$files" |
					grep -E '^(arch|block|crypto|drivers|fs|init|ipc|kernel|lib|mm|net|security|virt)/.*\.c$' |
					xargs -r -n1 dirname | sed 's|$|/|'
			} | sort -u)
			note "building after: $subject (${targets[*]})"
			# what a patch has not introduced yet is dropped, but
			# after the last one every option must be there. The
			# config is made again (18 s, on one core) only where
			# an option can have appeared: for the first build,
			# after a patch that changes what Kconfig reads, after
			# the last.
			allow_dropped=1 force_config=0
			[ "$c" = "$last" ] && allow_dropped=0
			if [ -z "$configured" ] || [ "$c" = "$last" ] ||
			   grep -qE "$kconfig_paths" <<< "$files"; then
				force_config=1
			fi
			configured=1
			ALLOW_DROPPED=$allow_dropped FORCE_CONFIG=$force_config \
				"$TOP/scripts/build-kernel.sh" "$amtree" "$obj" \
				"${series_configs[@]}" -- "${targets[@]}" ||
				die "build fails after: $subject"
			echo "series: builds after $subject (${targets[*]})" | tee -a "$stamp.tmp"
		done
		git -C "$amtree" checkout -q am
		mv "$stamp.tmp" "$stamp"
	fi
fi
echo "series: ok ($(ls "$out" | wc -l) files in $out)"
