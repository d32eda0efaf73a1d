"""Key pairs shared by the artifact tests (key generation is slow enough to share)."""

from __future__ import annotations

import pytest

from .keys import KeyPair, age_key_pair, ssh_key_pair


@pytest.fixture(scope="session")
def age_keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """An age key pair."""
    return age_key_pair(tmp_path_factory.mktemp("age-keys"))


@pytest.fixture(scope="session")
def ssh_keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """An ssh-ed25519 key pair."""
    return ssh_key_pair(tmp_path_factory.mktemp("ssh-keys"))
