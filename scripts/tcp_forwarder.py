"""A TCP forwarder that can be cut and restored: a network outage between the site and one
of its servers (PostgreSQL, Redis), made on loopback without touching the server itself.

    forwarder = Forwarder(upstream=("127.0.0.1", 5432)).start()
    ... connect to ("127.0.0.1", forwarder.port) ...
    forwarder.cut()      # every open connection dropped, new ones refused at once
    forwarder.restore()

Run as a program it forwards until interrupted: python -m scripts.tcp_forwarder 6543 5432
"""

import contextlib
import socket
import sys
import threading


class Forwarder:
    def __init__(self, *, upstream: tuple[str, int], port: int = 0):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.is_cut = False
        self.open_sockets: set[socket.socket] = set()
        self.lock = threading.Lock()

    def start(self) -> "Forwarder":
        threading.Thread(target=self.accept_forever, daemon=True).start()
        return self

    def cut(self) -> None:
        with self.lock:
            self.is_cut = True
            for sock in self.open_sockets:
                close(sock)
            self.open_sockets.clear()

    def restore(self) -> None:
        with self.lock:
            self.is_cut = False

    def stop(self) -> None:
        self.cut()
        close(self.listener)

    def accept_forever(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # stopped
            with self.lock:
                if self.is_cut:
                    close(client)
                    continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                close(client)
                continue
            with self.lock:
                self.open_sockets.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self.pump, args=(source, target), daemon=True).start()

    def pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self.lock:
                self.open_sockets.discard(source)
                self.open_sockets.discard(target)
            close(source)
            close(target)


def close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


if __name__ == "__main__":
    listen_port, upstream_port = int(sys.argv[1]), int(sys.argv[2])
    Forwarder(upstream=("127.0.0.1", upstream_port), port=listen_port).start()
    threading.Event().wait()
