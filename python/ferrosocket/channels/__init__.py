"""Channels across processes and hosts: ``pip install ferrosocket[redis]``.

    from ferrosocket.channels import RedisChannels

    channels = RedisChannels("redis://127.0.0.1:6379/0")
    await channels.join(websocket, "room:42")            # in the worker that holds the connection
    await channels.publish("room:42", {"text": "hi"})     # from any worker, any host

A message published once reaches every member of the channel in every process, encoded once by
the publisher and never decoded on the way. See docs/scaling.md.
"""

from ferrosocket.channels._redis import ChannelGap, RedisChannels

__all__ = ["ChannelGap", "RedisChannels"]
