"""The front panel: one push button (short press = listen, long press = stop) and one status LED.

Wiring (BCM numbers, from ``[gpio]``): the button between ``button_pin`` and ground (the internal
pull-up is used), the LED and a ~330 Ω resistor between ``led_pin`` and ground.

>>> from gpiozero.pins.mock import MockFactory
>>> events = []
>>> panel = Panel(GpioSettings(bounce_seconds=0), events.append, pin_factory=MockFactory()).start()
>>> pin = panel.button.pin
>>> pin.drive_low(); pin.drive_high()
>>> events
[Pressed()]
>>> panel.close()

The pin factory is gpiozero's: the default one on a Pi, ``MockFactory`` when ``[gpio] mock = true``
or when one is passed in. gpiozero calls back from its own threads; the panel only emits events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .config import GpioSettings
from .events import Event, LongPressed, Pressed

log = logging.getLogger(__name__)

# LED pattern per state: None = off, "on", or (on seconds, off seconds, times or None = forever).
PATTERNS: dict[str, object] = {
    "idle": None,
    "listening": "on",
    "thinking": (0.1, 0.1, None),
    "playing": (0.05, 2.95, None),
    "unsure": (0.3, 0.3, 3),
    "error": (1.0, 1.0, None),
}


class Panel:
    """The button and the LED, built from ``[gpio]`` settings and an ``emit`` callable."""

    def __init__(self, settings: GpioSettings, emit: Callable[[Event], None], pin_factory=None):
        self.settings = settings
        self.emit = emit
        self.pin_factory = pin_factory
        self.button = None
        self.led = None
        self._held = False
        self._lock = threading.Lock()

    def _factory(self):
        if self.pin_factory is None and self.settings.mock:
            from gpiozero import Device
            from gpiozero.pins.mock import MockFactory

            # Share a MockFactory already installed (tests, demo) so its pins can be driven.
            current = Device.pin_factory
            self.pin_factory = current if isinstance(current, MockFactory) else MockFactory()
        return self.pin_factory

    def start(self) -> Panel:
        if self.button is not None:
            return self
        from gpiozero import LED, Button
        from gpiozero.exc import GPIOZeroError

        s = self.settings
        try:
            factory = self._factory()
            self.button = Button(s.button_pin, pull_up=True, bounce_time=s.bounce_seconds or None,
                                 hold_time=s.long_press_seconds, pin_factory=factory)
            self.button.when_pressed = self._pressed
            self.button.when_held = self._held_down
            self.button.when_released = self._released
            if s.led_pin >= 0:
                self.led = LED(s.led_pin, pin_factory=factory)
        except (GPIOZeroError, OSError, RuntimeError) as exc:
            log.error("no GPIO button/LED (%s): the panel is off; on a PC set [gpio] mock = true", exc)
            self.close()
        return self

    def close(self) -> None:
        for device in (self.button, self.led):
            if device is not None:
                try:
                    device.close()
                except Exception:  # closing gpiozero devices twice or after a pin error can fail
                    pass
        self.button = self.led = None

    def __enter__(self) -> Panel:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def show(self, pattern: str) -> None:
        """Show a machine state (``idle``, ``listening``, ``thinking``, ``playing``, ``unsure``, ``error``)."""
        led = self.led
        if led is None:
            return
        how = PATTERNS.get(pattern)
        try:
            if how is None:
                led.off()
            elif how == "on":
                led.on()
            else:
                on, off, times = how
                led.blink(on_time=on, off_time=off, n=times, background=True)
        except Exception as exc:  # a broken LED is not worth stopping for
            log.warning("LED failed: %s", exc)

    # gpiozero callbacks (its threads): only emit.
    def _pressed(self) -> None:
        with self._lock:
            self._held = False

    def _held_down(self) -> None:
        with self._lock:
            self._held = True
        self.emit(LongPressed())

    def _released(self) -> None:
        with self._lock:
            held, self._held = self._held, False
        if not held:
            self.emit(Pressed())
