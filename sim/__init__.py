"""tagsim: the simulation, the centre and the tools around the devices."""
