#!/usr/bin/env bash
# Installs racepilot on an NVIDIA Jetson AGX Xavier with JetPack 5.1.x (L4T R35: Ubuntu 20.04, CUDA 11.4,
# TensorRT 8.5). Idempotent: every step checks whether its work is already done and skips it if so; run it again
# after an update of the repository to redeploy.
#
#   sudo deploy/install-jetson.sh [--dry-run] [--max-power] [--fc-uart ttyTHS0] [--ort-version X.Y.Z] [--start]
#
# See deploy/README.md for what each step does and why.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: install-jetson.sh [options]

  --dry-run            print every step and why, change nothing (works on any machine; says why it would stop)
  --max-power          nvpmodel -m 0 (MAXN) now and jetson_clocks before each start of the daemon
  --fc-uart DEV        the flight controller is on a Jetson UART (e.g. ttyTHS0): name it /dev/racepilot-fc
  --ort-version X.Y.Z  build this ONNX Runtime instead of the one package-lock.json pins (see README: JetPack 5
                       has TensorRT 8.5, which ONNX Runtime 1.18 and later no longer build against)
  --jobs N             parallel compile jobs for ONNX Runtime (default 4: the Xavier's 32 GB hold that)
  --start              start (or restart) the service at the end; default: enabled for the next boot only
  -h, --help           this text
USAGE
}

DRY_RUN=0
MAX_POWER=0
FC_UART=""
ORT_VERSION_OVERRIDE=""
JOBS=4
START=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --max-power) MAX_POWER=1 ;;
    --fc-uart) FC_UART="${2:?--fc-uart needs a device name, e.g. ttyTHS0}"; shift ;;
    --ort-version) ORT_VERSION_OVERRIDE="${2:?--ort-version needs a version, e.g. 1.17.3}"; shift ;;
    --jobs) JOBS="${2:?--jobs needs a number}"; shift ;;
    --start) START=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install-jetson.sh: unknown option $1" >&2; usage >&2; exit 64 ;;
  esac
  shift
done
if ! [[ "$JOBS" =~ ^[1-9][0-9]*$ ]]; then
  echo "install-jetson.sh: --jobs: expected a positive number, got $JOBS" >&2
  exit 64
fi
if [[ -n "$FC_UART" && ! "$FC_UART" =~ ^tty[A-Za-z0-9]+$ ]]; then
  echo "install-jetson.sh: --fc-uart: expected a tty name such as ttyTHS0, got $FC_UART" >&2
  exit 64
fi

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=/opt/racepilot
CONF_DIR=/etc/racepilot
STATE_DIR=/var/lib/racepilot
CACHE_DIR=/var/cache/racepilot
BUILD_DIR=/var/cache/racepilot-build
UNIT=/etc/systemd/system/racepilot.service
SVC_USER=racepilot
NODE_MAJOR=20

PROBLEMS=()

step() { printf '\n==> %s\n' "$*"; }
why() { printf '    why: %s\n' "$*"; }
skip() { printf '    already done: %s\n' "$*"; }
# Runs a command, or in a dry run prints it.
run() {
  if [[ $DRY_RUN -eq 1 ]]; then
    printf '    would run: %s\n' "$*"
  else
    printf '    + %s\n' "$*"
    "$@"
  fi
}
problem() {
  PROBLEMS+=("$*")
  printf '    PROBLEM: %s\n' "$*"
}

# ---- 0. preflight ------------------------------------------------------------------------------------------------
step "Preflight: is this a Jetson AGX Xavier with JetPack 5.1.x?"
why "racepilot's GPU path (CUDA 11.4, TensorRT 8.5, Argus cameras) is built for exactly that image"
if [[ $DRY_RUN -eq 0 && $EUID -ne 0 ]]; then
  echo "install-jetson.sh: run as root (sudo), or with --dry-run to see what it would do" >&2
  exit 1
fi
ARCH=$(uname -m)
[[ "$ARCH" == aarch64 ]] || problem "CPU architecture is $ARCH, not aarch64"
L4T_MAJOR=""
L4T_REV=""
if [[ -r /etc/nv_tegra_release ]]; then
  # e.g. "# R35 (release), REVISION: 4.1, GCID: ..., BOARD: t186ref, EABI: aarch64, DATE: ..."
  L4T_MAJOR=$(sed -n 's/^# R\([0-9]*\) (release).*/\1/p' /etc/nv_tegra_release)
  L4T_REV=$(sed -n 's/.*REVISION: \([0-9.]*\),.*/\1/p' /etc/nv_tegra_release)
  echo "    L4T R${L4T_MAJOR}.${L4T_REV}"
  if [[ "$L4T_MAJOR" != 35 ]]; then
    problem "L4T R${L4T_MAJOR} is not JetPack 5 (R35); JetPack 5.1.x is the last JetPack for the AGX Xavier"
  elif [[ "${L4T_REV%%.*}" -lt 2 ]]; then
    problem "L4T R35.${L4T_REV} is JetPack 5.0.x; JetPack 5.1.x (R35.2 or later) is required"
  fi
else
  problem "/etc/nv_tegra_release is missing: this is not a Jetson (or not an L4T image)"
fi
if [[ -r /proc/device-tree/model ]]; then
  MODEL=$(tr -d '\0' </proc/device-tree/model)
  echo "    model: $MODEL"
  [[ "$MODEL" == *Xavier* ]] || echo "    warning: not a Xavier; TensorRT engines and nvpmodel modes differ on other modules"
fi
TRT_VERSION=$(dpkg-query -W -f='${Version}' libnvinfer8 2>/dev/null || true)
if [[ -n "$L4T_MAJOR" ]]; then
  [[ -n "$TRT_VERSION" ]] || problem "TensorRT (libnvinfer8) is not installed: apt-get install nvidia-jetpack"
  [[ -x /usr/local/cuda/bin/nvcc ]] || problem "CUDA toolkit missing (/usr/local/cuda/bin/nvcc): apt-get install nvidia-jetpack"
fi
[[ -f "$SRC/package-lock.json" ]] || problem "$SRC/package-lock.json not found: run this script from a racepilot checkout"

# The ONNX Runtime to build: the version the Node binding's JavaScript (onnxruntime-node) uses, unless overridden.
LOCK_ORT=$(sed -n '/"node_modules\/onnxruntime-node": {/,/}/s/.*"version": "\([^"]*\)".*/\1/p' "$SRC/package-lock.json" 2>/dev/null | head -n1)
ORT_VERSION=${ORT_VERSION_OVERRIDE:-$LOCK_ORT}
echo "    onnxruntime-node in package-lock.json: ${LOCK_ORT:-unknown}; building ONNX Runtime ${ORT_VERSION:-?}"
ORT_MINOR=$(cut -d. -f2 <<<"${ORT_VERSION:-0.0}")
if [[ "${ORT_VERSION%%.*}" == 1 && "$ORT_MINOR" -ge 18 ]]; then
  # ONNX Runtime's own table: 1.18+ need TensorRT 10 and CUDA 11.8/12; 1.15-1.17 TensorRT 8.6; 1.14 TensorRT 8.5.
  problem "ONNX Runtime $ORT_VERSION needs TensorRT 10 and CUDA >= 11.8; JetPack 5.1 has TensorRT 8.5 and CUDA 11.4. Pass --ort-version 1.14.1 (the release built for TensorRT 8.5; 1.15-1.17 target 8.6 and are untried on 8.5), which also installs the matching onnxruntime-node JavaScript"
fi

if [[ ${#PROBLEMS[@]} -gt 0 ]]; then
  if [[ $DRY_RUN -eq 0 ]]; then
    echo
    echo "install-jetson.sh: stopping before changing anything:" >&2
    printf '  - %s\n' "${PROBLEMS[@]}" >&2
    exit 1
  fi
  echo
  echo "    (dry run: showing the remaining steps anyway; a real run would stop here)"
fi

# ---- 1. system packages ------------------------------------------------------------------------------------------
APT_PACKAGES=(
  ca-certificates curl gnupg rsync git build-essential python3 python3-pip python3-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-libav nvidia-l4t-gstreamer v4l-utils
)
step "System packages: GStreamer with the Jetson plugins (nvarguscamerasrc, nvvidconv), build tools, python3"
why "cameras come in through GStreamer; python3 carries the systemd notify datagrams; the tools build ONNX Runtime"
MISSING=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || MISSING+=("$p")
done
if [[ ${#MISSING[@]} -eq 0 ]]; then
  skip "all ${#APT_PACKAGES[@]} packages installed"
else
  run apt-get update
  run apt-get install -y --no-install-recommends "${MISSING[@]}"
fi

# ---- 2. Node.js 20 -----------------------------------------------------------------------------------------------
step "Node.js $NODE_MAJOR from NodeSource"
why "racepilot targets Node.js 20 LTS; Ubuntu 20.04's own nodejs is 10"
CURRENT_NODE=$(node --version 2>/dev/null || true)
if [[ "$CURRENT_NODE" == v${NODE_MAJOR}.* ]]; then
  skip "node $CURRENT_NODE"
else
  run install -d -m 0755 /etc/apt/keyrings
  if [[ $DRY_RUN -eq 1 ]]; then
    echo "    would run: curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor -o /etc/apt/keyrings/nodesource.gpg"
  else
    curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  fi
  LINE="deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main"
  if [[ $DRY_RUN -eq 1 ]]; then
    echo "    would write /etc/apt/sources.list.d/nodesource.list: $LINE"
  else
    echo "$LINE" >/etc/apt/sources.list.d/nodesource.list
  fi
  run apt-get update
  run apt-get install -y nodejs
fi

# ---- 3. user -----------------------------------------------------------------------------------------------------
step "Service user $SVC_USER (groups dialout, video)"
why "the daemon runs unprivileged: dialout opens the flight controller's serial port, video the cameras and GPU"
if id "$SVC_USER" >/dev/null 2>&1; then
  skip "user $SVC_USER exists"
else
  run useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin "$SVC_USER"
fi
run usermod -a -G dialout,video "$SVC_USER"

# ---- 4. racepilot itself -----------------------------------------------------------------------------------------
step "racepilot into $PREFIX (from $SRC)"
why "the unit runs $PREFIX/bin/racepilot.js; dependencies from package-lock.json exactly (npm ci)"
run install -d -m 0755 "$PREFIX"
run rsync -a --delete --exclude .git --exclude node_modules --exclude dist --exclude models/.work --exclude .cache "$SRC/" "$PREFIX/"
# npm ci with the dev dependencies to compile, then drop them. onnxruntime-node's download of CUDA binaries for
# x86-64 stays off (.npmrc); its CPU binding is replaced by the TensorRT build below.
run bash -c "cd '$PREFIX' && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev"
if [[ -n "$ORT_VERSION_OVERRIDE" && "$ORT_VERSION_OVERRIDE" != "$LOCK_ORT" ]]; then
  why "--ort-version $ORT_VERSION_OVERRIDE: the JavaScript of onnxruntime-node must match the native binding"
  run bash -c "cd '$PREFIX' && npm install --no-save --no-audit --no-fund onnxruntime-node@$ORT_VERSION_OVERRIDE"
fi

# ---- 5. ONNX Runtime with the TensorRT and CUDA execution providers ---------------------------------------------
ORT_MARKER="$PREFIX/.onnxruntime-${ORT_VERSION}-trt${TRT_VERSION:-none}"
BINDING_DIR="$PREFIX/node_modules/onnxruntime-node/bin/napi-v3/linux/arm64"
step "ONNX Runtime $ORT_VERSION with TensorRT and CUDA for the Node.js binding (Microsoft ships no GPU build for arm64)"
why "the gate detector runs through TensorRT on the Xavier's GPU; the build takes hours, so it is done once per version"
if [[ -f "$ORT_MARKER" && -f "$BINDING_DIR/onnxruntime_binding.node" ]]; then
  skip "$ORT_MARKER"
else
  # ONNX Runtime needs CMake >= 3.26; Ubuntu 20.04 has 3.16.
  run python3 -m pip install --upgrade 'cmake>=3.26'
  run install -d -m 0755 "$BUILD_DIR"
  ORT_SRC="$BUILD_DIR/onnxruntime-$ORT_VERSION"
  if [[ -d "$ORT_SRC/.git" ]]; then
    skip "source in $ORT_SRC"
  else
    run git clone --depth 1 --branch "v$ORT_VERSION" --recursive --shallow-submodules https://github.com/microsoft/onnxruntime.git "$ORT_SRC"
  fi
  # CUDA_ARCHITECTURES 72: the Xavier's Volta GPU. --build_nodejs builds the Node binding beside libonnxruntime.
  run bash -c "cd '$ORT_SRC' && ./build.sh --config Release --update --build --parallel $JOBS --build_shared_lib \
    --skip_tests --allow_running_as_root \
    --use_cuda --cuda_home /usr/local/cuda --cudnn_home /usr/lib/aarch64-linux-gnu \
    --use_tensorrt --tensorrt_home /usr/lib/aarch64-linux-gnu \
    --build_nodejs \
    --cmake_extra_defines CMAKE_CUDA_ARCHITECTURES=72 onnxruntime_BUILD_UNIT_TESTS=OFF"
  run install -d -m 0755 "$BINDING_DIR"
  # The binding finds libonnxruntime and the provider libraries beside itself ($ORIGIN): no LD_LIBRARY_PATH.
  run bash -c "cp -a '$ORT_SRC'/js/node/bin/napi-v3/linux/arm64/. '$BINDING_DIR/' && cp -a '$ORT_SRC'/build/Linux/Release/libonnxruntime_providers_*.so '$BINDING_DIR/'"
  run touch "$ORT_MARKER"
fi

# ---- 6. configuration and directories ----------------------------------------------------------------------------
step "Configuration $CONF_DIR/racepilot.json, logs $STATE_DIR, TensorRT cache $CACHE_DIR"
why "an existing configuration is never overwritten; the daemon may write only its log and cache directories"
run install -d -m 0750 -o root -g "$SVC_USER" "$CONF_DIR"
if [[ -f "$CONF_DIR/racepilot.json" ]]; then
  skip "$CONF_DIR/racepilot.json exists (kept)"
elif [[ -f "$SRC/config/racepilot.json" ]]; then
  run install -m 0640 -o root -g "$SVC_USER" "$SRC/config/racepilot.json" "$CONF_DIR/racepilot.json"
else
  # {} is a valid and safe configuration: nothing arms, nothing takes control.
  if [[ $DRY_RUN -eq 1 ]]; then echo "    would write {} to $CONF_DIR/racepilot.json"; else echo '{}' >"$CONF_DIR/racepilot.json"; fi
  run chown "root:$SVC_USER" "$CONF_DIR/racepilot.json"
  run chmod 0640 "$CONF_DIR/racepilot.json"
fi
run install -d -m 0750 -o "$SVC_USER" -g "$SVC_USER" "$STATE_DIR" "$CACHE_DIR" "$CACHE_DIR/tensorrt"

# ---- 7. udev rules -----------------------------------------------------------------------------------------------
step "udev rules: /dev/racepilot-fc and stable camera names"
why "the configuration names /dev/racepilot-fc, not /dev/ttyACM0, which changes with the plug order"
run install -m 0644 "$SRC/deploy/99-racepilot.rules" /etc/udev/rules.d/99-racepilot.rules
if [[ -n "$FC_UART" ]]; then
  RULE="KERNEL==\"$FC_UART\", SYMLINK+=\"racepilot-fc\", GROUP=\"dialout\", MODE=\"0660\""
  if [[ $DRY_RUN -eq 1 ]]; then
    echo "    would write /etc/udev/rules.d/99-racepilot-local.rules: $RULE"
  else
    echo "$RULE" >/etc/udev/rules.d/99-racepilot-local.rules
  fi
fi
run udevadm control --reload
run udevadm trigger --subsystem-match=tty --subsystem-match=video4linux

# ---- 8. power mode (optional) ------------------------------------------------------------------------------------
DROPIN_DIR=/etc/systemd/system/racepilot.service.d
if [[ $MAX_POWER -eq 1 ]]; then
  step "Maximum performance: nvpmodel -m 0 (MAXN) and jetson_clocks"
  why "inference latency; MAXN persists across reboots, jetson_clocks does not, so it runs before each start"
  if [[ "$(nvpmodel -q 2>/dev/null | sed -n 's/^NV Power Mode: //p')" == MAXN ]]; then
    skip "nvpmodel is MAXN"
  else
    run nvpmodel -m 0
  fi
  run install -d -m 0755 "$DROPIN_DIR"
  if [[ $DRY_RUN -eq 1 ]]; then
    echo "    would write $DROPIN_DIR/max-power.conf: [Service] ExecStartPre=+-/usr/bin/jetson_clocks"
  else
    printf '[Service]\n# Written by install-jetson.sh --max-power.\nExecStartPre=+-/usr/bin/jetson_clocks\n' >"$DROPIN_DIR/max-power.conf"
  fi
fi

# ---- 9. the service ----------------------------------------------------------------------------------------------
step "systemd unit $UNIT"
why "Type=notify with a watchdog: READY after self-tests, restart of a hung daemon, never a takeover by itself"
run install -m 0644 "$SRC/deploy/racepilot.service" "$UNIT"
run systemd-analyze verify "$UNIT"
run systemctl daemon-reload
run systemctl enable racepilot.service
if [[ $START -eq 1 ]]; then
  run systemctl restart racepilot.service
else
  echo "    not started now (--start to start it); it starts at the next boot"
fi

echo
if [[ ${#PROBLEMS[@]} -gt 0 ]]; then
  echo "RESULT (dry run): a real run on this machine would stop at the preflight, because:"
  printf '  - %s\n' "${PROBLEMS[@]}"
elif [[ $DRY_RUN -eq 1 ]]; then
  echo "RESULT (dry run): the preflight passes; the steps above would run."
else
  echo "racepilot installed. Follow it: journalctl -u racepilot -f; telemetry: racepilot tail ws://HOST:PORT/ --token T"
fi
