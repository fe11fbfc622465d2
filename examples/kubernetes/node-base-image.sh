#!/usr/bin/env bash
# Builds a Node.js base image for examples/kubernetes/Dockerfile from this machine's own files, for
# a Docker engine that cannot pull node:20-slim (no registry but the OS's package mirror in reach):
#
#   IMAGE=$(examples/kubernetes/node-base-image.sh)
#   docker build --build-arg NODE_IMAGE="$IMAGE" -f examples/kubernetes/Dockerfile -t herd:local .
#
# The image holds this machine's node binary and npm, the shared libraries node links against, a
# shell and the few tools the Dockerfile's RUN lines use, and a user `node` (uid/gid 1000) as in
# the official image. Nothing is downloaded. It is tagged by a hash of what went into it, so a
# second call finds it and returns at once. Prints the image name (herd-node-base:<hash>).
set -euo pipefail

NODE_BIN=$(readlink -f "$(command -v node)")
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
TOOLS=(sh env chmod ln mkdir rm cat ls)
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

tool_paths=()
for t in "${TOOLS[@]}"; do tool_paths+=("$(readlink -f "$(command -v "$t")")"); done
# Every shared library the binaries need, with the dynamic loader (ldd prints it without "=>").
libs=$(ldd "$NODE_BIN" "${tool_paths[@]}" 2>/dev/null | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u)

recipe_hash=$(
  {
    echo "recipe 1"
    sha256sum "$NODE_BIN" "${tool_paths[@]}" $libs
    [ -f "$CA_BUNDLE" ] && sha256sum "$CA_BUNDLE"
    cat "$NPM_DIR/package.json"
  } | sha256sum | cut -c1-16
)
IMAGE="herd-node-base:$recipe_hash"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "$IMAGE"
  exit 0
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/herd-node-base.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{usr/bin,usr/lib,usr/local/bin,etc,tmp,home/node,root}
chmod 1777 "$root/tmp"
# Debian's merged /usr: /bin and /lib are links into /usr.
ln -s usr/bin "$root/bin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
mkdir -p "$root/usr/lib64"

cp "$NODE_BIN" "$root/usr/bin/node"
for i in "${!TOOLS[@]}"; do cp "${tool_paths[$i]}" "$root/usr/bin/${TOOLS[$i]}"; done
for lib in $libs; do
  real=$(readlink -f "$lib")
  dest="$root/usr${lib#/usr}"
  mkdir -p "$(dirname "$dest")"
  cp "$real" "$dest"
done
mkdir -p "$root/usr/lib/node_modules"
cp -a "$NPM_DIR" "$root/usr/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
# This machine's trust store, and npm told to use it: where the package registry is reached through
# a proxy with its own certificate authority, npm in the image trusts what npm here trusts.
if [ -f "$CA_BUNDLE" ]; then
  mkdir -p "$root/etc/ssl/certs" "$root/usr/etc"
  cp "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
  echo 'cafile=/etc/ssl/certs/ca-certificates.crt' >"$root/usr/etc/npmrc"
fi
chown -R 0:0 "$root"
chown 1000:1000 "$root/home/node"

tar --numeric-owner -C "$root" -c . |
  docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    -c 'ENV NODE_VERSION='"$("$NODE_BIN" --version)" \
    -c 'CMD ["node"]' \
    - "$IMAGE" >/dev/null
echo "$IMAGE"
