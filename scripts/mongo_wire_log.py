"""A MongoDB wire-protocol proxy that logs every command passing through it, for finding where a
benchmark's store time goes (which commands, how many documents each, how long the server took).

    .venv/bin/python scripts/mongo_wire_log.py LISTEN_PORT TARGET_PORT OUT.tsv
    MONGO_URI=mongodb://127.0.0.1:LISTEN_PORT .build/release/decode-async-bench notifications

OUT.tsv: one line per reply: send time, seconds until the reply, command name, documents in its
document sequence (insert's documents, update's updates), and the filter of an update/find/aggregate
(an `$in` list shown as its length). Times include the proxy's own delay; concurrent commands overlap.
"""
import asyncio, struct, sys, time, json, collections
import bson

LISTEN, TARGET = int(sys.argv[1]), int(sys.argv[2])
OUT = open(sys.argv[3], "w")
def parse(data):
    length, rid, rto, op = struct.unpack_from("<iiii", data, 0)
    if op != 2013:
        return rid, rto, "op%d" % op, 0, {}
    pos = 20
    name, n, first = "?", 0, {}
    while pos < length:
        kind = data[pos]; pos += 1
        if kind == 0:
            size = struct.unpack_from("<i", data, pos)[0]
            first = bson.decode(data[pos:pos+size]); name = next(iter(first), "?"); pos += size
        elif kind == 1:
            size = struct.unpack_from("<i", data, pos)[0]
            end = pos + size
            p = data.index(b"\0", pos + 4) + 1
            while p < end:
                s = struct.unpack_from("<i", data, p)[0]
                if n == 0:
                    first = dict(first); first["_seq0"] = bson.decode(data[p:p+s])
                p += s; n += 1
            pos = end
        else:
            break
    return rid, rto, name, n, first

async def pipe(reader, writer, inbound, pending):
    try:
        while True:
            head = await reader.readexactly(16)
            length = struct.unpack_from("<i", head)[0]
            body = await reader.readexactly(length - 16)
            data = head + body
            try:
                rid, rto, name, n, doc = parse(data)
                now = time.perf_counter()
                if inbound:
                    if name in ("insert", "update", "delete") and n == 0:
                        n = len(doc.get("documents", doc.get("updates", doc.get("deletes", []))))
                    detail = ""
                    if name in ("update",):
                        ups = doc.get("updates") or [doc.get("_seq0") or {}]
                        q = ups[0].get("q") or {}
                        q = {k: (("$in[%d]" % len(v["$in"])) if isinstance(v, dict) and "$in" in v else v) for k, v in q.items()}
                        detail = json.dumps(q, default=str)[:160]
                    elif name in ("aggregate", "count", "find"):
                        detail = json.dumps(doc.get("pipeline", doc.get("query", doc.get("filter"))), default=str)[:160]
                    pending[rid] = (now, name, n, detail)
                else:
                    if rto in pending:
                        t0, name, n, detail = pending.pop(rto)
                        OUT.write("%.6f\t%.6f\t%s\t%d\t%s\n" % (t0, now - t0, name, n, detail)); OUT.flush()
            except Exception as e:
                OUT.write("parse error %r\n" % e)
            writer.write(data)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionResetError):
        pass
    finally:
        writer.close()

async def handle(cr, cw):
    sr, sw = await asyncio.open_connection("127.0.0.1", TARGET)
    pending = {}
    await asyncio.gather(pipe(cr, sw, True, pending), pipe(sr, cw, False, pending))

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with server:
        await server.serve_forever()
asyncio.run(main())
