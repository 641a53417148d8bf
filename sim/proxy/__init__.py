"""A link fault proxy: frames between a device and the centre, dropped, corrupted, duplicated,
reordered, delayed and cut on purpose (``faults``), carried between two ports (``proxy``), and
an account of what the device stored against what reached the centre (``accounting``)."""
