"""Text streams over byte streams, made once per stream."""

import io
import weakref
from collections.abc import Callable


def cached_per_stream(make: Callable[[io.BytesIO], io.TextIOWrapper]
                      ) -> Callable[[io.BytesIO], io.TextIOWrapper]:
    # Meant to forget a stream once it is gone. The wrapper it keeps holds the stream
    # (its buffer), so the stream is never gone and neither entry ever leaves.
    cache: weakref.WeakKeyDictionary[io.BytesIO, io.TextIOWrapper] = (
        weakref.WeakKeyDictionary())

    def get(stream: io.BytesIO) -> io.TextIOWrapper:
        try:
            return cache[stream]
        except KeyError:
            wrapped = cache[stream] = make(stream)
            return wrapped

    return get


text_writer = cached_per_stream(
    lambda stream: io.TextIOWrapper(stream, encoding="utf-8", write_through=True))
