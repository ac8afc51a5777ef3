"""The README's Python example runs as written."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_example(tmp_path, monkeypatch):
    text = README.read_text()
    section = text[text.index("## From Python") :]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "the README's Python section has no python block"
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(blocks[0], str(README), "exec"), scope)
    assert scope["H"].shape == (1000, 100)
    assert scope["scores"].shape == (100,)
    assert (tmp_path / "model.safetensors").is_file()
