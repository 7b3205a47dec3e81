"""The kernel's side of grading: hands a notebook's answers to the grader's judge as data.

When a test cell is graded, its checks do not run in the student's kernel. The grader runs
``serve(path, globals())`` there instead: this connects to the judge (a process of the
grader's, outside the sandbox) over a Unix socket and answers its requests until it is done:

- ``get``: the values of some names of the notebook (the chapter's answers);
- ``call``: call one of the notebook's functions with arguments the judge chose.

Everything crosses as plain data: ``None``, ``bool``, ``int``, ``float``, ``complex``,
``str``, ``bytes``, NumPy arrays of numbers, bytes or text (``.npy`` format, never pickled),
NumPy scalars, and tuples, lists and dicts of these. Any other object (a cache object, a
function, an ndarray subclass) stays where it was made and crosses as a *reference*: the
other side can pass it back or call it, nothing more. The judge decodes what the kernel sends
strictly (sizes, depth, types), so nothing a notebook does can make the judge run its code.

A message is an 8-byte big-endian length, then that many bytes: a JSON header whose
``"blobs"`` lists the lengths of the binary parts that follow it (arrays as ``.npy``).
"""
from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import socket
import struct

import numpy as np

MAX_MESSAGE = 512 << 20     # bytes in one message
MAX_DEPTH = 32              # nesting of tuples, lists and dicts
MAX_ITEMS = 1_000_000       # values in one message
MAX_TEXT = 1 << 20          # characters of one string
_DTYPE_KINDS = set("biufcSU")


class ProtocolError(Exception):
    """The other side sent something that is not a valid message."""


class Closed(ProtocolError):
    """The other side closed the connection."""


# --------------------------------------------------------------------------- framing

def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise Closed("the connection was closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def send_message(sock: socket.socket, header: dict, blobs: list[bytes]) -> None:
    header = dict(header, blobs=[len(b) for b in blobs])
    head = json.dumps(header, allow_nan=False).encode()
    body = struct.pack(">I", len(head)) + head
    size = len(body) + sum(len(b) for b in blobs)
    if size > MAX_MESSAGE:
        raise ProtocolError(f"message of {size:,} bytes is larger than {MAX_MESSAGE:,}")
    sock.sendall(struct.pack(">Q", size) + body)
    for blob in blobs:
        sock.sendall(blob)


def recv_message(sock: socket.socket) -> tuple[dict, list[bytes]]:
    (size,) = struct.unpack(">Q", _recv_exactly(sock, 8))
    if size > MAX_MESSAGE or size < 4:
        raise ProtocolError(f"message of {size:,} bytes announced")
    data = _recv_exactly(sock, size)
    (head_size,) = struct.unpack(">I", data[:4])
    try:
        header = json.loads(data[4:4 + head_size])
    except ValueError as e:
        raise ProtocolError(f"the header is not JSON: {e}") from None
    lengths = header.get("blobs") if isinstance(header, dict) else None
    if not (isinstance(lengths, list) and all(type(n) is int and n >= 0 for n in lengths)
            and 4 + head_size + sum(lengths) == size):
        raise ProtocolError("the header's blob lengths do not match the message")
    blobs, at = [], 4 + head_size
    for n in lengths:
        blobs.append(data[at:at + n])
        at += n
    return header, blobs


# ---------------------------------------------------------------------------- values

class Remote:
    """An object that lives on the other side: pass it back to it, or call it if callable."""

    __slots__ = ("_peer", "_id", "_callable")

    def __init__(self, peer: "Peer", ident: int, is_callable: bool):
        self._peer, self._id, self._callable = peer, ident, is_callable

    def __call__(self, *args, **kwargs):
        if not self._callable:
            raise TypeError(f"'{type(self).__name__}' object is not callable")
        return self._peer.call(self, args, kwargs)

    def __repr__(self):
        return f"<{type(self).__name__} object of the notebook>"


_REMOTE_TYPES: dict[str, type] = {}


def _remote_type(name: str) -> type:
    """A subclass of Remote named like the object's type, so messages say ``got list``,
    ``got MyCache``; names are reduced to identifier characters."""
    name = "".join(ch for ch in str(name)[:60] if ch.isalnum() or ch == "_") or "object"
    if name[0].isdigit():
        name = "_" + name
    if name not in _REMOTE_TYPES:
        _REMOTE_TYPES[name] = type(name, (Remote,), {"__slots__": ()})
    return _REMOTE_TYPES[name]


class Peer:
    """One side of a connection: encodes and decodes values, keeps the table of this side's
    objects the other side holds references to, and answers calls while it waits for replies.

    Everything received is checked (sizes, depth, types) before it is used.
    """

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.objects: dict[int, object] = {}

    # -- encoding
    def encode(self, value, blobs: list[bytes], depth: int = 0):
        kind = type(value)
        if depth > MAX_DEPTH:
            raise ProtocolError("values nested too deeply")
        if value is None:
            return {"t": "none"}
        if kind is bool:
            return {"t": "bool", "v": value}
        if kind is int:
            return {"t": "int", "v": str(value)}
        if kind is float:
            return {"t": "float", "v": repr(value)}
        if kind is complex:
            return {"t": "complex", "v": [repr(value.real), repr(value.imag)]}
        if kind is str and len(value) <= MAX_TEXT:
            return {"t": "str", "v": value}
        if kind is bytes:
            blobs.append(value)
            return {"t": "bytes", "b": len(blobs) - 1}
        if (kind is np.ndarray or isinstance(value, np.generic)) and \
                value.dtype.kind in _DTYPE_KINDS and value.dtype.fields is None:
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(value), allow_pickle=False)
            blobs.append(buffer.getvalue())
            return {"t": "array" if kind is np.ndarray else "scalar", "b": len(blobs) - 1}
        if kind in (tuple, list):
            return {"t": kind.__name__, "v": [self.encode(v, blobs, depth + 1) for v in value]}
        if kind is dict and all(type(k) in (str, int) for k in value):
            return {"t": "dict", "v": [[self.encode(k, blobs, depth + 1),
                                        self.encode(v, blobs, depth + 1)]
                                       for k, v in value.items()]}
        if isinstance(value, Remote) and value._peer is self:
            return {"t": "back", "id": value._id}
        ident = len(self.objects) + 1
        self.objects[ident] = value
        return {"t": "ref", "id": ident, "type": kind.__name__, "callable": callable(value)}

    # -- decoding
    def decode(self, tree, blobs: list[bytes], depth: int = 0, count: list | None = None):
        count = count if count is not None else [0]
        count[0] += 1
        if count[0] > MAX_ITEMS or depth > MAX_DEPTH:
            raise ProtocolError("too many values, or nested too deeply")
        if not isinstance(tree, dict) or type(tree.get("t")) is not str:
            raise ProtocolError("a value without a type")
        t, v = tree["t"], tree.get("v")
        try:
            if t == "none":
                return None
            if t == "bool" and type(v) is bool:
                return v
            if t == "int" and type(v) is str and len(v) <= 4300:
                return int(v)
            if t == "float" and type(v) is str and len(v) <= 40:
                return float(v)
            if t == "complex" and type(v) is list and len(v) == 2 and \
                    all(type(p) is str and len(p) <= 40 for p in v):
                return complex(float(v[0]), float(v[1]))
            if t == "str" and type(v) is str:
                return v
            if t in ("bytes", "array", "scalar"):
                blob = blobs[tree["b"]] if type(tree.get("b")) is int and \
                    0 <= tree["b"] < len(blobs) else None
                if blob is None:
                    raise ProtocolError("a reference to a missing binary part")
                if t == "bytes":
                    return bytes(blob)
                array = np.load(io.BytesIO(blob), allow_pickle=False)
                if type(array) is not np.ndarray or array.dtype.kind not in _DTYPE_KINDS or \
                        array.dtype.fields is not None:
                    raise ProtocolError("an array of an unsupported dtype")
                if t == "scalar":
                    if array.ndim != 0:
                        raise ProtocolError("a scalar with dimensions")
                    return array[()]
                return array
            if t in ("tuple", "list") and type(v) is list:
                items = [self.decode(x, blobs, depth + 1, count) for x in v]
                return tuple(items) if t == "tuple" else items
            if t == "dict" and type(v) is list:
                out = {}
                for pair in v:
                    if type(pair) is not list or len(pair) != 2:
                        raise ProtocolError("a dict item that is not a pair")
                    key = self.decode(pair[0], blobs, depth + 1, count)
                    if type(key) not in (str, int):
                        raise ProtocolError("a dict key that is not a str or an int")
                    out[key] = self.decode(pair[1], blobs, depth + 1, count)
                return out
            if t == "back" and type(tree.get("id")) is int and tree["id"] in self.objects:
                return self.objects[tree["id"]]
            if t == "ref" and type(tree.get("id")) is int and type(tree.get("callable")) is bool:
                cls = _remote_type(tree.get("type")) if type(tree.get("type")) is str else Remote
                return cls(self, tree["id"], tree["callable"])
        except ProtocolError:
            raise
        except (ValueError, TypeError, OverflowError, EOFError, KeyError) as e:
            raise ProtocolError(f"an invalid {t!r} value: {e}") from None
        raise ProtocolError(f"an invalid value of type {t!r}")

    # -- requests
    def send(self, header: dict, **values) -> None:
        blobs: list[bytes] = []
        for key, value in values.items():
            header[key] = self.encode(value, blobs)
        send_message(self.sock, header, blobs)

    def call(self, target: Remote, args: tuple, kwargs: dict):
        """Call an object of the other side; answer its calls to this side meanwhile."""
        self.send({"op": "call", "id": target._id}, args=tuple(args), kwargs=dict(kwargs))
        return self.wait()

    def get(self, names: list[str]) -> dict:
        """The other side's values of ``names`` (only those it has)."""
        send_message(self.sock, {"op": "get", "names": list(names)}, [])
        found = self.wait()
        if type(found) is not dict:
            raise ProtocolError("the answer to a get is not a dict")
        return found

    def wait(self):
        """The reply to the last request: its value, or its exception raised here."""
        while True:
            header, blobs = recv_message(self.sock)
            op = header.get("op")
            if op == "value":
                return self.decode(header.get("value"), blobs)
            if op == "raised":
                raise self.exception(header)
            if op == "call":
                self.answer_call(header, blobs)
            else:
                raise ProtocolError(f"unexpected message {op!r} while waiting for a reply")

    def answer_call(self, header: dict, blobs: list[bytes]) -> None:
        target = self.objects.get(header.get("id")) if type(header.get("id")) is int else None
        args = self.decode(header.get("args"), blobs)
        kwargs = self.decode(header.get("kwargs"), blobs)
        if not (callable(target) and type(args) is tuple and type(kwargs) is dict
                and all(type(k) is str for k in kwargs)):
            raise ProtocolError("a call of something that is not callable here")
        try:
            result = target(*args, **kwargs)
        except KeyboardInterrupt:
            self.send_exception(KeyboardInterrupt("interrupted"))
            raise
        except Exception as error:  # noqa: BLE001 - the other side decides what it means
            self.send_exception(error)
            return
        self.send({"op": "value"}, value=result)

    def send_exception(self, error: BaseException) -> None:
        bases = [c.__name__ for c in type(error).__mro__
                 if getattr(builtins, c.__name__, None) is c]
        send_message(self.sock, {"op": "raised", "type": type(error).__name__[:100],
                                 "bases": bases[:20], "message": str(error)[:4000]}, [])

    @staticmethod
    def exception(header: dict) -> BaseException:
        """The exception the other side raised, as the closest built-in exception type."""
        name = str(header.get("type"))[:100]
        message = str(header.get("message"))[:4000]
        for base in header.get("bases") or []:
            cls = getattr(builtins, str(base), None)
            if isinstance(cls, type) and issubclass(cls, Exception):
                shown = message if base == name else f"{name}: {message}"
                error = cls(shown)
                error.raised_by = name
                return error
        error = RuntimeError(f"{name}: {message}")
        error.raised_by = name
        return error


# ----------------------------------------------------------------------- kernel side

@contextlib.contextmanager
def unix_address(path: str):
    """``path`` as a Unix socket address: a long one (the limit is 107 bytes) is reached
    through its folder opened as a file descriptor, ``/proc/self/fd/N/<name>``."""
    if len(os.fsencode(path)) < 100:
        yield path
        return
    folder = os.open(os.path.dirname(path), os.O_PATH)
    try:
        yield f"/proc/self/fd/{folder}/{os.path.basename(path)}"
    finally:
        os.close(folder)


def serve(path: str, namespace: dict, token: str) -> None:
    """Answer the judge at ``path`` with the values and functions of ``namespace`` until it
    says it is done (run by the grader in the student's kernel; ``token`` names the cell)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with unix_address(path) as address:
        sock.connect(address)
    peer = Peer(sock)
    try:
        send_message(sock, {"op": "hello", "token": token}, [])
        while True:
            header, blobs = recv_message(sock)
            op = header.get("op")
            if op == "done":
                return
            if op == "get":
                found = {n: namespace[n] for n in header.get("names", [])
                         if type(n) is str and n in namespace}
                peer.send({"op": "value"}, value=found)
            elif op == "call":
                peer.answer_call(header, blobs)
            else:
                raise ProtocolError(f"unexpected message {op!r}")
    finally:
        sock.close()
