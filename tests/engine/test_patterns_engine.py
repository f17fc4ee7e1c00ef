"""The engine's patterns with ours on both ends: topic matching, endpoint parsing,
what each type refuses, PAIR's single peer, round robin and fair queueing, and
the watchers a Poller relies on."""

from __future__ import annotations

import asyncio
import logging

import pytest

from curvezmq.engine import (
    EndpointError,
    Options,
    Topics,
    UnroutableError,
    UnsupportedError,
    create_socket,
    parse_endpoint,
)
from curvezmq.errors import BusyError

from .conftest import run, wait_for

pytestmark = pytest.mark.timeout(30)


def test_topics_count_and_match_prefixes():
    topics = Topics()
    assert not topics.match(b"anything")
    assert topics.add(b"ab") and not topics.add(b"ab")
    assert topics.add(b"")
    assert topics.match(b"zzz")  # the empty topic matches everything
    assert topics.remove(b"")
    assert not topics.match(b"zzz")
    assert topics.match(b"abc") and topics.match(memoryview(b"ab"))
    assert not topics.match(b"a") and not topics.match(bytearray(b"ba"))
    assert not topics.remove(b"ab")  # one count left
    assert topics.match(b"ab")
    assert topics.remove(b"ab")
    assert not topics.match(b"ab") and len(topics) == 0
    assert not topics.remove(b"never")
    topics.add(b"x")
    topics.add(b"x")
    assert topics.remove(b"x", every=True) and b"x" not in topics


def test_remove_of_the_empty_topic():
    topics = Topics()
    topics.add(b"")
    assert topics.remove(b"")
    assert len(topics) == 0


@pytest.mark.parametrize(
    "text, bind, expected",
    [
        ("tcp://127.0.0.1:5555", False, ("tcp", "127.0.0.1", 5555, "")),
        ("tcp://[::1]:5555", False, ("tcp", "::1", 5555, "")),
        ("tcp://*:*", True, ("tcp", "", 0, "")),
        ("ipc:///tmp/x.sock", False, ("ipc", "", 0, "/tmp/x.sock")),
        ("ipc://relative.sock", True, ("ipc", "", 0, "relative.sock")),
        ("ipc://*", True, ("ipc", "", 0, "*")),
        ("ipc://@abstract", False, ("ipc", "", 0, "@abstract")),
    ],
)
def test_endpoints_parse(text, bind, expected):
    endpoint = parse_endpoint(text, bind=bind)
    assert (endpoint.transport, endpoint.host, endpoint.port, endpoint.path) == (
        expected
    )


def test_abstract_ipc_address():
    assert parse_endpoint("ipc://@name", bind=False).address == "\0name"


@pytest.mark.parametrize(
    "text, bind",
    [
        ("ipc://", True),
        ("ipc://*", False),
        ("ipc://" + "x" * 200, True),
        ("tcp://[nope]:1", False),
        ("inproc://x", True),
    ],
)
def test_bad_endpoints(text, bind):
    with pytest.raises(EndpointError):
        parse_endpoint(text, bind=bind)


def test_types_refuse_what_they_cannot_do():
    async def main():
        for kind, action in [
            ("PULL", "send"),
            ("SUB", "send"),
            ("PUSH", "recv"),
            ("PUB", "recv"),
        ]:
            sock = create_socket(kind, Options(linger=0))
            with pytest.raises(UnsupportedError):
                if action == "send":
                    sock.send_nowait([b"x"])
                else:
                    sock.recv_nowait()
            assert not sock.can_send() or action == "recv"
            await sock.close()
        router = create_socket("ROUTER", Options(linger=0, router_mandatory=True))
        with pytest.raises(UnroutableError):
            router.send_nowait([b"nobody", b"x"])
        router.send_nowait([b"lone frame"])  # taken as an id: dropped
        await router.close()

    run(main())


def test_pub_sub_xpub_xsub_between_ours_over_ipc(tmp_path):
    async def main():
        endpoint = f"ipc://{tmp_path}/bus.sock"
        xpub = create_socket("XPUB", Options(linger=0))
        xpub.bind(endpoint)
        sub = create_socket("SUB", Options(linger=0))
        xsub = create_socket("XSUB", Options(linger=0))
        try:
            sub.subscribe(b"a")
            sub.connect(endpoint)
            xsub.connect(endpoint)
            assert await xpub.recv(timeout=3) == [b"\x01a"]
            await xsub.send([b"\x01a"])  # not new: no notification
            await xsub.send([b"\x01b"])
            assert await xpub.recv(timeout=3) == [b"\x01b"]
            await xpub.send([b"a1"])
            await xpub.send([b"b1"])
            await xpub.send([b"c1"])
            assert await sub.recv(timeout=3) == [b"a1"]
            assert sorted([await xsub.recv(timeout=3) for _ in range(2)]) == [
                [b"a1"],
                [b"b1"],
            ]
            with pytest.raises(BusyError):
                await sub.recv(timeout=0.1)
            # the SUB leaves: "a" is still held by the XSUB, nothing to say
            await sub.close()
            await asyncio.sleep(0.1)
            assert not xpub.readable
            await xsub.close()
            got = [await xpub.recv(timeout=3) for _ in range(2)]
            assert sorted(got) == [[b"\x00a"], [b"\x00b"]]
        finally:
            for sock in (xpub, sub, xsub):
                await sock.close()

    run(main())


def test_pair_takes_one_peer(caplog):
    caplog.set_level(logging.INFO, logger="curvezmq")

    async def main():
        server = create_socket("PAIR", Options(linger=0))
        server.bind("tcp://127.0.0.1:0")
        first = create_socket("PAIR", Options(linger=0))
        second = create_socket("PAIR", Options(linger=0))
        try:
            first.connect(server.last_endpoint)
            await first.send([b"one"])
            assert await server.recv(timeout=3) == [b"one"]
            second.connect(server.last_endpoint)
            await wait_for(
                lambda: any("already has its peer" in r.message for r in caplog.records)
            )
            await server.send([b"back"])
            assert await first.recv(timeout=3) == [b"back"]
        finally:
            for sock in (server, first, second):
                await sock.close()

    run(main())


def test_push_round_robin_and_pull_fair_queue():
    async def main():
        pulls = [create_socket("PULL", Options(linger=0)) for _ in range(3)]
        push = create_socket("PUSH", Options(linger=0))
        try:
            for pull in pulls:
                pull.bind("tcp://127.0.0.1:0")
                push.connect(pull.last_endpoint)
            await wait_for(lambda: all(c.handshakes for c in push.connecters))
            for i in range(6):
                await push.send([b"%d" % i])
            got = [
                [(await pull.recv(timeout=3))[0] for _ in range(2)] for pull in pulls
            ]
            assert got == [[b"0", b"3"], [b"1", b"4"], [b"2", b"5"]]

            # fair queueing: one PULL, two PUSHes, the first floods first
            sink = pulls[0]
            sources = [create_socket("PUSH", Options(linger=0)) for _ in range(2)]
            for source in sources:
                source.connect(sink.last_endpoint)
            await wait_for(lambda: all(s.connecters[0].handshakes for s in sources))
            for _ in range(50):
                await sources[0].send([b"first"])
            await asyncio.sleep(0.05)
            for _ in range(50):
                await sources[1].send([b"second"])
            await wait_for(lambda: sum(len(p.inbox) for p in sink._accepted) == 100)
            order = [(await sink.recv())[0] for _ in range(10)]
            assert order.count(b"first") == order.count(b"second") == 5
            for source in sources:
                await source.close()
        finally:
            for sock in pulls + [push]:
                await sock.close()

    run(main())


def test_watchers_hear_readable_writable_and_close():
    async def main():
        pull = create_socket("PULL", Options(linger=0))
        push = create_socket("PUSH", Options(linger=0))
        calls = []
        pull.add_watcher(lambda: calls.append("pull"))
        push.add_watcher(lambda: calls.append("push"))
        pull.bind("tcp://127.0.0.1:0")
        push.connect(pull.last_endpoint)
        assert "push" in calls  # a connected endpoint makes PUSH writable
        await push.send([b"x"])
        await wait_for(lambda: "pull" in calls)
        calls.clear()
        await pull.close()
        assert calls == ["pull"]
        await push.close()

    run(main())
