"""Helpers shared by every test directory (each directory's own are in its `helpers.py`)."""

from pathlib import Path

UPDATE_GOLDENS = "--update-goldens"


class Golden:
    """Compares text with a golden file, or rewrites the file when asked to.

    A test directory's golden files are in its `goldens/` folder; `pytest --update-goldens`
    rewrites those of every directory from the current output (review with `git diff`).
    """

    def __init__(self, folder: Path, update: bool) -> None:
        self.folder = folder
        self.update = update

    def check(self, name: str, text: str) -> None:
        path = self.folder / name
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            return
        assert path.exists(), f"no golden {path}: run pytest {UPDATE_GOLDENS}"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"{name} differs from its golden (refresh: {UPDATE_GOLDENS})"
