"""tests/docs.py, which every doc-reading test uses: sections end where Markdown says, fences hide headings."""

from __future__ import annotations

import pytest

from tests.docs import blocks, headings, section

TEXT = """\
# Page

## One

Text.

```yaml
# not a heading
config: {}
```

### One, detail

   ```bash
   uv run maas plan
   ```

## Two

````text
```
## not a heading either
```
````

# Next page title
"""


def test_a_section_runs_to_the_next_heading_of_its_level_or_higher() -> None:
    one = section(TEXT, "## One")

    assert one.startswith("## One\n")
    assert "### One, detail" in one
    assert "## Two" not in one
    assert section(TEXT, "### One, detail") == "### One, detail\n\n   ```bash\n   uv run maas plan\n   ```\n\n"
    assert section(TEXT, "## Two").endswith("````\n\n")
    assert section(TEXT, "# Next page title") == "# Next page title\n"


def test_headings_inside_fences_are_not_headings() -> None:
    assert headings(TEXT) == ["# Page", "## One", "### One, detail", "## Two", "# Next page title"]
    with pytest.raises(AssertionError, match="no heading '## not a heading either'"):
        section(TEXT, "## not a heading either")


def test_a_missing_heading_is_named() -> None:
    with pytest.raises(AssertionError, match=r"no heading '## Three'; the headings are: \['# Page', '## One'"):
        section(TEXT, "## Three")
    with pytest.raises(AssertionError, match="'One' is not a Markdown heading line"):
        section(TEXT, "One")


def test_blocks_by_info_string_with_their_indentation_removed() -> None:
    assert blocks(TEXT, "yaml") == ["# not a heading\nconfig: {}\n"]
    assert blocks(TEXT, "bash") == ["uv run maas plan\n"]
    assert blocks(TEXT, "text") == ["```\n## not a heading either\n```\n"]
    assert blocks(TEXT, "json") == []
