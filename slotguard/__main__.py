from slotguard.cli import app

app()
