"""Core permissions about personal data (discovered by rules' autodiscovery at start-up):

- ``core.reveal_sensitive``: the role may reveal (core.sensitive.REVEAL_ROLES) and the record is in scope;
- ``core.access_sealed``: the user holds the Django permission ``core.view_sealed``, granted explicitly.
"""

from pingan.core.sensitive import register_permissions

register_permissions()
