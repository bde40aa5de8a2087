import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_generator_script():
    spec = importlib.util.spec_from_file_location(
        "train_world_generator", ROOT / "scripts/train_world_generator.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
