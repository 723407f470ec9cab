#!/bin/sh
# make-busybox-rootfs.sh OUTDIR [TARBALL]
#
# Build a minimal root filesystem from Debian's busybox-static: enough of an image to run
# shells, ps, ip, nc and sleep in podd's tests, demos and benchmarks without any registry.
# With TARBALL, also write it as a tar (what `podctl image import` takes).
#
# Needs root (chroot) and busybox-static: apt-get install -y busybox-static
set -eu

usage() { echo "usage: $0 OUTDIR [TARBALL]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
out=$1
tarball=${2:-}

busybox=${BUSYBOX:-/usr/bin/busybox}
[ -x "$busybox" ] || busybox=/bin/busybox
# A dynamically linked busybox would need the host's libc inside the image.
if ! [ -x "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
    echo "$0: need a static busybox at /usr/bin/busybox: apt-get install -y busybox-static" >&2
    exit 1
fi

rm -rf "$out"
mkdir -p "$out"
# Absolute paths, so the cd below leaves OUTDIR and TARBALL meaning what the caller meant.
out=$(cd "$out" && pwd)
case $tarball in ""|/*) ;; *) tarball=$(pwd)/$tarball ;; esac
cd "$out"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root run var/tmp home
chmod 1777 tmp var/tmp
chmod 0700 root
cp "$busybox" bin/busybox
# --install writes symlinks to the absolute path /bin/busybox for every applet; run
# chrooted so that "/" is the image and the links are right inside it.
chroot . /bin/busybox --install -s

cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > etc/group <<'GROUP'
root:x:0:
tty:x:5:
nogroup:x:65534:
GROUP
# Placeholders a runtime may bind over (as kubelet does with /etc/hosts).
: > etc/hosts
: > etc/resolv.conf
echo busybox > etc/hostname

if [ -n "$tarball" ]; then
    tar -C "$out" --numeric-owner -cf "$tarball" .
fi
echo "rootfs: $out ($(ls bin | wc -l) entries in bin)${tarball:+, tarball: $tarball}"
