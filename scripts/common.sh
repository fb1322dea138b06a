# Shared by scripts/run and scripts/test: install what is missing, configure, build.
# Sourced, not executed.
set -euo pipefail

SIM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIM_BUILD=${SIM_BUILD:-$SIM_ROOT/build}
SIM_JOBS=${SIM_JOBS:-$(nproc 2>/dev/null || echo 2)}

step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }

# Debian bookworm packages, one line per purpose. Boost stays at Debian's default (1.74): the
# versioned 1.81 packages conflict with libmsgpack-cxx-dev.
SIM_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost-dev libboost-fiber-dev libboost-context-dev
  libmsgpack-cxx-dev liblz4-dev libblosc-dev rapidjson-dev libcereal-dev
  libfmt-dev libspdlog-dev libcli11-dev libyaml-cpp-dev libvalijson-dev libssl-dev openssl
  catch2 libbenchmark-dev
  clang libclang-rt-14-dev clang-format-14 universal-ctags
  python3
)

sim_install_deps() {
  step "Checking packages"
  local missing=()
  for p in "${SIM_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    note "all ${#SIM_PACKAGES[@]} packages present"
    return
  fi
  note "installing: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # Try without refreshing the package lists first: it is fast and works on most images.
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    note "refreshing package lists"
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# sim_build [extra cmake args...]: configure (once) and build everything in $SIM_BUILD.
sim_build() {
  local gen=()
  if [ ! -f "$SIM_BUILD/CMakeCache.txt" ]; then
    command -v ninja >/dev/null && gen=(-G Ninja)
  fi
  step "Configuring in $SIM_BUILD"
  cmake -S "$SIM_ROOT" -B "$SIM_BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >"$SIM_BUILD.configure.log" 2>&1 ||
    { cat "$SIM_BUILD.configure.log"; return 1; }
  note "done (log: $SIM_BUILD.configure.log)"
  step "Building with $SIM_JOBS jobs"
  cmake --build "$SIM_BUILD" --parallel "$SIM_JOBS"
}
