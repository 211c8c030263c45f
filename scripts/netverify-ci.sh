#!/usr/bin/env bash
# Run netverify in CI: prove specs and/or diff manifests against a base revision, write SARIF,
# Markdown (and, on GitHub, annotations), and exit with the worst exit code.
#
# Environment (all optional, but at least one of NETVERIFY_SPECS / NETVERIFY_DIFF_PATHS):
#   NETVERIFY_SPECS        spec files, separated by spaces or newlines
#   NETVERIFY_DIFF_PATHS   manifest files or folders to diff, separated by spaces or newlines
#   NETVERIFY_BASE_REF     git revision to diff against (default: origin/$GITHUB_BASE_REF on a
#                          pull request, else HEAD~1)
#   NETVERIFY_FAIL_ON      diff findings that fail the run: added | removed | any | none
#                          (default: added)
#   NETVERIFY_OUTPUT_DIR   where reports go (default: netverify-results)
#   NETVERIFY_ANNOTATIONS  true: also print GitHub workflow commands (default: true on GitHub)
#   NETVERIFY              the command to run (default: netverify)
#   NETVERIFY_ARGS         extra arguments for prove and diff (e.g. --timeout 60)
#   GITHUB_STEP_SUMMARY    if set, the Markdown reports are appended to it
#   GITHUB_OUTPUT          if set, receives sarif-prove, sarif-diff and exit-code outputs
#
# Exit code: 2 if any run had an input or internal error, else 1 if any failed (violated
# invariants, or diff findings of NETVERIFY_FAIL_ON), else 3 if any was unknown, else 0.
set -u -o pipefail

netverify=${NETVERIFY:-netverify}
out=${NETVERIFY_OUTPUT_DIR:-netverify-results}
fail_on=${NETVERIFY_FAIL_ON:-added}
annotations=${NETVERIFY_ANNOTATIONS:-${GITHUB_ACTIONS:-false}}
read -r -a extra <<<"${NETVERIFY_ARGS:-}"
read -r -d '' -a specs <<<"${NETVERIFY_SPECS:-}" || true
read -r -d '' -a diff_paths <<<"${NETVERIFY_DIFF_PATHS:-}" || true

if [ ${#specs[@]} -eq 0 ] && [ ${#diff_paths[@]} -eq 0 ]; then
  echo "netverify-ci: set NETVERIFY_SPECS and/or NETVERIFY_DIFF_PATHS" >&2
  exit 2
fi
mkdir -p "$out"
worst=0

# Fold one exit code into the worst so far: 2 > 1 > 3 > 0.
record() {
  local code=$1
  case "$code:$worst" in
    2:*) worst=2 ;;
    1:2) ;;
    1:*) worst=1 ;;
    3:0) worst=3 ;;
    0:* | 3:*) ;;
    *) worst=2 ;;
  esac
}

summary() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$1" ]; then
    cat "$1" >>"$GITHUB_STEP_SUMMARY"
  fi
}

output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "$1=$2" >>"$GITHUB_OUTPUT"
  fi
}

if [ ${#specs[@]} -gt 0 ]; then
  "$netverify" prove "${specs[@]}" "${extra[@]}" --format sarif --output "$out/prove.sarif"
  code=$?
  record "$code"
  echo "netverify prove: exit $code"
  if [ "$code" -ne 2 ] || [ -f "$out/prove.sarif" ]; then
    "$netverify" prove "${specs[@]}" "${extra[@]}" --format markdown --output "$out/prove.md" \
      >/dev/null 2>&1
    summary "$out/prove.md"
    if [ "$annotations" = "true" ]; then
      "$netverify" prove "${specs[@]}" "${extra[@]}" --format github 2>/dev/null
    fi
  fi
  [ -f "$out/prove.sarif" ] && output sarif-prove "$out/prove.sarif"
fi

if [ ${#diff_paths[@]} -gt 0 ]; then
  base=${NETVERIFY_BASE_REF:-}
  if [ -z "$base" ]; then
    if [ -n "${GITHUB_BASE_REF:-}" ]; then
      base="origin/$GITHUB_BASE_REF"
      if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
        git fetch --no-tags --quiet origin "$GITHUB_BASE_REF" && base=FETCH_HEAD
      fi
    else
      base="HEAD~1"
    fi
  fi
  fail=()
  [ "$fail_on" != "none" ] && fail=(--fail-on "$fail_on")
  "$netverify" diff --base-ref "$base" "${diff_paths[@]}" "${fail[@]}" "${extra[@]}" \
    --format sarif --output "$out/diff.sarif"
  code=$?
  record "$code"
  echo "netverify diff against $base: exit $code"
  if [ -f "$out/diff.sarif" ]; then
    "$netverify" diff --base-ref "$base" "${diff_paths[@]}" "${extra[@]}" \
      --format markdown --output "$out/diff.md" >/dev/null 2>&1
    summary "$out/diff.md"
    if [ "$annotations" = "true" ]; then
      "$netverify" diff --base-ref "$base" "${diff_paths[@]}" "${extra[@]}" --format github \
        2>/dev/null
    fi
    output sarif-diff "$out/diff.sarif"
  fi
fi

output exit-code "$worst"
exit "$worst"
