"""The FastAPI peer of bench/workflow_list.sh: plughost automate-workflow's workflow list
(`GET /api/automate/workflows/?page=&page_size=`) over the same SQLite table — page-number
pagination (page from 1, page_size default 25, clamped to 100, 400 VALIDATION_ERROR for a bad
one), newest first (`created_at DESC, id DESC`), the `{count, next, previous, results}` envelope
with relative links and the same summary fields per workflow. One COUNT and one page query per
request on one connection, like plughost. Served by uvicorn on a socket bound here.

Usage: python3 fastapi_app.py DB_PATH
"""
import socket
import sqlite3
import sys
import uuid
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

db = sqlite3.connect(sys.argv[1], check_same_thread=False)
app = FastAPI()

COLUMNS = ("id, name, slug, enabled, trigger_type, workflow_version, created_at, updated_at")


def error(status, code, message, field, trace_id):
    return JSONResponse({"error": {"code": code, "message": message,
                                   "details": [{"field": field, "message":
                                                "A positive integer is required"}],
                                   "trace_id": trace_id}}, status_code=status)


def positive(request, name, fallback):
    text = request.query_params.get(name)
    if text is None:
        return fallback
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise ValueError(name)
    return int(text)


def link(request, page):
    query = [("page", page)] + [(k, v) for k, v in request.query_params.multi_items()
                                if k != "page"]
    return f"{request.url.path}?{urlencode(query)}"


@app.get("/api/automate/workflows/")
async def list_workflows(request: Request):
    trace_id = request.headers.get("x-trace-id") or uuid.uuid4().hex
    try:
        page = positive(request, "page", 1)
        size = min(positive(request, "page_size", 25), 100)
    except ValueError as e:
        return error(400, "VALIDATION_ERROR", "Invalid input", str(e), trace_id)
    tenant = request.headers.get("x-tenant-id", "default")
    count = db.execute("SELECT COUNT(*) FROM automate_workflows WHERE tenant = ?",
                       (tenant,)).fetchone()[0]
    rows = db.execute(f"SELECT {COLUMNS} FROM automate_workflows WHERE tenant = ? "
                      "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                      (tenant, size, (page - 1) * size)).fetchall()
    results = [{"id": r[0], "name": r[1], "slug": r[2], "enabled": r[3] != 0,
                "trigger_type": r[4], "workflow_version": r[5], "created_at": r[6],
                "updated_at": r[7]} for r in rows]
    return JSONResponse({"count": count,
                         "next": link(request, page + 1) if page * size < count else None,
                         "previous": link(request, page - 1) if page > 1 else None,
                         "results": results}, headers={"X-Trace-ID": trace_id})


if __name__ == "__main__":
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(f"fastapi listening on {sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
