"""The members service alone, under its own topic and database prefix.

These tests need no other service, and a prefix of their own means they never share a
consumer group or a database with the services the root `platform` fixture starts when the
whole suite runs in one session.
"""
from tests.support.fixtures import platform_and_bus

platform, bus = platform_and_bus(["members"], "m")
