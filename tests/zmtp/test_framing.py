"""Frames after the greeting: short and long sizes, flags, limits checked on the
header, and the invariants hypothesis checks on arbitrary input."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curvezmq.errors import LimitError, RemoteProtocolError
from curvezmq.zmtp import (
    CommandReceived,
    Connection,
    ConnectionState,
    Event,
    MessageReceived,
    NullMechanism,
)
from curvezmq.zmtp._framing import frame_header

from ._util import command, feed, frame, greeting, null_established, ready


def test_frame_header_uses_long_form_only_above_255():
    assert frame_header(0, 0) == b"\x00\x00"
    assert frame_header(0x01, 255) == b"\x01\xff"
    assert frame_header(0, 256) == b"\x02" + (256).to_bytes(8, "big")
    assert frame_header(0x04, 300) == b"\x06" + (300).to_bytes(8, "big")


def test_short_and_long_frames_sent():
    conn = null_established()
    conn.send_message([b"a" * 255])
    conn.send_message([b"b" * 256])
    out = conn.data_to_send()
    assert (
        out == b"\x00\xff" + b"a" * 255 + b"\x02" + struct.pack(">Q", 256) + b"b" * 256
    )


def test_multipart_sent_with_more_on_all_but_the_last():
    conn = null_established()
    conn.send_message([b"", b"x", bytearray(b"yz")])
    assert conn.data_to_send() == b"\x01\x00" + b"\x01\x01x" + b"\x00\x02yz"


def test_long_form_accepted_for_small_bodies():
    conn = null_established()
    events = conn.receive_data(frame(0, b"hi", long=True), 0.0)
    assert events == [MessageReceived([b"hi"])]
    events = conn.receive_data(frame(0, b"", long=True), 0.0)
    assert events == [MessageReceived([b""])]


def test_reserved_bits_ignored():
    conn = null_established()
    data = frame(0xF8 | 0x01, b"a") + frame(0xF0, b"b")
    assert conn.receive_data(data, 0.0) == [MessageReceived([b"a", b"b"])]
    # a command frame with reserved bits (and MORE, which libzmq does not reject)
    data = frame(0xF8 | 0x04 | 0x01, command(b"SUBSCRIBE", b"t"))
    assert conn.receive_data(data, 0.0) == [CommandReceived("SUBSCRIBE", b"t")]


def test_multipart_assembled_across_calls():
    conn = null_established()
    assert conn.receive_data(frame(0x01, b"one"), 0.0) == []
    assert conn.receive_data(frame(0x01, b"two")[:3], 0.0) == []
    events = conn.receive_data(frame(0x01, b"two")[3:] + frame(0, b"three"), 0.0)
    assert events == [MessageReceived([b"one", b"two", b"three"])]
    assert all(type(f) is bytes for f in events[0].frames)


def test_size_of_two_to_the_31_refused_on_the_header_before_ready():
    conn = Connection("DEALER", NullMechanism())
    conn.start(0.0)
    conn.receive_data(greeting(), 0.0)
    header = b"\x06" + struct.pack(">Q", 2**31)
    with pytest.raises(LimitError) as info:
        conn.receive_data(header, 0.0)
    assert "READY" in str(info.value)
    assert conn.state is ConnectionState.CLOSED
    assert len(conn._buf) == 0


def test_null_ready_limit_is_six_plus_max_metadata():
    body = ready(b"ROUTER")
    metadata_size = len(body) - 6
    ok = Connection("DEALER", NullMechanism(), max_metadata=metadata_size)
    ok.start(0.0)
    ok.receive_data(greeting() + frame(4, body), 0.0)
    assert ok.state is ConnectionState.ESTABLISHED

    tight = Connection("DEALER", NullMechanism(), max_metadata=300)
    tight.start(0.0)
    tight.receive_data(greeting(), 0.0)
    with pytest.raises(LimitError):
        tight.receive_data(b"\x06" + struct.pack(">Q", 307), 0.0)


def test_null_max_message_size_admits_100_refuses_101():
    conn = null_established(max_message_size=100)
    assert conn.receive_data(frame(0, b"x" * 100), 0.0) == [
        MessageReceived([b"x" * 100])
    ]
    with pytest.raises(LimitError) as info:
        conn.receive_data(frame(0, b"x" * 101)[:9], 0.0)
    assert "100" in str(info.value) and "101" in str(info.value)
    assert conn.state is ConnectionState.CLOSED


def test_size_with_top_bit_set_refused_even_when_unlimited():
    conn = null_established()
    with pytest.raises(LimitError):
        conn.receive_data(b"\x02" + struct.pack(">Q", 2**63), 0.0)


def test_events_before_a_violation_ride_on_the_error():
    conn = null_established(max_message_size=10)
    data = frame(0, b"ok") + frame(0, b"x" * 11)
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(data, 0.0)
    assert info.value.events == [MessageReceived([b"ok"])]


def test_receive_buffer_compacted():
    conn = null_established()
    conn.receive_data(frame(0, b"a" * 100) + frame(0, b"b" * 50)[:10], 0.0)
    assert len(conn._buf) == 10 and conn._pos == 0
    conn.receive_data(frame(0, b"b" * 50)[10:], 0.0)
    assert len(conn._buf) == 0


# -- hypothesis ------------------------------------------------------------------------

_frames = st.lists(
    st.tuples(
        st.sampled_from([0x00, 0x01, 0x04, 0x05, 0xF8, 0x09]),
        st.binary(max_size=300),
        st.booleans(),
    ),
    max_size=8,
)


def _stream(frames) -> bytes:
    out = b""
    for flags, body, long in frames:
        if flags & 0x04 and body and body[0] % 3 == 0:
            body = command(b"PING", body[:20])
        out += frame(flags, body, long)
    return out


@settings(max_examples=60, deadline=None)
@given(_frames, st.integers(1, 17))
def test_same_events_fed_whole_or_in_pieces(frames, chunk):
    data = _stream(frames)
    whole = feed(null_established(max_message_size=280), data)
    pieces = feed(null_established(max_message_size=280), data, chunk)
    one_by_one = feed(null_established(max_message_size=280), data, 1)
    assert whole == pieces == one_by_one


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.integers(0, 7))
def test_arbitrary_bytes_after_the_handshake(data, chunk):
    conn = null_established(max_message_size=200)
    events, _ = feed(conn, data, chunk)
    assert all(isinstance(e, (MessageReceived, CommandReceived)) for e in events)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 5))
def test_arbitrary_bytes_during_the_handshake(data, chunk):
    conn = Connection("REQ", NullMechanism())
    conn.start(0.0)
    events, _ = feed(conn, greeting() + data, chunk)
    # feed() lets anything but a RemoteProtocolError escape and fail the test
    assert all(isinstance(e, Event) for e in events)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=100))
def test_arbitrary_greeting_bytes(data):
    conn = Connection("REQ", NullMechanism())
    conn.start(0.0)
    events, _ = feed(conn, data)
    assert events == []
