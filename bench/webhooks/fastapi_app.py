"""The FastAPI peer of bench/webhooks.sh: the same webhook route as plughost's automate-workflow
plugin (HMAC-SHA256 signature over the raw body, constant-time compare, JSON body with
event_type, the event inserted into SQLite in WAL mode with synchronous=NORMAL and committed
before the 202), served by uvicorn on a socket bound here so the port can be read back.

Usage: python3 fastapi_app.py DB_PATH SECRET
"""
import hashlib
import hmac
import json
import socket
import sqlite3
import sys
import uuid
from datetime import datetime, timezone

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

DB_PATH, SECRET = sys.argv[1], sys.argv[2].encode()

db = sqlite3.connect(DB_PATH, check_same_thread=False, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute(
    "CREATE TABLE IF NOT EXISTS automate_events (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, "
    "source TEXT NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL, dedupe_key TEXT, "
    "trace_id TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (tenant, dedupe_key))")

app = FastAPI()


def error(status, code, message, trace_id):
    return JSONResponse({"error": {"code": code, "message": message, "details": [],
                                   "trace_id": trace_id}}, status_code=status)


@app.post("/api/automate/webhooks/{source}/")
async def ingest_webhook(source: str, request: Request):
    body = await request.body()
    trace_id = request.headers.get("x-trace-id") or uuid.uuid4().hex
    if source != "bench":
        return error(404, "NOT_FOUND", f"Unknown webhook source '{source}'", trace_id)
    signature = request.headers.get("x-webhook-signature", "")
    if signature.startswith("sha256="):
        signature = signature[7:]
    expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not signature or not hmac.compare_digest(expected, signature.lower()):
        return error(401, "UNAUTHORIZED", "Invalid webhook signature", trace_id)
    try:
        data = json.loads(body)
    except ValueError:
        return error(400, "VALIDATION_ERROR", "The body must be a JSON object", trace_id)
    if not isinstance(data, dict) or not isinstance(data.get("event_type"), str):
        return error(400, "VALIDATION_ERROR", "Invalid input", trace_id)
    event_id = str(uuid.uuid4())
    tenant = request.headers.get("x-tenant-id", "default")
    db.execute("BEGIN")
    db.execute(
        "INSERT INTO automate_events (id, tenant, source, type, payload, dedupe_key, trace_id, "
        "created_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
        (event_id, tenant, source, data["event_type"], json.dumps(data.get("data") or {}),
         trace_id, datetime.now(timezone.utc).isoformat()))
    db.execute("COMMIT")
    return JSONResponse({"event_id": event_id, "trace_id": trace_id,
                         "message": "Event accepted for processing"}, status_code=202)


if __name__ == "__main__":
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # connections wait in the backlog until uvicorn serves
    print(f"fastapi listening on {sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
