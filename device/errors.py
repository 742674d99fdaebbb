"""The exceptions a user of emotune can meet, one tree rooted at :class:`EmotuneError`."""


class EmotuneError(Exception):
    """Base of every error emotune raises on purpose."""


class AudioError(EmotuneError, ValueError):
    """An audio file or stream could not be read or decoded."""


class NoSpeech(EmotuneError):
    """The recording holds no speech to classify (silence, hum or a too short sound)."""


class ModelError(EmotuneError, ValueError):
    """A model or its card is missing, unreadable, or breaks the front-end contract."""


class ConfigError(EmotuneError, ValueError):
    """A configuration file is missing, unreadable, or has a bad key or value."""


class CommandError(EmotuneError, ValueError):
    """A command (from MQTT) is not one the appliance understands; it is logged and ignored."""
