"""emotune's device side: hear the emotion in a voice and play music that fits.

Nothing in this package imports TensorFlow, scikit-learn or ``training``: it is what runs on the Pi.
"""

__version__ = "0.1.0"
