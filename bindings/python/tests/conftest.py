import json
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[3] / "testdata" / "vectors"


def load_cases(name: str) -> list[dict]:
    cases = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))["cases"]
    assert cases, f"{name}.json has no cases"
    return cases
