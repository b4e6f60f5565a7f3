# A client for fault test F6: it sends SIZE bytes to 127.0.0.1:PORT, shuts its
# side down for writing (a FIN, a half-close), and reads the echo slowly, with
# small socket buffers so that the kernel cannot absorb the echo: when the
# FIN reaches the server, the server still holds bytes it must deliver.
# Prints "<bytes received> <first mismatch or -1>".
import socket
import sys
import threading
import time

port, size = int(sys.argv[1]), int(sys.argv[2])
block = bytes(range(256)) * 256  # byte i of the stream is i % 256
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
s.connect(("127.0.0.1", port))


def send():
    sent = 0
    while sent < size:
        n = min(len(block), size - sent)
        s.sendall(block[:n])
        sent += n
    s.shutdown(socket.SHUT_WR)


sender = threading.Thread(target=send)
sender.start()
got, bad = 0, -1
twice = block + block
while True:
    time.sleep(0.001)
    data = s.recv(65536)
    if not data:
        break
    if bad < 0:
        start = got % len(block)
        if twice[start:start + len(data)] != data:
            bad = got
    got += len(data)
sender.join()
print(got, bad)
