"""The demo day and its synthetic data (farms on real field-edge roads, crews),
reproducible from a seed and labelled synthetic."""

from mobility.demo.data import (
    DEFAULT_SETTLEMENTS,
    FARM_POINTS_CSV,
    CrewBooking,
    SyntheticFarm,
    synthetic_crews,
    synthetic_farms,
)
from mobility.demo.day import DemoResult, run_demo, seed_demo_day
from mobility.demo.peak import DEPOTS, PeakCrew, PeakDay, PeakVehicle, peak_day

__all__ = [
    "DEFAULT_SETTLEMENTS",
    "DEPOTS",
    "FARM_POINTS_CSV",
    "CrewBooking",
    "DemoResult",
    "PeakCrew",
    "PeakDay",
    "PeakVehicle",
    "SyntheticFarm",
    "peak_day",
    "run_demo",
    "seed_demo_day",
    "synthetic_crews",
    "synthetic_farms",
]
