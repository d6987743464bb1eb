"""gridaudit: marketing audit and revenue protection for power supply companies."""

__version__ = "0.1.0"
