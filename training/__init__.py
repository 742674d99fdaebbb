"""emotune's workstation side: train the speech emotion model, build mood playlists.

May import ``device`` (the front-end lives there, once); the device never imports this package.
"""
