# Sourced (not run) by scripts/test.sh and bench/run.sh: builds the adapter the
# way the tests use it and installs it into a Medusa test app from its tarball.
# Expects: ADAPTER (the node-adapter folder, the current directory),
# MEDUSA_LOG_DIR (a folder for the logs) and a function `step <title>`.

# npm install, build (copy protos, generate types, medusa plugin:build), check
# the module folders, pack into node-adapter/medusa-loyalty-grpc.tgz.
build_and_pack_adapter() {
  step "npm install (package)"
  npm install --no-audit --no-fund --loglevel=error >"$MEDUSA_LOG_DIR/npm-install-package.log" 2>&1 \
    || { tail -50 "$MEDUSA_LOG_DIR/npm-install-package.log"; exit 1; }

  step "build (copy protos, medusa plugin:build)"
  npm run --silent build >"$MEDUSA_LOG_DIR/build.log" 2>&1 || { tail -50 "$MEDUSA_LOG_DIR/build.log"; exit 1; }
  test -f .medusa/server/src/modules/loyalty/index.js || { echo "build produced no .medusa/server/src/modules/loyalty" >&2; exit 1; }
  # Medusa loads every entry of a plugin's .medusa/server/src/modules as a module
  # (a file there fails every app: "Cannot find module .../modules/<file>/index.js").
  local entry
  for entry in .medusa/server/src/modules/*; do
    [ -d "$entry" ] || { echo "node-adapter: $entry is not a module folder; only modules may live in src/modules (move it, e.g. to src/)" >&2; exit 1; }
  done

  step "npm pack"
  rm -f medusa-loyalty-grpc-*.tgz medusa-loyalty-grpc.tgz
  local tarball
  tarball="$(npm pack --silent 2>/dev/null | tail -1)"
  mv "$tarball" medusa-loyalty-grpc.tgz
  echo "packed $tarball -> node-adapter/medusa-loyalty-grpc.tgz"
}

install_app() { # app dir, node_modules to seed it from: installs the app with the adapter from its tarball
  local app="$1" seed="$2"
  if [ ! -d "$app/node_modules" ]; then
    # The trees pin the same @medusajs/* 2.21.2 set: seed the app's node_modules
    # with hard links of another's, so npm only adds and removes the difference.
    cp -al "$seed" "$app/node_modules" 2>/dev/null || rm -rf "$app/node_modules"
    rm -f "$app/node_modules/.package-lock.json"
  fi
  rm -rf "$app/node_modules/medusa-loyalty-grpc"
  # A lock file left by an earlier run pins the old tarball's integrity, and npm
  # would then install that old build from its cache: forget the adapter's entry.
  if [ -f "$app/package-lock.json" ]; then
    node -e 'const fs = require("fs"), f = process.argv[1], l = JSON.parse(fs.readFileSync(f, "utf8"));
      delete (l.packages || {})["node_modules/medusa-loyalty-grpc"]; fs.writeFileSync(f, JSON.stringify(l, null, 2) + "\n")' "$app/package-lock.json"
  fi
  (cd "$app" && npm install --no-audit --no-fund --loglevel=error) >"$MEDUSA_LOG_DIR/npm-install-$(basename "$app").log" 2>&1 \
    || { tail -50 "$MEDUSA_LOG_DIR/npm-install-$(basename "$app").log"; exit 1; }
  local unpacked
  unpacked="$(mktemp -d "$MEDUSA_LOG_DIR/tarball.XXXXXX")"
  tar -xzf medusa-loyalty-grpc.tgz -C "$unpacked"
  diff -rq --exclude=node_modules "$unpacked/package" "$app/node_modules/medusa-loyalty-grpc" >/dev/null \
    || { echo "$(basename "$app") did not install the packed tarball" >&2; exit 1; }
  rm -rf "$unpacked"
}
