"""What a folder holds, to check that a command left it as it was."""

from pathlib import Path


def folder_bytes(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (relative) -> its bytes, None for a folder."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}
