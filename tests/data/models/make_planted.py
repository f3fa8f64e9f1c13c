"""Write planted_themes.jsonl: a synthetic corpus whose true theme of every unit is known.

Four themes ``t0..t3`` of 30 words each (Zipf-distributed within the theme) and 60
background words ``bg00..bg59``. Each of the 240 units (60 per theme, shuffled) has 15-39
tokens: half background, 15 % words of a random theme, the rest words of its own theme.
The keywords of theme ``t`` are its 3rd-5th most frequent words (``tTw02..tTw04``), so most
of a theme's tokens are not keywords.

Run from the repository root: ``.venv/bin/python tests/data/models/make_planted.py``.
"""

import json
from pathlib import Path

import numpy as np

THEMES, WORDS, BACKGROUND, UNITS_PER_THEME = 4, 30, 60, 60
P_BACKGROUND, P_NOISE = 0.5, 0.15


def main(seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    words = [[f"t{t}w{i:02d}" for i in range(WORDS)] for t in range(THEMES)]
    background = [f"bg{i:02d}" for i in range(BACKGROUND)]
    p_word = 1 / np.arange(1, WORDS + 1)
    p_word /= p_word.sum()
    p_bg = 1 / np.arange(1, BACKGROUND + 1) ** 0.8
    p_bg /= p_bg.sum()
    units = []
    for theme in range(THEMES):
        for _ in range(UNITS_PER_THEME):
            tokens = []
            for _ in range(int(rng.integers(15, 40))):
                r = rng.random()
                if r < P_BACKGROUND:
                    tokens.append(background[rng.choice(BACKGROUND, p=p_bg)])
                elif r < P_BACKGROUND + P_NOISE:
                    tokens.append(words[int(rng.integers(THEMES))][rng.choice(WORDS, p=p_word)])
                else:
                    tokens.append(words[theme][rng.choice(WORDS, p=p_word)])
            units.append({"label": theme, "tokens": tokens})
    order = rng.permutation(len(units))
    folder = Path(__file__).parent
    with open(folder / "planted_themes.jsonl", "w", encoding="utf-8") as handle:
        for i in order:
            handle.write(json.dumps(units[i]) + "\n")
    keywords = {f"theme{t}": [f"t{t}w{i:02d}" for i in range(2, 5)] for t in range(THEMES)}
    (folder / "planted_keywords.json").write_text(json.dumps(keywords, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
