"""The run's spine: world -> network -> receiver -> detectors, block by block and span by span.

- ``block``: one block of subjects: the world lives them out (``sim.world.block``),
  the network model says what reached the centre (``sim.links.network``), the
  block's receiver makes records of it.
- ``arrivals``: every copy at a block's centre in arrival order, and the wire digest.
- ``pool``: the worker processes blocks run in.
- ``span``: the stream's unit, the records received in six hours.
- ``spill``: blocks' records on disk by span of receive time, read back a span at a time.
- ``receive_order``: records from many blocks in one receive order.
- ``world_stream``: the whole world's telemetry, streamed by span or held, with the truth.
- ``detect``: every policy's detector taking in the same spans.
- ``checkpoint``: the detectors saved at span boundaries, so that a killed run can be resumed.

This is the one place blocks, processes, spills and receive order live; the
world (``sim.world``) knows only subjects, devices, faults and the truth.
"""
