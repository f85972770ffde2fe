"""SM3, HMAC-SM3 and SM4 (``cryptography``'s OpenSSL-backed implementations; not ``gmssl``)."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as c_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

GCM_IV_BYTES = 12
GCM_TAG_BYTES = 16


class CryptoError(Exception):
    """A field could not be decrypted (wrong key, tampered or truncated)."""


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def hmac_sm3_hex(key: bytes, data: bytes) -> str:
    mac = c_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()


def sm4_ecb_block(key: bytes, block: bytes) -> bytes:
    """One raw SM4 block: only for checking the GB/T 32907 vector."""
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def sm4_gcm_encrypt(key: bytes, plain: bytes, aad: bytes, iv: bytes | None = None) -> str:
    """base64(iv ‖ ciphertext ‖ tag)."""
    iv = os.urandom(GCM_IV_BYTES) if iv is None else iv
    enc = Cipher(algorithms.SM4(key), modes.GCM(iv)).encryptor()
    enc.authenticate_additional_data(aad)
    body = enc.update(plain) + enc.finalize()
    return base64.b64encode(iv + body + enc.tag).decode("ascii")


def sm4_gcm_decrypt(key: bytes, token: str, aad: bytes) -> bytes:
    try:
        raw = base64.b64decode(token, validate=True)
        if len(raw) < GCM_IV_BYTES + GCM_TAG_BYTES:
            raise CryptoError("ciphertext too short")
        iv, body, tag = raw[:GCM_IV_BYTES], raw[GCM_IV_BYTES:-GCM_TAG_BYTES], raw[-GCM_TAG_BYTES:]
        dec = Cipher(algorithms.SM4(key), modes.GCM(iv, tag)).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(body) + dec.finalize()
    except (ValueError, binascii.Error, InvalidTag) as exc:
        raise CryptoError(str(exc) or type(exc).__name__) from exc
