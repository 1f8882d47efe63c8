#!/usr/bin/env bash
# Build real Caffe (CPU only) for caffelint's end-to-end tests, cached.
#
# Usage:  CAFFE_BIN=$(bash .ci/build-caffe.sh | tail -1)
#
# Prints the bin directory of a cached build as the last line of stdout; all
# progress goes to stderr.  The cache directory is keyed by a hash of the
# recipe (this script plus every file in .ci/caffe/):
#
#   ${CAFFELINT_CAFFE_CACHE:-$HOME/.cache/caffelint/caffe}/<hash>/
#       bin/caffe, bin/upgrade_net_proto_text, bin/upgrade_solver_proto_text,
#       bin/convert_imageset, bin/compute_image_mean
#       share/caffe/caffe.proto    the schema these tools were built from
#       BUILDINFO                  source, toolchain and package versions
#       .complete                  stamp: present only in a finished build
#
# When <hash>/.complete exists the script only prints the path (after a
# quick ldd check that the system libraries the tools link are present;
# if not, it reinstalls the Debian packages).  Otherwise it installs the
# missing Debian build dependencies, downloads the brocolli-caffe sdist from
# PyPI (a BVLC Caffe fork with the SSD layers; kept in <cache root>/sdist/),
# checks its sha256, patches it (see "patches" below), builds it out of tree
# with .ci/caffe/CMakeLists.txt in a temporary directory and renames the
# finished install tree into place, so an interrupted build never leaves a
# half-filled cache directory.  Concurrent runs for the same recipe
# serialise on a lock file.  The tools link the Caffe objects statically and
# need only Debian's shared libraries.
#
# Environment:
#   CAFFELINT_CAFFE_CACHE  cache root (default $HOME/.cache/caffelint/caffe)
#   CAFFELINT_CAFFE_JOBS   parallel compile jobs (default: nproc)
#   CAFFELINT_CAFFE_SDIST  use this brocolli-caffe-9.0.2.tar.gz, no download
#   CAFFELINT_CAFFE_KEEP_BUILD=1  keep the temporary build tree (debugging)
#   PYTHON                 interpreter whose pip downloads the sdist
#                          (default python3, then /usr/bin/python3)
set -euo pipefail

# Everything but the final path goes to stderr.
exec 3>&1 1>&2

log() { printf '[build-caffe +%ds] %s\n' "$SECONDS" "$*" >&2; }
die() { log "error: $*"; exit 1; }

CAFFE_DIST=brocolli-caffe
CAFFE_VERSION=9.0.2
CAFFE_SDIST=$CAFFE_DIST-$CAFFE_VERSION.tar.gz
CAFFE_SDIST_SHA256=c6410cc60bdd6db685d441b66be7df05410f8850ac88d6b75d48ef9b2315c08a
CAFFE_TOOLS=(caffe upgrade_net_proto_text upgrade_solver_proto_text
             convert_imageset compute_image_mean)
DEB_PACKAGES=(build-essential cmake protobuf-compiler libprotobuf-dev
              libgoogle-glog-dev libgflags-dev libhdf5-dev liblmdb-dev
              libopenblas-dev libboost-system-dev libboost-filesystem-dev
              libboost-thread-dev libboost-regex-dev libgtest-dev
              libopencv-dev)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CMAKE_DIR=$HERE/caffe
[[ -f $CMAKE_DIR/CMakeLists.txt ]] || die "missing $CMAKE_DIR/CMakeLists.txt"
# The recipe is this script plus everything beside the CMakeLists (names and
# contents), so any change to how Caffe is built gives a new cache directory.
# Paths are relative, so every checkout of the same recipe shares the cache.
recipe_digest() (
    cd "$HERE"
    sha256sum build-caffe.sh
    find caffe -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
)
HASH=$(recipe_digest | sha256sum | cut -c1-16)
CACHE_ROOT=${CAFFELINT_CAFFE_CACHE:-$HOME/.cache/caffelint/caffe}
DEST=$CACHE_ROOT/$HASH
STAMP=.complete

done_path() {
    printf '%s\n' "$DEST/bin" >&3
    exit 0
}

# ---- Debian packages ---------------------------------------------------------
is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

ensure_packages() {
    local p missing=()
    for p in "${DEB_PACKAGES[@]}"; do
        is_installed "$p" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing Debian packages: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        log "Debian packages already installed"
    fi
}

# The tools link the system's shared libraries (glog, protobuf, OpenCV, ...),
# so a cache restored onto a machine without them needs the packages again.
runtime_ok() {
    ! ldd "$1" 2>/dev/null | grep -q 'not found'
}

# ---- warm path ---------------------------------------------------------------
if [[ -f $DEST/$STAMP ]]; then
    if ! runtime_ok "$DEST/bin/caffe"; then
        log "cached build lacks shared libraries; reinstalling packages"
        ensure_packages
        runtime_ok "$DEST/bin/caffe" || die "$DEST/bin/caffe: unresolved shared libraries"
    fi
    log "cached build: $DEST"
    done_path
fi

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.$HASH.lock"
if ! flock -n 9; then
    log "another build of $HASH is running; waiting for it"
    flock 9
fi
if [[ -f $DEST/$STAMP ]]; then
    log "cached build (made by a concurrent run): $DEST"
    done_path
fi
# Holding the lock: staging trees of killed runs are garbage now.
rm -rf "$CACHE_ROOT/.$HASH.tmp."*

START=$SECONDS
log "building Caffe $CAFFE_DIST==$CAFFE_VERSION into $DEST"

ensure_packages

# ---- scratch space -------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/caffelint-caffe.XXXXXX")
STAGE=$CACHE_ROOT/.$HASH.tmp.$$
cleanup() {
    rm -rf "$STAGE"
    if [[ ${CAFFELINT_CAFFE_KEEP_BUILD:-0} == 1 ]]; then
        log "kept build tree: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# The compile runs in its own process group, so that a signal to this script
# (CI cancelling, Ctrl-C) stops the whole build before the cleanup runs.
CHILD=
run_killable() {
    setsid "$@" &
    CHILD=$!
    local rc=0
    wait "$CHILD" || rc=$?
    CHILD=
    return "$rc"
}
on_signal() {
    log "interrupted; nothing is published"
    if [[ -n $CHILD ]]; then
        kill -TERM -- "-$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    exit "$1"
}
trap 'on_signal 129' HUP
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# ---- source --------------------------------------------------------------------
pick_pip() {
    local py
    for py in ${PYTHON:-} python3 /usr/bin/python3; do
        if command -v "$py" >/dev/null && "$py" -m pip --version >/dev/null 2>&1; then
            printf '%s\n' "$py"
            return 0
        fi
    done
    return 1
}

SDIST_DIR=$CACHE_ROOT/sdist
SDIST_PATH=$SDIST_DIR/$CAFFE_SDIST
if [[ -n ${CAFFELINT_CAFFE_SDIST:-} ]]; then
    SDIST_PATH=$CAFFELINT_CAFFE_SDIST
elif ! echo "$CAFFE_SDIST_SHA256  $SDIST_PATH" | sha256sum -c --status 2>/dev/null; then
    if ! PY=$(pick_pip); then
        log "no pip found; installing python3-pip"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends python3-pip
        PY=$(pick_pip) || die "python3 -m pip is not usable"
    fi
    log "downloading $CAFFE_SDIST with $PY -m pip"
    # Hash-checking mode: pip verifies the archive before it runs anything
    # from it (it prepares the sdist's metadata even for a download).
    echo "$CAFFE_DIST==$CAFFE_VERSION --hash=sha256:$CAFFE_SDIST_SHA256" >"$WORK/req.txt"
    "$PY" -m pip download --no-deps --no-binary :all: --disable-pip-version-check \
        -d "$WORK/dl" -r "$WORK/req.txt"
    mkdir -p "$SDIST_DIR"
    mv -f "$WORK/dl/$CAFFE_SDIST" "$SDIST_PATH.part.$$"
    mv -f "$SDIST_PATH.part.$$" "$SDIST_PATH"
fi
echo "$CAFFE_SDIST_SHA256  $SDIST_PATH" | sha256sum -c --status \
    || die "sha256 mismatch for $SDIST_PATH (want $CAFFE_SDIST_SHA256)"

log "unpacking $SDIST_PATH"
tar -xzf "$SDIST_PATH" -C "$WORK"
SRC=$WORK/$CAFFE_DIST-$CAFFE_VERSION
[[ -f $SRC/src/caffe/proto/caffe.proto ]] || die "no Caffe tree in $SDIST_PATH"

# ---- patches ---------------------------------------------------------------------
# The shipped generated protobuf code is stale (fails with protobuf 3.21);
# CMake regenerates it, so drop the old copies to be sure they are unused.
rm -f "$SRC/include/caffe/proto/caffe.pb.h" "$SRC/src/caffe/proto/caffe.pb.cc"
# The fork demoted the net set-up log lines ("Creating Layer", "Top shape",
# ...) to debug logging, which release builds drop; restore them.
sed -i 's/DLOG_IF(INFO/LOG_IF(INFO/g' "$SRC/src/caffe/net.cpp"
if grep -q 'DLOG_IF(INFO' "$SRC/src/caffe/net.cpp" \
   || ! grep -q 'LOG_IF(INFO, Caffe::root_solver())' "$SRC/src/caffe/net.cpp"; then
    die "net.cpp logging patch did not apply"
fi

# ---- build -------------------------------------------------------------------------
JOBS=${CAFFELINT_CAFFE_JOBS:-$(nproc)}
log "configuring"
cmake -S "$CMAKE_DIR" -B "$WORK/build" \
    -DCAFFE_SOURCE_DIR="$SRC" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$STAGE" \
    -DCMAKE_INSTALL_MESSAGE=NEVER
log "compiling with $JOBS jobs"
run_killable cmake --build "$WORK/build" --parallel "$JOBS"
rm -rf "$STAGE"
cmake --install "$WORK/build"

# ---- check, record, publish ----------------------------------------------------------
for t in "${CAFFE_TOOLS[@]}"; do
    [[ -x $STAGE/bin/$t ]] || die "tool not built: $t"
done
if ! runtime_ok "$STAGE/bin/caffe"; then
    ldd "$STAGE/bin/caffe" | grep 'not found' >&2 || true
    die "bin/caffe has unresolved shared libraries"
fi
"$STAGE/bin/caffe" --version >&2 || die "bin/caffe --version failed"

{
    echo "recipe_hash=$HASH"
    echo "source=$CAFFE_DIST==$CAFFE_VERSION sha256=$CAFFE_SDIST_SHA256"
    echo "patches=net.cpp DLOG_IF(INFO->LOG_IF(INFO; regenerated caffe.pb.h/.cc;" \
         "OpenCV 4 legacy constants via caffe/opencv4_compat.hpp"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) host=$(uname -srm)"
    echo "compiler=$(c++ --version | head -1)"
    echo "protoc=$(protoc --version)"
    dpkg-query -W -f='deb=${Package} ${Version}\n' "${DEB_PACKAGES[@]}"
} >"$STAGE/BUILDINFO"
touch "$STAGE/$STAMP"

# A leftover $DEST without a stamp can only be junk (e.g. hand-made); replace it.
if [[ -e $DEST ]]; then
    log "replacing incomplete $DEST"
    rm -rf "$DEST"
fi
mv -T "$STAGE" "$DEST"
log "done in $((SECONDS - START))s: $DEST"
done_path
