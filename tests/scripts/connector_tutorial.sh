#!/bin/sh
# Builds docs/connector-tutorial.md step by step, as a reader would: installs the SDK and plugins
# from the build tree into a scratch prefix, writes each step's files from the page (a fenced
# block preceded by `<!-- file: PATH -->`; later steps overwrite earlier files), builds against
# that prefix only, and checks what the page says each step does.
# Usage: connector_tutorial.sh SOURCE_DIR BUILD_DIR PLUGHOST_BIN
set -eu
src=$1 build=$2 bin=$3
work=$(mktemp -d /tmp/plughost-tutorial-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/lib/plughost/plugins/plughost_automate-workflow.so"

# step N: write the files of "## Step N" into the project.
step() {
  python3 - "$src/docs/connector-tutorial.md" "$1" "$work/teams_step" <<'PY'
import os, re, sys
page, wanted, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = open(page, encoding="utf-8").read()
sections = re.split(r"^## Step (\d+)[^\n]*\n", text, flags=re.M)
found = {int(sections[i]): sections[i + 1] for i in range(1, len(sections), 2)}
if wanted not in found:
    sys.exit(f"no '## Step {wanted}' in {page}")
blocks = re.findall(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)\n```", found[wanted], flags=re.S)
if not blocks:
    sys.exit(f"step {wanted} has no file blocks")
for path, body in blocks:
    target = os.path.join(root, path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8") as f:
        f.write(body + "\n")
    print(f"tutorial step {wanted}: wrote {path}")
PY
}

build_project() {
  cmake -S "$work/teams_step" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
    -DPLUGHOST_EXECUTABLE="$bin" >/dev/null
  cmake --build "$work/build" >/dev/null
  test -f "$work/build/plughost_teams_step.so"
}

check_config() {  # $1: the plugin's config block; the exit status is check's
  cat >"$work/check.yaml" <<YAML
version: 1
plugins_dir: $work/build
plugins:
  teams_step: {required: true, config: $1}
YAML
  "$bin" check --config "$work/check.yaml"
}

step 1
build_project
check_config "{}" >/dev/null

step 2
build_project
check_config "{webhook_url: \"http://127.0.0.1:9/hook\", timeout_seconds: 5}" >/dev/null
# The schema is enforced: a typo is reported with a suggestion.
if out=$(check_config "{webhok_url: x}" 2>&1); then
  echo "check accepted an unknown key" >&2
  exit 1
fi
echo "$out" | grep -q 'did you mean "webhook_url"' || { echo "$out" >&2; exit 1; }

step 3
build_project
ctest --test-dir "$work/build" --output-on-failure
ctest --test-dir "$work/build" -N | grep -q "Total Tests: 2"
echo "connector tutorial: all 3 steps built; step 3's 2 tests passed"
