"""Certificate exchange on the event loop: fetching a server's certificate, and
running a peer validator with a timeout (docs/extensions.md).

The validator is the application's: ``validator(key, certificate, address)``
answers True to admit a CURVE peer whose key the handshake just proved. It fails
closed: an answer other than True, an exception, or no answer within the timeout
refuses the peer. A coroutine function is awaited on the loop; a plain callable
runs in the loop's default executor, so it may block (read a file, ask a service)
without stalling other connections. A timed-out call cannot be stopped: its thread
finishes on its own and its answer is ignored.
"""

from __future__ import annotations

import asyncio
import inspect
import socket as _socket
import threading
from typing import NamedTuple

from ..certs import Certificate
from ..zmtp import CertificateExchangeError, CertificateFetch
from ._endpoint import parse_endpoint

__all__ = ["Verdict", "fetch_server_certificate", "validate"]


class Verdict(NamedTuple):
    """What a validator decided: whether the peer is admitted, and if not why
    (for the log) and whether it was only too slow (the connection may be tried
    again, where a refusal is final)."""

    admitted: bool
    reason: str = ""
    timed_out: bool = False


async def fetch_server_certificate(
    endpoint: str, timeout: float = 5.0, *, ipv6: bool = False
) -> Certificate:
    """Fetch a CURVE server's public certificate over a separate short connection.

    The greeting names ``CURVEZMQ-CERT``; a curvezmq server answers with its
    certificate and closes. Nothing here is authenticated: the answer proves
    nothing about who sent it, so decide whether to trust the key (a known-hosts
    store, a fingerprint checked out of band) before using it.

    Args:
        endpoint: ``tcp://host:port`` or ``ipc://path``.
        timeout: seconds for the whole exchange.
        ipv6: resolve host names to IPv6 addresses too.

    Returns:
        the server's public certificate.

    Raises:
        CertificateExchangeError: the server does not offer the exchange
            (``supported`` is False: a libzmq server, which closes at the
            greeting), sent something else, or did not answer in time.
        EndpointError: the endpoint is malformed or not tcp or ipc.
        OSError: the connection could not be made.
    """
    parsed = parse_endpoint(endpoint, bind=False)
    fetch = CertificateFetch(endpoint)

    async def exchange() -> Certificate:
        if parsed.transport == "ipc":
            reader, writer = await asyncio.open_unix_connection(parsed.address)
        else:
            family = _socket.AF_UNSPEC if ipv6 else _socket.AF_INET
            reader, writer = await asyncio.open_connection(
                parsed.host, parsed.port, family=family
            )
        try:
            writer.write(fetch.greeting())
            while True:
                try:
                    data = await reader.read(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    raise fetch.connection_lost()
                certificate = fetch.receive_data(data)
                if certificate is not None:
                    return certificate
        finally:
            writer.close()

    try:
        return await asyncio.wait_for(exchange(), timeout)
    except TimeoutError as exc:
        raise CertificateExchangeError(
            f"expected a certificate from {endpoint} within {timeout * 1000:.0f} ms, "
            "got none"
        ) from exc


async def validate(
    validator,
    key: bytes,
    certificate,
    address: str,
    timeout: float,
    max_threads: int = 1024,
) -> Verdict:
    """Ask a validator about a peer, failing closed.

    Args:
        validator: ``validator(key, certificate, address)``, a plain callable or
            a coroutine function.
        key: the peer's long-term public key, 32 raw bytes.
        certificate: the :class:`~curvezmq.certs.Certificate` it presented, or
            None.
        address: the peer's address (server side) or the endpoint (client side).
        timeout: seconds to wait for the answer.
        max_threads: the most calls of plain validators that may still be running
            (a call that timed out keeps its thread until it returns); past it
            the peer is refused at once, as if the validator had timed out.

    Returns:
        a :class:`Verdict`: admitted only when the validator answered True;
        otherwise the reason names the answer, the exception or the timeout.
        Never raises for anything the validator does.
    """
    loop = asyncio.get_running_loop()

    async def ask():
        try:
            if _is_coroutine_function(validator):
                answer = validator(key, certificate, address)
            else:
                if not _threads.take(max_threads):
                    raise _ValidatorBusy
                answer = await _in_own_thread(
                    loop, validator, key, certificate, address
                )
            if inspect.isawaitable(answer):
                answer = await answer
            return answer
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():
                raise  # our timeout, or the connection closing
            # the validator's own CancelledError is an answer like any other
            raise _ValidatorFailed("CancelledError") from None
        except (_ValidatorFailed, _ValidatorBusy):
            raise
        except BaseException as exc:  # noqa: BLE001 - SystemExit too must not
            # leave the task: it would stop the Context's event loop
            raise _ValidatorFailed(f"{type(exc).__name__}: {exc}") from None

    try:
        answer = await asyncio.wait_for(ask(), timeout)
    except _ValidatorBusy:
        return Verdict(False, f"{max_threads} validator calls are still running", True)
    except TimeoutError:
        return Verdict(
            False, f"the validator did not answer within {timeout * 1000:.0f} ms", True
        )
    except _ValidatorFailed as exc:
        return Verdict(False, f"the validator raised {exc}")
    if answer is True:
        return Verdict(True)
    return Verdict(False, f"the validator answered {answer!r}")


class _ValidatorFailed(Exception):
    """The validator raised (anything, SystemExit included); the text names it."""


class _ValidatorBusy(Exception):
    """Too many calls of plain validators are still running."""


class _ThreadCount:
    # the validator threads alive in this process: one that hangs keeps its thread
    # after its timeout, so a peer that makes the validator hang must not be able
    # to pile threads up without bound

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.alive = 0

    def take(self, limit: int) -> bool:
        with self._lock:
            if self.alive >= limit:
                return False
            self.alive += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.alive -= 1


_threads = _ThreadCount()


def _in_own_thread(loop, fn, *args) -> asyncio.Future:
    # A thread of its own per call, not the loop's shared executor: a validator
    # that hangs for some peers must not queue the others' calls behind it past
    # their timeout. A hung call keeps its thread until it returns; its answer is
    # then ignored.
    future = loop.create_future()

    def settle(result, error) -> None:
        if future.done():
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    def work() -> None:
        result, error = None, None
        try:
            result = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - reported, never re-raised
            error = _ValidatorFailed(f"{type(exc).__name__}: {exc}")
        finally:
            _threads.release()
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:
            pass  # the loop closed while the validator ran: nobody waits

    threading.Thread(target=work, name="curvezmq-validator", daemon=True).start()
    return future


def _is_coroutine_function(fn) -> bool:
    # a coroutine function, or an object whose __call__ is one (not a test of
    # callability, which B004 is about)
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004
    )
