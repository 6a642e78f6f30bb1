#!/bin/sh
# Prepares the inspector's sample workspace: creates its SQLite database with one app migrated
# (studio.ops 0001, which pulls in catalog 0001) so that catalog 0002 stays pending.
# Usage: plugins/inspector/demo/setup.sh [python]   (default: python3; needs Django installed,
# Debian: apt-get install python3-django)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${1:-python3}
cd "$here/workspace"
rm -f db.sqlite3
"$python" manage.py migrate ops 0001
"$python" manage.py showmigrations
