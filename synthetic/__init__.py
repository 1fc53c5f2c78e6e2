"""The deterministic synthetic legacy estate (CONTRACTS.md section 5)."""

from synthetic.estate import EstateManifest, generate_estate
from synthetic.malformed import MalformedRecord

__all__ = ["EstateManifest", "MalformedRecord", "generate_estate"]
