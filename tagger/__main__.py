"""python -m tagger: the same as the tagger command."""

from .cli import app

app(prog_name="tagger")
