"""make bench: roomtemp's speed, measured against the physical limits of the same machine."""
