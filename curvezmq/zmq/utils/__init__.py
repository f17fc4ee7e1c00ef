"""pyzmq's ``zmq.utils``: :mod:`~curvezmq.zmq.utils.z85` and
:mod:`~curvezmq.zmq.utils.monitor`."""

__all__: list = []
