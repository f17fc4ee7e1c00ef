"""``zmq.Context``: the event loop thread that runs a Context's sockets.

Each Context starts one daemon thread running an asyncio event loop, the first
time it makes a socket. Every socket of the Context lives on that loop; a blocking
call on a socket hands its work to the loop (``call_soon_threadsafe`` or
``run_coroutine_threadsafe``) and waits for the answer, so sockets may be used from
any thread, one thread at a time per socket, as with pyzmq.

The Context also holds the CURVE authentication policy its servers consult:
``ctx.curve_policy`` (:class:`curvezmq.auth.AllowAny` by default, which is libzmq's
behaviour when no ZAP handler is bound).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

from ..auth import AllowAny, AuthPolicy
from ._constants import ContextOption, Errno, SocketOption
from ._error import ContextTerminated, ZMQError

# How often, in seconds, a blocked call looks whether the Context's loop thread
# still runs; only a call the loop never ran waits that long for the answer.
_LOOP_CHECK = 0.25
from ._socket import Socket

__all__ = ["Context", "ContextBase"]

_SOCKET_OPTION_NAMES = {n.lower(): m for n, m in SocketOption.__members__.items()}
_CONTEXT_OPTION_NAMES = {n.lower(): m for n, m in ContextOption.__members__.items()}


class ContextBase:
    """What the blocking and asyncio Contexts share: options and the policy.

    Attributes:
        curve_policy: the :class:`~curvezmq.auth.AuthPolicy` CURVE servers of this
            Context ask about each client; read at every handshake, so it can be
            replaced at any time.
        closed: whether the Context was terminated.
    """

    _instance: ContextBase | None = None
    _instance_lock = threading.Lock()

    def __init__(self, io_threads: int = 1, **kwargs: Any) -> None:
        self._sockopts: dict[int, Any] = {}
        self._ctxopts: dict[int, Any] = {ContextOption.IO_THREADS: io_threads}
        self._sockets: set = set()
        # the closes of sockets still lingering: term (blocking) or wait_closed
        # (asyncio) waits for them
        self._closing: list = []
        self.curve_policy: AuthPolicy = AllowAny()
        self.closed = False

    @classmethod
    def instance(cls, io_threads: int = 1):
        """Return the process-wide Context of this class, made on first use."""
        with cls._instance_lock:
            if cls._instance is None or cls._instance.closed:
                cls._instance = cls(io_threads)
            return cls._instance

    def _get_policy(self) -> AuthPolicy:
        return self.curve_policy

    def set(self, option: int, value: Any) -> None:
        """Set a context option (stored; this engine has no I/O thread pool)."""
        self._ctxopts[int(option)] = value

    def get(self, option: int) -> Any:
        """Read a context option.

        Raises:
            ZMQError: EINVAL for an option never set.
        """
        try:
            return self._ctxopts[int(option)]
        except KeyError:
            raise ZMQError(Errno.EINVAL) from None

    def setsockopt(self, option: int, value: Any) -> None:
        """Set a default option for sockets made afterwards, like pyzmq."""
        self._sockopts[int(option)] = value

    def getsockopt(self, option: int) -> Any:
        """Read a default socket option.

        Raises:
            ZMQError: EINVAL for an option never set.
        """
        try:
            return self._sockopts[int(option)]
        except KeyError:
            raise ZMQError(Errno.EINVAL) from None

    def __setattr__(self, name: str, value: Any) -> None:
        # ctx.linger = 0 sets a socket default, ctx.io_threads a context option
        if name.startswith("_") or name in ("curve_policy", "closed"):
            object.__setattr__(self, name, value)
        elif name in _SOCKET_OPTION_NAMES:
            self.setsockopt(_SOCKET_OPTION_NAMES[name], value)
        elif name in _CONTEXT_OPTION_NAMES:
            self.set(_CONTEXT_OPTION_NAMES[name], value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _SOCKET_OPTION_NAMES:
            return self.getsockopt(_SOCKET_OPTION_NAMES[name])
        if name in _CONTEXT_OPTION_NAMES:
            return self.get(_CONTEXT_OPTION_NAMES[name])
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.destroy()

    def destroy(self, linger: int | None = None) -> None:
        """Close every socket (with ``linger`` if given), then terminate."""
        for sock in list(self._sockets):
            sock.close(linger=linger)
        self.term()

    def term(self) -> None:
        raise NotImplementedError

    def _new_socket(self, cls: type, socket_type: int):
        if self.closed:
            raise ZMQError(Errno.ETERM)
        self._start()
        try:
            sock = cls(self, socket_type)
        except NotImplementedError as exc:
            raise ZMQError(Errno.ENOTSUP, str(exc)) from exc
        self._sockets.add(sock)
        return sock

    def _start(self) -> None:
        """Nothing to start by default: the asyncio sockets use the running loop."""

    def _close_sockets(self) -> None:
        # term's first step: close what is left open, and make any later call
        # on those sockets raise ContextTerminated
        for sock in list(self._sockets):
            sock._terminated = True
            sock.close()


class Context(ContextBase):
    """A blocking Context, like ``zmq.Context``.

    Args:
        io_threads: accepted for compatibility; one event loop thread serves
            every socket of the Context.
    """

    def __init__(self, io_threads: int = 1, **kwargs: Any) -> None:
        super().__init__(io_threads, **kwargs)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._thread_id: int | None = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self._sockets)} sockets"
        return f"<curvezmq.zmq.Context {state}>"

    def socket(self, socket_type: int, **kwargs: Any) -> Socket:
        """Make a socket.

        Args:
            socket_type: ``zmq.PAIR``, ``PUB``, ``SUB``, ``REQ``, ``REP``,
                ``DEALER``, ``ROUTER``, ``PULL``, ``PUSH``, ``XPUB`` or ``XSUB``.

        Returns:
            the new :class:`Socket`.

        Raises:
            ZMQError: ETERM after ``term``; EINVAL for an unknown type; ENOTSUP
                for STREAM and the draft types.
        """
        return self._new_socket(Socket, socket_type)

    # -- the loop thread ---------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            loop = asyncio.new_event_loop()
            started = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                self._thread_id = threading.get_ident()
                loop.call_soon(started.set)
                loop.run_forever()

            self._loop = loop
            self._thread = threading.Thread(
                target=run, name="curvezmq-context", daemon=True
            )
            self._thread.start()
            started.wait()

    def _run(self, fn, *args: Any, **kwargs: Any) -> Any:
        # run a plain function on the loop thread and return its result
        # TODO: every blocking call pays two thread hand-offs (about 100 us); a
        # lock-free fast path for a message already in the inbox would cut the
        # blocking API's per-message cost, which dominates the demo's rate.
        if threading.get_ident() == self._thread_id:
            return fn(*args, **kwargs)
        future: concurrent.futures.Future = concurrent.futures.Future()

        def call() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - the caller's thread raises it
                future.set_exception(exc)

        try:
            self._loop.call_soon_threadsafe(call)
        except RuntimeError:
            # the loop is closed: the context was terminated under this call
            raise ContextTerminated() from None
        return self._wait(future)

    def _wait(self, future: concurrent.futures.Future) -> Any:
        # a loop that stops before it runs the call would leave us waiting
        # forever: look now and then whether it is still there
        while True:
            try:
                return future.result(timeout=_LOOP_CHECK)
            except concurrent.futures.TimeoutError:
                if self._loop.is_closed() or not self._thread.is_alive():
                    future.cancel()
                    raise ContextTerminated() from None

    def _run_coroutine(self, coroutine) -> Any:
        if threading.get_ident() == self._thread_id:
            coroutine.close()
            raise RuntimeError(
                "a blocking socket call cannot run on its own loop thread"
            )
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        except RuntimeError:
            coroutine.close()
            raise ContextTerminated() from None
        try:
            return self._wait(future)
        except BaseException:
            future.cancel()
            raise

    def _socket_closed(self, sock: Socket, engine, linger: int | None) -> None:
        self._sockets.discard(sock)

        async def close() -> None:
            await engine.close(linger)

        self._closing.append(asyncio.run_coroutine_threadsafe(close(), self._loop))

    # -- termination ------------------------------------------------------------------

    def term(self) -> None:
        """Terminate: wait until every socket has closed and its LINGER expired.

        Unlike libzmq, which blocks until the application closes every socket,
        sockets still open are closed here (with their LINGER) and any later call
        on them raises :class:`zmq.ContextTerminated`.
        """
        if self.closed:
            return
        self._close_sockets()
        for future in self._closing:
            try:
                future.result()
            except Exception:  # noqa: BLE001, S110
                pass  # a failed close still counts as closed
        self._closing.clear()
        self.closed = True
        self._stop()

    def _stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if threading.get_ident() == self._thread_id:
            loop.stop()
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

    def __del__(self) -> None:
        loop = getattr(self, "_loop", None)
        if (
            loop is not None
            and not loop.is_closed()
            and not getattr(self, "closed", True)
        ):
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass
