#!/usr/bin/env bash
# Builds (or finds in the cache) a test root filesystem and prints its path
# on stdout. Progress goes to stderr. Safe to run in CI: as root, no stdin,
# idempotent, concurrent runs serialised by a lock.
#
#   tools/rootfs/build.sh debian [--tar FILE]   # debootstrap minbase bookworm + packages
#   tools/rootfs/build.sh busybox [--tar FILE]  # busybox-static with every applet linked
#
# The trees are cached outside the work tree, under $PANGOLIN_ROOTFS_CACHE
# (default /var/cache/pangolin), in a directory named after a hash of
# everything that goes into them (this script, the package list, the suite,
# the busybox binary), so changing any of those builds a new tree; the old
# ones are removed. Treat a cached tree as read-only: tests copy it (or
# write only to a tmpfs mounted over /tmp).
#
# --tar FILE also writes the tree as an uncompressed tarball with numeric
# owners (for `docker import FILE` or an OCI bundle's rootfs).
#
# The Debian mirror is $PANGOLIN_APT_MIRROR, or else the first bookworm
# source this machine's apt is configured with.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${PANGOLIN_ROOTFS_CACHE:-/var/cache/pangolin}
suite=bookworm
# Packages on top of minbase (which already has bash, coreutils, findutils,
# grep, sed, tar, gzip as Essential packages; they are listed so that the
# tree keeps them whatever minbase becomes). nginx-light and redis-server
# are the servers the end-to-end tests run.
debian_pkgs=(python3 bash coreutils findutils grep sed gawk tar gzip procps nginx-light redis-server)

log() { echo "rootfs: $*" >&2; }
die() { echo "rootfs: $*" >&2; exit 1; }

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage
kind=$1; shift
tar_out=
while [ $# -gt 0 ]; do
  case $1 in
    --tar) [ $# -ge 2 ] || usage; tar_out=$2; shift 2 ;;
    *) usage ;;
  esac
done
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap and device nodes need it)"

# mirror prints the Debian mirror to use.
mirror() {
  if [ -n "${PANGOLIN_APT_MIRROR:-}" ]; then echo "$PANGOLIN_APT_MIRROR"; return; fi
  local f uri
  # deb822 sources: a stanza whose Suites has bookworm and whose URI is not
  # the security archive.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    uri=$(awk -v s="$suite" '
      /^$/ { if (u != "" && ok) { print u; exit } u=""; ok=0; next }
      /^URIs:/ { if ($2 !~ /security/) u=$2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok=1 }
      END { if (u != "" && ok) print u }' "$f" | head -n1)
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    uri=$(awk -v s="$suite" '$1 == "deb" { u=$2; if (u ~ /^\[/) u=$3; for (i = 3; i <= NF; i++) if ($i == s && u !~ /security/) { print u; exit } }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  die "no $suite mirror found in /etc/apt sources; set PANGOLIN_APT_MIRROR"
}

case $kind in
  debian)
    command -v debootstrap >/dev/null || die "debootstrap not installed (apt-get install debootstrap; .ci/setup does)"
    key=$( { cat "$0"; echo "$suite ${debian_pkgs[*]}"; } | sha256sum | cut -c1-16)
    name=rootfs-$suite
    ;;
  busybox)
    bb=$(readlink -f /bin/busybox 2>/dev/null || true)
    [ -x "$bb" ] || die "/bin/busybox not found (apt-get install busybox-static)"
    file "$bb" 2>/dev/null | grep -q 'dynamically linked' && die "$bb is dynamically linked; install busybox-static"
    key=$( { cat "$0"; cat "$bb"; } | sha256sum | cut -c1-16)
    name=rootfs-busybox
    ;;
  *) usage ;;
esac

dir=$cache/$name-$key
mkdir -p "$cache"
exec 9>"$cache/.$name.lock"
flock 9

if [ ! -e "$dir/.pangolin-rootfs-complete" ]; then
  start=$(date +%s)
  tmp=$cache/.$name-$key.tmp.$$
  rm -rf "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  case $kind in
    debian)
      m=$(mirror)
      log "debootstrap --variant=minbase $suite (+ ${debian_pkgs[*]}) from $m into $dir (a few minutes)"
      inc=$(IFS=,; echo "${debian_pkgs[*]}")
      if ! debootstrap --variant=minbase --include="$inc" "$suite" "$tmp" "$m" </dev/null >"$cache/.$name.log" 2>&1; then
        tail -n 30 "$cache/.$name.log" >&2
        die "debootstrap failed (full log: $cache/.$name.log)"
      fi
      # Smaller and reproducible: no package caches or lists, no logs.
      rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/* "$tmp"/var/log/*.log
      echo pangolin > "$tmp/etc/hostname"
      ;;
    busybox)
      log "busybox rootfs from $bb into $dir"
      mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root}
      chmod 1777 "$tmp/tmp"
      chmod 0700 "$tmp/root"
      cp "$bb" "$tmp/bin/busybox"
      # One symlink per applet, where busybox --install -s would put it.
      "$bb" --list-full | while read -r p; do
        [ "$p" = bin/busybox ] && continue
        mkdir -p "$tmp/$(dirname "$p")"
        ln -sf /bin/busybox "$tmp/$p"
      done
      printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$tmp/etc/passwd"
      printf 'root:x:0:\nnogroup:x:65534:\n' > "$tmp/etc/group"
      echo pangolin > "$tmp/etc/hostname"
      ;;
  esac
  touch "$tmp/.pangolin-rootfs-complete"
  # Older trees of this kind are stale (their key no longer matches).
  for old in "$cache/$name"-*; do
    [ -e "$old" ] && [ "$old" != "$dir" ] && rm -rf "$old"
  done
  mv "$tmp" "$dir"
  trap - EXIT
  log "built $dir in $(( $(date +%s) - start ))s"
fi

if [ -n "$tar_out" ]; then
  log "writing $tar_out"
  tar -C "$dir" --numeric-owner --exclude=./.pangolin-rootfs-complete -cf "$tar_out" .
fi
echo "$dir"
