"""Settings for the test suite: the production settings with a throwaway key and fast hashing."""

import os

os.environ.setdefault("EQUIPOISE_DEMO", "true")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")

from equipoise.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
