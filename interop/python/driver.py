"""Drives the real python-dynamodb-lock 0.9.1 over stdin/stdout.

One JSON object per line each way; the protocol is in interop/README.md and is
the same as the Java driver's. Only the client's own methods touch the table,
so what lands there is what the release writes. The one exception is "get",
which calls the client's private _get_lock_from_dynamodb: the release has no
public read, and using its own parser shows how it sees an item.
"""
import datetime
import json
import os
import sys
import time

import boto3
from python_dynamodb_lock.python_dynamodb_lock import DynamoDBLockClient, DynamoDBLockError

OWNER = os.environ.get("INTEROP_OWNER") or "python-%d" % os.getpid()


def ms(n):
    return datetime.timedelta(milliseconds=n)


class Driver:
    def __init__(self, endpoint):
        self.resource = boto3.resource("dynamodb", endpoint_url=endpoint)
        # The lease and heartbeat are settings of the client, not of a lock,
        # so one client is kept per (table, lease, heartbeat).
        self.clients = {}
        self.held = {}
        # The app_callback codes (LOCK_IN_DANGER, LOCK_STOLEN) each lock got,
        # by key, for the "state" op.
        self.events = {}

    def client(self, cmd):
        table = cmd.get("table", "DynamoDBLockTable")
        lease = cmd.get("lease_ms", 30000)
        heartbeat = cmd.get("heartbeat_ms", 5000)
        k = (table, lease, heartbeat)
        if k not in self.clients:
            self.clients[k] = DynamoDBLockClient(
                self.resource,
                table_name=table,
                owner_name=OWNER,
                lease_duration=ms(lease),
                heartbeat_period=ms(heartbeat),
                safe_period=ms(cmd.get("safe_ms", lease * 2 // 3)),
            )
        return self.clients[k]

    def acquire(self, cmd, wait_ms):
        # retry_timeout=0 would mean "use the default", so "try" asks for
        # one microsecond: one GetItem and at most one PutItem, then give up.
        key = cmd["key"]
        events = []
        lock = self.client(cmd).acquire_lock(
            key,
            sort_key=cmd.get("sort", "-"),
            retry_period=ms(cmd["refresh_ms"]) if "refresh_ms" in cmd else None,
            retry_timeout=ms(wait_ms) if wait_ms else datetime.timedelta(microseconds=1),
            app_callback=lambda code, _lock: events.append(code),
        )
        self.held[key] = lock
        self.events[key] = events
        return lock_reply({"ok": True, "op": cmd["op"]}, lock)

    def release(self, cmd):
        key = cmd["key"]
        if cmd.get("keep"):
            return fail(cmd, "python-dynamodb-lock always deletes on release", "Unsupported")
        lock = self.held.pop(key, None)
        if lock is None:
            return fail(cmd, "this driver holds no lock on " + key, "NotHeld")
        self.client(cmd).release_lock(lock, best_effort=False)
        return {"ok": True, "op": "release", "key": key}

    def get(self, cmd):
        key = cmd["key"]
        lock = self.client(cmd)._get_lock_from_dynamodb(key, cmd.get("sort", "-"))
        r = {"ok": True, "op": "get", "key": key, "found": lock is not None}
        return lock_reply(r, lock) if lock else r

    def state(self, cmd):
        # The client's own view of a lock this driver acquired: its status
        # (LOCKED, IN_DANGER, INVALID after a heartbeat failed its condition,
        # ...) and the app_callback codes it got. The lock stays in self.held.
        key = cmd["key"]
        lock = self.held.get(key)
        if lock is None:
            return fail(cmd, "this driver acquired no lock on " + key, "NotHeld")
        return {"ok": True, "op": "state", "key": key, "status": lock.status,
                "events": list(self.events.get(key, []))}

    def handle(self, cmd):
        op = cmd.get("op")
        try:
            if op == "acquire":
                return self.acquire(cmd, cmd.get("wait_ms", 1000))
            if op == "try":
                return self.acquire(cmd, 0)
            if op == "release":
                return self.release(cmd)
            if op == "get":
                return self.get(cmd)
            if op == "state":
                return self.state(cmd)
            if op == "list":
                return fail(cmd, "python-dynamodb-lock has no way to list locks", "Unsupported")
            if op == "sleep":
                time.sleep(cmd.get("ms", 0) / 1000)
                return {"ok": True, "op": "sleep"}
            return fail(cmd, "unknown op", "UnknownOp")
        except DynamoDBLockError as e:
            r = fail(cmd, e.message, type(e).__name__)
            r["code"] = e.code
            return r
        except Exception as e:  # every failure is a reply, never a dead driver
            return fail(cmd, str(e), type(e).__name__)


def lock_reply(r, lock):
    r.update(key=lock.partition_key, sort=lock.sort_key, owner=lock.owner_name,
             rvn=lock.record_version_number, lease_ms=int(lock.lease_duration * 1000),
             expiry_time=lock.expiry_time)
    return r


def fail(cmd, error, cls):
    r = {"ok": False, "op": cmd.get("op"), "error": error, "class": cls}
    if "key" in cmd:
        r["key"] = cmd["key"]
    return r


def reply(r):
    r["t_ns"] = time.time_ns()
    sys.stdout.write(json.dumps(r) + "\n")
    sys.stdout.flush()


def main():
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if not endpoint:
        sys.exit("pydriver: AWS_ENDPOINT_URL_DYNAMODB is not set")
    d = Driver(endpoint)
    reply({"ok": True, "op": "ready", "client": "python", "version": "0.9.1", "owner": OWNER})
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd.get("op") == "exit":
            break
        reply(d.handle(cmd))
    # Leave without close(): the heartbeat threads are daemons, and a driver
    # told to exit must leave the table as it is.
    os._exit(0)


if __name__ == "__main__":
    main()
