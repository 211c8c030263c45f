"""The vocabulary of generated clusters: environments, teams, applications, images and ports."""

from netverify.generate.objects import NamedPort

PROD = "prod"
DEV = "dev"
STAGING = "staging"

ENVIRONMENTS: tuple[tuple[str, float], ...] = (
    (PROD, 0.34),
    (DEV, 0.33),
    (STAGING, 0.17),
    ("qa", 0.10),
    ("sandbox", 0.06),
)
"""Environments of application namespaces and how often each is drawn."""

DENY_INGRESS_ODDS = {PROD: 1.0, DEV: 0.5, STAGING: 0.8, "qa": 0.6, "sandbox": 0.3}
"""How likely a namespace of each environment has a default-deny ingress policy."""
ISOLATE_EGRESS_ODDS = {PROD: 0.6, DEV: 0.4, STAGING: 0.5, "qa": 0.4, "sandbox": 0.2}
"""How likely a namespace of each environment denies egress by default (and allows DNS)."""

TEAMS = (
    "payments",
    "checkout",
    "search",
    "identity",
    "catalog",
    "ads",
    "data",
    "mobile",
    "growth",
    "media",
    "logistics",
    "support",
)

APPS = (
    "shop",
    "cart",
    "billing",
    "auth",
    "search",
    "catalog",
    "orders",
    "users",
    "inventory",
    "pricing",
    "reviews",
    "ledger",
    "notify",
    "media",
    "reports",
    "gateway",
    "profile",
    "session",
    "ranking",
    "feeds",
    "chat",
    "maps",
    "tickets",
    "wallet",
    "loyalty",
    "promo",
    "quotes",
    "fleet",
    "invoices",
    "payouts",
)
"""Application names; the same application runs in several namespaces, as in real clusters."""

VERSIONS = ("v1", "v2", "v3")

HTTP = NamedPort("http", 8080)
GRPC = NamedPort("grpc", 9090)
METRICS = NamedPort("metrics", 9100)
MEMCACHE = NamedPort("memcache", 11211, "UDP")
DIAMETER = NamedPort("diameter", 3868, "SCTP")
DATABASES = (
    (NamedPort("postgres", 5432), "postgres:16"),
    (NamedPort("mysql", 3306), "mysql:8.4"),
    (NamedPort("redis", 6379), "redis:7.2"),
    (NamedPort("mongodb", 27017), "mongo:7.0"),
)
DB_METRICS = NamedPort("metrics", 9187)

DNS_UDP = NamedPort("dns", 53, "UDP")
DNS_TCP = NamedPort("dns-tcp", 53, "TCP")
DNS_METRICS = NamedPort("metrics", 9153)
PROMETHEUS_WEB = NamedPort("web", 9090)

KUBE_SYSTEM = "kube-system"
MONITORING = "monitoring"
KUBE_DNS_LABELS = {"k8s-app": "kube-dns"}
PROMETHEUS_LABELS = {"app": "prometheus"}

POD_NETWORK_PREFIX = 10 << 24
"""Pod addresses are drawn from 10.0.0.0/8 (room for millions of pods)."""
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
PARTNER_NETWORKS = ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24")
"""Documentation ranges (RFC 5737) standing for partners' public addresses."""

HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""The characters Kubernetes uses in generated name suffixes."""
