"""Icons, sounds and translations. A package only so a normal (non-editable) install carries it
beside ``ui/``, where ``ui`` looks for it."""
