"""``zmq.Frame``: one message part with its message properties."""

from __future__ import annotations

from ._constants import Errno, MessageOption
from ._error import ZMQError

__all__ = ["Frame", "Message"]


class Frame:
    """One message part, as ``recv(copy=False)`` returns it.

    Args:
        data: the bytes of the part.
        more: whether more parts of the same message follow.
        properties: the message properties of the peer it came from
            (``Socket-Type``, ``Identity``, ``User-Id``, ``Peer-Address``).

    Attributes:
        more: whether more parts follow.
    """

    def __init__(
        self,
        data: bytes | bytearray | memoryview = b"",
        more: bool = False,
        properties: dict | None = None,
        **kwargs,
    ) -> None:
        if isinstance(data, str):
            raise TypeError("str objects cannot be sent as frames; encode them")
        self._data = data
        self._bytes: bytes | None = data if isinstance(data, bytes) else None
        self.more = more
        self._properties = properties or {}

    @property
    def bytes(self) -> bytes:
        """The part as ``bytes`` (copied once, then cached)."""
        if self._bytes is None:
            self._bytes = bytes(self._data)
        return self._bytes

    @property
    def buffer(self) -> memoryview:
        """The part as a memoryview."""
        return memoryview(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __bytes__(self) -> bytes:
        return self.bytes

    def __buffer__(self, flags: int) -> memoryview:
        return memoryview(self._data)

    def __repr__(self) -> str:
        return f"<zmq.Frame({len(self)} bytes, more={self.more})>"

    def get(self, option: int | str | bytes):
        """Read a frame option (MORE, SHARED) or a message property.

        Args:
            option: ``zmq.MORE`` or ``zmq.SHARED``; or a property name as str or
                bytes, exact case: ``"User-Id"``, ``"Socket-Type"``,
                ``"Peer-Address"``, ``"Identity"``, or one a policy attached.

        Returns:
            an int for an option, text for a property.

        Raises:
            ZMQError: EINVAL for an absent property or an unknown option, as in
                pyzmq (never KeyError or None).
            TypeError: ``option`` is none of int, str, bytes.
        """
        if isinstance(option, int):
            if option == MessageOption.MORE:
                return int(self.more)
            if option == MessageOption.SHARED:
                return 0  # parts are never shared between messages here
            raise ZMQError(Errno.EINVAL)
        if isinstance(option, bytes):
            option = option.decode("utf-8", "replace")
        if not isinstance(option, str):
            raise TypeError(f"expected str, got: {option!r}")
        value = self._properties.get(option)
        if value is None:
            raise ZMQError(Errno.EINVAL)
        return value

    def __getitem__(self, key: int | str | bytes):
        return self.get(key)


Message = Frame
