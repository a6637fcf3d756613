"""A TCP relay, standard library only: listen on (host, port) and forward each connection to (target, port).

The docker proxy runtime uses it on both sides of the gateway container's network: in the worker (the CLI's and
the recorder's 127.0.0.1:<proxy port> -> the gateway container; the gateway network's address -> the emulator on
the worker's loopback) and, run as `python3 -c <this source> LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT`,
inside the gateway container (its own 127.0.0.1:<emulator port> -> the worker), so every emulator URL a config or a
credentials file names (http://127.0.0.1:<port>) means the same thing in the container as in the worker.
"""
import socket
import sys
import threading


def _pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _handle(client, target):
    try:
        upstream = socket.create_connection(target, timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


class Relay:
    def __init__(self, listen_host, listen_port, target_host, target_port):
        self.target = (target_host, int(target_port))
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind((listen_host, int(listen_port)))
        self.server.listen(128)
        self.host, self.port = self.server.getsockname()[:2]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=_handle, args=(client, self.target), daemon=True).start()

    def close(self):
        try:
            self.server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.server.close()


if __name__ == "__main__":
    relay = Relay(*sys.argv[1:5])
    relay.thread.join()
