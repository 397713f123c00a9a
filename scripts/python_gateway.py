"""The baselines' Socket.IO gateway: a python-socketio 5 server on uvicorn that admits a client
when `user_of(auth)` names its user, puts it in `user_<id>` and sends it `user_connected`, as the
notification gateway does. Shared by bench_socketio_python.py and bench_notifications_python.py."""

import asyncio

import socketio
import uvicorn

NAMESPACE = "/notifications"


class Gateway:
    def __init__(self, server, http, serving):
        self.server = server
        self.http = http
        self.serving = serving
        self.port = http.servers[0].sockets[0].getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port

    async def stop(self):
        self.http.should_exit = True
        await self.serving


async def start(user_of):
    server = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")

    @server.on("connect", namespace=NAMESPACE)
    async def connect(sid, environ, auth):
        user = user_of(auth or {})
        if not user:
            return False
        await server.enter_room(sid, "user_" + user, namespace=NAMESPACE)
        await server.emit("user_connected", {"userId": user, "socketId": sid}, to=sid, namespace=NAMESPACE)

    config = uvicorn.Config(socketio.ASGIApp(server), host="127.0.0.1", port=0, log_level="error", backlog=4096)
    http = uvicorn.Server(config)
    serving = asyncio.create_task(http.serve())
    while not http.started:
        await asyncio.sleep(0.05)
    return Gateway(server, http, serving)
