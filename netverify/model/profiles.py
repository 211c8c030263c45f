"""CNI profiles: the `Settings` a network plugin's documented behaviour amounts to.

Only differences that change a verdict netverify computes, and that the plugin's own
documentation states, are recorded (docs/settings.md cites each). A profile without one is
upstream's semantics and says so in its `note`.
"""

from netverify.model.base import Frozen
from netverify.model.objects import Settings


class Profile(Frozen):
    """One network plugin's semantics."""

    name: str
    settings: Settings
    """Built-in defaults with the plugin's documented differences."""
    note: str
    """What differs from upstream and where the plugin documents it (or that nothing does)."""


DEFAULT_PROFILE = "upstream"

_SAME_AS_UPSTREAM = "no documented difference netverify models: upstream semantics"

OVN_ADMIN_PRIORITY_MAX = 99
"""OVN-Kubernetes maps AdminNetworkPolicy priorities 0-99 to its ACL tiers and refuses
higher ones (event `ANPWithUnsupportedPriority`), though the API allows up to 1000."""

PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name=DEFAULT_PROFILE,
            settings=Settings(),
            note="Kubernetes' NetworkPolicy semantics (the conformance tests)",
        ),
        Profile(
            name="cilium",
            settings=Settings(ip_block_matches_pods=False),
            note="ipBlock does not match pod IPs: CIDR rules select endpoints Cilium does not "
            "manage (https://docs.cilium.io/en/stable/security/policy/caveats/)",
        ),
        Profile(name="calico", settings=Settings(), note=_SAME_AS_UPSTREAM),
        Profile(name="antrea", settings=Settings(), note=_SAME_AS_UPSTREAM),
        Profile(
            name="ovn-kubernetes",
            settings=Settings(admin_priority_max=OVN_ADMIN_PRIORITY_MAX),
            note=f"an AdminNetworkPolicy of priority above {OVN_ADMIN_PRIORITY_MAX} is not "
            "enforced: the controller refuses it (ovn-org/ovn-kubernetes docs/features/"
            "network-security-controls/admin-network-policy.md)",
        ),
    )
}
"""Every profile by name, upstream first (the order `prove --all-profiles` reports in)."""
