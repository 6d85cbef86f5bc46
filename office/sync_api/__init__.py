"""The office end of the sync protocol: enrolment, authentication, settlement, snapshots.

The office is the issuer (DESIGN.md invariant 6): it re-checks every pushed event against what
it knows itself before anything is charged. These are plain functions over a store connection;
``office.server`` mounts them as HTTP routes. They raise :class:`sync.wire.ProtocolError`, which
carries the HTTP status.
"""

from .auth import authenticate
from .authorisations import authorise
from .enrolment import ChallengeKey, enrol
from .enrolment import challenge as enrol_challenge
from .settlement import push
from .snapshots import pull, signing_key, snapshot

__all__ = ["authenticate", "authorise", "ChallengeKey", "enrol", "enrol_challenge", "push", "pull", "signing_key",
           "snapshot"]
