#!/usr/bin/env bash
# ctest runs each doctest case by name, and CMake splits a name at ';' into two entries that
# each run nothing. Refuse such names: usage: names_fit_ctest.sh path/to/pm_unit_tests
set -euo pipefail
if "$1" --list-test-cases | grep -n ';'; then
    echo "test case names above contain ';': ctest would run none of them" >&2
    exit 1
fi
