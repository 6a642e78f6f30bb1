"""Asserts that the peers of bench/workflow_list.sh answer what plughost answers before anything
is measured: for each query, the same envelope keys, the same count, the same page size, the same
fields per workflow with the same JSON types and values (same rows, same order), and `next` /
`previous` links to the same path and query (DRF's are absolute URLs, plughost's relative;
DRF leaves `page=1` out of the link back to the first page).
Exits 1 with the first difference.

Usage: python3 check_shape.py REFERENCE_BASE_URL PEER_BASE_URL...
"""
import json
import sys
import urllib.request
from urllib.parse import parse_qs, urlsplit

QUERIES = ["/api/automate/workflows/", "/api/automate/workflows/?page=2",
           "/api/automate/workflows/?page=3&page_size=10",
           "/api/automate/workflows/?page_size=500", "/api/automate/workflows/?page=400"]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200, f"{url}: HTTP {r.status}"
        return json.load(r)


def link(value):
    if value is None:
        return None
    parts = urlsplit(value)
    query = parse_qs(parts.query)
    query.setdefault("page", ["1"])  # DRF's link back to page 1 leaves `page` out
    return parts.path, query


def main():
    ref, peers = sys.argv[1], sys.argv[2:]
    for q in QUERIES:
        want = get(ref + q)
        assert want["count"] == 10000, f"plughost count {want['count']} for {q}"
        for peer in peers:
            got = get(peer + q)
            where = f"{peer}{q}"
            assert list(got) == list(want), f"{where}: envelope {list(got)} != {list(want)}"
            assert got["count"] == want["count"], f"{where}: count {got['count']}"
            assert len(got["results"]) == len(want["results"]), \
                f"{where}: {len(got['results'])} results, plughost {len(want['results'])}"
            for a, b in zip(got["results"], want["results"]):
                assert list(a) == list(b), f"{where}: fields {list(a)} != {list(b)}"
                for k in b:
                    assert type(a[k]) is type(b[k]) and a[k] == b[k], \
                        f"{where}: {k} {a[k]!r} != {b[k]!r}"
            for k in ("next", "previous"):
                assert link(got[k]) == link(want[k]), f"{where}: {k} {got[k]!r} != {want[k]!r}"
    sizes = [len(get(ref + q)["results"]) for q in QUERIES]
    print(f"shape check: {len(peers)} peers answer like plughost on {len(QUERIES)} queries "
          f"(count 10000, page sizes {sizes})")


main()
