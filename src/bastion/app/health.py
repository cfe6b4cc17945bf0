"""Health endpoints for load balancers and orchestrators; they never touch sessions."""

from flask import Blueprint

from bastion.app.extensions import db
from bastion.database import is_reachable

bp = Blueprint("health", __name__, url_prefix="/health")


@bp.route("/live")
def live():
    """The process is up and answering: 200 even while the database is down."""
    return {"status": "ok"}


@bp.route("/ready")
def ready():
    """Ready for traffic: 200 when the database answers, else 503."""
    if is_reachable(db.engine):
        return {"status": "ok", "database": "ok"}
    return {"status": "unavailable", "database": "unreachable"}, 503
