#!/usr/bin/env bash
# RustSec advisories for every crate in Cargo.lock (`make audit`).
#
# The live advisory database is used when it can be fetched (github.com).
# Where it cannot, a snapshot of it is: $NEWSDESK_ADVISORY_DB, else
# ../shared/advisory-db beside the clone, else /work/shared/advisory-db.
# cargo-deny opens a database only as a git repository in a folder named
# after its URL, so the snapshot is copied into such a repository in a
# temporary folder and committed with the snapshot's date (from its
# SNAPSHOT file): deny.toml's maximum-db-staleness then judges the age of
# the snapshot, not of the copy. Any advisory not explained in deny.toml's
# `ignore` fails the run. With neither database: a loud message, and a
# failure when NEWSDESK_REQUIRE_ADVISORIES=1.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every crate of the lock file, for every platform, so cargo-deny can read
# the graph offline and never fetches the database behind our back.
cargo fetch --locked --quiet

if cargo deny fetch db >/dev/null 2>&1; then
    echo "RustSec advisories: the live database"
    exec cargo deny --offline check advisories
fi

if [ -n "${NEWSDESK_ADVISORY_DB:-}" ]; then
    if [ ! -d "$NEWSDESK_ADVISORY_DB/crates" ]; then
        echo "NEWSDESK_ADVISORY_DB=$NEWSDESK_ADVISORY_DB is not an advisory database (no crates/ folder)" >&2
        exit 1
    fi
    snapshot=$NEWSDESK_ADVISORY_DB
else
    snapshot=""
    for candidate in ../shared/advisory-db /work/shared/advisory-db; do
        if [ -d "$candidate/crates" ]; then
            snapshot=$candidate
            break
        fi
    done
fi
if [ -z "$snapshot" ]; then
    echo "!!! RustSec advisories NOT checked: the advisory database (github.com) cannot be fetched and no snapshot was found (NEWSDESK_ADVISORY_DB) !!!"
    [ "${NEWSDESK_REQUIRE_ADVISORIES:-}" != "1" ]
    exit
fi

taken=$(sed -n 's/.*(\([0-9]\{4\}-[0-9]\{2\}-[0-9]\{2\}\)).*/\1/p' "$snapshot/SNAPSHOT" 2>/dev/null | head -n 1)
if [ -z "$taken" ] && [ ! -d "$snapshot/.git" ]; then
    echo "$snapshot/SNAPSHOT does not say when the snapshot was taken (…(YYYY-MM-DD))" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The folder name cargo-deny 0.20 gives the default database URL
# (https://github.com/RustSec/advisory-db).
db="$work/advisory-dbs/advisory-db-3157b0e258782691"
mkdir -p "$work/advisory-dbs"
cp -R "$snapshot" "$db"
chmod -R u+w "$db"
if [ ! -d "$db/.git" ]; then
    (
        cd "$db"
        export GIT_AUTHOR_DATE="${taken}T00:00:00Z" GIT_COMMITTER_DATE="${taken}T00:00:00Z"
        git init --quiet
        git add --all
        git -c user.name=newsdesk -c user.email=newsdesk@localhost commit --quiet -m "$(head -n 1 SNAPSHOT)"
    )
fi
# cargo-deny takes the later of HEAD's commit time and HEAD's file time.
touch -d "${taken:-@0}" "$db/.git/HEAD"
sed "/^\[advisories\]/a db-path = \"$work/advisory-dbs\"" deny.toml > "$work/deny.toml"

echo "RustSec advisories: the snapshot in $snapshot ($(head -n 1 "$snapshot/SNAPSHOT" 2>/dev/null || echo "git HEAD"))"
cargo deny --offline --config "$work/deny.toml" check advisories
