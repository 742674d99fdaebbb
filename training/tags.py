"""Store a track's mood in its own tags (``--write-tags``), as music taggers do; the audio is never touched.

mutagen rewrites only the metadata blocks. The values, as text:

============ ==================================== ==========================================
what         Vorbis comment (FLAC, Ogg, Opus)     ID3 (MP3, WAV, AIFF)
============ ==================================== ==========================================
arousal      ``EMOTUNE_AROUSAL`` e.g. ``-0.412``  ``TXXX:EMOTUNE_AROUSAL``
valence      ``EMOTUNE_VALENCE``                  ``TXXX:EMOTUNE_VALENCE``
quadrant     ``MOOD`` e.g. ``Q2 angry``           ``TMOO`` (ID3v2.4's mood frame)
============ ==================================== ==========================================

A file whose tags already say so is left alone (so an unchanged re-run writes nothing); a file
mutagen cannot tag is reported, not fatal.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def mood_tags(arousal: float, valence: float, quadrant: str) -> dict[str, str]:
    """Return the tag values for a track's place: ``EMOTUNE_AROUSAL``, ``EMOTUNE_VALENCE``, ``MOOD``."""
    return {"EMOTUNE_AROUSAL": f"{arousal:.3f}", "EMOTUNE_VALENCE": f"{valence:.3f}", "MOOD": quadrant}


def _id3_frames(values: dict[str, str]) -> list:
    from mutagen.id3 import TMOO, TXXX

    return [TXXX(encoding=3, desc=k, text=[v]) for k, v in values.items() if k != "MOOD"] + [
        TMOO(encoding=3, text=[values["MOOD"]])]


def _id3_key(frame) -> str:
    return "MOOD" if frame.FrameID == "TMOO" else frame.desc


def write_mood(path: Path, values: dict[str, str]) -> bool:
    """Write ``values`` (from :func:`mood_tags`) into ``path``'s tags; return whether the file changed.

    Raises ``ValueError`` naming the file if mutagen cannot read or tag it.
    """
    import mutagen
    from mutagen.id3 import ID3

    try:
        audio = mutagen.File(str(path))
    except Exception as exc:  # mutagen raises many types for damaged files
        raise ValueError(f"{path}: cannot read its tags ({exc})") from None
    if audio is None:
        raise ValueError(f"{path}: mutagen knows no tags for this format")
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    if isinstance(tags, ID3):
        frames = _id3_frames(values)
        if all(str(tags.get(f.HashKey, "")) == values[_id3_key(f)] for f in frames):
            return False
        for frame in frames:
            tags.setall(frame.HashKey if frame.FrameID == "TXXX" else frame.FrameID, [frame])
    else:
        if all(tags.get(k) == [v] for k, v in values.items()):
            return False
        for key, value in values.items():
            tags[key] = [value]
    audio.save()
    return True
