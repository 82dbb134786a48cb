"""Database models and the session factory (plain SQLAlchemy 2).

The same models serve the web application and the ``mobility`` command. SQLite is
the embedded default; PostgreSQL is used in production through a URL. The schema is
created and upgraded by the Alembic migrations in ``mobility/migrations``
(:func:`upgrade_database`), never by ``create_all`` outside tests of the models.
"""

from mobility.store.base import Base
from mobility.store.engine import (
    DEFAULT_DATABASE_URL,
    MIGRATIONS,
    database_url,
    make_engine,
    make_session_factory,
    upgrade_database,
)
from mobility.store.messages import Message, MessageKind, MessageState
from mobility.store.models import (
    ACTIVE_STATUSES,
    SENSITIVE_CATEGORIES,
    AuditLog,
    Booking,
    BookingStatus,
    Direction,
    DriverAssignment,
    Incident,
    IncidentKind,
    Profile,
    Role,
    ServiceCategory,
    StaffUser,
    Stop,
    StopKind,
    Vehicle,
    Worker,
)
from mobility.store.plans import (
    ACTIVE_RUN_STATUSES,
    PlanKind,
    PlanMove,
    PlanRoute,
    PlanRun,
    PlanStatus,
    PlanStop,
)
from mobility.store.road import DriverLink, EventKind, RoadEvent

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "ACTIVE_STATUSES",
    "DEFAULT_DATABASE_URL",
    "MIGRATIONS",
    "SENSITIVE_CATEGORIES",
    "AuditLog",
    "Base",
    "Booking",
    "BookingStatus",
    "Direction",
    "DriverAssignment",
    "DriverLink",
    "EventKind",
    "Incident",
    "IncidentKind",
    "Message",
    "MessageKind",
    "MessageState",
    "PlanKind",
    "PlanMove",
    "PlanRoute",
    "PlanRun",
    "PlanStatus",
    "PlanStop",
    "Profile",
    "RoadEvent",
    "Role",
    "ServiceCategory",
    "StaffUser",
    "Stop",
    "StopKind",
    "Vehicle",
    "Worker",
    "database_url",
    "make_engine",
    "make_session_factory",
    "upgrade_database",
]
