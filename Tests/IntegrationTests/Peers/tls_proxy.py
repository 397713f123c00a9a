"""A TLS terminator in front of the local Bolt listener, for bolt+ssc:// and bolt+s:// tests.

  tls_proxy.py CERT KEY TARGET_PORT   listen on a free 127.0.0.1 port with TLS, print it, forward
                                      each connection in plain TCP to 127.0.0.1:TARGET_PORT;
                                      exits when its parent's stdin closes or after 120 s
"""

import socket
import ssl
import sys
import threading
import time


def pipe(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, target):
            try:
                s.close()
            except OSError:
                pass


def serve(listener, context, target_port):
    while True:
        client, _ = listener.accept()
        try:
            tls = context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            client.close()
            continue
        upstream = socket.create_connection(("127.0.0.1", target_port))
        threading.Thread(target=pipe, args=(tls, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, tls), daemon=True).start()


def main():
    cert, key, target_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    threading.Thread(target=serve, args=(listener, context, target_port), daemon=True).start()
    time.sleep(120)


if __name__ == "__main__":
    main()
