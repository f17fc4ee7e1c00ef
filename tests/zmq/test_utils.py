"""zmq.utils.z85 and zmq.utils.monitor against pyzmq's, and the small API pieces
pyzmq applications reach for: SyncContext, send_pyobj, has, versions."""

from __future__ import annotations

import pytest
import zmq as pyzmq
import zmq.utils.monitor as pyzmq_monitor
import zmq.utils.z85 as pyzmq_z85
from hypothesis import given
from hypothesis import strategies as st

from curvezmq import zmq
from curvezmq.zmq.utils import monitor, z85

from .conftest import bind_local

pytestmark = pytest.mark.timeout(60)


@given(st.binary(max_size=64).map(lambda b: b[: len(b) // 4 * 4]))
def test_z85_matches_pyzmq(data):
    text = z85.encode(data)
    assert text == pyzmq_z85.encode(data)
    assert z85.decode(text) == pyzmq_z85.decode(text) == data
    assert z85.decode(text.decode()) == data


def test_z85_edges_like_pyzmq_but_value_errors():
    assert z85.decode(b"") == pyzmq_z85.decode(b"") == b""
    assert z85.decode("") == b""
    assert z85.encode(b"") == b""
    assert z85.Z85CHARS == pyzmq_z85.Z85CHARS and z85.Z85MAP == pyzmq_z85.Z85MAP
    for bad in (b"abc", b"abcd ", b"#####", "\u00e9bcde", b"abcd"):
        with pytest.raises(ValueError):
            z85.decode(bad)
    with pytest.raises(ValueError):
        z85.encode(b"abc")


def test_parse_monitor_message_like_pyzmq():
    msg = [b"\x00\x20\x02\x00\x00\x11", b"tcp://127.0.0.1:45769"]
    ours, theirs = (
        monitor.parse_monitor_message(msg),
        pyzmq_monitor.parse_monitor_message(msg),
    )
    assert ours == theirs
    assert ours["event"] == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    assert ours["value"] == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
    for bad in ([msg[0]], [b"\x00" * 5, b""], msg + [b""]):
        with pytest.raises(RuntimeError):
            monitor.parse_monitor_message(bad)


def test_pyzmqs_monitor_helpers_read_our_monitor(ctx):
    sock = ctx.socket(zmq.ROUTER)
    sock.linger = 0
    mon = sock.get_monitor_socket()
    endpoint = bind_local(sock)
    mon.rcvtimeo = 3000
    event = pyzmq_monitor.recv_monitor_message(mon)
    assert event["event"] == pyzmq.EVENT_LISTENING
    assert event["endpoint"] == endpoint.encode()
    with pytest.raises(zmq.Again):
        monitor.recv_monitor_message(mon, zmq.NOBLOCK)


def test_sync_aliases_pyobj_and_context_managers(pctx):
    assert zmq.SyncContext is zmq.Context and zmq.SyncSocket is zmq.Socket
    assert (zmq.has("curve"), zmq.has("draft"), zmq.has("gssapi")) == (
        True,
        False,
        False,
    )
    assert zmq.zmq_version_info() == (4, 3, 5) and zmq.zmq_version() == "4.3.5"
    with zmq.SyncContext() as ctx, ctx.socket(zmq.PULL) as pull:
        pull.rcvtimeo = 3000
        push = pctx.socket(pyzmq.PUSH)
        push.linger = 0
        push.connect(bind_local(pull))
        push.send_pyobj({"a": (1, 2)})
        assert pull.recv_pyobj() == {"a": (1, 2)}
        push.send_json([1, "x"])
        assert pull.recv_json() == [1, "x"]
        push.send_string("\u00e9t\u00e9")
        assert pull.recv_string() == "\u00e9t\u00e9"
    assert pull.closed


def test_term_closes_monitor_sockets_and_wakes_their_readers():
    import threading

    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    mon = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    raised = []

    def read():
        try:
            mon.recv()
        except zmq.ZMQError as exc:
            raised.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ctx.term()
    reader.join(5)
    assert mon.closed and isinstance(raised[0], zmq.ContextTerminated)


def test_poller_waits_on_a_monitor_socket(ctx):
    sock = ctx.socket(zmq.ROUTER)
    sock.linger = 0
    mon = sock.get_monitor_socket(zmq.EVENT_LISTENING)
    poller = zmq.Poller()
    poller.register(mon, zmq.POLLIN)
    assert poller.poll(50) == []
    bind_local(sock)
    assert poller.poll(3000) == [(mon, zmq.POLLIN)]
    monitor.recv_monitor_message(mon)
    assert poller.poll(50) == []
    mon.close()


def test_frame_properties_like_pyzmq():
    frame = zmq.Frame(b"x", more=True, properties={"User-Id": "alice"})
    assert frame.get("User-Id") == frame[b"User-Id"] == frame["User-Id"] == "alice"
    assert (frame.get(zmq.MORE), frame.get(zmq.SHARED)) == (1, 0)
    for missing in ("user-id", "More", zmq.SRCFD):
        with pytest.raises(zmq.ZMQError) as info:
            frame.get(missing)
        assert info.value.errno == zmq.EINVAL
    with pytest.raises(TypeError):
        frame.get(1.5)
