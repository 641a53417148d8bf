"""Behavioural firmware for EM devices and the wire protocol they speak.

Nothing here imports ``sim``: the stubs are transport-free, clock-free state
machines that the fleet simulation and the real-time runner both drive.
"""
