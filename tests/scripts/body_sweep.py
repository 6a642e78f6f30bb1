#!/usr/bin/env python3
"""Sends hostile JSON bodies to every JSON route of a running plughost and reports 5xx answers.

usage: body_sweep.py BASE_URL [--only PREFIX] [--seed N] [--max-per-route N]

Reads BASE_URL/openapi.json and, for every POST, PUT and PATCH operation whose request body is
JSON or undocumented, sends: malformed JSON, the wrong top-level type, deep nesting, and bodies built
from the operation's schema (undocumented: common field names) with one property at a time replaced by a value of every other type
(null, booleans, huge and negative numbers, long strings, arrays, objects) or left out. Path
parameters get a plausible value and a missing one. The host should run with auth disabled and
loopback exempt from rate limits (see the README in this folder's parent).

A plugin must answer bad input with a 4xx: every 5xx other than 502/503/504 (an upstream that is
down or not configured, which is right for a proxy) is printed, as is a host that stops
answering, and the exit status is 1 when there was any. Deterministic for a given --seed.
"""
import argparse
import json
import random
import re
import sys
import urllib.error
import urllib.request

WRONG_VALUES = [None, True, False, 0, -1, 1.5, 1e308, -9223372036854775809, 18446744073709551616,
                "", "x", "x" * 5000, "\u0000\ud7ff\ue000", "../../etc/passwd", "' OR 1=1 --",
                [], [None], [1, "a"], {}, {"a": {"b": []}}]
COMMON_FIELDS = ["name", "title", "email", "password", "new_password", "current_password", "id",
                 "ids", "query", "question", "sql", "steps", "nodes", "edges", "config",
                 "definition", "trigger", "type", "kind", "url", "path", "content", "text", "items",
                 "limit", "offset", "tags", "description", "enabled", "schedule", "cron",
                 "timezone", "source", "table", "columns", "payload", "data", "event", "role",
                 "roles", "permissions", "token", "code", "secret", "value", "key", "expires_at",
                 "scopes", "messages", "model", "filters", "options", "status", "version", "graph",
                 "input", "inputs", "params", "headers", "body", "method", "channel", "message",
                 "prompt", "top_k", "documents", "filter", "database", "page", "page_size", "sort",
                 "cascade", "schema", "materialized", "cells", "rows", "file", "format"]
MALFORMED = [b"", b"{", b"}", b"[", b"{\"a\":", b"{\"a\" 1}", b"nul", b"tru", b"01", b"1e999",
             b"\"\\ud800\"", b"{\"a\":\"\\x\"}", b"\xff\xfe{}", b"{\"a\":\"\xc3\x28\"}",
             b"{}garbage", b"{\"a\":1,}", b"[1,]", b"{'a':1}", b"NaN", b"-", b"\x00",
             b"[" * 300 + b"]" * 300, b"{\"a\":" * 300 + b"1" + b"}" * 300,
             b"[" * 100000]
TOP_LEVEL = [b"null", b"true", b"0", b"-1", b"1e308", b"\"text\"", b"[]", b"[{}]", b"{}",
             b"[[[[[[[[[[]]]]]]]]]]"]


def fetch(url, method="GET", body=None):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        return 0, str(e).encode()


def resolve(schema, components, depth=0):
    if depth > 20 or not isinstance(schema, dict):
        return {}
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return resolve(components.get(name, {}), components, depth + 1)
    for key in ("allOf", "oneOf", "anyOf"):
        if key in schema and schema[key]:
            merged = {}
            for part in schema[key] if key == "allOf" else schema[key][:1]:
                part = resolve(part, components, depth + 1)
                merged.setdefault("properties", {}).update(part.get("properties", {}))
                merged.setdefault("required", []).extend(part.get("required", []))
                for k, v in part.items():
                    if k not in ("properties", "required"):
                        merged.setdefault(k, v)
            return merged
    return schema


def example(schema, components, depth=0):
    """A plausible value for `schema` (its example, default, first enum value, or a made-up one)."""
    schema = resolve(schema, components)
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        if depth > 6:
            return {}
        return {name: example(prop, components, depth + 1)
                for name, prop in schema.get("properties", {}).items()}
    if kind == "array":
        return [] if depth > 6 else [example(schema.get("items", {}), components, depth + 1)]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "x" * max(1, int(schema.get("minLength", 1)))


def bodies(schema, components, rng, limit):
    yield from MALFORMED
    yield from TOP_LEVEL
    base = example(schema, components) if schema else {}
    yield json.dumps(base).encode()
    if not isinstance(base, dict):
        return
    variants = []
    if not base:  # no documented schema: the field names plugins commonly read
        for name in COMMON_FIELDS:
            for wrong in WRONG_VALUES:
                variants.append({name: wrong})
    for name in base:
        without = dict(base)
        del without[name]
        variants.append(without)
        for wrong in WRONG_VALUES:
            changed = dict(base)
            changed[name] = wrong
            variants.append(changed)
        if isinstance(base[name], dict):
            for inner in base[name]:
                for wrong in WRONG_VALUES:
                    nested = json.loads(json.dumps(base))
                    nested[name][inner] = wrong
                    variants.append(nested)
        if isinstance(base[name], list) and base[name] and isinstance(base[name][0], dict):
            for inner in base[name][0]:
                for wrong in WRONG_VALUES:
                    nested = json.loads(json.dumps(base))
                    nested[name][0][inner] = wrong
                    variants.append(nested)
    extra = dict(base)
    extra["unexpected_field"] = {"x": [1, 2]}
    variants.append(extra)
    rng.shuffle(variants)
    for v in variants[:limit]:
        yield json.dumps(v).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base_url")
    ap.add_argument("--only", default="", help="only paths starting with this")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-per-route", type=int, default=150)
    ap.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2",
                    help="values for a path parameter (names the demo config defines), so the "
                         "handler gets past its lookup to the body; each value is a URL")
    args = ap.parse_args()
    values = {}
    for p in args.param:
        name, _, listed = p.partition("=")
        values[name] = [v for v in listed.split(",") if v]
    rng = random.Random(args.seed)
    status, text = fetch(args.base_url + "/openapi.json")
    if status != 200:
        print(f"cannot read {args.base_url}/openapi.json: {status} {text[:200]!r}")
        return 2
    doc = json.loads(text)
    components = doc.get("components", {}).get("schemas", {})
    findings = []
    sent = 0
    routes = 0
    for path, item in sorted(doc.get("paths", {}).items()):
        if not path.startswith(args.only):
            continue
        for method in ("post", "put", "patch"):
            op = item.get(method)
            if not op:
                continue
            content = op.get("requestBody", {}).get("content", {})
            if content and "application/json" not in content:
                continue  # multipart, text…: not JSON
            routes += 1
            schema = content.get("application/json", {}).get("schema", {})
            params = {p["name"]: p for p in op.get("parameters", []) + item.get("parameters", [])
                      if isinstance(p, dict) and p.get("in") == "path"}
            urls = [path]
            for name in re.findall(r"\{([^}]+)\}", path):
                made_up = str(example(params.get(name, {}).get("schema", {}), components) or "1")
                urls = [u.replace("{" + name + "}", v, 1)
                        for u in urls for v in values.get(name, [made_up])][:4]
            for n, body in enumerate(bodies(schema, components, rng, args.max_per_route)):
                concrete = urls[n % len(urls)]
                code, answer = fetch(args.base_url + concrete, method.upper(), body)
                sent += 1
                upstream = code in (502, 503, 504)  # e.g. dango's /metabase/* proxy, unconfigured
                if code == 0 or (code >= 500 and not upstream):
                    findings.append((method.upper(), concrete, code, body[:300], answer[:400]))
                    print(f"{method.upper()} {concrete} -> {code}\n  body: {body[:300]!r}\n"
                          f"  answer: {answer[:400]!r}", flush=True)
                    if code == 0:
                        print("host unreachable: stopping")
                        return 1
    print(f"body_sweep: {routes} routes, {sent} requests, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
