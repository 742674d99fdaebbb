"""The button and LED through gpiozero's MockFactory pins."""

import time

import pytest

from device.config import GpioSettings
from device.events import LongPressed, Pressed
from device.panel import Panel
from script.servers import wait_until
from tests.helpers import Recorder

SETTINGS = GpioSettings(button_pin=17, led_pin=27, mock=True, long_press_seconds=0.3, bounce_seconds=0.02)


def press(pin, seconds: float = 0.08) -> None:
    """A person's press: the button is held down for ``seconds`` (the press itself, not a wait)."""
    pin.drive_low()
    time.sleep(seconds)
    pin.drive_high()


def test_short_press_is_pressed_and_long_press_is_long_pressed_only(mock_pins):
    events = Recorder()
    with Panel(SETTINGS, events) as panel:
        pin = mock_pins.pin(17)
        assert panel.button.pin is pin
        press(pin)
        events.wait_for(lambda e: e == Pressed())
        pin.drive_low()
        events.wait_for(lambda e: e == LongPressed(), timeout=5)
        pin.drive_high()
        press(pin)
        events.wait_for(lambda e: len(events.items) == 3)
        assert events.items == [Pressed(), LongPressed(), Pressed()]


def test_settings_reach_the_button(mock_pins):
    with Panel(GpioSettings(mock=True, bounce_seconds=0.2, long_press_seconds=1.5), Recorder()) as panel:
        assert panel.button.pin.bounce == pytest.approx(0.2)
        assert panel.button.hold_time == 1.5
        assert panel.button.pull_up is True


@pytest.mark.parametrize("pattern, lit", [("idle", False), ("listening", True)])
def test_led_patterns(mock_pins, pattern, lit):
    with Panel(SETTINGS, Recorder()) as panel:
        panel.show("listening" if not lit else "idle")
        panel.show(pattern)
        assert mock_pins.pin(27).state is lit


def test_blinking_patterns_blink(mock_pins):
    with Panel(SETTINGS, Recorder()) as panel:
        led = mock_pins.pin(27)
        panel.show("thinking")
        seen: set[bool] = set()
        wait_until(lambda: seen.add(led.state) or seen == {True, False}, 5, "the LED both lit and dark")
        assert seen == {True, False}
        panel.show("idle")
        assert led.state is False


def test_mock_setting_makes_its_own_factory_and_no_led(mock_pins):
    from gpiozero import Device

    Device.pin_factory = None
    with Panel(GpioSettings(mock=True, led_pin=-1), Recorder()) as panel:
        assert panel.button is not None and panel.led is None
        panel.show("error")  # no LED: nothing to do


def test_a_pin_in_use_turns_the_panel_off_instead_of_crashing(mock_pins):
    from gpiozero import Button

    with Button(17, pin_factory=mock_pins):
        with Panel(SETTINGS, Recorder(), pin_factory=mock_pins) as panel:
            assert panel.button is None
            panel.show("error")


def test_closing_twice_is_harmless(mock_pins):
    panel = Panel(SETTINGS, Recorder()).start()
    panel.close()
    panel.close()
