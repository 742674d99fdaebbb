"""Running the appliance on a PC: ``script/demo.py`` (``make demo``) and the local servers it starts."""
