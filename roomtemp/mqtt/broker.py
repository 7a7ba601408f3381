"""Where the broker is: ROOMTEMP_MQTT_URL."""

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

PORTS = {"mqtt": 1883, "mqtts": 8883}


class InvalidBrokerUrl(ValueError):
    """ROOMTEMP_MQTT_URL is not mqtt://[user:password@]host[:port] or mqtts://..."""


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def parse_broker_url(url: str) -> Broker:
    parts = urlsplit(url)
    if parts.scheme not in PORTS or not parts.hostname or parts.path not in ("", "/"):
        raise InvalidBrokerUrl(
            f"the MQTT URL must read mqtt://[user:password@]host[:port] or mqtts://..., not"
            f" {parts.scheme}://{parts.hostname or ''}{parts.path}"  # never the password
        )
    try:
        port = parts.port or PORTS[parts.scheme]
    except ValueError as error:
        raise InvalidBrokerUrl(f"the MQTT URL's port: {error}") from None
    return Broker(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )
