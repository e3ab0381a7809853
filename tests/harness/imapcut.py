"""A TCP relay between mentord and Dovecot that cuts the connection at a
chosen instant: in the middle of the answer to the Nth UID FETCH, after
calling a function (the test's: stop Dovecot).  So "Dovecot stopped
mid-fetch" happens exactly there, not wherever a timer happens to land.

    cut = ImapCut(upstream_port, at_fetch=3, on_cut=stop_dovecot).start()
    ... point mentord at cut.port ...
    cut.cut_done   # True once it happened
    cut.stop()

Every other byte is relayed unchanged, in both directions, for as many
connections as the client makes."""

import select
import socket
import threading


class ImapCut:
    def __init__(self, upstream_port, at_fetch, on_cut, host="127.0.0.1"):
        self.upstream = (host, upstream_port)
        self.at_fetch = at_fetch
        self.on_cut = on_cut
        self.fetches = 0
        self.cut_done = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._threads = []

    def start(self):
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(5)
        self._listener.close()

    def _accept(self):
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()  # upstream down: refuse, as Dovecot would
                continue
            t = threading.Thread(target=self._relay, args=(client, server), daemon=True)
            t.start()
            self._threads.append(t)

    def _relay(self, client, server):
        cutting = False
        try:
            while not self._stop.is_set():
                r, _, _ = select.select([client, server], [], [], 0.2)
                if client in r:
                    data = client.recv(65536)
                    if not data:
                        return
                    n = data.upper().count(b"UID FETCH")
                    if n:
                        with self._lock:
                            before = self.fetches
                            self.fetches += n
                            if not self.cut_done and before < self.at_fetch <= self.fetches:
                                cutting = True
                    server.sendall(data)
                if server in r:
                    data = server.recv(65536)
                    if not data:
                        return
                    if cutting:
                        # Half of the first piece of the answer, then the
                        # server goes away.
                        client.sendall(data[:max(1, len(data) // 2)])
                        self.on_cut()
                        self.cut_done = True
                        return
                    client.sendall(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()
