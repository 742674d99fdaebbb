"""The whole appliance on a PC: private MPD and Mosquitto, a demo library, Enter as the button.

    make demo                         # or: .venv/bin/python script/demo.py [--presses N] [--workdir DIR]

1. Builds a small library of synthetic mood music (``training.synthmusic``) and its mood playlists
   (``python -m training playlists``) under ``build/demo/`` (kept: the second run starts at once).
2. Starts a private ``mpd`` (null audio output: it "plays" silently, in real time) and ``mosquitto``
   on free loopback ports (:mod:`script.servers`).
3. Runs the daemon (:class:`device.app.App`) with the button on gpiozero's mock pins and prints
   every state it publishes: what it heard, how sure it was, what MPD plays.

Interactive (stdin is a terminal): Enter presses the button; ``s`` Enter holds it (stop);
``n`` Enter skips; ``q`` (or Ctrl-D) quits. It listens to the PC's microphone when there is one,
else it speaks the recordings in ``samples/`` in turn. Not interactive (stdin is not a terminal,
e.g. in CI): it presses the button ``--presses`` times over ``samples/``, prints what happened and
exits 0 if every press ended in music or a clear answer, 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from device.app import App  # noqa: E402
from device.config import (  # noqa: E402
    AudioSettings,
    GpioSettings,
    JournalSettings,
    MpdSettings,
    MqttSettings,
    PlaylistSettings,
    Settings,
)
from device.events import Command  # noqa: E402
from script.servers import Mosquitto, MpdServer  # noqa: E402

SETTLED = ("playing", "unsure", "error", "idle")


def build_library(workdir: Path, tracks_per_mood: int, seconds: float) -> tuple[Path, Path]:
    """Synthesise the demo music and build its playlists (both skipped when already there)."""
    music, lists = workdir / "music", workdir / "playlists"
    python = sys.executable
    subprocess.run([python, "-m", "training.synthmusic", str(music), "--tracks-per-mood", str(tracks_per_mood),
                    "--seconds", str(seconds), "--formats", "flac,ogg,mp3", "--jobs", "2"], cwd=REPO, check=True)
    if not (lists / "playlists.json").exists():
        subprocess.run([python, "-m", "training", "playlists", "--library", str(music), "--out", str(lists),
                        "--jobs", "2"], cwd=REPO, check=True)
    return music, lists


def has_microphone() -> bool:
    try:
        import sounddevice

        sounddevice.check_input_settings(channels=1, samplerate=16000, dtype="float32")
        return True
    except Exception:  # no PortAudio, no device, no permission: use the sample recordings
        return False


class Screen:
    """Prints each state change in words, and lets the presses wait for the next result."""

    def __init__(self):
        self.states: list[dict] = []
        self._cond = threading.Condition()

    def __call__(self, state: dict) -> None:
        with self._cond:
            line = describe(state)
            if not self.states or describe(self.states[-1]) != line:
                print("   " + line, flush=True)
            self.states.append(state)
            self._cond.notify_all()

    def settled_after(self, n: int, timeout: float) -> dict | None:
        """The first state after the ``n``-th one that ends a press (listening and thinking are done)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                later = self.states[n:]
                started = next((i for i, s in enumerate(later) if s["state"] == "listening"), None)
                if started is not None:
                    done = [s for s in later[started:] if s["state"] in SETTLED]
                    if done:
                        return done[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)


def describe(state: dict) -> str:
    what = state["state"]
    if what == "listening":
        return "listening..."
    if what == "thinking":
        return "thinking..."
    heard = f"heard {state['emotion']} ({state['confidence']:.0%})" if state["confidence"] is not None else \
        f"chose {state['emotion']}" if state["emotion"] else ""
    if what == "playing":
        return f"{heard} -> playing {state['playlist']}".strip(" ->")
    if what == "unsure":
        return f"unsure: {state['reason']}" + (f", {heard}" if heard else "") + "; the music stays as it was"
    if what == "error":
        return f"error: {state['error']}"
    return "idle" + (f" (last: {heard})" if heard else "")


def settings_for(workdir: Path, lists: Path, mpd: MpdServer, broker: Mosquitto, input_file: str,
                 speed: float) -> Settings:
    return Settings(
        mpd=MpdSettings(host=mpd.host, port=mpd.port),
        mqtt=MqttSettings(host=broker.host, port=broker.port, device_id="demo"),
        audio=AudioSettings(input_file=input_file, input_speed=speed),
        gpio=GpioSettings(mock=True, bounce_seconds=0, long_press_seconds=0.5),
        playlists=PlaylistSettings(map=str(lists / "playlists.json")),
        journal=JournalSettings(path=str(workdir / "journal.sqlite")),
        source="make demo",
    )


def interact(app: App, screen: Screen) -> None:
    pin = app.panel.button.pin
    print("\nEnter = press the button (speak, then press again or pause), s = stop, n = next, q = quit\n")
    for line in sys.stdin:
        key = line.strip().lower()
        if key == "q":
            break
        if key == "s":
            pin.drive_low()
            deadline = time.monotonic() + 5
            while not app.panel.button.is_held and time.monotonic() < deadline:
                time.sleep(0.05)
            pin.drive_high()
        elif key == "n":
            app.post(Command("next"))
        else:
            pin.drive_low()
            pin.drive_high()


def scripted(app: App, screen: Screen, presses: int) -> bool:
    pin = app.panel.button.pin
    ok = True
    for i in range(1, presses + 1):
        print(f"\npress {i}/{presses}", flush=True)
        mark = len(screen.states)
        pin.drive_low()
        pin.drive_high()
        result = screen.settled_after(mark, timeout=60)
        if result is None or result["state"] == "error":
            print(f"   press {i} did not end in music or an answer: {result}", flush=True)
            ok = False
    return ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", type=Path, default=REPO / "build" / "demo", help="library, playlists, journal")
    p.add_argument("--presses", type=int, default=8, help="presses when not interactive (default 8)")
    p.add_argument("--tracks-per-mood", type=int, default=3)
    p.add_argument("--seconds", type=float, default=30.0, help="length of each demo track")
    p.add_argument("-v", "--verbose", action="store_true", help="show the daemon's log")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    interactive = sys.stdin.isatty()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print("== the demo library and its mood playlists", flush=True)
    music, lists = build_library(args.workdir, args.tracks_per_mood, args.seconds)

    microphone = interactive and has_microphone()
    input_file = "" if microphone else str(REPO / "samples")
    with MpdServer(music, lists, workdir=args.workdir / "mpd") as mpd, \
            Mosquitto(workdir=args.workdir / "mosquitto") as broker:
        print(f"== MPD on {mpd.host}:{mpd.port}, MQTT on {broker.host}:{broker.port}"
              f" (watch: mosquitto_sub -p {broker.port} -t 'emotune/#' -v)")
        print("== listening to " + ("the microphone" if microphone else f"the recordings in {input_file}"))
        screen = Screen()
        app = App(settings_for(args.workdir, lists, mpd, broker, input_file, 1.0 if interactive else 0.0),
                  on_state=screen)
        runner = threading.Thread(target=app.run, name="emotune")
        runner.start()
        if not app.running.wait(60):
            print("the appliance did not start", file=sys.stderr)
            app.stop()
            return 1
        try:
            ok = True
            if interactive:
                interact(app, screen)
            else:
                ok = scripted(app, screen, args.presses)
        except KeyboardInterrupt:
            ok = True
        finally:
            app.stop()
            runner.join(15)
    print(f"\n== the mood journal: .venv/bin/python -m device history --journal {args.workdir / 'journal.sqlite'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
