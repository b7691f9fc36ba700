#!/bin/sh
# Build a minimal busybox root filesystem for test and example bundles.
#
# usage: scripts/make-busybox-rootfs.sh DEST
#
# DEST must not exist, be empty, or be a rootfs this script built before
# (it carries a marker file and is then rebuilt from scratch).
#
# The rootfs holds Debian's static busybox as /bin/busybox with a symlink
# in /bin for every applet, /etc/passwd and /etc/group (root, nobody and a
# uid 1000 user), and the usual empty directories (/proc, /sys, /dev, /tmp,
# /root, /home, /var ...). Debian's busybox-static package is installed with
# apt-get when it is missing.
set -eu

MARKER=.pyrunc-busybox-rootfs

die() {
	echo "make-busybox-rootfs: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 DEST"
dest=$1
[ -n "$dest" ] || die "DEST must not be empty"

# Find a static busybox, installing Debian's busybox-static if needed.
is_static() {
	# A dynamic binary names its interpreter (ld-linux) in .interp, which
	# sits in the first page of the file.
	[ -x "$1" ] || return 1
	if head -c 4096 "$1" | grep -q 'ld-linux'; then
		return 1
	fi
	return 0
}

find_busybox() {
	for candidate in /bin/busybox /usr/bin/busybox; do
		if is_static "$candidate"; then
			echo "$candidate"
			return 0
		fi
	done
	return 1
}

if ! bb=$(find_busybox); then
	if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
		echo "make-busybox-rootfs: installing busybox-static" >&2
		if [ "$(id -u)" -ne 0 ]; then
			die "busybox-static is not installed and we are not root to apt-get install it"
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >&2 ||
			{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >&2; } ||
			die "apt-get install busybox-static failed"
	fi
	bb=$(find_busybox) || die "no static busybox found after installing busybox-static"
fi

# Prepare DEST.
if [ -e "$dest" ]; then
	[ -d "$dest" ] || die "$dest exists and is not a directory"
	if [ -e "$dest/$MARKER" ]; then
		rm -rf -- "$dest"
	elif [ -n "$(ls -A -- "$dest")" ]; then
		die "$dest is not empty and was not made by this script; refusing to touch it"
	fi
fi
mkdir -p -- "$dest"
chmod 0755 "$dest"

for d in bin sbin etc dev proc sys root home home/user tmp var var/tmp var/log run mnt usr usr/bin; do
	mkdir -p -- "$dest/$d"
done
chmod 0700 "$dest/root"
chmod 1777 "$dest/tmp" "$dest/var/tmp"
chown 1000:1000 "$dest/home/user"

cp -- "$bb" "$dest/bin/busybox"
chmod 0755 "$dest/bin/busybox"

# One symlink per applet, all in /bin (PATH in the default spec covers it).
"$dest/bin/busybox" --list | while read -r applet; do
	case $applet in
	busybox | "" | */*) continue ;;
	esac
	ln -sf busybox "$dest/bin/$applet"
done

cat >"$dest/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$dest/etc/group" <<'EOF'
root:x:0:
tty:x:5:
users:x:100:user
user:x:1000:
nogroup:x:65534:
EOF
chmod 0644 "$dest/etc/passwd" "$dest/etc/group"

: >"$dest/$MARKER"
echo "make-busybox-rootfs: built $dest from $bb" >&2
