"""emotune's device side: hear the emotion in a voice and play music that fits.

Nothing in this package imports TensorFlow, scikit-learn or ``training``: it is what runs on the Pi.
"""

import os

# The front-end's matrix products are small (a few hundred frames by 257 bins): BLAS worker
# threads only add wake-up latency, and on a busy CPU they spin against the audio and MQTT threads
# (28 ms instead of 3 ms per utterance, measured on two loaded cores). One thread, unless the
# operator says otherwise; it takes effect when ``device`` is imported before NumPy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
